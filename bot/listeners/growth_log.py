"""(being written)"""

from slack_bolt import App


def register(app: App) -> None:
    """Registers nothing yet."""
