"""The 1:1 prep digest: what goes in it, who may have it, and where the next one starts."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.blocks.growthlog import build_prep_messages
from bot.catalog import BUNDLED_CONTENT_DIR, load_catalog
from bot.domain.schedule import zone
from bot.growthlog.access import REFUSAL, Reader, can_prep_where
from bot.growthlog.assessment import level_of, profile_summary
from bot.growthlog.prep import COUNTED, can_prep, mark_prepped, quiet_weeks, read_digest, stage_guidance
from bot.growthlog.relationships import assign_manager
from storage.models import CheckInStatus, LogRead
from storage.repositories import Assessments, CheckIns, Engineers, OneOnOnes
from storage.repositories.growth_log import prep_context, read_prep, read_shared_since, weeks_sent
from tests.growthlog import log_seed as seed
from tests.growthlog.replies import acked
from tests.running_bot import blocks_text

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # a Monday
MANAGER = Reader("T1", "U2")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(BUNDLED_CONTENT_DIR)


def guidance_titles(catalog, framework_id: str, level_id: str) -> list[tuple[str, str]]:
    return [(g.level_name, g.section.title) for g in stage_guidance(catalog, catalog.level(framework_id, level_id))]


def test_stage_guidance_is_the_level_then_its_crosswalk_equivalents(catalog):
    found = stage_guidance(catalog, catalog.level("delivery", "senior"))
    assert [(g.framework_name, g.section.role) for g in found] == [
        (catalog.framework("delivery").name, "ready_for_next"),
        (catalog.framework("roadmap").name, "exit_criteria"),
    ]
    assert found[1].level_name == catalog.level("roadmap", "stage-3").name
    assert ("Mid", "Getting to Senior") in guidance_titles(catalog, "delivery", "mid-level")
    assert guidance_titles(catalog, "delivery", "mid-level")[0] == ("Mid-Level Engineer", "Ready for the next stage")
    # From another framework's level, the same row's guidance is found the other way round.
    assert [t for _, t in guidance_titles(catalog, "engineering-levels", "mid")] == [
        "Getting to Senior", "Ready for the next stage", "Exit Criteria"]
    assert guidance_titles(catalog, "engineer-track", "level-4") == \
        guidance_titles(catalog, "engineering-levels", "senior")


def test_quiet_weeks_are_the_periods_check_ins_with_nothing_shared():
    weeks = [(1, date(2026, 10, 26)), (2, date(2026, 10, 19)), (3, date(2026, 10, 12)), (4, date(2026, 10, 5))]
    assert quiet_weeks(weeks, {1}) == (date(2026, 10, 5), date(2026, 10, 12), date(2026, 10, 19))
    assert quiet_weeks(weeks, {1, 2, 3, 4}) == ()
    # Weeks whose answers were not all read are not called quiet.
    assert quiet_weeks(weeks, {1}, known_from=date(2026, 10, 12)) == (date(2026, 10, 12), date(2026, 10, 19))


def test_the_periods_check_ins_are_those_that_went_out_in_it(session_factory, reads):
    """Sent (or, unsent, due) between the period start and now, and not abandoned mid-send."""
    start = datetime(2026, 10, 5, 12, tzinfo=UTC)
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        kept = {
            seed.checkin(session, owner, date(2026, 10, 26), [("q1", "Q")], CheckInStatus.ANSWERED.value).id,
            seed.checkin(session, owner, date(2026, 10, 19), [("q1", "Q")], CheckInStatus.SENT.value).id,
            seed.checkin(session, owner, date(2026, 10, 12), [("q1", "Q")], CheckInStatus.PENDING.value, sent=False).id,
            seed.checkin(session, owner, date(2026, 10, 5), [("q1", "Q")]).id,        # Fri 9 Oct: in
        }
        seed.checkin(session, owner, date(2026, 9, 21), [("q1", "Q")])                # before the period
        seed.checkin(session, owner, date(2026, 11, 2), [("q1", "Q")], CheckInStatus.PENDING.value,
                     sent=False)                                                      # due after now
        # Went out late, inside the period, but its send never finished: not counted.
        mid_send = seed.checkin(session, owner, date(2026, 9, 28), [("q1", "Q")])
        mid_send.status, mid_send.sent_at = CheckInStatus.SENDING.value, start + timedelta(hours=1)
        owner_id = owner.id
    with reads() as db:
        found = weeks_sent(db, owner_id, start, NOW, COUNTED, 60)
        capped = weeks_sent(db, owner_id, start, NOW, COUNTED, 2)
    assert {checkin_id for checkin_id, _ in found} == kept
    assert [week for _, week in found] == [date(2026, 10, 26), date(2026, 10, 19), date(2026, 10, 12),
                                           date(2026, 10, 5)]
    assert [week for _, week in capped] == [date(2026, 10, 26), date(2026, 10, 19)]


def seed_report(session_factory) -> None:
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        seed.engineer(session, "U2", level=None, tz="Europe/Berlin")
        seed.engineer(session, "U3")
        week = seed.checkin(session, owner, date(2026, 10, 26),
                            [("q1", "What did you finish?"), ("q2", "Whom did you help?")])
        seed.answer(session, week, "q1", "shipped the billing export")
        seed.answer(session, week, "q2", "a private worry", private=True)
        secret = seed.checkin(session, owner, date(2026, 10, 19), [("q1", "What was hard?")])
        seed.answer(session, secret, "q1", "another private worry", private=True)
        seed.checkin(session, owner, date(2026, 10, 12), [("q1", "Unanswered question")])
        early = seed.checkin(session, owner, date(2026, 10, 5), [("q1", "Q")])
        seed.answer(session, early, "q1", "early in the window")
        seed.answer(session, seed.checkin(session, owner, date(2026, 9, 28), [("q1", "Q")]), "q1", "before the window")
        seed.checkin(session, owner, date(2026, 11, 2), [("q1", "Next week's")], status=CheckInStatus.PENDING.value,
                     sent=False)


def answer_texts(digest) -> list[str]:
    return [e.text for c in digest.checkins for e in c.entries]


def test_first_digest_covers_four_weeks_of_shared_answers_and_the_quiet_weeks(session_factory, uow, catalog):
    seed_report(session_factory)
    digest = read_digest(uow, catalog, MANAGER, "U1", NOW)
    assert digest.first_prep and digest.period_start == NOW - timedelta(weeks=4)
    assert answer_texts(digest) == ["shipped the billing export", "early in the window"]
    # Privately answered and unanswered look the same: no hint that a private answer exists.
    assert digest.quiet_weeks == (date(2026, 10, 12), date(2026, 10, 19))
    assert digest.level_name == "Senior Engineer (Delivery)"
    assert [g.section.role for g in digest.guidance] == ["ready_for_next", "exit_criteria"]
    assert digest.tz.key == "Europe/Berlin"

    messages = build_prep_messages(digest)
    assert all(len(m) <= 50 for m in messages)
    text = blocks_text([b.to_dict() for m in messages for b in m])
    assert "shipped the billing export" in text and "private worry" not in text and "What was hard?" not in text
    assert "week of 12 Oct 2026, week of 19 Oct 2026" in text
    assert "Ready for the next stage" in text and "Exit Criteria" in text
    assert "first prep" in text


def test_the_next_digest_starts_at_the_last_prep(session_factory, uow, catalog):
    seed_report(session_factory)
    assert mark_prepped(uow, MANAGER, "U1", NOW)
    with session_factory() as session:
        pair = OneOnOnes(session).get("T1", "U2", "U1")
        assert (pair.weekday, pair.time, pair.last_prep_at) == (None, None, NOW)
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        later = CheckIns(session).for_week(owner.id, date(2026, 11, 2))  # seeded pending; now sent and answered
        later.status, later.sent_at = CheckInStatus.ANSWERED.value, later.due_at
        seed.answer(session, later, "q1", "after the last prep", at=NOW + timedelta(days=5))
    digest = read_digest(uow, catalog, MANAGER, "U1", NOW + timedelta(days=7))
    assert not digest.first_prep and digest.period_start == NOW
    assert answer_texts(digest) == ["after the last prep"]
    assert digest.quiet_weeks == ()
    text = blocks_text([b.to_dict() for m in build_prep_messages(digest) for b in m])
    assert "since your last prep on 2 Nov 2026" in text


def pair_row(session_factory, manager: str = "U2", report: str = "U1"):
    with session_factory() as session:
        pair = OneOnOnes(session).get("T1", manager, report)
        return None if pair is None else (pair.weekday, pair.time, pair.tz, pair.last_prep_at)


def test_a_marked_digest_is_marked_with_its_read_record(session_factory, uow, catalog):
    """`/growth prep` marks the pair in the read record's transaction: both are there once
    read_digest returns (before the ack), and the next digest starts from it."""
    seed_report(session_factory)
    digest = read_digest(uow, catalog, MANAGER, "U1", NOW, mark=True)
    assert answer_texts(digest) == ["shipped the billing export", "early in the window"]
    assert pair_row(session_factory) == (None, None, None, NOW)          # the pair's row, made for the mark
    with session_factory() as session:
        assert [(r.reader_user_id, r.what, r.entries) for r in session.scalars(select(LogRead))] == [("U2", "prep", 2)]
    later = read_digest(uow, catalog, MANAGER, "U1", NOW + timedelta(days=7), mark=True)
    assert not later.first_prep and later.period_start == NOW and later.checkins == ()
    assert pair_row(session_factory) == (None, None, None, NOW + timedelta(days=7))
    # Without `mark` (a read that is not `/growth prep`), the pair is left as it was.
    read_digest(uow, catalog, MANAGER, "U1", NOW + timedelta(days=8))
    assert pair_row(session_factory)[3] == NOW + timedelta(days=7)


def test_a_mark_changes_only_when_a_scheduled_pair_was_last_prepped(session_factory, uow, catalog):
    seed_report(session_factory)
    with session_factory.begin() as session:
        OneOnOnes(session).set("T1", "U2", "U1", 3, "10:00", "Europe/Berlin")
    read_digest(uow, catalog, MANAGER, "U1", NOW, mark=True)
    assert pair_row(session_factory) == (3, "10:00", "Europe/Berlin", NOW)
    with session_factory() as session:
        assert len(OneOnOnes(session).for_manager("T1", "U2")) == 1


@pytest.mark.parametrize("reader", [Reader("T1", "U1"), Reader("T1", "U3"), Reader("T1", "U404"), Reader("T2", "U2")],
                         ids=["self", "stranger", "nobody", "other-workspace"])
def test_a_mark_is_written_only_where_the_access_rule_allows_it(session_factory, uow, catalog, reader):
    """The mark checks the rule again in its own statement: a relationship gone since the read
    (as for these readers, who never had one) gets no row."""
    seed_report(session_factory)
    assert read_digest(uow, catalog, reader, "U1", NOW, mark=True) is None
    with session_factory.begin() as session:
        assert not OneOnOnes(session).mark_pair_prepped_if(reader.team_id, reader.user_id, "U1", NOW, can_prep_where)
    assert pair_row(session_factory, reader.user_id) is None
    with session_factory() as session:
        assert session.scalars(select(LogRead)).all() == []


def test_a_former_manager_is_not_marked(session_factory, uow, catalog):
    seed_report(session_factory)
    with session_factory.begin() as session:
        assert OneOnOnes(session).mark_pair_prepped_if("T1", "U2", "U1", NOW, can_prep_where)
        assign_manager(session, "T1", "U1", "U3")
    with session_factory.begin() as session:
        assert not OneOnOnes(session).mark_pair_prepped_if("T1", "U2", "U1", NOW + timedelta(days=1), can_prep_where)
    assert pair_row(session_factory) is None       # gone with the relationship, and not made again


@pytest.mark.parametrize("reader", [Reader("T1", "U1"), Reader("T1", "U3"), Reader("T1", "U404"), Reader("T2", "U2")],
                         ids=["self", "stranger", "nobody", "other-workspace"])
def test_only_the_current_manager_gets_a_digest(session_factory, uow, catalog, reader):
    seed_report(session_factory)
    assert read_digest(uow, catalog, reader, "U1", NOW) is None
    assert not mark_prepped(uow, reader, "U1", NOW)
    assert read_digest(uow, catalog, MANAGER, "U404", NOW) is None


def test_a_former_manager_gets_nothing(session_factory, uow, catalog):
    seed_report(session_factory)
    with session_factory.begin() as session:
        assign_manager(session, "T1", "U1", "U3")
    assert read_digest(uow, catalog, MANAGER, "U1", NOW) is None
    assert read_digest(uow, catalog, Reader("T1", "U3"), "U1", NOW) is not None


def test_the_digest_carries_the_latest_self_assessment(session_factory, uow, catalog):
    seed_report(session_factory)
    matrix = catalog.framework("engineering-levels").matrix
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        picks = {capability.id: "senior" for _, capability in matrix.capabilities()}
        picks[matrix.capabilities()[0][1].id] = "lead"
        Assessments(session).add(owner.id, "engineering-levels", picks, NOW - timedelta(days=3))
        # The same summary from the ORM's reading of the stored rows, in the report's zone.
        stored = Assessments(session).for_engineer(owner.id)
        expected = tuple(profile_summary(catalog, stored, level_of(catalog, owner), zone(owner.tz)))
    digest = read_digest(uow, catalog, MANAGER, "U1", NOW)
    assert expected and digest.profile == expected
    text = blocks_text([b.to_dict() for m in build_prep_messages(digest) for b in m])
    assert "latest self-assessment" in text and expected[0] in text


def test_the_digest_compares_the_newest_two_matrix_assessments(session_factory, uow, catalog):
    seed_report(session_factory)
    capabilities = [capability for _, capability in catalog.framework("engineering-levels").matrix.capabilities()]
    seniors = {capability.id: "senior" for capability in capabilities}
    moved = capabilities[0]
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        add = Assessments(session).add
        add(owner.id, "engineering-levels", {c.id: "junior" for c in capabilities}, NOW - timedelta(days=90))
        add(owner.id, "engineering-levels", seniors, datetime(2026, 9, 23, 9, tzinfo=UTC))
        add(owner.id, "engineering-levels", {**seniors, moved.id: "lead"}, datetime(2026, 10, 30, 9, tzinfo=UTC))
        add(owner.id, "another-framework", {moved.id: "intern"}, NOW - timedelta(days=1))   # not the matrix's
    profile = read_digest(uow, catalog, MANAGER, "U1", NOW).profile
    senior, lead = (catalog.level("engineering-levels", role).name for role in ("senior", "lead"))
    assert profile[0].startswith("*Self-assessment* · 30 Oct 2026 · ")
    assert profile[-1] == f"Since 23 Sep 2026: up on *{moved.name}* ({senior} → {lead})."


def test_self_assessments_are_read_only_for_whoever_may_have_the_digest(session_factory, reads, catalog, uow):
    """The digest's first statement reads the assessments only for the report's current manager
    (can_prep's rule, written into the query): every reader and report must agree with can_prep."""
    matrix = catalog.framework("engineering-levels").matrix
    picks = {capability.id: "senior" for _, capability in matrix.capabilities()}
    with session_factory.begin() as session:
        for user, manager, team in (("U1", "U5", "T1"), ("U4", None, "T1"), ("U1", "U3", "T2")):
            owner = seed.engineer(session, user, manager=manager, team_id=team)
            Assessments(session).add(owner.id, "engineering-levels", picks, NOW - timedelta(days=3))
        seed.engineer(session, "U1", manager="U2")                  # U5 is now the former manager
        for user in ("U2", "U3", "U5"):
            seed.engineer(session, user)
    with session_factory() as session:
        engineers = Engineers(session)
        expected = {(Reader(team, reader), owner): can_prep(Reader(team, reader), engineers.get(team, owner))
                    for team in ("T1", "T2") for reader in ("U1", "U2", "U3", "U4", "U5", "U9")
                    for owner in ("U1", "U4", "U9")}
    for (reader, owner), allowed in expected.items():
        digest = read_digest(uow, catalog, reader, owner, NOW)
        assert (digest is not None) == allowed, (reader, owner)
        assert digest is None or digest.profile, (reader, owner)   # allowed: the assessment is there
        with reads() as db:                                         # and nobody else's query reads it
            context = prep_context(db, reader.team_id, reader.user_id, owner, "engineering-levels", can_prep_where)
        assert bool(context and context.assessments) == allowed, (reader, owner)
    assert sorted((r.team_id, r.user_id, o) for (r, o), ok in expected.items() if ok) == [
        ("T1", "U2", "U1"), ("T2", "U3", "U1")]


def read_shared_since_in(reads, engineer_id, since, **options):
    with reads() as db:
        return read_shared_since(db, engineer_id, since, **options)


def test_a_digest_window_past_the_row_cap_shows_whole_check_ins_and_says_there_are_more(session_factory, reads):
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        for week in seed.weeks_back(date(2026, 10, 26), 3):
            row = seed.checkin(session, owner, week, [("q1", "One?"), ("q2", "Two?")])
            seed.answer(session, row, "q1", f"one {week}")
            seed.answer(session, row, "q2", f"two {week}")
        owner_id = owner.id
    since = NOW - timedelta(weeks=5)
    with reads() as db:
        whole = read_shared_since(db, owner_id, since, checkins=6)
        capped = read_shared_since(db, owner_id, since, checkins=6, row_cap=3)    # 1½ check-ins of rows
        limited = read_shared_since(db, owner_id, since, checkins=2)
    assert [len(c.entries) for c in whole.page.checkins] == [2, 2, 2] and not whole.page.has_more
    assert len(whole.checkin_ids) == 3 and whole.complete_from is None
    exactly = read_shared_since_in(reads, owner_id, since, checkins=6, row_cap=6)      # all six rows fit
    assert [len(c.entries) for c in exactly.page.checkins] == [2, 2, 2] and not exactly.page.has_more
    assert exactly.complete_from is None
    assert [c.week_start for c in capped.page.checkins] == [date(2026, 10, 26)] and capped.page.has_more
    assert [len(c.entries) for c in capped.page.checkins] == [2]
    # The second week was read in part, the third not at all: only the newest week can be judged.
    assert capped.complete_from == date(2026, 10, 26) and len(capped.checkin_ids) == 2
    assert [c.week_start for c in limited.page.checkins] == [date(2026, 10, 26), date(2026, 10, 19)]
    assert limited.page.has_more and len(limited.checkin_ids) == 3      # every week, beyond the page


@pytest.mark.parametrize("row_cap, checkins", [(1000, 6), (3, 6), (1000, 1)])
@pytest.mark.parametrize("prepped", [True, False], ids=["from the last prep", "first prep"])
def test_a_digest_reads_its_period_in_one_statement_as_the_two_reads_would(session_factory, reads, row_cap,
                                                                           checkins, prepped):
    """read_prep's period is read_shared_since and weeks_sent from the pair's last prep (or the
    first prep's start), in the statement that reads the context: the same answers, grouped
    the same way, and the same weeks, row cap and limits included."""
    start = datetime(2026, 10, 5, 12, tzinfo=UTC)
    first_since = NOW - timedelta(weeks=2) if prepped else start
    with session_factory.begin() as session:
        if prepped:
            meetings = OneOnOnes(session)
            meetings.mark_prepped(meetings.set("T1", "U2", "U1", None, None, None).id, start)
        owner = seed.engineer(session, "U1", manager="U2")
        for n, week in enumerate(seed.weeks_back(date(2026, 10, 26), 5)):
            row = seed.checkin(session, owner, week, [("q1", "One?"), ("q2", "Two?")],
                               CheckInStatus.ANSWERED.value if n % 2 else CheckInStatus.SENT.value)
            if n != 1:                                                   # a quiet week among them
                seed.answer(session, row, "q2", f"two {week}")
                seed.answer(session, row, "q1", f"one {week}")
                seed.answer(session, row, "q1", f"secret {week}", private=True)
        owner_id = owner.id
    with reads() as db:
        context, both = read_prep(db, "T1", "U2", "U1", "engineering-levels", can_prep_where, first_since, NOW,
                                  COUNTED, checkins, 60, row_cap=row_cap)
        shared = read_shared_since(db, owner_id, start, checkins, row_cap=row_cap)
        weeks = weeks_sent(db, owner_id, start, NOW, COUNTED, 60)
        refused = read_prep(db, "T1", "U3", "U1", "engineering-levels", can_prep_where, first_since, NOW,
                            COUNTED, checkins, 60, row_cap=row_cap)
        nobody = read_prep(db, "T1", "U2", "U404", "engineering-levels", can_prep_where, first_since, NOW,
                           COUNTED, checkins, 60, row_cap=row_cap)
    assert context.report.id == owner_id and context.last_prep_at == (start if prepped else None)
    assert both.shared == shared and both.weeks == weeks
    assert refused[0].report.id == owner_id and refused[1] is None          # no period for anyone else
    assert nobody == (None, None)
    assert weeks and shared.page.checkins                                 # the comparison is not of nothing
    assert all("secret" not in e.text for c in both.shared.page.checkins for e in c.entries)


def test_a_report_without_a_level_still_gets_a_digest(session_factory, uow, catalog):
    with session_factory.begin() as session:
        seed.engineer(session, "U1", manager="U2", level=None)
    digest = read_digest(uow, catalog, MANAGER, "U1", NOW)
    assert digest.guidance == () and digest.level_name is None and digest.checkins == ()
    text = blocks_text([b.to_dict() for m in build_prep_messages(digest) for b in m])
    assert "No shared answers in this period" in text and "hasn't set a level" in text


# -- end to end -----------------------------------------------------------------------------------

def eventually(check, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition never came true"
        time.sleep(0.02)


def prepped(session_factory) -> bool:
    with session_factory() as session:
        pair = OneOnOnes(session).get("T1", "U2", "U1")
        return pair is not None and pair.last_prep_at is not None


def test_prep_over_slack_for_the_manager_only(running_bot):
    session_factory = running_bot.services.session_factory
    with session_factory.begin() as session:
        owner = seed.engineer(session, "U1", manager="U2")
        row = seed.checkin(session, owner, date(2026, 11, 16), [("q1", "What did you finish?"), ("q2", "Worries?")])
        seed.answer(session, row, "q1", "the on-call handbook", at=datetime.now(UTC) - timedelta(days=2))
        seed.answer(session, row, "q2", "kept to myself", at=datetime.now(UTC) - timedelta(days=2), private=True)

    reply = running_bot.command("/growth prep <@U1|ada>", user_id="U2")
    first = acked(reply)                           # the digest's first message is the ack itself
    assert prepped(session_factory)                # marked with the read record, before the ack
    pages = [first, *running_bot.fake.responses_for(reply.token)]
    assert all(p["response_type"] == "ephemeral" and len(p["blocks"]) <= 50 for p in pages)
    text = "\n".join(blocks_text(p["blocks"]) for p in pages)
    assert "1:1 prep: <@U1>" in text and "the on-call handbook" in text
    assert "kept to myself" not in text and "Worries?" not in text
    assert "Ready for the next stage" in text and "Exit Criteria" in text
    with session_factory() as session:
        pair = OneOnOnes(session).get("T1", "U2", "U1")
        assert pair.weekday is None and pair.time is None

    for user, line in (("U1", "/growth prep <@U1|ada>"), ("U3", "/growth prep <@U1|ada>"),
                       ("U2", "/growth prep <@U2|me>"), ("U2", "/growth prep <@U404|nobody>")):
        refused = acked(running_bot.command(line, user_id=user))
        assert blocks_text(refused["blocks"]) == REFUSAL, (user, line)
        assert refused["response_type"] == "ephemeral"
    usage = acked(running_bot.command("/growth prep", user_id="U2"))
    assert "/growth prep @name" in blocks_text(usage["blocks"])
