"""How long an answer waits for its ack now that it is on disk first, against a bare Bolt ack.

Timed from a signed request being sent to its HTTP response arriving, at 16 and 32 concurrent
clients, on SQLite and on PostgreSQL:

- **modal answer**: the check-in modal's `view_submission`, saved in one transaction, then acked
  (bot/listeners/checkin_answers.py);
- **thread reply**: a reply in a check-in's DM thread, a `message` event written to the inbox in
  one INSERT, then acked (bot/inbox/intake.py);
- **bare**: the same two kinds of request, signed the same way, to a Bolt app whose listeners
  only ack. It is built with the real app's options and served the same way: the same front
  door (`bot.server.make_wsgi_app`), waitress with the production thread count, in the same
  process as the real app.

    .venv/bin/python benchmarks/answer_ack.py [--database sqlite|postgresql|both]
        [--rounds 6] [--round-requests 480] [--clients 16,32] [--slack-latency-ms 0] [--profile]

Each row's p99 is compared with the bare ack's p99 for the same kind of request at the same
load; the target is within 2x. Exit status 0 when every row meets it, 1 otherwise.

Setup, per database: 1 engineer per modal submission to be sent (so every submission is a first
answer), each with a check-in DM already sent; the database is durable as in production: SQLite
is a WAL file on the disk with the bot's own pragmas, PostgreSQL runs on the disk with fsync and
synchronous_commit on (tests.pg_server turns both off and lives in RAM, which would flatter it).

Processes, so that no part of the rig steals the bot's interpreter (its GIL) the way it would
not in production: the bot and the bare app in one process (built by `bot.runtime.build_services`
and `bot.app_factory.create_app`, start-up garbage frozen and the recovery loop running, as
`run_bot` does); the fake Slack Web API in a second (tests.fake_slack, answering at once, or
after `--slack-latency-ms`); the clients here, as threads with one kept-alive connection each,
their requests built and signed before the round starts.

Noise (2 shared, noisy cores): the two apps take turns. Every (load, kind) pair runs real then
bare or bare then real, the order flipping each round, `--rounds` times, after one discarded
warm-up round of each; percentiles are over all rounds together. After each real round the
benchmark waits until the bot has finished what it acknowledged (every inbox item processed,
every confirmation posted), so that work runs inside the real app's own rounds, where it belongs,
and never inside the bare app's. At the end it checks that every acknowledged answer is stored
and every confirmation was posted once.

The fake Slack is not on the ack path: neither answer calls Slack before acking (the modal's
confirmation and the reply's processing run after the ack, on Bolt's listener threads). It can
still slow acks indirectly, because a modal's ack itself runs on one of those 5 threads: try
`--slack-latency-ms 150` (Slack's usual chat.postMessage time) to see what that costs.

`--profile` times the real app's ack path inside the bot process: Bolt's listener queue, each
database statement and commit, and the wait for Bolt's 10 ms ack poll. It costs a little, so the
ratios of a profiled run are not the verdict.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import logging
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select

from bot import ids
from storage.db import make_engine, make_session_factory, upgrade_database
from storage.models import Answer, CheckIn, Engineer, InboxItem, OutboxMessage, OutboxStatus
from tests import slack_requests as req
from tests.running_bot import SIGNING_SECRET

TEAM = "T1"
THREADS = 8  # bot.server.serve_http's default: what production serves with
TARGET_RATIO = 2.0
MODAL, THREAD = "modal answer", "thread reply"
KINDS = (MODAL, THREAD)
BARE = {MODAL: "bare modal ack", THREAD: "bare event ack"}
QUESTIONS = [
    {"id": "impact-1", "text": "What did you ship or unblock this week, and who noticed?", "kind": "reflection"},
    {"id": "craft-2", "text": "Which decision this week would you make differently now?", "kind": "reflection"},
    {"id": "people-3", "text": "Who did you help grow, and how?", "kind": "reflection"},
]
ANSWER = ("Finished the migration plan for the billing service and walked the on-call team through the "
          "rollback steps; two of them now own the runbook. Next week: the load test.")
SENT_AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


# -- the processes the rig runs ------------------------------------------------------------------

def fake_slack_process(conn, latency_s: float) -> None:
    """The fake Slack Web API, in a process of its own; answers `count` and `stop` on `conn`."""
    from tests.fake_slack import FakeSlack

    class SlowerFakeSlack(FakeSlack):
        def _handle(self, h) -> None:
            if latency_s:
                time.sleep(latency_s)  # outside the fake's lock: calls overlap as Slack's do
            super()._handle(h)

    with SlowerFakeSlack() as fake:
        conn.send(fake.base_url)
        while True:
            command = conn.recv()
            if command == "count":
                conn.send({"posts": len(fake.calls_to("chat.postMessage", ok=True)),
                           "failed": len(fake.calls_to("chat.postMessage", ok=False))})
            elif command == "stop":
                return


def apps_process(conn, database_url: str, slack_url: str, options: dict) -> None:
    """The real bot and the bare app, each under its own waitress with the same settings.
    `options` are the command line's experiments (see `main`); none of them is on by default."""
    from slack_bolt import Ack, App
    from sqlalchemy import event
    from waitress.server import create_server

    from bot.app_factory import create_app
    from bot.recovery import start_recovery
    from bot.runtime import build_services
    from bot.server import WAITRESS_LIMITS, make_wsgi_app
    from bot.settings import load_settings
    from bot.slack_client import make_web_client
    from storage.crypto import new_key

    logging.basicConfig(level=logging.WARNING)
    if options["switch_interval_ms"]:
        sys.setswitchinterval(options["switch_interval_ms"] / 1000)
    # "Task queue depth is N": expected at 32 clients on 8 threads, and the same for both apps.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    settings = load_settings(environ={
        "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack_url,
        "DATABASE_URL": database_url, "SCHEDULER_ENABLED": "false",
        "GROWTH_ENCRYPTION_KEY": new_key()}, env_file=None)      # answers are stored encrypted, as in production
    services = build_services(settings)
    engine = services.session_factory.kw["bind"]
    synchronous = options["sqlite_synchronous"]
    if synchronous and engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _synchronous(dbapi_connection, _record) -> None:
            dbapi_connection.execute(f"PRAGMA synchronous = {synchronous}")

        engine.dispose()  # the connections start-up opened did not have it
    app = create_app(services)
    if options["listener_threads"]:
        app.listener_runner.listener_executor = ThreadPoolExecutor(max_workers=options["listener_threads"])

    bare = App(client=make_web_client("xoxb-test", slack_url), signing_secret=SIGNING_SECRET,
               request_verification_enabled=False, token_verification_enabled=True)

    @bare.view(ids.CHECKIN_MODAL)
    def bare_submission(ack: Ack) -> None:
        ack()

    @bare.event("message")
    def bare_message() -> None:
        pass

    profiler = AckProfiler(app, engine, services.after_ack) if options["profile"] else None
    servers = []
    for wsgi in (make_wsgi_app(app, is_ready=lambda: True), make_wsgi_app(bare, is_ready=lambda: True)):
        server = create_server(wsgi, host="127.0.0.1", port=0, threads=THREADS, **WAITRESS_LIMITS)
        threading.Thread(target=server.run, daemon=True).start()
        servers.append(server)
    gc.collect()  # as bot.runtime.run_bot does
    gc.freeze()
    recovery = start_recovery(services)
    if not options["no_worker"]:
        services.after_ack.start_worker(services)  # the after-ack worker process, as run_bot starts it
    conn.send(tuple(f"http://127.0.0.1:{s.effective_port}" for s in servers))
    while True:
        command = conn.recv()
        if command == "reset" and profiler:
            profiler.reset()
        elif command == "report":
            conn.send(profiler.report() if profiler else None)
        elif command == "stop":
            recovery.shutdown(wait=False)
            services.after_ack.executor.shutdown(wait=True)  # and the worker process with it
            return  # the process ends, and the servers' daemon threads with it


