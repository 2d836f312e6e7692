"""A hostile, clumsy client against the modal's inbox (bot.listeners.checkin_answers
write_down_first, bot.inbox.submissions): crafted view_submissions, replays, a check-in or its
engineer gone between the ack and the save, Slack failing after its work, ordering in one
engineer's lane, and what the inbox keeps on disk. Both databases."""

from __future__ import annotations

import json
import random
import string
import threading

import pytest
from sqlalchemy import func, select

from bot import ids
from bot.checkins.answering import NOT_YOURS
from bot.growthlog.forget import forget_me
from bot.inbox import intake
from storage.models import Answer, CheckIn, InboxItem, OutboxMessage
from tests import slack_requests as req
from tests.checkins.test_answer_paths import dm_event, edit_event, send_event, wait_until
from tests.checkins.test_checkins_e2e import (answer_button, checkin_now, enrol, open_answer_modal, question_blocks,
                                               state_for, stored_answers)
from tests.running_bot import start_bot

CONFIRMATION = "Saved to your growth log"
# Kilobytes that do not compress: past what one entry of PostgreSQL's unique index on inbox.key takes.
LONG_ID = "V" + "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=6000))


@pytest.fixture
def bot(fake_slack, database_url):
    running, stop = start_bot(fake_slack, database_url)
    yield running
    stop()


def modal_for(bot, user_id: str = "U1") -> tuple[dict, dict, int]:
    enrol(bot, user_id)
    dm = checkin_now(bot, user_id)
    return dm, open_answer_modal(bot, dm, user_id), int(answer_button(dm))


def post_submission(bot, view: dict, texts: dict[str, object], *, user_id: str = "U1", team_id: str = "T1",
                    view_id: str = "V-hostile", private_metadata: object = None,
                    state_values: dict | None = None) -> tuple[int, str]:
    body, ctype = req.view_submission(
        user_id=user_id, callback_id=ids.CHECKIN_MODAL, team_id=team_id, view_id=view_id,
        state_values=state_for(view, texts) if state_values is None else state_values,
        private_metadata=view["private_metadata"] if private_metadata is None else private_metadata)
    status, _, text = bot.post(body, ctype)
    return status, text


def typed(view: dict, label: str) -> dict[str, str]:
    return {b["block_id"]: f"{label} {n}" for n, b in enumerate(question_blocks(view), 1)}


def inbox_items(bot) -> list[InboxItem]:
    with bot.services.uow.reading() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


def all_answers(bot) -> list[Answer]:
    with bot.services.uow.reading() as session:
        return list(session.scalars(select(Answer).order_by(Answer.id)))


def confirmations(bot, dm: dict, channel: str = "DU1") -> list[dict]:
    return [m for m in bot.fake.messages_in(channel)
            if m.get("thread_ts") == dm["ts"] and m.get("text") == CONFIRMATION]


def refused_as_not_yours(status: int, text: str) -> None:
    assert status == 200, text
    assert json.loads(text) == {"response_action": "errors", "errors": {ids.CHECKIN_PRIVATE_BLOCK: NOT_YOURS}}


# -- crafted submissions ----------------------------------------------------------------------------

@pytest.mark.parametrize("metadata", ["{other}", "999999", str(2**31), str(2**63 - 1), str(2**63), str(10**30),
                                      "-1", "0", "1e3", " {own}", "{own}.0", "", "null", "[{own}]"])
def test_a_submission_naming_a_checkin_not_theirs_stores_nothing_and_says_only_not_yours(bot, metadata):
    _, view, own = modal_for(bot, "U1")
    _, _, other = modal_for(bot, "U2")
    before = inbox_items(bot)
    status, text = post_submission(bot, view, typed(view, "stolen"),
                                   private_metadata=metadata.format(own=own, other=other))
    refused_as_not_yours(status, text)
    assert bot.settle()
    assert inbox_items(bot) == before and all_answers(bot) == []


def test_the_engineers_own_checkin_from_another_team_is_refused(bot):
    _, view, _ = modal_for(bot)
    status, text = post_submission(bot, view, typed(view, "other team"), team_id="T2")
    refused_as_not_yours(status, text)
    assert bot.settle() and inbox_items(bot) == [] and all_answers(bot) == []


