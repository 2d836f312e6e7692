"""Several OS processes running the due pass at the same instant against one PostgreSQL database.

Each process is `growth-bot checkins run-due --now <instant>` (through `bot.cli.main`, started by
a small launcher that, after the imports, waits at a barrier until every process is ready, so the passes really
begin together). The fake Slack enforces a workspace rate limit, which stretches each pass over
a few seconds: the processes contend for the same engineers the whole time. Exactly-once has
to come from the database claims alone.
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.db import make_engine, make_session_factory, upgrade_database
from storage.models import CheckIn
from tests.checkins.desk import add_engineers, checkin_dms, engineer_row
from tests.fake_slack import FakeSlack
from tests.keys import TEST_KEY_ENV

ENGINEERS = 200
NOW = "2026-03-13T15:00:00Z"          # Friday 16:00 in Berlin: everyone below is due
REPO = Path(__file__).resolve().parents[2]
_names = itertools.count()

# Imports first (they take a while and vary between processes, by seconds on a loaded machine),
# then a barrier: each says it is ready and waits for all the others, so the passes overlap.
LAUNCHER = """
import os, sys, time
import bot.cli, bot.runtime, bot.scheduling, bot.checkins.runner
barrier, count = sys.argv[1], int(sys.argv[2])
open(os.path.join(barrier, f"ready-{os.getpid()}"), "w").close()
deadline = time.time() + 120
while len(os.listdir(barrier)) < count and time.time() < deadline:
    time.sleep(0.01)
sys.exit(bot.cli.main(sys.argv[3:]))
"""


@pytest.fixture
def pg_url(postgres_server):
    name = f"two_processes_{next(_names)}"
    postgres_server.create_database(name)
    url = postgres_server.url(name)
    upgrade_database(url)
    engine = make_engine(url)
    add_engineers(make_session_factory(engine),
                  [engineer_row(f"U{i:04d}", tz="Europe/Berlin") for i in range(ENGINEERS)])
    engine.dispose()
    yield url
    postgres_server.drop_database(name)


def run_together(fake: FakeSlack, url: str, processes: int, tmp_path: Path, **extra: str) -> list[tuple[int, str, str]]:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PYTHONPATH": str(REPO),
           "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.base_url, "DATABASE_URL": url,
           "SCHEDULER_ENABLED": "false", "LOG_LEVEL": "WARNING", **TEST_KEY_ENV, **extra}
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    running = [subprocess.Popen([sys.executable, "-c", LAUNCHER, str(barrier), str(processes),
                                 "checkins", "run-due", "--now", NOW],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(processes)]
    results = []
    for process in running:
        out, err = process.communicate(timeout=180)
        results.append((process.returncode, out, err))
    return results


def counts(stdout: str) -> dict[str, int]:
    match = re.search(r"sent (\d+), skipped (\d+), failed (\d+)", stdout)
    assert match, stdout
    return dict(zip(("sent", "skipped", "failed"), map(int, match.groups())))


def assert_exactly_once(fake: FakeSlack, url: str, results: list[tuple[int, str, str]], working: int) -> None:
    for code, out, err in results:
        assert code == 0, err
    reports = [counts(out) for _, out, _ in results]
    assert sum(r["sent"] for r in reports) == ENGINEERS
    assert all(r["failed"] == 0 and r["sent"] + r["skipped"] == ENGINEERS for r in reports), reports
    # The processes worked at the same time, not one after the other. Claims go by chunks of 50
    # in id order, so with 3 processes and 4 chunks one of them may find nothing left to take.
    assert sum(r["sent"] > 0 for r in reports) >= working, reports
    posted = fake.post_message_counts()
    assert len(posted) == ENGINEERS and set(posted.values()) == {1}
    assert sum(len(checkin_dms(fake, f"U{i:04d}")) for i in range(ENGINEERS)) == ENGINEERS
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            statuses = dict(session.execute(select(CheckIn.status, func.count()).group_by(CheckIn.status)).all())
            assert statuses == {"sent": ENGINEERS}
            assert session.scalar(select(func.max(CheckIn.attempts))) == 1
    finally:
        engine.dispose()


def test_two_processes_at_the_same_instant_send_each_engineer_exactly_one_dm(pg_url, tmp_path):
    with FakeSlack(rate_limit_per_second=50) as fake:
        results = run_together(fake, pg_url, 2, tmp_path)
        assert_exactly_once(fake, pg_url, results, working=2)
        assert fake.rate_limited_count > 0       # the passes really were held back, and overlapped


def test_three_processes_with_small_send_concurrency_send_each_engineer_exactly_one_dm(pg_url, tmp_path):
    with FakeSlack(rate_limit_per_second=50) as fake:
        results = run_together(fake, pg_url, 3, tmp_path, SEND_CONCURRENCY="2")
        assert_exactly_once(fake, pg_url, results, working=2)