class AckProfiler:
    """Where the real app's time to ack goes, recorded per request in the bot's process.

    Wraps the front door (start and end of a request), Bolt's listener executor (time queued),
    `Ack.__call__` (the moment of the ack), the dialect's execute, the SQLite write gate's wait
    and its COMMIT (each statement). What ran in a request's name before its ack is its ack path;
    the rest is after the ack. It also counts CPU (`time.thread_time`) of the request's own
    threads, and of the after-ack work (bot.after_ack), so that "the rest" can be told apart:
    CPU spent on the request itself, or waiting for the interpreter (the GIL) other threads hold.
    """

    def __init__(self, app, engine, after_ack):
        import bot.server as front
        import storage.db as db
        from slack_bolt.context.ack.ack import Ack
        from storage.write_gate import WriteGate

        self.records: list[dict] = []
        self._lock = threading.Lock()
        self._after_ack = after_ack
        local = self._local = threading.local()
        front_door = front._front_door
        self._reset_totals()

        def timed_front_door(bolt_app, verifier, environ):
            if bolt_app is not app:
                return front_door(bolt_app, verifier, environ)
            kind = MODAL if (environ.get("CONTENT_TYPE") or "").startswith(req.FORM) else THREAD
            rec = {"kind": kind, "t0": time.perf_counter(), "db": [], "queued": 0.0, "cpu": 0.0}
            local.rec = rec
            cpu0 = time.thread_time()
            try:
                return front_door(bolt_app, verifier, environ)
            finally:
                rec["end"] = time.perf_counter()
                rec["cpu"] += time.thread_time() - cpu0
                local.rec = None
                with self._lock:
                    self.records.append(rec)

        front._front_door = timed_front_door

        executor = app.listener_runner.listener_executor
        submit = executor.submit

        def timed_submit(fn, *args, **kwargs):
            rec, queued_at = getattr(local, "rec", None), time.perf_counter()

            def run():
                if rec is not None:
                    rec["queued"] += time.perf_counter() - queued_at
                local.rec = rec
                cpu0 = time.thread_time()
                try:
                    return fn(*args, **kwargs)
                finally:
                    if rec is not None:
                        rec["cpu"] += time.thread_time() - cpu0
                    local.rec = None

            return submit(run)

        executor.submit = timed_submit
        after_submit = after_ack.submit

        def timed_after_ack(work, *args):
            def run(*args):
                local.rec = None  # not any request's ack path
                started, cpu0 = time.perf_counter(), time.thread_time()
                try:
                    return work(*args)
                finally:
                    with self._lock:
                        self.after_jobs += 1
                        self.after_cpu += time.thread_time() - cpu0
                        self.after_wall += time.perf_counter() - started

            run.__name__ = getattr(work, "__name__", "work")
            return after_submit(run, *args)

        after_ack.submit = timed_after_ack
        acquire = WriteGate.acquire

        def timed_acquire(gate, urgent, timeout):
            started = time.perf_counter()
            try:
                return acquire(gate, urgent, timeout)
            finally:
                rec = getattr(local, "rec", None)
                if rec is not None:
                    rec["db"].append(("waiting for the write gate (SQLite)", started, time.perf_counter()))

        WriteGate.acquire = timed_acquire
        finish = db._finish

        def timed_finish(connection, statement):
            started = time.perf_counter()
            try:
                return finish(connection, statement)
            finally:
                rec = getattr(local, "rec", None)
                if rec is not None:
                    rec["db"].append((f"{statement} (SQLite, gate held)", started, time.perf_counter()))

        db._finish = timed_finish
        ack_call = Ack.__call__

        def timed_ack(ack_self, *args, **kwargs):
            response = ack_call(ack_self, *args, **kwargs)
            rec = getattr(local, "rec", None)
            if rec is not None:
                rec.setdefault("ack", time.perf_counter())
            return response

        Ack.__call__ = timed_ack
        dialect = engine.dialect

        def timing(name: str, what):
            original = getattr(dialect, name)

            def timed(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    rec = getattr(local, "rec", None)
                    if rec is not None:
                        rec["db"].append((what(args), started, time.perf_counter()))

            setattr(dialect, name, timed)

        def statement(args) -> str:
            verb = str(args[1]).lstrip().split(None, 1)[0].upper()
            if verb == "BEGIN":
                return "BEGIN (IMMEDIATE: waits for the write lock)" if "IMMEDIATE" in str(args[1]).upper() else "BEGIN"
            return verb if verb in ("SELECT", "INSERT", "UPDATE", "DELETE") else "other statements"

        for name in ("do_execute", "do_execute_no_params", "do_executemany"):
            timing(name, statement)
        timing("do_commit", lambda _args: "COMMIT")
        timing("do_rollback", lambda _args: "ROLLBACK")
        timing("do_ping", lambda _args: "pool pre-ping")

    def _reset_totals(self) -> None:
        self.after_jobs, self.after_cpu, self.after_wall = 0, 0.0, 0.0
        self.process_cpu0, self.wall0 = time.process_time(), time.perf_counter()
        self.worker_cpu0 = _cpu_of(self._after_ack.worker_pid)

    def reset(self) -> None:
        with self._lock:
            self.records = []
            self._reset_totals()

    def report(self) -> dict:
        """Per kind: mean ms of each part of the ack path, over all requests and over the slowest 1%."""
        with self._lock:
            records = [r for r in self.records if "ack" in r]
        out = {}
        for kind in KINDS:
            rows = []
            for r in (r for r in records if r["kind"] == kind):
                parts: dict[str, float] = defaultdict(float)
                for what, started, ended in r["db"]:
                    if started < r["ack"]:
                        parts[what] += ended - started
                if kind == MODAL:  # an event is acked before its listener is queued
                    parts["waiting for a Bolt listener thread"] = r["queued"]
                accounted = sum(parts.values())
                parts["front door, Bolt, Python: the rest before the ack"] = (r["ack"] - r["t0"]) - accounted
                parts["ack to response (Bolt's 10 ms ack poll)"] = r["end"] - r["ack"]
                commits_after = sum(1 for what, started, _ in r["db"] if what.startswith("COMMIT") and started >= r["ack"])
                rows.append((r["end"] - r["t0"], parts, commits_after, r["cpu"]))
            if not rows:
                continue
            rows.sort(key=lambda row: row[0])
            slowest = rows[int(len(rows) * 0.99):]
            names = {name for _, parts, _, _ in rows for name in parts}

            def mean(subset, name=None):
                values = [total if name is None else parts.get(name, 0.0) for total, parts, _, _ in subset]
                return sum(values) / len(values) * 1000

            def mean_cpu(subset):
                return sum(cpu for *_, cpu in subset) / len(subset) * 1000

            out[kind] = {
                "n": len(rows), "slowest_n": len(slowest), "total": (mean(rows), mean(slowest)),
                "parts": {name: (mean(rows, name), mean(slowest, name)) for name in names},
                "commits_after_ack": sum(c for _, _, c, _ in rows) / len(rows),
                "cpu": (mean_cpu(rows), mean_cpu(slowest)),
            }
        with self._lock:
            out["totals"] = {"after_jobs": self.after_jobs, "after_cpu": self.after_cpu, "after_wall": self.after_wall,
                             "process_cpu": time.process_time() - self.process_cpu0,
                             "worker_pid": self._after_ack.worker_pid,
                             "worker_cpu": _cpu_of(self._after_ack.worker_pid) - self.worker_cpu0,
                             "wall": time.perf_counter() - self.wall0}
        return out


def _cpu_of(pid: int | None) -> float:
    """User + system CPU seconds of process `pid` so far (0 without one)."""
    if not pid:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the database --------------------------------------------------------------------------------

@dataclass
class Database:
    name: str
    url: str
    description: str
    stop: object = None


def sqlite_database(tmp: Path) -> Database:
    url = f"sqlite:///{tmp / 'answers.db'}"
    upgrade_database(url)
    return Database("SQLite", url, f"WAL file on the disk ({tmp}), the bot's pragmas")


def postgres_database() -> Database:
    from tests import pg_server

    # On the disk, not in /dev/shm, and durable: an ack's cost includes its commit's flush.
    pg_server._scratch_dir = lambda: None
    server = pg_server.PostgresServer().start()
    for setting in ("fsync", "synchronous_commit", "full_page_writes"):
        server.execute(f"ALTER SYSTEM SET {setting} = on")
    server.execute("SELECT pg_reload_conf()")
    server.create_database("answers")
    url = server.url("answers")
    upgrade_database(url)
    return Database("PostgreSQL", url, f"{server.base_dir} on the disk, fsync and synchronous_commit on",
                    stop=server.stop)


def seed(engine, engineers: int) -> list[tuple[int, str, str, str]]:
    """`engineers` enrolled engineers, each with this week's check-in DM sent and unanswered;
    (check-in id, user id, DM channel, DM ts) for each."""
    now = SENT_AT
    users = [f"U{i:06d}" for i in range(engineers)]
    with engine.begin() as connection:
        connection.execute(insert(Engineer), [
            {"team_id": TEAM, "user_id": user, "framework_id": "delivery", "level_id": "senior", "tz": "UTC",
             "tz_checked_at": now, "created_at": now - timedelta(days=90), "updated_at": now} for user in users])
        engineer_ids = dict(connection.execute(select(Engineer.user_id, Engineer.id)).all())
        connection.execute(insert(CheckIn), [
            {"engineer_id": engineer_ids[user], "week_start": date(2026, 11, 30), "due_at": now,
             "status": "sent", "questions": QUESTIONS, "attempts": 1, "channel_id": "D" + user,
             "message_ts": f"{1764493200 + i}.000100", "sent_at": now} for i, user in enumerate(users)])
        found = connection.execute(select(CheckIn.id, Engineer.user_id, CheckIn.channel_id, CheckIn.message_ts)
                                   .join(Engineer, Engineer.id == CheckIn.engineer_id).order_by(CheckIn.id)).all()
    return [tuple(row) for row in found]


def background_left(reads) -> int:
    """Inbox items not yet processed plus confirmations not yet posted."""
    with reads() as connection:
        inbox = connection.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.done_at.is_(None)))
        outbox = connection.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value])))
    return inbox + outbox


