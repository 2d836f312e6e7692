"""How close the weekly fan-out gets to Slack's rate limit, and whether every DM goes out exactly once.

    .venv/bin/python benchmarks/fanout.py [--engineers 10000] [--rate 200] [--burst N ...] [--instances N ...]
        [--database sqlite|postgresql] [--concurrency N] [--tracemalloc] [--profile] [--stale-zones]
    .venv/bin/python benchmarks/fanout.py --workspaces 20 [--engineers 500] [--rate 5]

With `--workspaces W` the bot runs in multi-workspace mode: W workspaces, each installed (a row
in slack-sdk's installation store) with a token of its own, `--engineers` engineers in each, and
the fake's bucket of `--rate` per workspace (Slack's limits are per workspace). The floor is then
the largest workspace's N / rate: the workspaces are sent to side by side, so the pass should take
about as long as one of them alone (target <= 1.15x), not W times as long.

Seeds N engineers whose check-in is due at the same instant (spread over time zones from UTC-10
to UTC+14, each at whatever local weekday and time that instant is for them) with one bulk
insert, in a fresh SQLite file or (`--database postgresql`) a throwaway PostgreSQL server from
tests/pg_server.py. A fake Slack (tests/fake_slack.py) enforces a workspace-wide token bucket of
`--rate` chat.postMessage calls per second (a burst of one second's worth, or `--burst` messages)
and answers 429 with a whole-second Retry-After beyond it. The fake runs in a process of its own,
as Slack does: in the senders' interpreter it would see their calls bunched by the GIL (gaps of a
millisecond or two between calls paced 20 ms apart) and the benchmark would measure the GIL, not
the pacer. It is no kinder for that: the same bucket, the same whole-second Retry-After >= 1.
Then a due pass runs (cold: nothing learned; then warm: the same fan-out again with what the pacer
learned), built exactly as the scheduler builds it (`bot.scheduling.make_due_runner`), one runner
per `--instances`: with one, in this process; with several, each in a process of its own, as
instances behind a load balancer are (threads of one interpreter would share its GIL: a sender
woken late by another instance's work, which no two real instances do to each other). They share
the database and the fake, and the benchmark reports:

  wall       the pass, from start to its report
  floor      N / rate: the least time the rate limit allows (the first second's burst makes the
             true minimum (N - rate) / rate; the ratio is against N / rate, target <= 1.15x)
  429s       refused calls (the fake's count) and pauses the senders took (SharedBackoff's count)
  exactly 1  channels with exactly one check-in DM; lost (no DM) and doubled (more than one),
             checked against both the fake's transcript and the database rows
  memory     peak RSS of the whole benchmark process (resource.getrusage ru_maxrss: includes
             the fake Slack server, the seeding and the interpreter), and with --tracemalloc the
             peak of Python allocations during the pass alone (tracemalloc slows the pass, so
             its wall time is then not comparable)

`--profile` prints the pass's top functions by cumulative time (cProfile; main thread only).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import multiprocessing
import pstats
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_sdk import WebClient  # noqa: E402
from sqlalchemy import delete, func, select  # noqa: E402

from bot.domain.clock import format_clock  # noqa: E402
from bot.domain.schedule import zone  # noqa: E402
from bot.scheduling import make_due_runner  # noqa: E402
from bot.services import Services, build_content_services  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from storage.db import make_engine, make_session_factory, upgrade_database  # noqa: E402
from storage.models import CheckIn  # noqa: E402
from tests.checkins.desk import add_engineers, engineer_row  # noqa: E402
from tests.fake_slack import FakeSlack  # noqa: E402
from tests.pg_server import PostgresServer  # noqa: E402

NOW = datetime(2026, 3, 13, 15, 0, tzinfo=UTC)   # a Friday afternoon in Europe
ZONES = ("Pacific/Honolulu", "America/Los_Angeles", "America/New_York", "America/Sao_Paulo", "UTC",
         "Europe/London", "Europe/Berlin", "Asia/Kolkata", "Asia/Tokyo", "Australia/Lord_Howe",
         "Pacific/Auckland", "Pacific/Kiritimati")
TARGET = 1.15
TARGET_INSTANCES = 1.25  # several instances share one workspace's allowance


def seed_rows(count: int, stale_zones: bool = False, workspaces: int = 0) -> list[dict]:
    """Engineers due exactly at NOW: each at the local weekday and time NOW is in their zone;
    with `workspaces`, `count` in each of that many workspaces (T000 …)."""
    checked = None if stale_zones else NOW - timedelta(hours=1)
    rows = []
    for w in range(max(1, workspaces)):
        for n in range(count):
            tz = ZONES[n % len(ZONES)]
            local = NOW.astimezone(zone(tz))
            extra = {"team_id": team_of(w)} if workspaces else {}
            rows.append(engineer_row(f"U{w:03d}{n:06d}", tz=tz, weekday=local.weekday(),
                                     at=format_clock(local.time()), created_at=NOW - timedelta(days=30),
                                     tz_checked_at=checked, **extra))
    return rows


def team_of(index: int) -> str:
    return f"T{index:03d}"


def install_workspaces(session_factory, count: int) -> dict[str, str]:
    """A bot row per workspace in slack-sdk's installation store, as an OAuth install leaves it;
    the tokens, by workspace, for the fake Slack to know them by."""
    from storage.workspace_models import SLACK_BOTS, Workspace

    tokens = {team_of(w): f"xoxb-bench-{team_of(w)}" for w in range(count)}
    with session_factory.begin() as session:
        for team, token in tokens.items():
            session.execute(SLACK_BOTS.insert().values(
                client_id=BENCH_CLIENT_ID, app_id="A1", team_id=team, bot_token=token, bot_id="BBOT",
                bot_user_id="UBOT", bot_scopes="chat:write", is_enterprise_install=False,
                installed_at=datetime(2026, 1, 1)))
            session.add(Workspace(team_id=team, installed_at=datetime(2026, 1, 1, tzinfo=UTC)))
    return tokens


BENCH_CLIENT_ID = "1111.2222"


class FakeSlackProcess:
    """tests.fake_slack.FakeSlack served from a child process, with the few inspections the
    benchmark needs (the transcript stays in the child; only counts come back)."""

    def __init__(self, **options):
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_fake, args=(child, options), daemon=True)

    def __enter__(self) -> "FakeSlackProcess":
        self._process.start()
        self.base_url = self._conn.recv()
        return self

    def __exit__(self, *exc) -> None:
        self._ask("stop")
        self._process.join(timeout=10)

    def _ask(self, command: str, *args):
        self._conn.send((command, args))
        return self._conn.recv()

    def set_users(self, users: list[tuple[str, str]]) -> None:
        self._ask("set_users", users)

    def clear(self) -> None:
        self._ask("clear")

    def counts(self) -> tuple[int, dict[str, int], int]:
        """(429s, successful posts per channel, users.info calls)."""
        return self._ask("counts")


def _serve_fake(conn, options) -> None:
    with FakeSlack(**options) as fake:
        conn.send(fake.base_url)
        while True:
            command, args = conn.recv()
            if command == "stop":
                conn.send(None)
                return
            if command == "set_users":
                for user_id, tz in args[0]:
                    fake.set_user(user_id, tz=tz)
                conn.send(None)
            elif command == "clear":
                fake.clear()
                conn.send(None)
            elif command == "counts":
                conn.send((fake.rate_limited_count, fake.post_message_counts(), len(fake.calls_to("users.info"))))


class InstanceProcess:
    """One instance of the bot in a process of its own, as several instances behind a load balancer
    are: its own interpreter (no GIL shared with the others, the benchmark or the fake), its own
    pacer and client, the one database. It builds its services, says it is ready, and runs one
    due pass when told to go; back come the pass's summary, failures and the 429s its senders saw."""

    def __init__(self, environ: dict[str, str]):
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve_instance, args=(child, environ, list(BENCH_KEY)),
                                        daemon=True)
        self._process.start()
        self._conn.recv()  # ready

    def go(self) -> None:
        self._conn.send("go")

    def result(self) -> tuple[str, int, int]:
        summary, failed, refused = self._conn.recv()
        self._process.join(timeout=30)
        return summary, failed, refused