@pytest.mark.parametrize("state_values", [
    {"q": {"answer": {"type": "plain_text_input", "value": 5}}},
    "not a mapping",
    ["a", "list"],
    None,
])
def test_values_of_odd_types_are_no_traceback(bot, state_values):
    dm, view, checkin_id = modal_for(bot)
    blocks = [b["block_id"] for b in question_blocks(view)]
    if isinstance(state_values, dict):  # each question's value a number, a list, a dict, null, a bool
        odd = [5, ["x"], {"a": 1}, None, True]
        state_values = {block: {ids.CHECKIN_ANSWER_INPUT: {"type": "plain_text_input", "value": odd[n % len(odd)]}}
                        for n, block in enumerate(blocks)}
    body, ctype = req.view_submission(user_id="U1", callback_id=ids.CHECKIN_MODAL, state_values={},
                                      private_metadata=view["private_metadata"], view_id="V-odd")
    payload = json.loads(_form_field(body))
    payload["view"]["state"] = {"values": state_values}
    status, _, text = bot.post(_form_body(payload), ctype)
    assert status == 200 and "Traceback" not in text and "File \"" not in text
    assert bot.settle()
    assert stored_answers(bot, checkin_id) == []          # nothing typed is nothing stored


def _form_field(body: str) -> str:
    from urllib.parse import parse_qs

    return parse_qs(body)["payload"][0]


def _form_body(payload: dict) -> str:
    from urllib.parse import urlencode

    return urlencode({"payload": json.dumps(payload)})


def test_a_replayed_submission_is_one_save_and_one_confirmation(bot):
    dm, view, checkin_id = modal_for(bot)
    answers = typed(view, "replayed")
    results: list[tuple[int, str]] = []
    start = threading.Barrier(4)

    def replay():
        start.wait()
        results.append(post_submission(bot, view, answers, view_id="V-replay"))

    threads = [threading.Thread(target=replay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [(200, "")] * 4                    # every copy closes the modal
    assert post_submission(bot, view, answers, view_id="V-replay") == (200, "")
    assert bot.settle()
    intake.recover(bot.services, now=bot.services.now() + intake.RECOVERY_GRACE * 2)
    assert sorted(a.text for a in stored_answers(bot, checkin_id)) == sorted(answers.values())
    assert len(inbox_items(bot)) == 1
    wait_until(lambda: confirmations(bot, dm))
    with bot.services.uow.reading() as session:   # one confirmation queued, none left to send
        assert session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.thread_ts == dm["ts"])) == 1
    assert len(confirmations(bot, dm)) == 1


def test_the_same_view_id_with_new_values_is_a_second_save_that_wins(bot):
    _, view, checkin_id = modal_for(bot)
    assert post_submission(bot, view, typed(view, "first"), view_id="V-same") == (200, "")
    assert post_submission(bot, view, typed(view, "second"), view_id="V-same") == (200, "")
    assert bot.settle()
    assert sorted(a.text for a in stored_answers(bot, checkin_id)) == sorted(typed(view, "second").values())


def test_someone_elses_copy_of_a_submission_does_not_swallow_the_engineers_own(bot):
    """A crafted request, sent first, with the engineer's view id and words but for the sender's own
    check-in: the engineer's real Save must still be saved (a shared key said "a replay": acked, lost)."""
    _, view1, checkin1 = modal_for(bot, "U1")
    _, view2, checkin2 = modal_for(bot, "U2")
    words = typed(view1, "same words")
    assert post_submission(bot, view2, words, user_id="U2", view_id="V-of-U1") == (200, "")
    assert bot.settle()
    assert post_submission(bot, view1, words, user_id="U1", view_id="V-of-U1") == (200, "")
    assert bot.settle()
    assert sorted(a.text for a in stored_answers(bot, checkin1)) == sorted(words.values())


def test_one_engineers_same_view_for_two_of_their_checkins_saves_both(bot):
    dm, view, first = modal_for(bot)
    words = typed(view, "both weeks")
    with bot.services.session_factory.begin() as session:   # a second check-in of theirs, same questions
        original = session.get(CheckIn, first)
        copy = CheckIn(engineer_id=original.engineer_id, week_start=original.week_start.replace(year=2020),
                       due_at=original.due_at, status=original.status, questions=original.questions)
        session.add(copy)
        session.flush()
        second = copy.id
    assert post_submission(bot, view, words, view_id="V-both") == (200, "")
    assert post_submission(bot, view, words, view_id="V-both", private_metadata=str(second)) == (200, "")
    assert bot.settle()
    assert len(stored_answers(bot, first)) == len(words) == len(stored_answers(bot, second))


