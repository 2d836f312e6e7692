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

    if not re.fullmatch(r"[TE][A-Z0-9]{1,30}", args.team):  # Slack ids are a dozen characters or so
        print(f"growth-bot: {args.team!r} is not a workspace id: it starts with T (E for an org), "
              "e.g. T0123ABCD", file=sys.stderr)
        return 2
    settings = load_settings()
    configure_logging(settings.log_level)
    services = build_services(settings)
    if _still_installed(services, args.team):
        # Its data would go while Slack still sends its requests: every user there would be
        # told to reinstall, and nothing would tell Slack. Uninstalling first purges for real.
        print(f"growth-bot: workspace {args.team} still has the app installed: remove the app there first "
              "(its data is then kept for UNINSTALL_RETENTION_DAYS, or purged at once by this command).",
              file=sys.stderr)
        return 2
    if not args.yes:
        try:
            answer = input(f"Delete everything stored about workspace {args.team}? This cannot be undone. [y/N] ")
        except EOFError:  # no terminal to ask on (a script, a cron job): the answer is no
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing deleted (pass --yes when there is no one to ask).")
            return 1
    deleted = purge(services, args.team)
    total = sum(deleted.values())
    detail = ", ".join(f"{table} {count}" for table, count in sorted(deleted.items()))
    print(f"Deleted {total} rows of workspace {args.team}" + (f": {detail}." if detail else "."))
    return 0


def _still_installed(services, team_id: str) -> bool:
    """An installation of its own serves `team_id` (an org's `E…`: its org-wide install)."""
    from storage.repositories.workspaces import Workspaces

    with services.uow.reading() as session:
        workspace = Workspaces(session).get(team_id)
        row = Workspaces(session).bot_row(team_id)
    return row is not None and (workspace is None or workspace.uninstalled_at is None)
