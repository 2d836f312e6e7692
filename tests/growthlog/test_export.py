"""`/growth export`: the Markdown and CSV files, and who may get one."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

from bot.growthlog.access import REFUSAL
from storage.repositories.growth_log import Entry, LoggedCheckin
from bot.growthlog.export import CSV_HEADER, filename, parse_request, to_csv, to_markdown
from tests.growthlog.files_seed import add_checkin, add_engineer

WRITTEN = datetime(2026, 3, 6, 16, 30, tzinfo=UTC)


def entry(question: str, text: str, private: bool = False, edited: bool = False, qid: str | None = "q1",
          answer_id: int = 1) -> Entry:
    return Entry(answer_id, qid, question, text, "modal", private, WRITTEN, edited)


def logged(week: date, *entries: Entry) -> LoggedCheckin:
    return LoggedCheckin(1, week, WRITTEN, "answered", tuple(e.question for e in entries), tuple(entries))


LOG = [
    logged(date(2026, 3, 2), entry("What did you ship?", "The billing fix"),
           entry("What scared you?", "Talking to the VP", private=True, qid="q2", answer_id=2)),
    logged(date(2026, 1, 5), entry("Who did you help?", "Pairing with Sam\non the parser", edited=True)),
]


# -- parsing the command --------------------------------------------------------------------------


def test_parse_request_defaults_to_markdown_of_ones_own_log():
    assert parse_request("").user_id is None
    assert parse_request("").fmt == "md"
    assert parse_request("csv").fmt == "csv"
    assert parse_request("Markdown").fmt == "md"


def test_parse_request_reads_a_mention_and_a_format():
    request = parse_request("<@U2|bob> csv")
    assert (request.user_id, request.fmt, request.problem) == ("U2", "csv", None)


def test_an_unknown_format_gets_a_clear_message():
    request = parse_request("pdf")
    assert request.fmt is None
    assert "`pdf`" in request.problem and "`md`" in request.problem and "`csv`" in request.problem


def test_extra_words_are_not_silently_ignored():
    assert parse_request("csv please").problem


# -- Markdown -------------------------------------------------------------------------------------


def test_markdown_has_a_title_with_the_name_and_the_date_range():
    text = to_markdown("Ada Lovelace", LOG, own=True, exported_on=date(2026, 3, 9))
    first_line, rest = text.split("\n", 1)
    assert first_line == "# Growth log: Ada Lovelace"
    assert "Weeks of 5 Jan 2026 to 2 Mar 2026 · 2 check-ins · exported 9 Mar 2026" in rest


def test_markdown_lists_each_check_in_newest_first_with_questions_as_asked_and_answers():
    text = to_markdown("Ada", LOG, own=True, exported_on=date(2026, 3, 9))
    assert text.index("## Week of 2 Mar 2026") < text.index("## Week of 5 Jan 2026")
    assert "**What did you ship?**\n\n> The billing fix\n" in text
    # A multi-line answer stays whole, every line inside the quote.
    assert "> Pairing with Sam\n> on the parser" in text
    assert "**Who did you help?** _(edited)_" in text


def test_ones_own_markdown_marks_private_answers():
    text = to_markdown("Ada", LOG, own=True, exported_on=date(2026, 3, 9))
    assert "**What scared you?** _(🔒 private)_" in text
    assert "> Talking to the VP" in text


def test_a_managers_markdown_says_private_answers_are_left_out():
    readable = [logged(date(2026, 3, 2), entry("What did you ship?", "The billing fix"))]
    text = to_markdown("Ada", readable, own=False, exported_on=date(2026, 3, 9))
    assert "Private answers are not included" in text
    assert "Week of 2 Mar 2026" in text and "🔒" not in text


# -- CSV ------------------------------------------------------------------------------------------


def test_csv_has_the_header_and_one_row_per_answer():
    rows = list(csv.reader(io.StringIO(to_csv(LOG), newline="")))
    assert tuple(rows[0]) == CSV_HEADER == ("week_start", "question_id", "question", "answer", "source",
                                            "private", "written_at", "edited", "kind")
    assert rows[1] == ["2026-03-02", "q1", "What did you ship?", "The billing fix", "modal", "false",
                       "2026-03-06T16:30:00+00:00", "false", "check-in"]
    assert rows[2][5] == "true"
    assert rows[3][0] == "2026-01-05" and rows[3][7] == "true"
    assert len(rows) == 4


def test_commas_newlines_and_quotes_round_trip_through_csv():
    tricky = 'Shipped it, finally.\nThe "hard" part: naming,\r\nand "quotes" ""twice""'
    text = to_csv([logged(date(2026, 3, 2), entry('Say "why", please', tricky))])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[1][2] == 'Say "why", please'
    assert rows[1][3] == tricky


def test_csv_defuses_spreadsheet_formulas_but_keeps_bullets():
    text = to_csv([logged(date(2026, 3, 2), entry("Q", "=HYPERLINK(\"http://x\")"),
                          entry("Q2", "- a bullet", qid="q2"), entry("Q3", "-1+1", qid="q3"))])
    answers = [row[3] for row in list(csv.reader(io.StringIO(text, newline="")))[1:]]
    assert answers == ["'=HYPERLINK(\"http://x\")", "- a bullet", "'-1+1"]


def test_the_file_name_is_safe():
    assert filename("Ada Lovelace", "md", date(2026, 3, 9)) == "growth-log-ada-lovelace-2026-03-09.md"
    assert filename("<@U1>", "csv", date(2026, 3, 9)) == "growth-log-u1-2026-03-09.csv"
    assert filename("李", "csv", date(2026, 3, 9)) == "growth-log-export-2026-03-09.csv"


# -- end to end -----------------------------------------------------------------------------------


def seed_ada(bot, manager: str | None = "UMGR") -> None:
    factory = bot.services.session_factory
    add_checkin(factory, "U1", date(2026, 2, 23), [("q1", "What did you ship?", "The search index, at last", False)],
                manager_user_id=manager)
    add_checkin(factory, "U1", date(2026, 3, 2), [
        ("q1", "What did you ship?", "The billing fix, with tests", False),
        ("q2", "What scared you?", "Presenting to the VP", True),
    ])


def test_export_uploads_ones_own_log_as_markdown_to_the_requesters_dm(running_bot, fake_slack):
    seed_ada(running_bot)
    fake_slack.set_user("U1", real_name="Ada Lovelace")
    reply = running_bot.command("/growth export", user_id="U1")
    message = reply.followups()[0]["text"]
    upload = fake_slack.uploaded_files[-1]
    content = upload.content.decode()
    assert upload.channel_id == "DU1"
    assert upload.filename.startswith("growth-log-ada-lovelace-") and upload.filename.endswith(".md")
    assert content.startswith("# Growth log: Ada Lovelace")
    assert "The billing fix, with tests" in content and "The search index, at last" in content
    assert "Presenting to the VP" in content and "🔒 private" in content
    assert content.index("Week of 2 Mar 2026") < content.index("Week of 23 Feb 2026")
    assert upload.filename in message and "2 check-ins" in message


def test_export_csv(running_bot, fake_slack):
    seed_ada(running_bot)
    running_bot.command("/growth export csv", user_id="U1").followups()
    upload = fake_slack.uploaded_files[-1]
    assert upload.filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(upload.content.decode(), newline="")))
    assert tuple(rows[0]) == CSV_HEADER
    assert ["2026-03-02", "q2", "What scared you?", "Presenting to the VP"] == rows[2][:4]
    assert len(rows) == 4


def test_a_managers_export_never_includes_private_answers(running_bot, fake_slack):
    seed_ada(running_bot, manager="UMGR")
    for fmt in ("", " csv"):
        running_bot.command(f"/growth export <@U1|ada>{fmt}", user_id="UMGR").followups()
        upload = fake_slack.uploaded_files[-1]
        content = upload.content.decode()
        assert upload.channel_id == "DUMGR"
        assert "The billing fix, with tests" in content
        assert "Presenting to the VP" not in content and "What scared you?" not in content


def test_a_stranger_is_refused_and_nothing_is_uploaded(running_bot, fake_slack):
    seed_ada(running_bot, manager="UMGR")
    for target in ("<@U1|ada>", "<@U9|nobody>"):  # same answer whether or not there is a log
        reply = running_bot.command(f"/growth export {target} csv", user_id="USTRANGER")
        assert reply.followups()[0]["text"] == REFUSAL
    assert fake_slack.uploaded_files == []
    assert fake_slack.calls_to("files.getUploadURLExternal") == []


def test_an_empty_log_gets_a_helpful_message_and_no_file(running_bot, fake_slack):
    add_engineer(running_bot.services.session_factory, "U1")
    for user in ("U1", "UNEW"):
        text = running_bot.command("/growth export", user_id=user).followups()[0]["text"]
        assert "empty" in text and "/growth setup" in text
    assert fake_slack.uploaded_files == []


def test_exporting_as_pdf_says_what_formats_there_are(running_bot, fake_slack):
    seed_ada(running_bot)
    text = running_bot.command("/growth export pdf", user_id="U1").followups()[0]["text"]
    assert "`pdf`" in text and "`csv`" in text
    assert fake_slack.uploaded_files == []
