"""Block Kit and lines for `/growth reads`, the App Home's latest read and the check-in DM's
weekly line. Pure functions over the read records (bot.growthlog.reads)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from bot.blocks.content import context, header, markdown_sections
from bot.growthlog.reads import MyReads, entries_text, what_was_read
from storage.repositories.log_reads import ReadRecord, ReaderTotal

WEEKLY_NAMED = 3   # readers named in the weekly line; more are "and N others"


def when(instant: datetime, tz: ZoneInfo) -> str:
    """Slack's date token (each viewer sees their own zone), its fallback in the engineer's: `Tue 1 Dec 10:04`."""
    local = instant.astimezone(tz)
    return f"<!date^{int(instant.timestamp())}^{{date_short_pretty}} {{time}}|{local:%a %-d %b %H:%M}>"


def read_line(record: ReadRecord, tz: ZoneInfo) -> str:
    """`<@Max> read 5 entries of your log · Tue 1 Dec 10:04`."""
    return f"<@{record.reader_user_id}> {what_was_read(record.what, record.entries)} · {when(record.read_at, tz)}"


def build_reads(reads: MyReads) -> list[Block]:
    """`/growth reads`: the latest reads of the engineer's log by anyone else, newest first."""
    weekly = ("on: your check-in DM says how much was read that week (`/growth reads weekly off`)"
              if reads.weekly_line else "off (`/growth reads weekly on`)")
    if not reads.records:
        body = ("Nobody else has read your growth log yet. When someone does (your manager, with "
                "`/growth log`, `/growth prep`, an export or your profile), it shows up here.")
    else:
        body = "\n".join(f"• {read_line(record, reads.tz)}" for record in reads.records)
    return [header("Who read your growth log"), *markdown_sections(body),
            context(f"The last {len(reads.records)} reads by someone other than you. Weekly line: {weekly}")
            if reads.records else context(f"Weekly line: {weekly}")]


def latest_read_line(record: ReadRecord, tz: ZoneInfo) -> str:
    """The App Home's line: `<@Max> read your log on Tue 1 Dec 10:04 · /growth reads`."""
    return (f"*Last read by someone else:* <@{record.reader_user_id}> {what_was_read(record.what, record.entries)} "
            f"on {when(record.read_at, tz)} · `/growth reads` for all")


def weekly_line(totals: Sequence[ReaderTotal], manager_user_id: str | None) -> str | None:
    """The check-in DM's line: `Your manager read 3 entries of your log this week`; None without reads."""
    if not totals:
        return None
    names = [("your manager" if t.reader_user_id == manager_user_id else f"<@{t.reader_user_id}>")
             for t in totals[:WEEKLY_NAMED]]
    if len(totals) > WEEKLY_NAMED:
        names.append(f"{len(totals) - WEEKLY_NAMED} others")
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    who = who[0].upper() + who[1:] if who.startswith("your") else who
    entries = sum(t.entries for t in totals)
    reads = sum(t.reads for t in totals)
    did = (f"read {entries_text(entries)} of your log" if entries
           else f"looked at your log {reads} time{'s' if reads != 1 else ''}")
    return f"👀 {who} {did} this week · `/growth reads` shows each read"
