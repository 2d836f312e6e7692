"""A Monday of team notes: N managers' notes (each reading its reports' weeks) against Slack's rate limit.

    .venv/bin/python benchmarks/team_notes.py [--managers 1000] [--reports 8] [--rate 200] [--burst N ...]
        [--database sqlite|postgresql] [--concurrency N] [--cold-only] [--profile]

Seeds N managers (Monday 09:00 UTC, the default) with `--reports` reports each and four weeks of
check-ins per report (shared, private and unanswered mixed), then runs the team-note pass as
the scheduler runs it (bot.leaders.team_note.run_team_notes) at 09:05 against a fake Slack
allowing `--rate` chat.postMessage calls a second, with a burst of one second's worth, or
`--burst` messages (default: one second's, 10 and 2, the burst sizes of the pacing work). The
fake runs in a process of its own, as Slack does (benchmarks/fanout.py says why), and is no
kinder for it. For each burst, a fresh database and two passes: cold (the pacer has learned
nothing) and warm (the same Monday again from a new process, with what the pacer learned in the
database, as after any earlier sends to the workspace). A cold pass at a small burst cannot
meet the target when the floor is a few seconds: its first 429 (nothing known, nothing paced)
costs a whole-second Retry-After, 20% of a 5 s floor, whatever the sender does. Reports:

  wall       the pass, from start to its return
  floor      N / rate: the least time the rate limit allows (target: wall <= 1.15x floor)
  reads      the time spent gathering the notes (the database side alone), per note
  exactly 1  managers with exactly one note; lost and doubled ones are counted too (the fake's
             transcript), and the outbox rows not sent

`--profile` adds where the senders' time went (summed over the sender threads: waiting for a
pacer slot, posting, claiming and recording) and the pass's own thread's top functions (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import faulthandler
import io
import pstats
import resource
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, func, insert, select, update  # noqa: E402

import bot.leaders.team_note as team_note  # noqa: E402
from benchmarks.fanout import FakeSlackProcess  # noqa: E402
from bot.services import Services, build_content_services  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from storage.db import make_engine, make_session_factory, upgrade_database  # noqa: E402
from storage.models import Answer, CheckIn, Engineer, OutboxMessage, OutboxStatus, SlackPace  # noqa: E402
from tests.pg_server import PostgresServer  # noqa: E402

NOW = datetime(2026, 11, 9, 9, 5, tzinfo=UTC)   # a Monday
WEEK = date(2026, 11, 9)
CREATED = datetime(2025, 1, 1, tzinfo=UTC)
TARGET = 1.15
MEMORY_LIMIT = 6 * 2**30     # address space; this benchmark needs well under a gigabyte
STUCK_SECONDS = 900


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


class SenderTimes:
    """Seconds the senders spent, summed over the threads: waiting for a pacer slot, posting
    (the slot, Slack's answer and the client around it), claiming and recording batches."""

    def __init__(self, services: Services):
        self.sums: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()
        pacer = services.clients.pacer
        self._wrap(pacer, "slot", "slot")
        self._wrap(services.outbox, "deliver", "deliver (slot, Slack)")
        self._wrap(services.outbox, "claim_many", "claiming")
        self._wrap(services.outbox, "record_posted", "recording")

    def _wrap(self, owner, name: str, label: str) -> None:
        real = getattr(owner, name)

        def timed(*a, **k):
            started = time.perf_counter()
            try:
                return real(*a, **k)
            finally:
                with self._lock:
                    self.sums[label] += time.perf_counter() - started
        setattr(owner, name, timed)

    def summary(self) -> str:
        return ", ".join(f"{label} {seconds:.2f} s" for label, seconds in self.sums.items())


def run(args, burst: float | None, server) -> bool:
    """A fresh database and fake for one burst size: a cold pass (the pacer knows nothing), then
    a warm one (the same Monday again, in a new process: what the pacer learned is in the
    database, as it is after any earlier sends to the workspace). True if both met the target."""
    label = "1 s" if burst is None else f"{burst:g}"
    with tempfile.TemporaryDirectory() as tmp, \
            FakeSlackProcess(rate_limit_per_second=args.rate, rate_limit_burst=burst) as fake:
        if server is not None:
            name = f"bench{int(time.time() * 1000)}"
            server.create_database(name)
            url = server.url(name)
        else:
            url = f"sqlite:///{tmp}/bench.db"
        upgrade_database(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        seed(factory, args.managers, args.reports)
        settings = load_settings(environ={"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_API_URL": fake.base_url,
                                          "DATABASE_URL": url, "SCHEDULER_ENABLED": "false", "LOG_LEVEL": "WARNING",
                                          **({"SEND_CONCURRENCY": str(args.concurrency)} if args.concurrency else {})},
                                 env_file=None)
        print(f"{args.database}, burst {label}: {args.managers} managers x {args.reports} reports, "
              f"{args.rate:g} msg/s, SEND_CONCURRENCY={settings.send_concurrency}, floor {args.managers / args.rate:.2f} s")
        good = True
        for warm in (False, True)[:1 if args.cold_only else 2]:
            if warm:
                with factory.begin() as session:     # the same notes due again; the pacer's rows stay
                    session.execute(delete(OutboxMessage))
                    session.execute(update(Engineer).values(team_note_week=None))
                fake.clear()
            good = one_pass(args, settings, factory, fake, "warm" if warm else "cold") and good
        engine.dispose()
    return good


def one_pass(args, settings, factory, fake, label: str) -> bool:
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
    times = SenderTimes(services) if args.profile else None
    profiler = cProfile.Profile() if args.profile else None
    try:
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        queued = team_note.run_team_notes(services, NOW)
        if profiler:
            profiler.disable()
        services.outbox.drain(limit=args.managers * 2)      # anything a 429 sent back for later
        wall = time.perf_counter() - started
    finally:
        team_note.gather_many = real_gather
    refused, counts, _ = fake.counts()
    with factory() as session:
        statuses = dict(session.execute(select(OutboxMessage.status, func.count())
                                        .group_by(OutboxMessage.status)).all())
        paces = [f"{p.method} rate {p.rate if p.rate is None else round(p.rate, 1)} burst {p.burst} stage {p.stage}"
                 for p in session.scalars(select(SlackPace))]
    once = sum(1 for m in range(args.managers) if counts.get(f"DUM{m}") == 1)
    lost = sum(1 for m in range(args.managers) if not counts.get(f"DUM{m}"))
    doubled = args.managers - once - lost
    ratio = wall / (args.managers / args.rate)
    good = ratio <= TARGET and once == args.managers and statuses == {OutboxStatus.SENT.value: args.managers}
    print(f"  {label} wall {wall:6.2f} s  ratio {ratio:5.2f}x ({'OK' if ratio <= TARGET else 'MISSED'} <= {TARGET}x)"
          f"  {queued} queued, exactly 1: {once}, lost {lost}, doubled {doubled}, 429s {refused}; outbox {statuses}; "
          f"reads {gathering[0]:.2f} s ({gathering[0] / max(1, queued) * 1000:.1f} ms per note)")
    print(f"        the pacer's shared state after it: {'; '.join(paces) or 'nothing learned'}")
    if times is not None:
        print(f"        senders: {times.summary()}")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue())
    return good


def main() -> int:
    from storage.crypto import Keyring, install_keyring, new_key

    install_keyring(Keyring.from_texts([new_key()]))   # what engineers write is encrypted, as in production
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--managers", type=int, default=1000)
    parser.add_argument("--reports", type=int, default=8)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--burst", type=float, action="append",
                        help="messages the fake grants at once (0: one second's worth; default: 0, 10 and 2)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--concurrency", type=int, default=None, help="SEND_CONCURRENCY (default: the setting's)")
    parser.add_argument("--cold-only", action="store_true", help="only the pass with nothing learned")
    parser.add_argument("--profile", action="store_true", help="where the sender threads' time went")
    args = parser.parse_args()
    # A runaway (a pass that never ends, memory that only grows) stops the benchmark with its
    # threads' stacks instead of taking the shared machine down with it.
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    faulthandler.dump_traceback_later(STUCK_SECONDS, exit=True)
    server = PostgresServer().start() if args.database == "postgresql" else None
    try:
        ok = True
        for burst in args.burst or [0, 10, 2]:
            ok = run(args, None if burst == 0 else burst, server) and ok
    finally:
        if server is not None:
            server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