def _serve_instance(conn, environ: dict[str, str], keys: list[str]) -> None:
    from storage.crypto import Keyring, install_keyring

    install_keyring(Keyring.from_texts(keys))
    settings = load_settings(environ, env_file=None)
    catalog, resolver, ladder = build_content_services(settings)
    engine = make_engine(settings.database_url)
    services = Services(settings=settings, catalog=catalog, resolver=resolver, ladder=ladder,
                        session_factory=make_session_factory(engine))
    runner = make_due_runner(services, WebClient(base_url=settings.slack_api_url, token="xoxb-bench"))
    conn.send("ready")
    conn.recv()
    report = runner.run(NOW)
    conn.send((report.summary(), report.failed, runner.backoff.rate_limited))
    engine.dispose()


def run_instances(environ: dict[str, str], count: int, fake: "FakeSlackProcess") -> "Pass":
    """One due pass in each of `count` instance processes, all at once; timed from "go" to the last."""
    instances = [InstanceProcess(environ) for _ in range(count)]
    started = time.perf_counter()
    for instance in instances:
        instance.go()
    results = [instance.result() for instance in instances]
    wall = time.perf_counter() - started
    refused, posted, lookups = fake.counts()
    return Pass(wall, refused, sum(r[2] for r in results), lookups, posted, [r[0] for r in results],
                sum(r[1] for r in results))