@pytest.mark.parametrize("value", [str(2**31), str(2**63 - 1), "0", "-3"])
def test_the_answer_button_with_a_huge_or_odd_checkin_id_says_not_yours(bot, value):
    enrol(bot)
    reply = bot.click(ids.CHECKIN_ANSWER, value, user_id="U1", channel_id="DU1")
    assert reply.status == 200
    [said] = reply.followups()
    assert NOT_YOURS in said["text"]
    assert bot.fake.calls_to("views.open") == []


# -- between the ack and the save --------------------------------------------------------------------

def held(bot, monkeypatch) -> list[int]:
    """Acked submissions are written down but not processed (as when the lane is still busy):
    their inbox ids, to process by hand."""
    handed: list[int] = []
    monkeypatch.setattr(bot.services.after_ack, "process_inbox", lambda services, item_id, lane: handed.append(item_id))
    return handed


def assert_done_and_empty(bot, item_id: int) -> None:
    with bot.services.uow.reading() as session:
        item = session.get(InboxItem, item_id)
        assert item.done_at is not None and item.payload == {}


def test_a_checkin_deleted_before_its_save_leaves_the_item_done_and_stores_nothing(bot, monkeypatch):
    dm, view, checkin_id = modal_for(bot)
    handed = held(bot, monkeypatch)
    assert post_submission(bot, view, typed(view, "too late")) == (200, "")
    [item_id] = wait_until(lambda: list(handed))
    with bot.services.session_factory.begin() as session:
        session.delete(session.get(CheckIn, checkin_id))
    intake.process(bot.services, item_id)                       # no exception: the lane goes on
    assert_done_and_empty(bot, item_id)
    assert all_answers(bot) == [] and confirmations(bot, dm) == []
    assert intake.recover(bot.services, now=bot.services.now() + intake.RECOVERY_GRACE * 2) == 0


def test_forget_me_before_the_save_stores_nothing_even_in_a_new_checkin_with_the_old_id(bot, monkeypatch):
    """SQLite hands a deleted row's id to the next row: after forget-me and a new `/growth now`, the
    new check-in can have the old one's id. What was typed before forget-me must stay forgotten."""
    dm, view, checkin_id = modal_for(bot)
    handed = held(bot, monkeypatch)
    assert post_submission(bot, view, typed(view, "forget this")) == (200, "")
    send_event(bot, dm_event("forget this reply", "1700000999.000100", dm["ts"]), "EvForget")
    wait_until(lambda: len(handed) == 2)
    assert not forget_me(bot.services.uow, "T1", "U1").nothing
    for item_id in handed:          # forget-me took what was typed out of the inbox too
        assert_done_and_empty(bot, item_id)
    monkeypatch.undo()
    enrol(bot)
    again = checkin_now_again(bot)
    for item_id in handed:
        intake.process(bot.services, item_id)
    intake.recover(bot.services, now=bot.services.now() + intake.RECOVERY_GRACE * 2)
    assert bot.settle()
    assert all("forget this" not in a.text for a in all_answers(bot)), (checkin_id, again)


def checkin_now_again(bot) -> int:
    reply = bot.command("/growth now", user_id="U1")
    assert reply.status == 200
    with bot.services.uow.reading() as session:
        return session.scalar(select(func.max(CheckIn.id)))


def test_what_a_pending_submission_holds_is_encrypted_on_disk_and_emptied_once_saved(bot, monkeypatch, request,
                                                                                        database_url):
    from tests.crypto.test_at_rest import pg_dump, sqlite_files

    marker = "pending-modal-zq7-MARKER"
    dm, view, checkin_id = modal_for(bot)
    handed = held(bot, monkeypatch)
    answers = {block: f"{text} {marker}" for block, text in typed(view, "typed").items()}
    assert post_submission(bot, view, answers) == (200, "")
    [item_id] = wait_until(lambda: list(handed))
    if database_url.startswith("sqlite"):
        database, wal = sqlite_files(database_url)
        on_disk = database.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    else:
        on_disk = pg_dump(request.getfixturevalue("postgres_server"), database_url)
    assert b"enc1:" in on_disk and marker.encode() not in on_disk
    with bot.services.uow.reading() as session:   # it is there, readable by the bot
        assert marker in json.dumps(session.get(InboxItem, item_id).payload)
    intake.process(bot.services, item_id)
    assert_done_and_empty(bot, item_id)
    assert len(stored_answers(bot, checkin_id)) == len(answers)


