"""`growth-bot checkins run-due` (and, with the growth log, `growth-bot org import`)."""

from __future__ import annotations

import sys
from datetime import datetime, timezone


def add_commands(commands) -> None:
    checkins = commands.add_parser("checkins", help="weekly check-ins").add_subparsers(metavar="ACTION")
    run_due = checkins.add_parser(
        "run-due", help="send every check-in and reminder due now (for cron / Kubernetes CronJob), then exit")
    run_due.add_argument("--now", type=_instant, help="ISO-8601 instant to run as of (default: now)")
    run_due.set_defaults(run=_run_due)


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        import argparse

        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 instant, e.g. 2026-11-20T16:00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _run_due(args) -> int:
    from bot.runtime import build_services, configure_logging
    from bot.scheduling import make_due_runner
    from bot.settings import load_settings
    from bot.slack_client import make_web_client

    settings = load_settings()
    configure_logging(settings.log_level)
    settings.require_slack()
    services = build_services(settings)
    client = make_web_client(settings.slack_bot_token, settings.slack_api_url)
    report = make_due_runner(services, client).run(args.now or services.now())
    print(report.summary())
    for error in report.errors[:20]:
        print(f"  failed: {error}", file=sys.stderr)
    return 1 if report.failed else 0
