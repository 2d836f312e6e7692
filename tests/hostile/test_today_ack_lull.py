"""Hostile checks of today's lull before after-ack work (bot.ack_traffic) and of the modal's
write-down-and-ack in a listener middleware (bot.listeners.checkin_answers.write_down_first).

The front door's count must come back to zero whatever a request does (a crash inside, a refusal
for size or signature), or every confirmation would wait the full MAX_DEFER_SECONDS; a spawned
process (as the PostgreSQL worker) must read the parent's count; on an idle bot a confirmation
goes out in a lull, not at the deadline. Crafted view_submissions get a clean answer, store
nothing wrongly and are confirmed once. The bot tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import json
import logging
import multiprocessing
import threading
from urllib.parse import parse_qs, urlencode

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot import ack_traffic, ids
from bot.ack_traffic import AckTraffic
from bot.listeners import checkin_answers
from bot.server import MAX_BODY_BYTES, SLACK_PATH, make_wsgi_app
from storage.models import OutboxMessage
from storage.repositories.inbox import Inbox
from tests import slack_requests as req
from tests.checkins.test_checkins_e2e import (answer_button, checkin_now, enrol, open_answer_modal,
                                              question_blocks, stored_answers, submit)
from tests.running_bot import start_bot


def in_door() -> float:
    return ack_traffic.FRONT_DOOR.shared[0]


def quiet_log(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text


class Recorded:
    """The bot's front door, with what each after-ack wait returned and each confirmation sent."""

    def __init__(self, monkeypatch) -> None:
        self.waits: list[bool] = []
        self.confirmed = threading.Semaphore(0)   # one release per save_after_ack run
        wait = ack_traffic.FRONT_DOOR.wait_for_lull
        confirm = checkin_answers.save_after_ack

        def recorded_wait(handed_over: float) -> bool:
            self.waits.append(wait(handed_over))
            return self.waits[-1]

        def recorded_confirm(context) -> None:
            try:
                confirm(context)
            finally:
                self.confirmed.release()

        monkeypatch.setattr(ack_traffic.FRONT_DOOR, "wait_for_lull", recorded_wait)
        # Before the bot starts: register() takes the listener by its module name.
        monkeypatch.setattr(checkin_answers, "save_after_ack", recorded_confirm)


@pytest.fixture
def recorded(monkeypatch) -> Recorded:
    return Recorded(monkeypatch)


@pytest.fixture
def bot(fake_slack, database_url, recorded):
    bot, stop = start_bot(fake_slack, database_url)
    yield bot
    stop()


def answered_modal(bot):
    enrol(bot)
    dm = checkin_now(bot)
    view = open_answer_modal(bot, dm)
    answers = {b["block_id"]: f"Answer {n}" for n, b in enumerate(question_blocks(view), 1)}
    return dm, view, answers


def confirmations(bot, dm) -> list:
    return [c for c in bot.fake.calls_to("chat.postMessage") if c.args.get("thread_ts") == dm["ts"]]


def queued_confirmations(bot) -> list[OutboxMessage]:
    with bot.services.session_factory() as session:
        return session.scalars(select(OutboxMessage)).all()


# -- the front door's count ----------------------------------------------------------------------


def test_a_crash_inside_the_front_door_leaves_no_request_counted(fake_slack, sqlite_url, monkeypatch, caplog):
    bot, stop = start_bot(fake_slack, sqlite_url)
    try:
        import bot.server as server

        def crash(*args, **kwargs):
            raise RuntimeError("a bug in the front door")

        monkeypatch.setattr(server, "_front_door", crash)
        body, ctype = req.slash_command(command="/growth", text="help", user_id="U1", channel_id="C1",
                                        response_url=bot.fake.response_url("r1"))
        status, _, _ = bot.post(body, ctype)
        assert status == 500
        assert in_door() == 0
    finally:
        stop()


def test_refused_requests_leave_no_request_counted(running_bot):
    bot = running_bot
    body, ctype = req.slash_command(command="/growth", text="help", user_id="U1", channel_id="C1")
    assert req.post_to_app(bot.url, body, ctype, "not-the-secret")[0] == 401
    assert in_door() == 0


@pytest.mark.parametrize("length", [str(MAX_BODY_BYTES + 1), "-1", "many"])
def test_a_body_refused_by_its_length_leaves_no_request_counted(running_bot, length):
    # waitress refuses most of these itself; the front door's own refusal, called as waitress would.
    wsgi = make_wsgi_app(_AnyApp(), is_ready=lambda: True, signing_secret="s")
    answered = []
    environ = {"PATH_INFO": SLACK_PATH, "REQUEST_METHOD": "POST", "CONTENT_LENGTH": length,
               "wsgi.input": io.BytesIO(b"")}
    wsgi(environ, lambda status, headers: answered.append(status))
    assert answered and answered[0][:3] in ("400", "413")
    assert in_door() == 0