# -- Slack failing after its work ---------------------------------------------------------------------

def test_a_confirmation_slack_posted_and_then_failed_is_in_the_thread_once(bot):
    from datetime import timedelta

    dm, view, checkin_id = modal_for(bot)
    bot.fake.fail_next("chat.postMessage", "internal_error", status=500, after_work=True)
    assert post_submission(bot, view, typed(view, "posted then 500")) == (200, "")
    assert bot.settle()
    wait_until(lambda: confirmations(bot, dm))               # Slack did post it, then said 500
    def status() -> str | None:   # a read per look: on SQLite a session_factory session holds the write lock
        with bot.services.uow.reading() as session:
            return session.scalar(select(OutboxMessage.status).where(OutboxMessage.thread_ts == dm["ts"]))

    wait_until(lambda: status() == "pending")                # to be retried, maybe posted
    later = bot.services.now() + timedelta(minutes=10)
    bot.services.now = lambda: later                         # its retry is due
    bot.services.outbox.drain()
    intake.recover(bot.services, now=later)
    assert len(confirmations(bot, dm)) == 1
    assert status() == "sent"
    assert len(stored_answers(bot, checkin_id)) == len(question_blocks(view))


# -- one engineer in order, engineers side by side ------------------------------------------------------

def test_a_reply_its_edit_and_a_save_in_quick_succession_end_as_sent(bot):
    dm, view, checkin_id = modal_for(bot)
    reply_ts = "1700000999.000300"
    send_event(bot, dm_event("first draft", reply_ts, dm["ts"]), "EvOrder1")
    send_event(bot, edit_event("final words", dm["ts"], ts=reply_ts), "EvOrder2")
    assert post_submission(bot, view, typed(view, "first save"), view_id="V-order") == (200, "")
    assert post_submission(bot, view, typed(view, "second save"), view_id="V-order") == (200, "")
    assert bot.settle()
    stored = stored_answers(bot, checkin_id)
    assert sorted(a.text for a in stored if a.slack_ts == reply_ts) == ["final words"]
    assert sorted(a.text for a in stored if a.slack_ts != reply_ts) == sorted(typed(view, "second save").values())


def test_one_engineers_stuck_save_does_not_hold_up_anothers(bot, monkeypatch):
    from bot.inbox import submissions

    _, view1, checkin1 = modal_for(bot, "U1")
    _, view2, checkin2 = modal_for(bot, "U2")
    original = intake.process_modal_submission
    stuck, release = threading.Event(), threading.Event()

    def u1_is_slow(services, item_id):
        with services.uow.reading() as session:
            whose = session.get(InboxItem, item_id).payload.get("user_id")
        if whose == "U1":
            stuck.set()
            release.wait(10)
        return original(services, item_id)

    monkeypatch.setattr(intake, "process_modal_submission", u1_is_slow)
    try:
        assert post_submission(bot, view1, typed(view1, "slow"), user_id="U1", view_id="V-slow") == (200, "")
        assert stuck.wait(5)
        assert post_submission(bot, view2, typed(view2, "quick"), user_id="U2", view_id="V-quick") == (200, "")
        wait_until(lambda: stored_answers(bot, checkin2))      # while U1's lane is still stuck
        assert stored_answers(bot, checkin1) == []
    finally:
        release.set()
    assert bot.settle()
    assert len(stored_answers(bot, checkin1)) == len(question_blocks(view1))
    assert submissions.MODAL_SUBMISSION == "modal_submission"


def test_shutting_down_with_saves_waiting_in_a_lane_finishes_them_all(bot, monkeypatch):
    """bot.graceful drains the after-ack executor on SIGTERM: what waits in a lane behind a slow item
    is saved before it returns, in order."""
    _, view, checkin_id = modal_for(bot)
    original = intake.process_modal_submission
    started, release = threading.Event(), threading.Event()

    def first_is_slow(services, item_id):
        if not started.is_set():
            started.set()
            release.wait(10)
        return original(services, item_id)

    monkeypatch.setattr(intake, "process_modal_submission", first_is_slow)
    for round_ in range(1, 5):
        assert post_submission(bot, view, typed(view, f"round {round_}"), view_id="V-drain") == (200, "")
        if round_ == 1:
            assert started.wait(5)
    lanes = bot.services.after_ack._lanes
    wait_until(lambda: len(lanes._waiting.get("user:T1:U1", ())) == 3)   # handed over, waiting their turn
    stopping = threading.Thread(target=bot.services.after_ack.executor.shutdown, kwargs={"wait": True})
    stopping.start()
    release.set()
    stopping.join(20)
    assert not stopping.is_alive()
    assert all(item.done_at is not None for item in inbox_items(bot))
    assert sorted(a.text for a in stored_answers(bot, checkin_id)) == sorted(typed(view, "round 4").values())


