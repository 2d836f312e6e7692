"""`/growth log`: parsing the filters, paging, private answers, and the buttons, down to the fake Slack."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import ids
from bot.blocks.growthlog import PRIVATE_MARK, build_log_messages, parse_privacy_value
from bot.growthlog.access import REFUSAL, Reader, can_read, sees_private
from storage.repositories.growth_log import Entry, LoggedCheckin, LogPage
from bot.growthlog.log_view import (
    EXAMPLES,
    LogQuery,
    LogQueryError,
    LogView,
    parse_log_query,
    read_log_view,
    set_answer_privacy,
)
from storage.models import LogRead
from storage.repositories import Engineers
from tests.growthlog import log_seed as seed
from tests.growthlog.replies import acked
from tests.running_bot import blocks_text

MONDAY = date(2026, 10, 26)


def buttons(blocks) -> list[dict]:
    found = []
    for block in blocks:
        block = block if isinstance(block, dict) else block.to_dict()
        if block["type"] == "actions":
            found.extend(block["elements"])
        if block.get("accessory", {}).get("type") == "button":
            found.append(block["accessory"])
    return found


def as_dicts(message) -> list[dict]:
    return [b.to_dict() for b in message]


# -- parsing --------------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, expected", [
    ("", LogQuery()),
    ("<@U2|bo>", LogQuery("U2")),
    ("<@U2|bo> since 2026-10-01", LogQuery("U2", since=date(2026, 10, 1))),
    ("since 2026-10-01", LogQuery(since=date(2026, 10, 1))),
    ("2026-10-01", LogQuery(since=date(2026, 10, 1))),
    ("since 2026-1-5", LogQuery(since=date(2026, 1, 5))),
    ("last 5", LogQuery(last=5)),
    ("LAST 5 weeks", LogQuery(last=5)),
    ("<@U2> last 3 check-ins", LogQuery("U2", last=3)),
    ("since 2026-10-01 last 2", LogQuery(since=date(2026, 10, 1), last=2)),
])
def test_log_filters_are_read(typed, expected):
    assert parse_log_query(typed) == expected


@pytest.mark.parametrize("typed, echoed", [
    ("since yesterdayish", "since yesterdayish"),
    ("last zero", "last zero"),
    ("last 0", "last 0"),
    ("last 100000", "last 100000"),
    ("since 2026-02-30", "since 2026-02-30"),
    ("since", "since"),
    ("last", "last"),
    ("lately", "lately"),
])
def test_bad_filters_say_what_was_wrong_with_examples(typed, echoed):
    with pytest.raises(LogQueryError) as raised:
        parse_log_query(typed)
    message = str(raised.value)
    assert f"`{echoed}`" in message
    assert EXAMPLES in message and "since 2026-10-01" in message and "last 5" in message


def test_a_name_typed_without_the_mention_menu_is_explained():
    with pytest.raises(LogQueryError, match="@-menu"):
        parse_log_query("@ada")


def test_the_query_travels_in_a_button_value_and_back():
    query = LogQuery("U2", since=date(2026, 10, 1), last=12, page=3)
    assert LogQuery.from_value(query.to_value()) == query
    assert LogQuery.from_value(LogQuery("U2").to_value()) == LogQuery("U2")
    assert len(query.to_value()) < 100


@pytest.mark.parametrize("value", [None, "", "nonsense", "{}", '{"o": 5}', '{"o":"U1","p":-1}', '{"o":"U1","l":0}'])
def test_foreign_button_values_are_refused(value):
    assert LogQuery.from_value(value) is None


# -- reading --------------------------------------------------------------------------------------

def seed_log(session_factory, weeks: int = 2) -> dict[str, int]:
    """U1 (manager U2) with `weeks` check-ins, each with a shared and a private answer."""
    ids_ = {}
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        seed.engineer(session, "U2", level=None)
        for n, week in enumerate(seed.weeks_back(MONDAY, weeks)):
            questions = [("q1", f"Question one of week {n}"), ("q2", f"Question two of week {n}")]
            row = seed.checkin(session, owner, week, questions)
            ids_[f"shared{n}"] = seed.answer(session, row, "q1", f"shared answer {n}").id
            ids_[f"private{n}"] = seed.answer(session, row, "q2", f"private answer {n}", private=True).id
    return ids_


def texts(view: LogView) -> list[str]:
    return [e.text for c in view.page.checkins for e in c.entries]


def test_the_engineer_sees_private_answers_the_manager_never_does(session_factory, uow):
    seed_log(session_factory)
    own = read_log_view(uow, Reader("T1", "U1"), LogQuery())
    managed = read_log_view(uow, Reader("T1", "U2"), LogQuery("U1"))
    assert own.own and texts(own) == ["shared answer 0", "private answer 0", "shared answer 1", "private answer 1"]
    assert not managed.own and texts(managed) == ["shared answer 0", "shared answer 1"]
    assert "private" not in blocks_text([b for m in build_log_messages(managed) for b in as_dicts(m)])


def test_a_week_answered_only_privately_is_invisible_to_the_manager(session_factory, uow):
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        secret = seed.checkin(session, owner, MONDAY, [("q1", "Secret week question")])
        seed.answer(session, secret, "q1", "only for me", private=True)
        open_ = seed.checkin(session, owner, MONDAY - timedelta(weeks=1), [("q1", "Open week question")])
        seed.answer(session, open_, "q1", "for both of us")
    managed = read_log_view(uow, Reader("T1", "U2"), LogQuery("U1"))
    assert [c.week_start for c in managed.page.checkins] == [MONDAY - timedelta(weeks=1)]
    text = blocks_text([b for m in build_log_messages(managed) for b in as_dicts(m)])
    assert "Secret week question" not in text and "only for me" not in text and "🔒" not in text


def test_strangers_and_unknown_people_get_the_same_nothing(session_factory, uow):
    seed_log(session_factory)
    assert read_log_view(uow, Reader("T1", "U3"), LogQuery("U1")) is None
    assert read_log_view(uow, Reader("T1", "U3"), LogQuery("U404")) is None
    assert read_log_view(uow, Reader("T2", "U2"), LogQuery("U1")) is None  # another workspace


def seed_org(session_factory) -> None:
    """Logs with shared and private answers for: U1 (manager U2, formerly U5), U2 (manager U6),
    U4 (no manager), and a U1 in another workspace managed by U3. U3, U5, U6 and U9 have no
    log; U9 is not an engineer at all."""
    with session_factory.begin() as session:
        for user, manager, team in (("U1", "U5", "T1"), ("U2", "U6", "T1"), ("U4", None, "T1"), ("U1", "U3", "T2")):
            owner = seed.engineer(session, user, manager=manager, team_id=team)
            for n, week in enumerate(seed.weeks_back(MONDAY, 2)):
                row = seed.checkin(session, owner, week, [("q1", "Shared?"), ("q2", "Private?")])
                seed.answer(session, row, "q1", f"{team}/{user} shared {n}")
                seed.answer(session, row, "q2", f"{team}/{user} private {n}", private=True)
        seed.engineer(session, "U1", manager="U2")                         # U5 is the former manager
        for user in ("U3", "U5", "U6"):
            seed.engineer(session, user)


ORG_READERS = [Reader(team, user) for team in ("T1", "T2") for user in ("U1", "U2", "U3", "U4", "U5", "U6", "U9")]
ORG_OWNERS = ("U1", "U2", "U3", "U4", "U9")


@pytest.mark.parametrize("since", [None, "since 2026-01-01"])
def test_the_rule_in_the_page_query_is_the_access_rule(session_factory, uow, since):
    """read_log_view asks the database for a readable page before it asks `can_read`: the
    two must agree for every reader and owner, and private answers only reach the owner."""
    seed_org(session_factory)
    with session_factory() as session:
        engineers = Engineers(session)
        expected = {(r, o): (can_read(r, engineers.get(r.team_id, o)), sees_private(r, engineers.get(r.team_id, o)))
                    for r in ORG_READERS for o in ORG_OWNERS}
    readable = 0
    for (reader, owner), (may_read, may_see_private) in expected.items():
        query = parse_log_query(f"<@{owner}> {since or ''}")
        view = read_log_view(uow, reader, query)
        if owner == reader.user_id:
            assert view is not None and view.own, (reader, owner)      # one's own log, even an empty one
        else:
            assert (view is not None) == may_read, (reader, owner)
        shown = texts(view) if view else []
        assert all(text.startswith(f"{reader.team_id}/{owner} ") for text in shown), (reader, owner, shown)
        assert bool(shown) == (may_read and owner in ("U1", "U2", "U4")), (reader, owner, shown)
        assert any("private" in text for text in shown) == (bool(shown) and may_see_private), (reader, owner)
        readable += bool(shown)
    assert readable == 7     # T1: U1, U2 (own and manager's), U4 (own); T2: U1 (own, and U3's)


def test_someone_without_a_log_reads_their_own_empty_log(uow):
    view = read_log_view(uow, Reader("T1", "U9"), LogQuery())
    assert view.own and view.page.checkins == ()
    assert "empty so far" in blocks_text(as_dicts(build_log_messages(view)[0]))


def test_since_keeps_answers_from_that_day_on_in_the_readers_zone(session_factory, uow):
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", tz="Pacific/Auckland")
        old = seed.checkin(session, owner, date(2026, 9, 28), [("q1", "Q")])
        # 11:30 UTC on 30 Sep is already 1 Oct 00:30 in Auckland.
        seed.answer(session, old, "q1", "just after midnight", at=datetime(2026, 9, 30, 11, 30, tzinfo=UTC))
        older = seed.checkin(session, owner, date(2026, 9, 21), [("q1", "Q")])
        seed.answer(session, older, "q1", "before", at=datetime(2026, 9, 30, 10, 30, tzinfo=UTC))
    view = read_log_view(uow, Reader("T1", "U1"), parse_log_query("since 2026-10-01"))
    assert texts(view) == ["just after midnight"]


def test_last_n_keeps_the_newest_check_ins(session_factory, uow):
    seed_log(session_factory, weeks=4)
    view = read_log_view(uow, Reader("T1", "U2"), parse_log_query("<@U1> last 2"))
    assert texts(view) == ["shared answer 0", "shared answer 1"] and not view.page.has_more


def test_long_logs_page_with_older_and_newer_buttons(session_factory, uow):
    seed_log(session_factory, weeks=7)
    first = read_log_view(uow, Reader("T1", "U2"), LogQuery("U1"))
    [message] = build_log_messages(first)
    nav = [b for b in buttons(as_dicts(message)) if b["action_id"] in (ids.LOG_OLDER, ids.LOG_NEWER)]
    assert [b["text"]["text"] for b in nav] == ["Older"]
    older = LogQuery.from_value(nav[0]["value"])
    assert older == LogQuery("U1", page=1)

    second = read_log_view(uow, Reader("T1", "U2"), older)
    assert texts(second) == ["shared answer 5", "shared answer 6"]
    nav = [b for b in buttons(as_dicts(build_log_messages(second)[0]))
           if b["action_id"] in (ids.LOG_OLDER, ids.LOG_NEWER)]
    assert [b["text"]["text"] for b in nav] == ["Newer"]
    assert LogQuery.from_value(nav[0]["value"]) == LogQuery("U1", page=0)


def test_only_the_owner_gets_privacy_toggles_that_say_what_they_do(session_factory, uow):
    answer_ids = seed_log(session_factory, weeks=1)
    own = build_log_messages(read_log_view(uow, Reader("T1", "U1"), LogQuery()))[0]
    toggles = {b["action_id"]: b for b in buttons(as_dicts(own)) if b["action_id"].startswith(ids.LOG_PRIVACY)}
    shared = toggles[f"{ids.LOG_PRIVACY}:{answer_ids['shared0']}"]
    private = toggles[f"{ids.LOG_PRIVACY}:{answer_ids['private0']}"]
    assert shared["text"]["text"] == "Make private" and private["text"]["text"] == "Share with manager"
    assert parse_privacy_value(shared["value"]) == (answer_ids["shared0"], True, LogQuery("U1"))
    assert parse_privacy_value(private["value"]) == (answer_ids["private0"], False, LogQuery("U1"))
    assert f"{PRIVATE_MARK} · *Question two of week 0*" in blocks_text(as_dicts(own))

    managed = build_log_messages(read_log_view(uow, Reader("T1", "U2"), LogQuery("U1")))[0]
    assert not [b for b in buttons(as_dicts(managed)) if b["action_id"].startswith(ids.LOG_PRIVACY)]


def test_only_the_owner_can_change_an_answers_privacy(session_factory, uow):
    answer_ids = seed_log(session_factory, weeks=1)
    assert not set_answer_privacy(uow, Reader("T1", "U2"), answer_ids["shared0"], True)
    assert not set_answer_privacy(uow, Reader("T1", "U9"), answer_ids["shared0"], True)
    assert set_answer_privacy(uow, Reader("T1", "U1"), answer_ids["shared0"], True)
    managed = read_log_view(uow, Reader("T1", "U2"), LogQuery("U1"))
    assert managed.page.checkins == ()
    assert set_answer_privacy(uow, Reader("T1", "U1"), answer_ids["private0"], False)
    assert texts(read_log_view(uow, Reader("T1", "U2"), LogQuery("U1"))) == ["private answer 0"]


def test_long_answers_are_split_never_cut_and_messages_stay_within_50_blocks():
    essay = " ".join(f"Sentence {n} of a long reflection." for n in range(900))  # ~30,000 characters
    entries = tuple(Entry(n, "q", f"Question {n}", essay if n == 0 else f"answer {n}", "thread", False,
                          datetime(2026, 10, 30, tzinfo=UTC), False) for n in range(40))
    checkin = LoggedCheckin(1, MONDAY, None, "answered", ("Question",), entries)
    view = LogView("U1", True, LogPage((checkin,), 0, True), LogQuery("U1"))
    messages = build_log_messages(view)
    assert len(messages) > 1 and all(len(m) <= 50 for m in messages)
    sections = [b.text.text for m in messages for b in m if b.type == "section"]
    assert all(len(s) <= 3000 for s in sections)
    joined = " ".join(s for s in sections)
    assert all(f"Sentence {n} of a long reflection." in joined for n in range(900))
    assert [b["text"]["text"] for b in buttons(as_dicts(messages[-1])) if b["action_id"] == ids.LOG_OLDER] == ["Older"]


# -- end to end -----------------------------------------------------------------------------------

def test_a_log_longer_than_one_message_comes_in_the_ack_then_through_response_url(running_bot):
    # The first message is the ack's body; the rest follow through response_url, in order and
    # not replacing the first, as the page's own messages (build_log_messages) are.
    essay = " ".join(f"Sentence {n} of a long reflection." for n in range(900))  # ~30,000 characters
    with running_bot.services.session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        for n, week in enumerate(seed.weeks_back(MONDAY, 5)):   # five check-ins: past 50 blocks
            row = seed.checkin(session, owner, week, [("q1", f"Question of week {n}")])
            seed.answer(session, row, "q1", f"week {n}: {essay}")

    reply = running_bot.command("/growth log <@U1|ada>", user_id="U2")
    first = acked(reply)
    rest = reply.followups(count=1)
    assert len(rest) >= 1
    assert all(not message["replace_original"] and message["response_type"] == "ephemeral" for message in rest)
    messages = [first, *rest]
    assert all(len(message["blocks"]) <= 50 for message in messages)
    text = " ".join(blocks_text(message["blocks"]) for message in messages)
    assert "Growth log of <@U1>" in blocks_text(first["blocks"])
    assert all(f"Sentence {n} of a long reflection." in text for n in range(900))
    assert [text.index(f"week {n}:") for n in range(5)] == sorted(text.index(f"week {n}:") for n in range(5))
    assert len(reads_of_u1(running_bot)) == 1          # one read, recorded once


def reads_of_u1(running_bot) -> list:
    with running_bot.services.session_factory() as session:
        return session.scalars(select(LogRead)).all()


def test_manager_reads_the_log_without_private_answers_and_pages_through_it(running_bot):
    seed_log(running_bot.services.session_factory, weeks=7)

    page = acked(running_bot.command("/growth log <@U1|ada>", user_id="U2"))
    assert page["response_type"] == "ephemeral"
    text = blocks_text(page["blocks"])
    assert "Growth log of <@U1>" in text
    assert all(f"shared answer {n}" in text for n in range(5)) and "shared answer 5" not in text
    assert "private answer" not in text and "🔒" not in text
    older = next(b for b in buttons(page["blocks"]) if b["action_id"] == ids.LOG_OLDER)

    click = running_bot.click(ids.LOG_OLDER, older["value"], user_id="U2")
    [second] = click.followups()
    assert second["replace_original"] is True
    text = blocks_text(second["blocks"])
    assert "shared answer 5" in text and "shared answer 6" in text and "shared answer 0" not in text
    assert "private answer" not in text

    # Someone else replaying the button gets the refusal and nothing else.
    stolen = running_bot.click(ids.LOG_OLDER, older["value"], user_id="U3")
    [refused] = stolen.followups()
    assert blocks_text(refused["blocks"]) == REFUSAL


def test_the_engineer_sees_and_toggles_private_answers(running_bot):
    answer_ids = seed_log(running_bot.services.session_factory, weeks=1)
    page = acked(running_bot.command("/growth log", user_id="U1"))
    text = blocks_text(page["blocks"])
    assert "Your growth log" in text and "private answer 0" in text and "🔒 _private_" in text
    toggle = next(b for b in buttons(page["blocks"]) if b["action_id"] == f"{ids.LOG_PRIVACY}:{answer_ids['shared0']}")

    [again] = running_bot.click(toggle["action_id"], toggle["value"], user_id="U1").followups()
    assert again["replace_original"] is True
    assert not [b for b in buttons(again["blocks"]) if b.get("text", {}).get("text") == "Make private"]

    managed = acked(running_bot.command("/growth log <@U1|ada>", user_id="U2"))
    assert "shared answer 0" not in blocks_text(managed["blocks"])

    # The manager cannot flip the engineer's answers back, even with the value in hand.
    [refused] = running_bot.click(toggle["action_id"], toggle["value"].replace('"v":1', '"v":0'),
                                  user_id="U2").followups()
    assert "isn't yours" in blocks_text(refused["blocks"])
    still = acked(running_bot.command("/growth log <@U1|ada>", user_id="U2"))
    assert "shared answer 0" not in blocks_text(still["blocks"])


def test_bad_filters_get_examples_not_an_error(running_bot):
    answer = acked(running_bot.command("/growth log since yesterdayish", user_id="U1"))
    text = blocks_text(answer["blocks"])
    assert "`since yesterdayish`" in text and "since 2026-10-01" in text
    answer = acked(running_bot.command("/growth log last zero", user_id="U1"))
    assert "`last zero`" in blocks_text(answer["blocks"])


def test_log_and_prep_answer_while_another_unit_of_work_holds_sqlites_write_lock(running_bot):
    """One's own log is read before the ack without the write lock, so it never waits for
    another process's writer (BEGIN IMMEDIATE would, for up to the 5 s busy timeout: past
    Slack's 3 s). Someone else's log and a digest are recorded as reads in the same
    transaction, so they take the lock: they answer once the writer is done, with the record."""
    import threading

    seed_log(running_bot.services.session_factory, weeks=2)
    writer = sqlite3.connect(running_bot.services.session_factory.kw["bind"].url.database, isolation_level=None,
                             check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE engineers SET tz = tz")
    released = threading.Timer(0.5, lambda: (writer.execute("ROLLBACK"), writer.close()))
    try:
        started = time.monotonic()
        own = acked(running_bot.command("/growth log", user_id="U1"))
        assert time.monotonic() - started < 0.5   # answered while the lock was still held
        released.start()
        managed = acked(running_bot.command("/growth log <@U1|ada>", user_id="U2"))
        prep = acked(running_bot.command("/growth prep <@U1|ada>", user_id="U2"))
    finally:
        released.join()
    assert "private answer 0" in blocks_text(own["blocks"])
    assert "shared answer 1" in blocks_text(managed["blocks"]) and "private" not in blocks_text(managed["blocks"])
    with running_bot.services.session_factory() as session:
        assert [r.what for r in session.scalars(select(LogRead).order_by(LogRead.id))] == ["log", "prep"]
    assert "1:1 prep: <@U1>" in blocks_text(prep["blocks"])
