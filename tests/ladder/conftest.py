"""The bundled content, loaded once: the catalog is immutable, so tests can share it."""

import pytest

from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
from bot.ladder.answers import Ladder
from bot.ladder.resolve import Resolver


@pytest.fixture(scope="session")
def catalog():
    return load_catalog(BUNDLED_CONTENT_DIR)


@pytest.fixture(scope="session")
def resolver(catalog):
    return Resolver(catalog)


@pytest.fixture(scope="session")
def ladder(catalog, resolver):
    return Ladder(catalog, resolver)
