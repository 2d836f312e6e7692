"""Killing the bot while engineers answer: nothing it acknowledged is lost, nothing is stored or
confirmed twice. On SQLite and on PostgreSQL, with the bot as production runs it (`python app.py`,
its own process) and a fake Slack in this one.

Sixteen clients send modal submissions and thread replies, signed as Slack signs them, and note
every one that got its HTTP 200. Mid-traffic the bot gets SIGKILL (a crash, an OOM kill) or
SIGTERM (every deploy). Then it starts again, and what was not acknowledged (a connection error)
is sent again, as Slack and the engineer pressing Save again would. In the end every answer
that got a 200 is in the log exactly once, and its "Saved to your growth log" is in Slack at
most once (SIGTERM: exactly once; SIGKILL: or it is still claimed by the dead process, whose
claim runs out minutes later and is then looked up before anything is posted again).
"""

from __future__ import annotations

import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from storage.db import make_engine, make_session_factory
from storage.models import OutboxStatus
from tests.fake_slack import FakeSlack
from tests.faults.bot_process import BotProcess, bot_environment, free_port
from tests.faults.traffic import (
    Delivery,
    Outcome,
    SentCheckIn,
    Traffic,
    answer_counts,
    confirmations_posted,
    outbox_messages,
    plan,
    seed,
    send,
)
from tests.running_bot import SIGNING_SECRET

CLIENTS = 16
ENGINEERS, WEEKS = 2 * CLIENTS, 6  # 12 check-ins per client, each answered once through the modal
PER_CLIENT = 60  # more than are sent before the signal: the traffic is still going when it lands
SIGNAL_AFTER_ACKS = 120
# A delivery the dead process wrote down but had not finished is left for RECOVERY_GRACE
# (10 s) to the thread that wrote it, then taken by the next recovery tick (every 10 s).
STORED_WITHIN = 30.0
EXITS_WITHIN = 10.0


@dataclass
class Scenario:
    database_url: str
    fake: FakeSlack
    directory: Path
    checkins: list[SentCheckIn] = field(default_factory=list)
    bots: list[BotProcess] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.database_url)
        # The test's reads must not take SQLite's write lock from the bot.
        self.reads = make_session_factory(self.engine, readonly=True)
        self.checkins = seed(make_session_factory(self.engine), self.fake, ENGINEERS, WEEKS)

    def start_bot(self) -> BotProcess:
        number = len(self.bots) + 1
        env = bot_environment(api_url=self.fake.base_url, database_url=self.database_url, port=free_port(),
                              signing_secret=SIGNING_SECRET, home=self.directory)
        bot = BotProcess(env, self.directory / f"bot-{number}.log", self.directory)
        self.bots.append(bot)
        return bot.start()

    def logs(self) -> str:
        return "\n".join(f"--- bot {n} (pid {b.process.pid if b.process else '?'}):\n{b.log_tail()}"
                         for n, b in enumerate(self.bots, 1))

    def counts(self) -> dict[str, int]:
        return answer_counts(self.reads, [c.id for c in self.checkins])

    def wait_stored(self, deliveries: list[Delivery], within: float = STORED_WITHIN) -> float:
        """Poll the answers table until every text of `deliveries` is there; the seconds it took."""
        started = time.monotonic()
        wanted = {text for d in deliveries for text in d.texts}
        while True:
            missing = wanted - self.counts().keys()
            if not missing:
                return time.monotonic() - started
            if time.monotonic() - started > within:
                raise AssertionError(f"{len(missing)} acknowledged answers not stored after {within:.0f} s, e.g. "
                                     f"{sorted(missing)[:5]}\n{self.logs()}")
            time.sleep(0.1)

    def close(self) -> None:
        for bot in self.bots:
            bot.kill()
        self.engine.dispose()


@pytest.fixture
def scenario(database_url, fake_slack, tmp_path):
    scenario = Scenario(database_url, fake_slack, tmp_path)
    yield scenario
    scenario.close()


def run_traffic(scenario: Scenario, bot: BotProcess, run: str) -> tuple[Traffic, int]:
    """Traffic against `bot` until SIGNAL_AFTER_ACKS acks; how many requests were in flight then."""
    traffic = Traffic(bot.url, SIGNING_SECRET, plan(scenario.checkins, CLIENTS, PER_CLIENT, run)).start()
    return traffic, traffic.wait_for_acks(SIGNAL_AFTER_ACKS)


def check_outcomes(outcomes: list[Outcome]) -> None:
    """A 200 or a connection error, nothing else; a modal's 200 closes it (an empty body)."""
    odd = [(o.delivery.kind, o.status, o.body[:200]) for o in outcomes
           if o.status not in (200, None) or (o.acked and o.delivery.kind == "modal" and o.body)]
    assert not odd, odd


def resend(bot: BotProcess, failed: list[Outcome]) -> list[Delivery]:
    """What got no ack, sent again (a Slack retry; for a modal, Save pressed again): each must be acked."""
    again = [send(bot.url, SIGNING_SECRET, o.delivery, retry=True) for o in failed]
    check_outcomes(again)
    assert all(o.acked for o in again), [(o.delivery.kind, o.error) for o in again if not o.acked]
    return [o.delivery for o in again]


def check_log(scenario: Scenario, expected: list[Delivery], attempted: list[Delivery]) -> None:
    """Every expected answer stored exactly once; nothing anyone sent stored twice."""
    counts = scenario.counts()
    twice = {text: n for text, n in counts.items() if n > 1}
    assert not twice, f"stored more than once: {twice}"
    missing = [text for d in expected for text in d.texts if counts.get(text) != 1]
    assert not missing, f"acknowledged, not stored: {missing}"
    ours = {text for d in attempted for text in d.texts}
    assert set(counts) <= ours, set(counts) - ours  # nothing stored that nobody sent