@dataclass
class Pass:
    wall: float
    refused: int
    pauses: int
    lookups: int
    posted: dict[str, int]
    summaries: list[str]
    failed: int


def run_pass(runners, fake: FakeSlackProcess, profiler: cProfile.Profile | None = None) -> Pass:
    """One due pass per runner, all at once (each like its own process: own pacer and client)."""
    reports: list = [None] * len(runners)

    def one(index: int) -> None:
        reports[index] = runners[index].run(NOW)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(len(runners))]
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if profiler:
        profiler.disable()
    wall = time.perf_counter() - started
    refused, posted, lookups = fake.counts()
    return Pass(wall, refused, sum(r.backoff.rate_limited for r in runners), lookups, posted,
                [r.summary() for r in reports], sum(r.failed for r in reports))


def run(engineers: int, rate: float, burst: float | None, instances: int, database: str, concurrency: int | None,
        trace: bool, profile: bool, stale_zones: bool, workspaces: int = 0) -> bool:
    """Seed, then a cold pass (nothing learned) and a warm one (the same fan-out again, with the rate
    the first pass learned still in the database). True if both sent every DM exactly once."""
    burst_label = "1 s" if burst is None else f"{burst:g}"
    with tempfile.TemporaryDirectory(prefix="fanout-") as scratch:
        server = None
        try:
            if database == "postgresql":
                server = PostgresServer().start()
                server.create_database("fanout")
                url = server.url("fanout")
            else:
                url = f"sqlite:///{Path(scratch) / 'fanout.db'}"
            upgrade_database(url)
            engine = make_engine(url)
            session_factory = make_session_factory(engine)
            started = time.perf_counter()
            rows = seed_rows(engineers, stale_zones, workspaces)
            add_engineers(session_factory, rows)
            tokens = install_workspaces(session_factory, workspaces) if workspaces else {}
            seeding = time.perf_counter() - started

            token_teams = {token: team for team, token in tokens.items()}
            with FakeSlackProcess(rate_limit_per_second=rate, rate_limit_burst=burst, token_teams=token_teams) as fake:
                environ = {"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "bench",
                           "SLACK_API_URL": fake.base_url, "DATABASE_URL": url, "SCHEDULER_ENABLED": "false",
                           "LOG_LEVEL": "WARNING"}
                if workspaces:
                    environ.update(SLACK_BOT_TOKEN="", SLACK_CLIENT_ID=BENCH_CLIENT_ID, SLACK_CLIENT_SECRET="bench")
                if concurrency:
                    environ["SEND_CONCURRENCY"] = str(concurrency)
                settings = load_settings(environ, env_file=None)
                catalog, resolver, ladder = build_content_services(settings)
                services = Services(settings=settings, catalog=catalog, resolver=resolver, ladder=ladder,
                                    session_factory=session_factory)
                passes, checks = [], []
                for warm in (False, True):
                    if warm:  # the same engineers due again; what the pacer learned stays
                        with session_factory.begin() as session:
                            session.execute(delete(CheckIn))
                        fake.clear()
                    # Slack's profiles agree with the zones we hold: nobody moved.
                    fake.set_users([(row["user_id"], row["tz"]) for row in rows])
                    profiler = cProfile.Profile() if profile and not warm else None
                    if trace and not warm:
                        tracemalloc.start()
                    if instances > 1:
                        result = run_instances(environ, instances, fake)
                    else:
                        runner = make_due_runner(services, WebClient(base_url=fake.base_url, token="xoxb-bench"))
                        result = run_pass([runner], fake, profiler)
                    traced_peak = None
                    if trace and not warm:
                        traced_peak = tracemalloc.get_traced_memory()[1]
                        tracemalloc.stop()
                    posted = result.posted
                    with session_factory() as session:
                        statuses = dict(session.execute(
                            select(CheckIn.status, func.count()).group_by(CheckIn.status)).all())
                    passes.append((result, posted, statuses, traced_peak, profiler))
            engine.dispose()
        finally:
            if server is not None:
                server.stop()

    floor = engineers / rate  # with workspaces: the largest one's (they are all this size)
    target = TARGET if instances == 1 else TARGET_INSTANCES
    where = f"{workspaces} workspaces x {engineers} engineers, {rate:g} msg/s each" if workspaces else \
        f"{engineers} engineers, {rate:g} msg/s"
    print(f"fan-out: {where}, burst {burst_label}, {instances} instance(s), "
          f"{database}, SEND_CONCURRENCY={settings.send_concurrency}; seeding {seeding:.2f} s; "
          f"floor N/rate {floor:.2f} s" + (" (the largest workspace's)" if workspaces else ""))
    engineers = engineers * max(1, workspaces)  # every DM, for the exactly-once counts
    ok = True
    for (result, posted, statuses, traced_peak, profiler), label in zip(passes, ("cold", "warm")):
        once = sum(1 for n in posted.values() if n == 1)
        doubled = sum(1 for n in posted.values() if n > 1)
        lost = engineers - len(posted)
        ratio = result.wall / floor
        good = (once == engineers and not lost and not doubled and statuses == {"sent": engineers}
                and result.failed == 0)
        ok = ok and good
        print(f"  {label:5s} wall {result.wall:7.2f} s  ratio {ratio:6.3f} x "
              f"({'OK' if ratio <= target else 'MISSED'} <= {target}x)  429s {result.refused:4d} "
              f"(seen by senders: {result.pauses})  lost {lost}, doubled {doubled}, exactly once {once}; "
              f"users.info {result.lookups}; database {statuses}")
        for summary in result.summaries:
            print(f"        report {summary}")
        if traced_peak is not None:
            print(f"        tracemalloc {traced_peak / 2**20:.1f} MB (peak Python allocations during the pass)")
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
            print(out.getvalue())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS {rss_mb:.1f} MB (ru_maxrss, whole process incl. fake Slack and seeding)")
    return ok


