"""`/growth log` and `/growth prep` as a person waits for them, next to `/ladder`, in one run.

    .venv/bin/python benchmarks/read_e2e.py [--database sqlite|postgresql] [--engineers 10000]
        [--weeks 104] [--clients 16] [--requests 1000] [--warmup 100] [--plain]

The database is benchmarks/log_queries.py's (N engineers in teams of 8, `--weeks` weekly check-ins
each, about three answers a week: 10,000 × 104 ≈ 3.1 M answers; the real schema and indexes),
built first (a few minutes at full size; `--engineers 1000` is a quick run), its answer texts and
self-assessment picks encrypted at rest as the bot stores them (each value by the column's own type,
under a key made for the run; `--plain` seeds plain text, to see what decrypting costs). The app runs as in
production, in a process of its own: `create_app` on the real services, Bolt's WSGI adapter
under waitress with 8 threads (bot.server.serve_http's), `gc.freeze()` once built (as
bot.runtime does), its clock set to the data's "now". A fake Slack Web API (tests/fake_slack.py)
runs here and receives whatever the app posts to a response_url.

`--clients` threads (16) each keep a connection to the app open and send signed slash
commands (tests/slack_requests.py) one after another, drawn from one shuffled stream that
interleaves `/growth log` (half the engineer's own log, half a manager reading a report's),
`/growth prep` (a manager's digest of a report, each report once while there are reports
left), and `/ladder` (the queries of benchmarks/ladder_latency.py), so all three see the same
load at the same moments. A request is timed until its answer is there: the ack's body when
the answer is in the ack, else the moment the fake Slack has the first post to its
response_url (one more round trip). Every answer is checked to be the real one (not an error,
not a refusal). Warm-up requests are not timed.

It prints n, p50, p90, p99 and max (ms) per command, how each answered (ack / response_url),
and the ratio of each p99 to /ladder's. Exit status 0 when /growth log's and /growth prep's
p99 are both within 1.5x of /ladder's, 1 otherwise.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import itertools
import json
import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))                       # run as a script: `tests` is not installed
sys.path.insert(0, str(ROOT / "benchmarks"))

from tests import slack_requests as req             # noqa: E402
from tests.fake_slack import FakeSlack              # noqa: E402
from log_queries import TEAM                        # noqa: E402
from tests.running_bot import SIGNING_SECRET, blocks_text  # noqa: E402

TARGET_RATIO = 1.5          # the issue: p99 within 1.5x of /ladder's at the same load
SERVER_THREADS = 8          # bot.server.serve_http's default
KEY_VARIABLE = "READ_E2E_KEY"  # the run's encryption key, handed to the app's process
LADDER_QUERIES = ["senior", "L4", "stage 3", "senior vs staff", "sizing", "senoir"]
COMMANDS = ("/growth log", "/growth prep", "/ladder")


# -- the app, in a process of its own ------------------------------------------------------------

def serve(database_url: str, slack_url: str, key: str) -> None:
    """Child process: the real app over HTTP; prints its port, serves until stdin closes."""
    import logging

    from waitress.server import create_server

    from bot.app_factory import create_app
    from bot.runtime import install_keys
    from bot.server import make_wsgi_app
    from bot.services import Services, build_content_services
    from bot.settings import load_settings
    from log_queries import NOW
    from storage.db import make_engine, make_session_factory

    logging.basicConfig(level=logging.WARNING)
    # Sixteen clients on eight threads queue by design; waitress warns at every queued request.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    settings = load_settings(environ={
        "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": slack_url,
        "DATABASE_URL": database_url, "SCHEDULER_ENABLED": "false", "LOG_LEVEL": "WARNING",
        **({"GROWTH_ENCRYPTION_KEY": key} if key else {}),
    }, env_file=None)
    catalog, resolver, ladder = build_content_services(settings)
    engine = make_engine(database_url)
    if key:
        install_keys(settings, engine)       # as bot.runtime does: the key checked against the data
    services = Services(settings=settings, catalog=catalog, resolver=resolver, ladder=ladder,
                        session_factory=make_session_factory(engine), now=lambda: NOW)
    app = create_app(services)
    server = create_server(make_wsgi_app(app, is_ready=lambda: True), host="127.0.0.1", port=0,
                           threads=SERVER_THREADS)
    gc.collect()
    gc.freeze()
    stopping = threading.Event()

    def loop() -> None:
        # As tests/running_bot.py does: closing waitress's sockets under its own run() raises
        # EBADF in its threads, so loop in short slices and close once asked to stop.
        while not stopping.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)
        server.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    print(f"PORT {server.effective_port}", flush=True)
    sys.stdin.read()            # the parent closes our stdin to stop us
    stopping.set()
    thread.join(timeout=5)
    engine.dispose()


def start_app(database_url: str, slack_url: str, key: str) -> tuple[str, subprocess.Popen]:
    # The key goes in the child's environment, not its arguments: a key starting with "-" (one in
    # 64) read as an option, and the app did not start.
    child = subprocess.Popen([sys.executable, __file__, "--serve", database_url, slack_url],
                             env={**os.environ, KEY_VARIABLE: key},
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    line = child.stdout.readline()
    if not line.startswith("PORT "):
        child.kill()
        raise SystemExit(f"the app did not start (said {line!r})")
    return f"http://127.0.0.1:{int(line.split()[1])}", child


# -- the requests ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    command: str           # one of COMMANDS, as typed: "/growth log" is /growth with text "log …"
    text: str
    user_id: str
    expect: str            # a piece of the real answer


def request_stream(engineers: int, rng: random.Random):
    """Interleaved log / prep / ladder requests, forever (each triple in a random order)."""
    from log_queries import manager_index, user_id

    reports = [i for i in range(engineers) if manager_index(i) is not None]
    prep_order = reports[:]
    rng.shuffle(prep_order)
    # A digest marks the pair prepped, so the next one for that pair is empty: each report once
    # while there are reports left, then round again.
    preps = itertools.cycle(prep_order)
    ladder = itertools.cycle(LADDER_QUERIES)
    while True:
        report = rng.choice(reports)
        if rng.random() < 0.5:
            log = Request("/growth log", "", user_id(report), "Your growth log")
        else:
            log = Request("/growth log", f"<@{user_id(report)}|someone>", user_id(manager_index(report)),
                          f"Growth log of <@{user_id(report)}>")
        prepped = next(preps)
        triple = [log,
                  Request("/growth prep", f"<@{user_id(prepped)}|someone>", user_id(manager_index(prepped)),
                          f"1:1 prep: <@{user_id(prepped)}>"),
                  Request("/ladder", next(ladder), user_id(report), "")]
        rng.shuffle(triple)
        yield from triple


@dataclass
class Tally:
    samples_ns: dict[str, list[int]] = field(default_factory=lambda: {c: [] for c in COMMANDS})
    answered: dict[str, dict[str, int]] = field(default_factory=lambda: {c: {"ack": 0, "response_url": 0}
                                                                         for c in COMMANDS})
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client(threading.Thread):
    """One person's Slack client: a kept-alive connection, one command at a time."""

    tokens = itertools.count()

    def __init__(self, url: str, fake: FakeSlack, work, work_lock: threading.Lock, tally: Tally, timed: bool):
        super().__init__(daemon=True)
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.fake, self.work, self.work_lock, self.tally, self.timed = fake, work, work_lock, tally, timed

    def run(self) -> None:
        while True:
            with self.work_lock:
                request = next(self.work, None)
            if request is None:
                return
            try:
                self.send(request)
            except Exception as error:  # noqa: BLE001 -- counted and reported, the run goes on
                with self.tally.lock:
                    self.tally.failures.append(f"{request.command} {request.text!r}: {error!r}")
                self.connection.close()

    def send(self, request: Request) -> None:
        token = f"e2e{next(self.tokens)}"
        command, _, verb = request.command.partition(" ")
        body, content_type = req.slash_command(command=command, text=f"{verb} {request.text}".strip(),
                                               user_id=request.user_id, team_id=TEAM,
                                               response_url=self.fake.response_url(token))
        headers = req.sign(body, SIGNING_SECRET, content_type=content_type)
        started = time.perf_counter_ns()
        self.connection.request("POST", "/slack/events", body=body.encode(), headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:200]!r}")
        acked = json.loads(data) if data else None
        if acked and acked.get("blocks"):
            how, answer = "ack", acked
        else:
            how, answer = "response_url", self.fake.wait_for_response(token, timeout=30)[0]
        elapsed = time.perf_counter_ns() - started
        text = blocks_text(answer.get("blocks") or []) if isinstance(answer, dict) else str(answer)
        if request.expect not in text or "something went wrong" in text or "You can only read" in text:
            raise RuntimeError(f"not the real answer: {text[:200]!r}")
        if self.timed:
            with self.tally.lock:
                self.tally.samples_ns[request.command].append(elapsed)
                self.tally.answered[request.command][how] += 1


