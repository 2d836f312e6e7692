"""How long `/ladder` takes to ack, against a bare Bolt app that only acks.

Both apps run in this process, each under the same waitress WSGI setup on loopback
(`bot.server.make_wsgi_app`, 4 threads), with the same fake Slack Web API. One client sends
signed `/ladder` requests **sequentially** (concurrency 1), each over a kept-alive connection
to its app, alternating apps request by request (A B, then B A, ...) so that a noisy machine
slows both alike. A warm-up round is discarded.

    .venv/bin/python benchmarks/ladder_latency.py [--requests N] [--warmup N]

Exit status 0 when the real app's p99 is within 1.3x of the bare baseline's, 1 otherwise.

Bolt (without process_before_response) runs the listener on a worker thread and polls for
`ack()` every 10 ms, so both apps share a ~10 ms floor that can hide the real app's work. The
last row therefore also times that work alone, in process: resolving the query and building
the Block Kit JSON that goes into the ack.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_bolt import Ack, App
from waitress.server import create_server

from bot.blocks.ladder import build_ladder_messages
from bot.server import make_wsgi_app
from bot.slack_client import make_web_client
from storage.db import upgrade_database
from tests import slack_requests as req
from tests.fake_slack import FakeSlack
from tests.running_bot import SIGNING_SECRET, start_bot

# Everyday look-ups, a typo, and the longest answers: a framework overview with its leverage
# table, a crosswalk translation with its caveat, a comparison across frameworks, a theme, the
# matrix's introduction, a question as people type it.
QUERIES = ["senior", "L4", "stage 3", "senior vs staff", "sizing", "senoir",
           "levels", "principal in roadmap", "L4 vs senior", "stage 5", "risk", "matrix",
           "how do I get to staff"]
THREADS = 4  # as tests.running_bot serves the real app
TARGET_RATIO = 1.3


def start_bare_app(fake: FakeSlack):
    """A Bolt app whose `/ladder` only acks, served exactly like the real one."""
    app = App(client=make_web_client("xoxb-test", fake.base_url), signing_secret=SIGNING_SECRET,
              token_verification_enabled=True)

    @app.command("/ladder")
    def ladder(ack: Ack) -> None:
        ack()

    server = create_server(make_wsgi_app(app, is_ready=lambda: True), host="127.0.0.1", port=0, threads=THREADS)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()

    def stop() -> None:
        server.close()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{server.effective_port}", stop


class Client:
    """One kept-alive HTTP/1.1 connection to an app; requests are signed just before sending."""

    def __init__(self, name: str, url: str, response_url: str):
        self.name = name
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        self.response_url = response_url
        self.samples_ns: list[int] = []

    def send(self, query: str, record: bool) -> bytes:
        body, content_type = req.slash_command(text=query, response_url=self.response_url)
        headers = req.sign(body, SIGNING_SECRET, content_type=content_type)
        started = time.perf_counter_ns()
        self.connection.request("POST", "/slack/events", body=body.encode(), headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        elapsed = time.perf_counter_ns() - started
        if response.status != 200:
            raise SystemExit(f"{self.name}: HTTP {response.status} for {query!r}: {data[:200]!r}")
        if record:
            self.samples_ns.append(elapsed)
        return data


def time_handler_work(services, count: int) -> list[int]:
    """The real listener's own work per query: resolve, build blocks, serialise them."""
    samples = []
    for i in range(count):
        query = QUERIES[i % len(QUERIES)]
        started = time.perf_counter_ns()
        messages = build_ladder_messages(services.ladder.answer(query), services.catalog)
        json.dumps([block.to_dict() for block in messages[0]])
        samples.append(time.perf_counter_ns() - started)
    return samples


def percentile(samples: list[int], p: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1] / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per app (default 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="discarded requests per app first (default 200)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade_database(database_url)
        bot, stop_bot = start_bot(fake, database_url)
        bare_url, stop_bare = start_bare_app(fake)
        try:
            real = Client("/ladder (real app)", bot.url, fake.response_url("bench-real"))
            bare = Client("bare Bolt ack", bare_url, fake.response_url("bench-bare"))
            # The real answers must be real answers, not errors acked quickly.
            for query in QUERIES:
                assert b'"blocks"' in real.send(query, record=False), query
            gc.collect()
            for phase, count in (("warm-up", args.warmup), ("measured", args.requests)):
                for i in range(count):
                    query = QUERIES[i % len(QUERIES)]
                    pair = (real, bare) if i % 2 == 0 else (bare, real)
                    for client in pair:
                        client.send(query, record=phase == "measured")
            if fake.responses_for("bench-real") or fake.responses_for("bench-bare"):
                raise SystemExit("an app posted to the response_url: the ack was not the whole answer")
            work = time_handler_work(bot.services, args.requests)
        finally:
            stop_bare()
            stop_bot()

    rows = []
    for client in (bare, real):
        s = client.samples_ns
        rows.append((client.name, len(s), percentile(s, 50), percentile(s, 90), percentile(s, 99), max(s) / 1e6))
    (_, _, bare50, _, bare99, _), (_, _, real50, _, real99, _) = rows
    print(f"{len(QUERIES)} queries {QUERIES}, sequential, 1 client, keep-alive, alternating A/B, "
          f"{args.warmup} warm-up + {args.requests} measured per app")
    print(f"{'':20} {'n':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, n, p50, p90, p99, worst in rows:
        print(f"{name:20} {n:>6} {p50:>8.2f} {p90:>8.2f} {p99:>8.2f} {worst:>8.2f}")
    print(f"{'  handler work only':20} {len(work):>6} {percentile(work, 50):>8.2f} {percentile(work, 90):>8.2f} "
          f"{percentile(work, 99):>8.2f} {max(work) / 1e6:>8.2f}   (in process, no HTTP)")
    ratio99 = real99 / bare99
    verdict = "within" if ratio99 <= TARGET_RATIO else "NOT within"
    print(f"{'ratio real/bare':20} {'':>6} {real50 / bare50:>7.2f}x {'':>8} {ratio99:>7.2f}x   "
          f"p99 {verdict} {TARGET_RATIO:g}x of the baseline")
    return 0 if ratio99 <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
