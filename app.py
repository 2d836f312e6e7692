"""Entry point: `python app.py` starts the bot (same as `growth-bot`)."""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["serve"]))