def wait_until_done(reads, timeout: float = 300) -> float:
    started = time.monotonic()
    while background_left(reads):
        if time.monotonic() - started > timeout:
            raise SystemExit(f"the bot left {background_left(reads)} inbox items/confirmations undone for {timeout}s")
        time.sleep(0.02)
    return time.monotonic() - started


# -- the requests and the clients ----------------------------------------------------------------

class Requests:
    """Answers as Slack sends them. Each check-in gets one modal submission from the real app's
    rounds (a first answer, not an edit); the bare app is sent the same shapes, counted apart."""

    def __init__(self, checkins: list[tuple[int, str, str, str]]):
        self.checkins = checkins
        self.sent = {(MODAL, True): 0, (MODAL, False): 0, (THREAD, True): 0, (THREAD, False): 0}

    def next(self, kind: str, real: bool) -> tuple[str, str]:
        n = self.sent[(kind, real)]
        self.sent[(kind, real)] += 1
        if kind == MODAL:
            checkin_id, user, _, _ = self.checkins[n if real else n % len(self.checkins)]
            state = {f"{ids.CHECKIN_QUESTION_BLOCK}{q['id']}": {ids.CHECKIN_ANSWER_INPUT: f"{ANSWER} ({n}.{i})"}
                     for i, q in enumerate(QUESTIONS)}
            state[ids.CHECKIN_PRIVATE_BLOCK] = {ids.CHECKIN_PRIVATE_INPUT: {"type": "checkboxes", "selected_options": []}}
            return req.view_submission(user_id=user, callback_id=ids.CHECKIN_MODAL, state_values=state,
                                       private_metadata=str(checkin_id), view_id=f"V{int(real)}{n:07d}")
        _, user, channel, thread_ts = self.checkins[n % len(self.checkins)]
        ts = f"{1765000000 + n}.{int(real)}00200"
        event = {"type": "message", "channel": channel, "channel_type": "im", "user": user, "team": TEAM,
                 "text": f"{ANSWER} (reply {n})", "ts": ts, "event_ts": ts, "thread_ts": thread_ts}
        return req.event_callback(event, event_id=f"Ev{int(real)}{n:08d}")


