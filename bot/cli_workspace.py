"""`growth-bot workspace …`: the workspaces of a multi-workspace install."""

from __future__ import annotations

import re
import sys


def add_commands(commands) -> None:
    workspace = commands.add_parser("workspace", help="the workspaces the app is installed in").add_subparsers(
        metavar="ACTION")
    purge = workspace.add_parser(
        "purge", help="delete everything stored about one workspace now (engineers, answers, settings, "
                      "its installation), without waiting for the grace period after an uninstall")
    purge.add_argument("team", metavar="T…", help="the workspace (team) id, e.g. T0123ABCD")
    purge.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    purge.set_defaults(run=_purge)


def _purge(args) -> int:
    from bot.runtime import build_services, configure_logging
    from bot.settings import load_settings
    from bot.workspace_lifecycle import purge

    if not re.fullmatch(r"[TE][A-Z0-9]+", args.team):
        print(f"growth-bot: {args.team!r} is not a workspace id: it starts with T (E for an org), "
              "e.g. T0123ABCD", file=sys.stderr)
        return 2
    if not args.yes:
        answer = input(f"Delete everything stored about workspace {args.team}? This cannot be undone. [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing deleted.")
            return 1
    settings = load_settings()
    configure_logging(settings.log_level)
    deleted = purge(build_services(settings), args.team)
    total = sum(deleted.values())
    detail = ", ".join(f"{table} {count}" for table, count in sorted(deleted.items()))
    print(f"Deleted {total} rows of workspace {args.team}" + (f": {detail}." if detail else "."))
    return 0