# -- SIGKILL right after the modal's ack ------------------------------------------------------------

def test_sigkill_right_after_modal_acks_leaves_each_in_the_log_once_with_one_confirmation(
        database_url, fake_slack, tmp_path):
    """The bot as production runs it (its own process). Modal Saves go in while other engineers'
    thread replies keep the front door busy (so saves wait for a lull), and the bot is killed the
    moment the last Save is acked. After a restart each is stored once and confirmed once."""
    import signal
    from concurrent.futures import ThreadPoolExecutor

    from tests.faults import test_kill_mid_traffic as kill
    from tests.faults.traffic import modal_submission, seed, send, thread_reply
    from tests.running_bot import SIGNING_SECRET

    class Small(kill.Scenario):
        def __post_init__(self) -> None:
            self.engine = kill.make_engine(self.database_url)
            self.reads = kill.make_session_factory(self.engine, readonly=True)
            self.checkins = seed(kill.make_session_factory(self.engine), self.fake, 8, 2)

    scenario = Small(database_url, fake_slack, tmp_path)
    try:
        bot = scenario.start_bot()
        saves = [modal_submission(c, f"sigkill-{n}") for n, c in enumerate(scenario.checkins[:8])]
        noise = [thread_reply(c, f"noise-{n}", f"1800000001.{n:06d}") for n, c in enumerate(scenario.checkins[8:] * 6)]
        with ThreadPoolExecutor(max_workers=6) as pool:
            busy = [pool.submit(send, bot.url, SIGNING_SECRET, d) for d in noise[:24]]
            acked = list(pool.map(lambda d: send(bot.url, SIGNING_SECRET, d), saves))
            worker = kill.worker_of(scenario, bot)
            bot.signal(signal.SIGKILL)
            assert bot.wait(5) == -signal.SIGKILL
            noise_outcomes = [f.result() for f in busy]
        assert all(o.acked and o.body == "" for o in acked), [(o.status, o.body, o.error) for o in acked]
        kill.wait_gone(scenario, worker)
        restarted = scenario.start_bot()
        noise_acked = [o.delivery for o in noise_outcomes if o.acked]
        scenario.wait_stored(saves + noise_acked)
        kill.wait_confirmed(scenario, saves, dead_pid=bot.pid)
        kill.stop(scenario, restarted)
        kill.check_log(scenario, saves + noise_acked, saves + noise[:24])
        kill.check_confirmations(scenario, saves, dead_pid=bot.pid)
    finally:
        scenario.close()


@pytest.mark.parametrize("field, value", [("view_id", "V\x00nul"), ("view_id", "V\ud800half"), ("view_id", LONG_ID),
                                          ("user_id", "U" * 5000),
                                          ("user_id", "U1\x00"), ("user_id", "U1\udc00"),
                                          ("team_id", "T1\x00"), ("team_id", "T1\ud83d")])
def test_ids_no_database_can_hold_are_refused_as_not_yours_not_save_failed(bot, field, value):
    """Slack's ids are short and ASCII; a NUL (PostgreSQL's text cannot hold one) or half a surrogate pair
    (not encodable as UTF-8) in a crafted one was 'press Save again', or a 500, for ever."""
    _, view, _ = modal_for(bot)
    ids_ = {"view_id": "V-odd-id", "user_id": "U1", "team_id": "T1", field: value}
    status, text = post_submission(bot, view, typed(view, "odd id"), **ids_)
    refused_as_not_yours(status, text)
    assert inbox_items(bot) == [] and all_answers(bot) == []