@dataclass
class Row:
    samples_ns: list[int] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""


def run_round(url: str, batches: list[list[tuple[bytes, dict]]], row: Row | None) -> None:
    """Each batch from its own client thread on a kept-alive connection, all starting together."""
    parts = urlsplit(url)
    barrier = threading.Barrier(len(batches) + 1)
    results: list[tuple[list[int], list[str]]] = [([], [])] * len(batches)

    def client(index: int, batch: list[tuple[bytes, dict]]) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.connect()
        samples, errors = [], []
        barrier.wait()
        for body, headers in batch:
            started = time.perf_counter_ns()
            connection.request("POST", "/slack/events", body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            samples.append(time.perf_counter_ns() - started)
            # An empty 200 is the ack both answers expect; "errors" would be a refused modal.
            if response.status != 200 or data.strip():
                errors.append(f"HTTP {response.status}: {data[:200]!r}")
        connection.close()
        results[index] = (samples, errors)

    threads = [threading.Thread(target=client, args=(i, batch)) for i, batch in enumerate(batches)]
    for thread in threads:
        thread.start()
    barrier.wait()
    for thread in threads:
        thread.join()
    if row is not None:
        for samples, errors in results:
            row.samples_ns += samples
            row.errors += len(errors)
            row.first_error = row.first_error or (errors[0] if errors else "")


def signed_batches(requests: Requests, kind: str, real: bool, clients: int,
                   count: int) -> list[list[tuple[bytes, dict]]]:
    batches = []
    for _ in range(clients):
        batch = []
        for _ in range(count // clients):
            body, content_type = requests.next(kind, real)
            batch.append((body.encode(), req.sign(body, SIGNING_SECRET, content_type=content_type)))
        batches.append(batch)
    return batches


def percentile(samples: list[int], p: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1] / 1e6


# -- one database, end to end --------------------------------------------------------------------

def bench_database(db: Database, args) -> tuple[bool, str]:
    loads = args.clients
    warmup = max(loads) * 2
    modal_needed = (args.rounds * args.round_requests + warmup) * len(loads)
    engine = make_engine(db.url)
    checkins = seed(engine, modal_needed)
    # Polled between rounds: on SQLite a writing session would take the bot's write lock.
    reads = make_session_factory(engine, readonly=True)
    requests = Requests(checkins)
    ctx = multiprocessing.get_context("spawn")
    fake_conn, fake_child = ctx.Pipe()
    fake = ctx.Process(target=fake_slack_process, args=(fake_child, args.slack_latency_ms / 1000), daemon=True)
    fake.start()
    slack_url = fake_conn.recv()
    apps_conn, apps_child = ctx.Pipe()
    options = {name: getattr(args, name) for name in ("profile", "sqlite_synchronous", "listener_threads", "switch_interval_ms", "no_worker")}
    # Not a daemon: the bot starts its after-ack worker process (daemons may have no children).
    # It ends on "stop", or when this process's end of the pipe closes.
    apps = ctx.Process(target=apps_process, args=(apps_child, db.url, slack_url, options))
    apps.start()
    real_url, bare_url = apps_conn.recv()
    rows: dict[tuple[int, str], Row] = defaultdict(Row)
    drain_seconds: dict[int, list[float]] = defaultdict(list)
    try:
        for load in loads:  # warm-up: connections, caches, the JIT-less interpreter's first calls
            for kind in KINDS:
                for url in (real_url, bare_url):
                    run_round(url, signed_batches(requests, kind, url == real_url, load, warmup), None)
                    wait_until_done(reads)
        apps_conn.send("reset")
        for round_no in range(args.rounds):
            for load in loads:
                for kind_no, kind in enumerate(KINDS):
                    order = [(real_url, kind), (bare_url, BARE[kind])]
                    if (round_no + kind_no) % 2:
                        order.reverse()
                    for url, name in order:
                        batches = signed_batches(requests, kind, url == real_url, load, args.round_requests)
                        run_round(url, batches, rows[(load, name)])
                        if url == real_url:
                            drain_seconds[load].append(wait_until_done(reads))
        apps_conn.send("report")
        profile = apps_conn.recv()
        fake_conn.send("count")
        slack = fake_conn.recv()
    finally:
        apps_conn.send("stop")
        apps.join(timeout=10)
        fake_conn.send("stop")
        fake.join(timeout=10)

    # Every acknowledged answer is stored, and confirmed once.
    with reads() as connection:
        modal_answers = connection.scalar(select(func.count()).select_from(Answer).where(Answer.source == "modal"))
        thread_answers = connection.scalar(select(func.count()).select_from(Answer).where(Answer.source == "thread"))
        sent = connection.scalar(select(func.count()).select_from(OutboxMessage)
                                 .where(OutboxMessage.status == OutboxStatus.SENT.value))
    engine.dispose()
    modal_sent, thread_sent = requests.sent[(MODAL, True)], requests.sent[(THREAD, True)]
    expected_modal = modal_sent * len(QUESTIONS)
    checks = (f"stored {modal_answers}/{expected_modal} modal answers, {thread_answers}/{thread_sent} "
              f"thread replies; {sent} confirmations sent, {slack['posts']} posted "
              f"({slack['failed']} refused) for {modal_sent + thread_sent} answers")
    consistent = (modal_answers == expected_modal and thread_answers == thread_sent
                  and sent == slack["posts"] == modal_sent + thread_sent)

    lines = [f"{db.name}: {db.description}; {len(checkins)} engineers with a check-in sent",
             f"{'clients':>7}  {'request':16} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}"
             f" {'p99/bare p99':>13}  target {TARGET_RATIO:g}x"]
    met = consistent
    for load in loads:
        for kind in KINDS:
            bare = rows[(load, BARE[kind])]
            bare99 = percentile(bare.samples_ns, 99)
            for name, row in ((kind, rows[(load, kind)]), (BARE[kind], bare)):
                s = row.samples_ns
                p99 = percentile(s, 99)
                verdict = ""
                if name == kind:
                    ok = p99 <= TARGET_RATIO * bare99 and row.errors == 0
                    met = met and ok
                    verdict = f"{p99 / bare99:>12.2f}x  {'met' if ok else 'MISSED'}"
                lines.append(f"{load:>7}  {name:16} {len(s):>6} {percentile(s, 50):>8.2f} {p99:>8.2f} "
                             f"{max(s) / 1e6:>8.2f} {row.errors:>6} {verdict}")
                if row.first_error:
                    lines.append(f"{'':9}first error: {row.first_error}")
        drains = drain_seconds[load]
        lines.append(f"{'':9}after each real round, finishing what was acked took "
                     f"{sum(drains) / len(drains):.2f} s on average (max {max(drains):.2f} s)")
    lines.append(("ok: " if consistent else "NOT CONSISTENT: ") + checks)
    if profile:
        lines.append(f"profile of the real app's ack path, in the bot's process (ms; mean over all / over the slowest 1%):")
        totals = profile.pop("totals")
        for kind, p in profile.items():
            lines.append(f"  {kind}: {p['n']} requests, server time {p['total'][0]:.2f} / {p['total'][1]:.2f} "
                         f"(slowest {p['slowest_n']}); {p['commits_after_ack']:.1f} more commits after the ack")
            for name, (all_mean, slow_mean) in sorted(p["parts"].items(), key=lambda item: -item[1][0]):
                lines.append(f"    {name:48} {all_mean:>8.2f} {slow_mean:>8.2f}")
            lines.append(f"    {'(of which CPU of its own threads, to the end)':48} {p['cpu'][0]:>8.2f} {p['cpu'][1]:>8.2f}")
        jobs = totals["after_jobs"] or 1
        lines.append(f"  after-ack work in the bot's process: {totals['after_jobs']} jobs, CPU "
                     f"{totals['after_cpu'] / jobs * 1000:.2f} ms and wall {totals['after_wall'] / jobs * 1000:.2f} ms "
                     f"each; the bot process used {totals['process_cpu']:.1f} s CPU in {totals['wall']:.1f} s (both "
                     f"apps, every thread), {totals['after_cpu']:.1f} s of it after-ack work")
        if totals["worker_pid"]:
            lines.append(f"  after-ack worker process (pid {totals['worker_pid']}): {totals['worker_cpu']:.1f} s CPU")
    if db.stop:
        db.stop()
    return met, "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--clients", default="16,32", help="concurrent clients, comma-separated (default 16,32)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds per app, kind and load (default 6)")
    parser.add_argument("--round-requests", type=int, default=480,
                        help="requests per round, split among the clients (default 480)")
    parser.add_argument("--slack-latency-ms", type=float, default=0,
                        help="the fake Slack answers each call this much later (default 0)")
    parser.add_argument("--profile", action="store_true", help="also time the parts of the real app's ack path")
    experiments = parser.add_argument_group("experiments (what would change the figures; off by default)")
    experiments.add_argument("--sqlite-synchronous", choices=("FULL", "NORMAL"), default=None,
                             help="override the bot's PRAGMA synchronous on SQLite")
    experiments.add_argument("--listener-threads", type=int, default=None,
                             help="threads for Bolt's listeners (Bolt's default: 5)")
    experiments.add_argument("--switch-interval-ms", type=float, default=None,
                             help="the bot process's sys.setswitchinterval (Python's default: 5 ms)")
    experiments.add_argument("--no-worker", action="store_true",
                             help="keep the after-ack work in the bot's process on PostgreSQL too (bot.after_ack)")
    args = parser.parse_args(argv)
    args.clients = [int(n) for n in args.clients.split(",")]
    logging.basicConfig(level=logging.WARNING)

    names = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    print(f"{args.rounds} rounds x {args.round_requests} requests per app, kind and load, real and bare taking "
          f"turns; waitress {THREADS} threads; fake Slack latency {args.slack_latency_ms:g} ms"
          + "".join(f"; {name}={value}" for name, value in vars(args).items()
                    if name in ("sqlite_synchronous", "listener_threads", "switch_interval_ms", "no_worker") and value), flush=True)
    all_met = True
    with tempfile.TemporaryDirectory(prefix="answer-ack-") as tmp:
        for name in names:
            db = sqlite_database(Path(tmp)) if name == "sqlite" else postgres_database()
            met, table = bench_database(db, args)
            all_met = all_met and met
            print(table, flush=True)
    print(f"target (p99 within {TARGET_RATIO:g}x of the bare ack, no errors, nothing lost): "
          f"{'met' if all_met else 'MISSED'}")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