class _AnyApp:
    oauth_flow = None


def test_a_client_that_leaves_mid_body_leaves_no_request_counted(running_bot):
    import socket
    from urllib.parse import urlparse

    bot = running_bot
    address = urlparse(bot.url)
    with socket.create_connection((address.hostname, address.port)) as client:
        client.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                       b"Content-Type: application/x-www-form-urlencoded\r\n\r\npayload=")
    # The next request is answered, and once it is, nothing is left in the door.
    body, ctype = req.slash_command(command="/growth", text="help", user_id="U1", channel_id="C1",
                                    response_url=bot.fake.response_url("r2"))
    assert bot.post(body, ctype)[0] == 200
    assert in_door() == 0


def _child_reads(shared, readings, go) -> None:
    traffic = AckTraffic(shared=shared)
    readings.send(traffic.shared[0])                 # while the parent holds a request
    go.recv()
    readings.send(traffic.wait_for_lull(traffic.now()))  # after it left


def test_a_spawned_worker_process_sees_the_parents_requests_and_their_lull():
    context = multiprocessing.get_context("spawn")
    parent = AckTraffic()
    readings, readings_in = context.Pipe(duplex=False)
    go_out, go = context.Pipe(duplex=False)
    request = parent.serving()
    request.__enter__()
    child = context.Process(target=_child_reads, args=(parent.shared, readings_in, go_out), daemon=True)
    child.start()
    try:
        assert readings.poll(30) and readings.recv() == 1
        request.__exit__(None, None, None)
        go.send("go")
        # True: the lull the child saw was the parent's empty door, not its deadline.
        assert readings.poll(30) and readings.recv() is True
    finally:
        child.join(10)
        child.kill()


# -- the modal: a confirmation in a lull, crafted submissions ---------------------------------------


def test_an_idle_bot_confirms_an_answer_in_a_lull_not_at_the_deadline(bot, recorded):
    dm, view, answers = answered_modal(bot)
    assert submit(bot, view, answers, view_id="V-lull") == (200, "")
    assert recorded.confirmed.acquire(timeout=10)
    bot.fake.wait_for("chat.postMessage", count=2)
    assert len(confirmations(bot, dm)) == 1
    assert recorded.waits and all(recorded.waits)     # each wait ended in a lull (True), none at 5 s
    assert in_door() == 0


def test_a_double_clicked_save_is_stored_once_and_confirmed_once(bot, recorded):
    dm, view, answers = answered_modal(bot)
    assert submit(bot, view, answers, view_id="V-twice") == (200, "")
    assert submit(bot, view, answers, view_id="V-twice") == (200, "")
    assert recorded.confirmed.acquire(timeout=10) and recorded.confirmed.acquire(timeout=10)
    bot.fake.wait_for("chat.postMessage", count=2)
    assert len(queued_confirmations(bot)) == 1
    assert len(confirmations(bot, dm)) == 1
    assert [a.text for a in stored_answers(bot, int(answer_button(dm)))] == ["Answer 1", "Answer 2", "Answer 3"]


def test_someone_elses_checkin_id_is_refused_in_the_modal_and_confirmed_never(bot, recorded, caplog):
    caplog.set_level(logging.INFO)
    dm, view, answers = answered_modal(bot)
    status, text = submit(bot, view, answers, user_id="U2", view_id="V-other")
    assert status == 200 and json.loads(text)["response_action"] == "errors"
    assert stored_answers(bot, int(answer_button(dm))) == []
    assert queued_confirmations(bot) == []
    quiet_log(caplog)


def crafted(view, answers, change) -> tuple[str, str]:
    body, ctype = req.view_submission(user_id="U1", callback_id=view["callback_id"],
                                      state_values={b: {ids.CHECKIN_ANSWER_INPUT: v} for b, v in answers.items()},
                                      private_metadata=view["private_metadata"], view_id="V-crafted")
    payload = json.loads(parse_qs(body)["payload"][0])
    change(payload)
    return urlencode({"payload": json.dumps(payload)}), ctype


def _drop(*path):
    def change(payload):
        node = payload
        for key in path[:-1]:
            node = node[key]
        node.pop(path[-1], None)
    return change


def _set(value, *path):
    def change(payload):
        node = payload
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return change


