"""A growth log as a file: Markdown to read, CSV to analyse. Plain Python, no Slack, no database.

Both take the check-ins the reader may see (newest first, as `entries.read_all` returns them):
whether private answers are in the list is the access rule's decision, made before this module.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from storage.repositories.growth_log import Entry, LoggedCheckin
from storage.repositories.log_reads import ReadRecord
from bot.growthlog.mentions import split_mention
from bot.growthlog.reads import what_was_read

FORMATS = {"md": "md", "markdown": "md", "csv": "csv"}
DEFAULT_FORMAT = "md"
CSV_HEADER = ("week_start", "question_id", "question", "answer", "source", "private", "written_at", "edited", "kind")
TEAM_REFLECTION = "Team reflection"  # a leader's reflection on their team (CheckInKind.LEAD)
PRIVATE_MARK = "🔒 private"
USAGE = "`/growth export` (Markdown), `/growth export csv`, or `/growth export @someone [md|csv]` for a report's log."

# A cell starting with one of these is run as a formula by spreadsheet apps (CSV injection);
# "- " (a bullet) is left alone, "-1+1" is not.
_FORMULA_START = re.compile(r"^(?:[=+@\t\r]|-(?!\s))")


@dataclass(frozen=True)
class ExportRequest:
    """What `/growth export …` asked for: whose log (None = one's own) and the format."""

    user_id: str | None
    fmt: str | None          # "md" or "csv"; None when the text asked for something else
    problem: str | None = None


def parse_request(text: str) -> ExportRequest:
    """`@ada csv`, `csv`, `` → a request; anything else becomes a `problem` to show the person."""
    user_id, rest = split_mention(text)
    words = rest.lower().split()
    if not words:
        return ExportRequest(user_id, DEFAULT_FORMAT)
    if len(words) == 1 and words[0].lstrip(".") in FORMATS:
        return ExportRequest(user_id, FORMATS[words[0].lstrip(".")])
    asked = " ".join(rest.split())
    if len(words) == 1 and not words[0].startswith("@"):
        problem = f"I can't export as `{asked}`: I write Markdown (`md`, the default) or `csv`. Try {USAGE}"
    else:
        problem = f"I didn't understand `{asked}`. Try {USAGE}"
    return ExportRequest(user_id, None, problem)


def week_title(kind: str, week_text: str) -> str:
    """"Week of 5 Jan 2026", or "Team reflection, week of 5 Jan 2026" for a leader's."""
    return f"{TEAM_REFLECTION}, week of {week_text}" if kind == "lead" else f"Week of {week_text}"


def week_label(week: date) -> str:
    return f"{week:%-d %b %Y}"


def date_range(checkins: list[LoggedCheckin]) -> str:
    """`weeks of 5 Jan 2026 to 2 Mar 2026` (or `week of …` for a single check-in)."""
    weeks = sorted(c.week_start for c in checkins)
    if weeks[0] == weeks[-1]:
        return f"week of {week_label(weeks[0])}"
    return f"weeks of {week_label(weeks[0])} to {week_label(weeks[-1])}"


def to_markdown(name: str, checkins: list[LoggedCheckin], *, own: bool, exported_on: date,
                reads: tuple[ReadRecord, ...] = (), reader_names: dict[str, str] | None = None) -> str:
    """The log as a Markdown document, newest week first; answers are quoted whole, never cut.

    `own` says the reader is the engineer: private answers (if any are in `checkins`) are marked,
    and the preamble explains who else can see what. `reads` (the engineer's own export only)
    adds a last section: who read their log, when (UTC), and how much.
    """
    count = len(checkins)
    span = date_range(checkins)
    lines = [
        f"# Growth log: {name}",
        "",
        f"_{span[:1].upper()}{span[1:]} · {count} check-in{'s' if count != 1 else ''} · "
        f"exported {week_label(exported_on)}_",
        "",
    ]
    if own:
        lines += [f"Answers marked {PRIVATE_MARK} are yours alone: your manager never sees them, "
                  "not even in an export.", ""]
    else:
        lines += ["Private answers are not included: they are for the engineer alone.", ""]
    for checkin in checkins:
        lines += [f"## {week_title(checkin.kind, week_label(checkin.week_start))}", ""]
        for entry in checkin.entries:
            lines += _markdown_entry(entry, own)
    if reads:
        names = reader_names or {}
        lines += ["## Who read your log", ""]
        lines += [f"- {read.read_at:%Y-%m-%d %H:%M} UTC: {names.get(read.reader_user_id, read.reader_user_id)} "
                  f"{what_was_read(read.what, read.entries)}" for read in reads]
    return "\n".join(lines).rstrip("\n") + "\n"


def _markdown_entry(entry: Entry, own: bool) -> list[str]:
    marks = []
    if entry.private and own:
        marks.append(PRIVATE_MARK)
    if entry.edited:
        marks.append("edited")
    suffix = f" _({', '.join(marks)})_" if marks else ""
    # The answer as a block quote: headings or lists typed in an answer stay inside it.
    quoted = [f"> {line}" if line.strip() else ">" for line in (entry.text or "").splitlines() or [""]]
    return [f"**{_one_line(entry.question)}**{suffix}", "", *quoted, ""]


def _one_line(text: str) -> str:
    return " ".join((text or "").split())


def to_csv(checkins: list[LoggedCheckin], reads: tuple[ReadRecord, ...] = ()) -> str:
    """One row per answer under `CSV_HEADER`, quoted by the csv module (commas, quotes, newlines survive).

    A question or answer that a spreadsheet would run as a formula gets a leading apostrophe.
    `reads` (the engineer's own export) follow as rows of kind "read", in the same columns, so
    the file stays one table: the reader's Slack id as question, what they read as answer.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for checkin in checkins:
        for entry in checkin.entries:
            writer.writerow([
                checkin.week_start.isoformat(),
                entry.question_id or "",
                _cell(entry.question),
                _cell(entry.text),
                entry.source,
                "true" if entry.private else "false",
                entry.written_at.isoformat(timespec="seconds"),
                "true" if entry.edited else "false",
                "team reflection" if checkin.kind == "lead" else "check-in",
            ])
    for read in reads:
        writer.writerow([read.read_at.date().isoformat(), "", _cell(read.reader_user_id),
                         _cell(what_was_read(read.what, read.entries)), read.what, "false",
                         read.read_at.isoformat(timespec="seconds"), "false", "read"])
    return out.getvalue()


def _cell(text: str) -> str:
    return "'" + text if _FORMULA_START.match(text or "") else (text or "")


def filename(name: str, fmt: str, exported_on: date) -> str:
    """`growth-log-ada-lovelace-2026-03-05.md`: safe on every file system."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-") or "export"
    return f"growth-log-{slug}-{exported_on.isoformat()}.{fmt}"