def run_clients(url: str, fake: FakeSlack, stream, count: int, clients: int, timed: bool) -> Tally:
    tally = Tally()
    work = itertools.islice(stream, count)
    lock = threading.Lock()
    threads = [Client(url, fake, work, lock, tally, timed) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally


def percentile(samples: list[int], p: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1] / 1e6


# -- main ------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--engineers", type=int, default=10_000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per command (default 1000)")
    parser.add_argument("--warmup", type=int, default=100, help="untimed requests per command first (default 100)")
    parser.add_argument("--plain", action="store_true",
                        help="store answers in plain text, as before encryption at rest (to see what it costs)")
    parser.add_argument("--serve", nargs=2, metavar=("DATABASE_URL", "SLACK_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(*args.serve, os.environ[KEY_VARIABLE])
        return 0

    from log_queries import TEAM_SIZE, database

    from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
    from storage.crypto import Keyring, install_keyring, new_key

    if args.engineers < TEAM_SIZE:
        parser.error(f"--engineers must be at least {TEAM_SIZE}")
    catalog = load_catalog(BUNDLED_CONTENT_DIR)
    # Answers and picks are seeded as the bot stores them: encrypted under a key made for the run,
    # which the app is started with (and checks at start-up, as it does in production).
    key = "" if args.plain else new_key()
    if key:
        install_keyring(Keyring.from_texts([key]))
    with database(args.database, args.engineers, args.weeks, catalog, encrypted=bool(key)) as (engine, _data), \
            FakeSlack() as fake:
        database_url = engine.url.render_as_string(hide_password=False)
        engine.dispose()                     # the app has its own; this process only sends requests
        url, child = start_app(database_url, fake.base_url, key)
        try:
            stream = request_stream(args.engineers, random.Random(20261203))
            warm = run_clients(url, fake, stream, 3 * args.warmup, args.clients, timed=False)
            fake.clear()
            tally = run_clients(url, fake, stream, 3 * args.requests, args.clients, timed=True)
        finally:
            child.stdin.close()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
    failures = warm.failures + tally.failures
    print(f"[{args.database}] {args.engineers:,} engineers x {args.weeks} weeks, answers "
          f"{'in plain text (--plain)' if args.plain else 'encrypted at rest (AES-GCM, decrypted per read)'}; "
          f"{args.clients} concurrent clients, "
          f"{args.warmup} warm-up + {args.requests} measured requests per command, interleaved; the app in its "
          f"own process (waitress, {SERVER_THREADS} threads); timed until the answer is there")
    print(f"{'':14} {'n':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}  {'answered in':<22} "
          f"{'p99 / ladder p99':>16}")
    ladder99 = percentile(tally.samples_ns["/ladder"], 99) if tally.samples_ns["/ladder"] else float("nan")
    met = True
    for command in COMMANDS:
        samples = tally.samples_ns[command]
        if not samples:
            print(f"{command:14} no answers")
            met = False
            continue
        p99 = percentile(samples, 99)
        how = ", ".join(f"{name} {n}" for name, n in tally.answered[command].items() if n)
        ratio = p99 / ladder99
        print(f"{command:14} {len(samples):>5} {percentile(samples, 50):>8.2f} {percentile(samples, 90):>8.2f} "
              f"{p99:>8.2f} {max(samples) / 1e6:>8.2f}  {how:<22} {ratio:>15.2f}x")
        if command != "/ladder":
            met = met and ratio <= TARGET_RATIO
    if failures:
        print(f"{len(failures)} requests failed, e.g. {failures[:3]}")
        met = False
    print(f"Target: /growth log and /growth prep p99 within {TARGET_RATIO:g}x of /ladder's: "
          f"{'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