CRAFTED = {
    "no-team": _drop("team"), "team-null": _set(None, "team"), "team-string": _set("T1", "team"),
    "team-no-id": _set({}, "team"), "no-user": _drop("user"), "user-list": _set(["U1"], "user"),
    "no-view-id": _drop("view", "id"), "no-metadata": _drop("view", "private_metadata"),
    "metadata-null": _set(None, "view", "private_metadata"), "metadata-object": _set({"a": 1}, "view", "private_metadata"),
    "no-state": _drop("view", "state"), "state-list": _set([1], "view", "state"),
    "values-list": _set(["x"], "view", "state", "values"), "values-string": _set("x", "view", "state", "values"),
}


@pytest.mark.parametrize("change", CRAFTED.values(), ids=CRAFTED.keys())
def test_a_crafted_submission_gets_a_clean_answer_and_stores_nothing_wrongly(bot, recorded, caplog, change):
    caplog.set_level(logging.INFO)
    dm, view, answers = answered_modal(bot)
    body, ctype = crafted(view, answers, change)
    status, _, text = bot.post(body, ctype)
    assert status in (200, 400), text
    assert "Traceback" not in text
    if status == 200 and text:
        assert json.loads(text)["response_action"] == "errors"
    assert bot.settle()  # what the modal closed on is saved a moment after
    stored = [a.text for a in stored_answers(bot, int(answer_button(dm)))]
    # Stored only when the submitter and the check-in are the owner's, as typed.
    assert stored in ([], ["Answer 1", "Answer 2", "Answer 3"])
    # A submission the modal closed on is confirmed (with nothing typed: "saved 0", as a blank
    # form is); one refused in the modal queues nothing.
    assert len(queued_confirmations(bot)) == (1 if status == 200 and not text else 0)
    quiet_log(caplog)


def test_a_save_that_fails_in_the_database_is_refused_in_the_modal_and_not_confirmed(bot, recorded, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    dm, view, answers = answered_modal(bot)

    def fails(write):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(bot.services.uow, "write_together", fails)
    status, text = submit(bot, view, answers, view_id="V-fails")
    assert status == 200, text
    assert "Traceback" not in text
    assert json.loads(text)["response_action"] == "errors"
    monkeypatch.undo()
    assert stored_answers(bot, int(answer_button(dm))) == []
    assert queued_confirmations(bot) == []


def test_a_save_that_raises_inside_the_shared_transaction_is_refused_and_leaves_the_next_one_working(
        bot, recorded, caplog, monkeypatch):
    dm, view, answers = answered_modal(bot)
    real = Inbox.add_for_checkin

    def raises(*args):
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(Inbox, "add_for_checkin", raises)
    status, text = submit(bot, view, answers, view_id="V-raises")
    assert status == 200 and json.loads(text)["response_action"] == "errors", text
    assert stored_answers(bot, int(answer_button(dm))) == [] and queued_confirmations(bot) == []
    # The group commit is not left wedged: the same Save, pressed again, is stored and confirmed once.
    monkeypatch.setattr(Inbox, "add_for_checkin", real)
    assert submit(bot, view, answers, view_id="V-raises") == (200, "")
    assert recorded.confirmed.acquire(timeout=10)    # the refused one ran no listener
    bot.fake.wait_for("chat.postMessage", count=2)
    assert len(confirmations(bot, dm)) == 1 and len(queued_confirmations(bot)) == 1


# -- SIGTERM: the drain does not wait out the deadline ------------------------------------------


def test_draining_on_sigterm_runs_work_handed_over_mid_request_in_a_lull(recorded):
    import socket
    import urllib.request

    from bot.after_ack import AfterAck
    from bot.graceful import serve_until_terminated

    after_ack, started, done = AfterAck(workers=1), threading.Event(), threading.Event()
    hold = threading.Event()

    def app(environ, start_response):
        with ack_traffic.FRONT_DOOR.serving():      # as bot.server's front door
            after_ack.submit(done.set)
            started.set()
            hold.wait(5)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    stop = threading.Event()
    server = threading.Thread(target=serve_until_terminated, args=(app,),
                              kwargs={"host": "127.0.0.1", "port": port, "threads": 2,
                                      "background": [after_ack.executor], "stop": stop})
    server.start()
    replies: list[bytes] = []
    client = threading.Thread(target=lambda: replies.append(_get_when_listening(port)))
    client.start()
    assert started.wait(10)
    stop.set()                                       # SIGTERM while the request is in the door
    hold.set()
    client.join(10)
    server.join(15)
    assert replies == [b"ok"] and done.is_set() and not server.is_alive()
    assert recorded.waits == [True]                  # it ran once the door emptied, not at 5 s
    assert in_door() == 0


def _get_when_listening(port: int) -> bytes:
    import socket
    import time
    import urllib.request

    for _ in range(250):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.02)
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
