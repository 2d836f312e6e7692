"""`growth-bot checkins run-due` (and, with the growth log, `growth-bot org import`)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path


def add_commands(commands) -> None:
    checkins = commands.add_parser("checkins", help="weekly check-ins").add_subparsers(metavar="ACTION")
    run_due = checkins.add_parser(
        "run-due", help="send every check-in and reminder due now (for cron / Kubernetes CronJob), then exit")
    run_due.add_argument("--now", type=_instant, help="ISO-8601 instant to run as of (default: now)")
    run_due.set_defaults(run=_run_due)

    org = commands.add_parser("org", help="who manages whom").add_subparsers(metavar="ACTION")
    org_import = org.add_parser(
        "import", help="set managers from a CSV with the header engineer,manager (Slack user ids); "
                       "all rows or none; everyone concerned gets a DM")
    org_import.add_argument("file", type=Path, help="the CSV file")
    org_import.add_argument("--admin", metavar="UID", help="your Slack user id; must be in ADMIN_USER_IDS")
    org_import.add_argument("--team", metavar="T",
                            help="the workspace (team) id (default: the bot token's, via auth.test)")
    org_import.set_defaults(run=_org_import)


def _org_import_into_one_of_several(args, settings) -> int:
    """Multi-workspace mode: into the workspace named by --team, with its own token, and only by an
    admin who is a user of that workspace (an admin acts within their own workspace only)."""
    from slack_sdk.errors import SlackApiError

    from bot.growthlog.org_import import import_relationships
    from bot.runtime import build_services
    from bot.workspace_clients import WorkspaceGone

    if not args.team:
        print("growth-bot: --team T… is required: the app serves several workspaces, so say which one.",
              file=sys.stderr)
        return 2
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"growth-bot: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    services = build_services(settings)
    try:
        client = services.clients.for_team(args.team)
        client.users_info(user=args.admin)
    except WorkspaceGone:
        print(f"growth-bot: the app is not installed in {args.team}.", file=sys.stderr)
        return 2
    except SlackApiError as exc:
        print(f"growth-bot: {args.admin} is not a user of {args.team} ({exc.response.get('error')}); an admin "
              "imports into their own workspace only.", file=sys.stderr)
        return 2
    report = import_relationships(services.uow, client, args.team, text)
    print(report.summary())
    for error in report.errors:
        print(f"  {error}", file=sys.stderr)
    return 1 if report.errors else 0


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 instant, e.g. 2026-11-20T16:00:00Z") from None
    return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _run_due(args) -> int:
    from bot.runtime import build_services, configure_logging
    from bot.growthlog.retention import run_retention
    from bot.scheduling import make_due_runner, prune_processed_events
    from bot.settings import SettingsError, load_settings
    from bot.slack_client import make_web_client

    settings = load_settings()
    configure_logging(settings.log_level)
    if not settings.slack_bot_token and not settings.multi_workspace:
        # Only the bot token: a cron job posts DMs but serves no requests, so it has no use for
        # the signing secret (and should not need it in its environment).
        raise SettingsError("SLACK_BOT_TOKEN is not set: run-due sends the check-ins through Slack (or set "
                            "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to send to every installed workspace).")
    services = build_services(settings)
    # Several workspaces: each call goes with the token of the workspace it is about.
    client = (services.clients.sender() if settings.multi_workspace
              else make_web_client(settings.slack_bot_token, settings.slack_api_url))
    report = make_due_runner(services, client).run(args.now or services.now())
    print(report.summary())
    for error in report.errors[:20]:
        print(f"  failed: {error}", file=sys.stderr)
    from bot.growthlog.one_on_ones import run_auto_prep

    prep = run_auto_prep(services, client, args.now or services.now())  # 1:1 prep digests due now
    print(prep.summary())
    from bot.leaders.reflections import run_leaders

    print(run_leaders(services, client, args.now or services.now()).summary())  # team reflections due now
    prune_processed_events(services)
    # The daily retention pass, once a day whichever instance or cron run gets there first.
    pruned = run_retention(services.uow, settings.answer_retention_months, args.now or services.now())
    if pruned is not None:
        print(pruned.summary())
    return 1 if report.failed or prep.failed else 0


def _org_import(args) -> int:
    from slack_sdk.errors import SlackApiError

    from bot.growthlog.org_import import import_relationships
    from bot.runtime import build_services, configure_logging
    from bot.settings import SettingsError, load_settings
    from bot.slack_client import make_web_client

    settings = load_settings()
    configure_logging(settings.log_level)
    if not args.admin or args.admin not in settings.admin_user_ids:
        who = f"{args.admin} is not" if args.admin else "--admin UID is required: it must be"
        print(f"growth-bot: {who} one of ADMIN_USER_IDS; only a listed admin may import relationships.",
              file=sys.stderr)
        return 2
    if settings.multi_workspace:
        return _org_import_into_one_of_several(args, settings)
    if not settings.slack_bot_token:
        raise SettingsError("SLACK_BOT_TOKEN is not set: the import checks users and sends DMs through Slack.")
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"growth-bot: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    services = build_services(settings)
    client = make_web_client(settings.slack_bot_token, settings.slack_api_url)
    try:
        team = args.team or client.auth_test()["team_id"]
    except SlackApiError as exc:
        print(f"growth-bot: Slack refused the bot token ({exc.response.get('error')}); check SLACK_BOT_TOKEN "
              "or pass --team.", file=sys.stderr)
        return 2
    report = import_relationships(services.uow, client, team, text)
    print(report.summary())
    for error in report.errors:
        print(f"  {error}", file=sys.stderr)
    return 1 if report.errors else 0