@pytest.mark.parametrize("first_is", ["thread reply", "modal save"])
def test_a_delivery_whose_hand_over_is_late_still_runs_before_the_next_one_acked_after_it(bot, monkeypatch, first_is):
    """The order is the order Slack got its acks in. A listener thread (which handed an item to its
    lane after the ack) could be held up, by the GIL or the OS, until the engineer's next delivery
    was acked and handed over: the edit then ran before its reply (and found nothing to edit), the
    second Save before the first (and the first's words won). Here the first hand-over waits until
    the next one is in (or 2 s: the next one cannot come before the first is acked)."""
    dm, view, checkin_id = modal_for(bot)
    after_ack = bot.services.after_ack
    real, handed = after_ack.process_inbox, []
    next_one_in = threading.Event()

    def first_held_up(services, item_id, lane):
        handed.append(item_id)
        if len(handed) == 1:
            next_one_in.wait(2)
            real(services, item_id, lane)
        else:
            real(services, item_id, lane)
            next_one_in.set()

    monkeypatch.setattr(after_ack, "process_inbox", first_held_up)
    reply_ts = "1700000999.000500"
    if first_is == "thread reply":
        send_event(bot, dm_event("first draft", reply_ts, dm["ts"]), "EvLate1")
        send_event(bot, edit_event("final words", dm["ts"], ts=reply_ts), "EvLate2")
    else:
        assert post_submission(bot, view, typed(view, "older"), view_id="V-late") == (200, "")
        assert post_submission(bot, view, typed(view, "newer"), view_id="V-late") == (200, "")
    wait_until(lambda: len(handed) == 2)
    assert bot.settle()
    stored = stored_answers(bot, checkin_id)
    if first_is == "thread reply":
        assert [a.text for a in stored] == ["final words"]
    else:
        assert sorted(a.text for a in stored) == sorted(typed(view, "newer").values())


@pytest.mark.parametrize("event_id", ["Ev\x00nul", "Ev\ud800half", "E" + LONG_ID])
@pytest.mark.parametrize("team_id", ["T1", "T1\x00", "T1\udfff"])
def test_a_dm_event_with_an_id_no_database_can_hold_is_acked_once_not_a_500(bot, event_id, team_id):
    """The same INSERT for DM events: a crafted event id or team was a 500, which Slack retries."""
    dm, _, _ = modal_for(bot)
    event = dm_event("crafted ids", "1700000999.000900", dm["ts"])
    for retry in (False, True):
        body, ctype = req.event_callback(event, event_id=event_id, team_id=team_id)
        kwargs = {"retry_num": 1, "retry_reason": "http_timeout"} if retry else {}
        assert bot.post(body, ctype, **kwargs)[0] == 200
    assert bot.settle()
    assert len(inbox_items(bot)) == 1           # the retry was recognised as one


# -- lanes: a busy engineer does not keep a pool thread to themself ---------------------------------

def test_a_lane_with_a_backlog_lets_another_engineers_work_in_between():
    """A flood of Saves from one engineer (a clumsy double-clicker, a crafted loop) kept one pool
    thread until all of it was done; four such lanes held every thread, and everyone else's
    answers waited behind them. Each item now goes to the back of the pool's queue."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.lanes import Lanes

    order: list[str] = []
    gate = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        lanes = Lanes(pool.submit)
        lanes.run("user:T1:U1", lambda: gate.wait(5))
        for n in range(5):
            lanes.run("user:T1:U1", lambda n=n: order.append(f"U1-{n}"))
        lanes.run("user:T1:U2", lambda: order.append("U2"))
        gate.set()
        wait_until(lambda: len(order) == 6)      # (before the pool shuts down, which takes no new work)
    assert sorted(order) == sorted([f"U1-{n}" for n in range(5)] + ["U2"])
    assert [o for o in order if o.startswith("U1")] == [f"U1-{n}" for n in range(5)]   # U1's in order
    assert order.index("U2") <= 1, order


def test_a_lane_still_drains_when_the_pool_is_shut_down_mid_backlog():
    """SIGTERM: the pool takes no new work while a lane still has some; the lane finishes it."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.lanes import Lanes

    order: list[int] = []
    gate = threading.Event()
    pool = ThreadPoolExecutor(max_workers=2)
    lanes = Lanes(pool.submit)
    lanes.run("user:T1:U1", lambda: gate.wait(5))
    for n in range(4):
        lanes.run("user:T1:U1", lambda n=n: order.append(n))
    stopping = threading.Thread(target=pool.shutdown, kwargs={"wait": True})
    stopping.start()
    wait_until(lambda: pool._shutdown)
    gate.set()
    stopping.join(10)
    assert not stopping.is_alive() and order == [0, 1, 2, 3]
    assert lanes._waiting == {}