def unconfirmed(scenario: Scenario, expected: list[Delivery], dead_pid: int | None) -> list[tuple]:
    """Confirmations of `expected` not in Slack, except those the dead process (SIGKILL) still
    holds a claim on; raises if one was never queued with its answer."""
    posted = confirmations_posted(scenario.fake, {c.channel_id for c in scenario.checkins})
    outbox = outbox_messages(scenario.reads)
    missing = []
    for delivery in expected:
        message = delivery.confirmation_of(outbox)
        assert message is not None, f"no confirmation queued with {delivery.kind} {delivery.texts[0]!r}"
        held_by_the_dead = (dead_pid is not None and message.status == OutboxStatus.SENDING.value
                            and (message.owner or "").split(":")[1:2] == [str(dead_pid)])
        if not posted.get(message.id) and not held_by_the_dead:
            missing.append((message.id, message.status, message.owner, message.last_error))
    return missing


def wait_confirmed(scenario: Scenario, expected: list[Delivery], dead_pid: int | None,
                   within: float = STORED_WITHIN) -> None:
    deadline = time.monotonic() + within
    while missing := unconfirmed(scenario, expected, dead_pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"confirmations never posted (outbox id, status, owner, error): {missing[:10]}\n"
                                 f"{scenario.logs()}")
        time.sleep(0.1)


def check_confirmations(scenario: Scenario, expected: list[Delivery], dead_pid: int | None) -> None:
    """Each answer's confirmation was queued with it and is in Slack once, or (SIGKILL) is
    still claimed by the dead process; no confirmation is in Slack twice."""
    posted = confirmations_posted(scenario.fake, {c.channel_id for c in scenario.checkins})
    assert None not in posted, f"{posted[None]} confirmations posted without their outbox id"
    doubled = {outbox_id: n for outbox_id, n in posted.items() if n > 1}
    assert not doubled, f"confirmations posted more than once (outbox id: times): {doubled}"
    assert not unconfirmed(scenario, expected, dead_pid)


def stop(scenario: Scenario, bot: BotProcess) -> None:
    """SIGTERM, as a deploy sends it: out within EXITS_WITHIN seconds, with exit code 0."""
    bot.signal(signal.SIGTERM)
    code = bot.wait(EXITS_WITHIN)
    assert code == 0, f"exit code {code} {EXITS_WITHIN:.0f} s after SIGTERM\n{scenario.logs()}"


def worker_of(scenario: Scenario, bot: BotProcess) -> int | None:
    """On PostgreSQL, `python app.py` started its after-ack worker process by itself (bot.after_ack):
    its pid. On SQLite the work stays in the bot's process: None."""
    pid = bot.worker_pid()
    if "postgresql" not in scenario.database_url:
        assert pid is None, f"an after-ack worker process on SQLite\n{scenario.logs()}"
        return None
    assert pid is not None, f"no after-ack worker process was started\n{scenario.logs()}"
    return pid


def wait_gone(scenario: Scenario, pid: int | None, within: float = EXITS_WITHIN) -> None:
    if pid is None:
        return
    deadline = time.monotonic() + within
    while Path(f"/proc/{pid}").exists() and "Z" not in _state(pid):
        if time.monotonic() > deadline:
            raise AssertionError(f"the after-ack worker {pid} is still running {within:.0f} s on\n{scenario.logs()}")
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return "Z"


def test_sigkill_mid_traffic_loses_no_acknowledged_answer(scenario):
    bot = scenario.start_bot()
    traffic, in_flight = run_traffic(scenario, bot, "kill")
    worker = worker_of(scenario, bot)
    bot.signal(signal.SIGKILL)
    assert bot.wait(5) == -signal.SIGKILL
    wait_gone(scenario, worker)  # it finishes what it was handed and exits, never orphaned
    traffic.join()
    assert in_flight > 0 and traffic.failed(), "the kill must land mid-traffic"
    check_outcomes(traffic.outcomes)
    acked = [o.delivery for o in traffic.acked()]

    restarted = scenario.start_bot()
    resent = resend(restarted, traffic.failed())
    scenario.wait_stored(acked + resent)
    wait_confirmed(scenario, acked + resent, dead_pid=bot.pid)
    stop(scenario, restarted)  # nothing is being sent while the transcript is read

    check_log(scenario, acked + resent, [o.delivery for o in traffic.outcomes])
    check_confirmations(scenario, acked + resent, dead_pid=bot.pid)


def test_sigterm_mid_traffic_finishes_what_it_acknowledged_and_exits(scenario):
    bot = scenario.start_bot()
    traffic, in_flight = run_traffic(scenario, bot, "term")
    worker = worker_of(scenario, bot)
    stop(scenario, bot)
    wait_gone(scenario, worker, within=0.5)  # drained and waited for before the bot exited
    traffic.join()
    assert in_flight > 0 and traffic.failed(), "SIGTERM must land mid-traffic"
    # Whatever was in flight got its 200 (then it is stored) or a connection error (not acked).
    check_outcomes(traffic.outcomes)
    acked = [o.delivery for o in traffic.acked()]
    # It finished what it acknowledged before exiting, confirmations included: nothing is left
    # for a recovery pass.
    check_log(scenario, acked, [o.delivery for o in traffic.outcomes])
    assert not unconfirmed(scenario, acked, dead_pid=None)

    restarted = scenario.start_bot()
    resent = resend(restarted, traffic.failed())
    scenario.wait_stored(acked + resent)
    wait_confirmed(scenario, acked + resent, dead_pid=None)
    stop(scenario, restarted)

    check_log(scenario, acked + resent, [o.delivery for o in traffic.outcomes])
    check_confirmations(scenario, acked + resent, dead_pid=None)