BENCH_KEY: list[str] = []  # the run's encryption key, for the instances' processes


def main(argv: list[str] | None = None) -> int:
    from storage.crypto import Keyring, install_keyring, new_key

    BENCH_KEY.append(new_key())
    install_keyring(Keyring.from_texts(BENCH_KEY))   # what engineers write is encrypted, as in production
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engineers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0, help="chat.postMessage calls per second the fake allows")
    parser.add_argument("--burst", type=float, action="append",
                        help="messages the fake grants at once (default: one second's worth, 10 and 2); repeatable")
    parser.add_argument("--instances", type=int, action="append",
                        help="due runners sharing the database and the fake (default: 1, and 2 at the smallest burst)")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--concurrency", type=int, help="SEND_CONCURRENCY (default: the setting's default)")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure Python allocations in the pass")
    parser.add_argument("--profile", action="store_true", help="cProfile the pass (main thread)")
    parser.add_argument("--workspaces", type=int, default=0,
                        help="multi-workspace mode: this many workspaces of --engineers each, --rate each")
    parser.add_argument("--stale-zones", action="store_true",
                        help="seed time zones as never checked (the pass re-reads a capped number first)")
    args = parser.parse_args(argv)
    if args.workspaces:
        engineers = args.engineers if "--engineers" in (argv or sys.argv) else 500
        rate = args.rate if "--rate" in (argv or sys.argv) else 5.0
        ok = all([run(engineers, rate, None if not args.burst else args.burst[0], 1, args.database,
                      args.concurrency, args.tracemalloc, args.profile, args.stale_zones, args.workspaces)])
        return 0 if ok else 1
    if args.burst or args.instances:
        configs = [(None if b == 0 else b, n) for b in (args.burst or [0]) for n in (args.instances or [1])]
    else:
        configs = [(None, 1), (10.0, 1), (2.0, 1), (2.0, 2)]
    ok = True
    for burst, instances in configs:
        ok = run(args.engineers, args.rate, burst, instances, args.database, args.concurrency, args.tracemalloc,
                 args.profile, args.stale_zones) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
