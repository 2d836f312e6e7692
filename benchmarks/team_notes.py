"""A Monday of team notes: N managers' notes (each reading its reports' weeks) against Slack's rate limit.

    .venv/bin/python benchmarks/team_notes.py [--managers 1000] [--reports 8] [--rate 200]
        [--database sqlite|postgresql] [--concurrency N]

Seeds N managers (Monday 09:00 UTC, the default) with `--reports` reports each and four weeks of
check-ins per report (shared, private and unanswered mixed), then runs the team-note pass as
the scheduler runs it (bot.leaders.team_note.run_team_notes) at 09:05 against a fake Slack
allowing `--rate` chat.postMessage calls a second. Reports:

  wall       the pass, from start to its return
  floor      N / rate: the least time the rate limit allows (target: wall <= 1.15x floor)
  reads      the time spent gathering the notes (the database side alone), per note
  exactly 1  managers with exactly one note; lost and doubled ones are counted too

(`benchmarks/fanout.py`, the check-ins' fan-out, is where this belongs once its pacing work has
landed: team notes post through the outbox, which paces only by waiting out a 429.)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

import bot.leaders.team_note as team_note  # noqa: E402
from bot.services import Services, build_content_services  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from storage.db import make_engine, make_session_factory, upgrade_database  # noqa: E402
from storage.models import Answer, CheckIn, Engineer  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.pg_server import PostgresServer  # noqa: E402

NOW = datetime(2026, 11, 9, 9, 5, tzinfo=UTC)   # a Monday
WEEK = date(2026, 11, 9)
CREATED = datetime(2025, 1, 1, tzinfo=UTC)


def seed(session_factory, managers: int, reports: int) -> None:
    people = []
    for m in range(managers):
        people.append({"team_id": "T1", "user_id": f"UM{m}", "tz": "UTC", "created_at": CREATED, "updated_at": CREATED})
        for r in range(reports):
            people.append({"team_id": "T1", "user_id": f"UR{m}_{r}", "tz": "UTC", "manager_user_id": f"UM{m}",
                           "framework_id": "delivery", "level_id": "senior", "checkin_weekday": 4,
                           "checkin_time": "16:00", "created_at": CREATED, "updated_at": CREATED})
    with session_factory.begin() as session:
        session.execute(insert(Engineer), people)
        ids = dict(session.query(Engineer.user_id, Engineer.id).all())
        checkins = [{"engineer_id": ids[f"UR{m}_{r}"], "week_start": WEEK - timedelta(weeks=w),
                     "due_at": datetime.combine(WEEK - timedelta(weeks=w), datetime.min.time(), UTC),
                     "status": "answered", "questions": [], "kind": "growth"}
                    for m in range(managers) for r in range(reports) for w in range(4) if (m + r + w) % 3]
        session.execute(insert(CheckIn), checkins)
        rows = session.query(CheckIn.id, CheckIn.engineer_id).all()
        session.execute(insert(Answer), [
            {"checkin_id": cid, "engineer_id": eid, "question_id": "q1", "question_text": "How was it?",
             "text": "Fine", "source": "modal", "is_private": cid % 4 == 0, "created_at": CREATED,
             "updated_at": CREATED} for cid, eid in rows])


def main() -> None:
    from storage.crypto import Keyring, install_keyring, new_key

    install_keyring(Keyring.from_texts([new_key()]))   # what engineers write is encrypted, as in production
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--managers", type=int, default=1000)
    parser.add_argument("--reports", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--concurrency", type=int, default=None, help="SEND_CONCURRENCY (default: the setting's)")
    args = parser.parse_args()
    server = None
    with tempfile.TemporaryDirectory() as tmp, FakeSlack(rate_limit_per_second=args.rate) as fake:
        if args.database == "postgresql":
            server = PostgresServer().start()
            server.create_database("bench")
            url = server.url("bench")
        else:
            url = f"sqlite:///{tmp}/bench.db"
        try:
            upgrade_database(url)
            engine = make_engine(url)
            factory = make_session_factory(engine)
            seed(factory, args.managers, args.reports)
            settings = load_settings(environ={"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_API_URL": fake.base_url,
                                              "DATABASE_URL": url, "SCHEDULER_ENABLED": "false",
                                              **({"SEND_CONCURRENCY": str(args.concurrency)} if args.concurrency else {})},
                                     env_file=None)
            catalog, resolver, ladder = build_content_services(settings)
            services = Services(settings=settings, catalog=catalog, resolver=resolver, ladder=ladder,
                                session_factory=factory, now=lambda: NOW)
            gathering = [0.0]
            real_gather = team_note.gather_many

            def timed_gather(*a, **k):
                started = time.perf_counter()
                try:
                    return real_gather(*a, **k)
                finally:
                    gathering[0] += time.perf_counter() - started

            team_note.gather_many = timed_gather
            started = time.perf_counter()
            queued = team_note.run_team_notes(services, NOW)
            services.outbox.drain(limit=args.managers * 2)      # anything a 429 sent back for later
            wall = time.perf_counter() - started
            counts = fake.post_message_counts()
            once = sum(1 for m in range(args.managers) if counts.get(f"DUM{m}") == 1)
            lost = sum(1 for m in range(args.managers) if not counts.get(f"DUM{m}"))
            floor = args.managers / args.rate
            print(f"{args.database}: {queued} notes queued, {args.managers} managers x {args.reports} reports")
            print(f"  wall {wall:.2f} s, floor {floor:.2f} s: {wall / floor:.2f}x (target <= 1.15x)")
            print(f"  reads {gathering[0]:.2f} s in all, {gathering[0] / max(1, queued) * 1000:.1f} ms per note")
            print(f"  exactly 1: {once}, lost {lost}, doubled {args.managers - once - lost}, "
                  f"429s {fake.rate_limited_count}")
            engine.dispose()
        finally:
            if server is not None:
                server.stop()


if __name__ == "__main__":
    main()
