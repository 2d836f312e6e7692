"""The career-framework content: validated, immutable, shared by every request."""

from bot.catalog.loader import BUNDLED_CONTENT_DIR, ContentError, load_catalog
from bot.catalog.model import Catalog, Framework, Level, Question, Section

__all__ = ["BUNDLED_CONTENT_DIR", "Catalog", "ContentError", "Framework", "Level", "Question",
           "Section", "load_catalog"]
