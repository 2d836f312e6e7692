"""Sending a growth log as a file to the person who asked for it, in their DM with the bot.

Every export goes through `access.can_read` first, and a manager's export leaves private
answers out (`access.sees_private`). The file is uploaded to the *requester's* DM only, never
to a channel, so asking in a channel does not publish anyone's log there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.growthlog import export
from bot.growthlog.access import REFUSAL, Reader, can_read, sees_private
from bot.growthlog.reads import EXPORT, NOT_RECORDED, READS_NOTICE, ReadNotRecorded, record_read, recording_reads
from storage.repositories.growth_log import LoggedCheckin, read_all
from storage.repositories.log_reads import LogReads, ReadRecord
from bot.services import Services
from storage.repositories import Engineers

logger = logging.getLogger(__name__)

EMPTY_OWN = ("Your growth log is empty so far, so there is no file to send. Your answers to the weekly "
             "check-ins go there: `/growth setup` to start, or `/growth now` for this week's questions.")
EMPTY_OTHER = "<@{user}>'s growth log has nothing you can read yet, so there is no file to send."
UPLOAD_FAILED = "I couldn't upload the file just now (Slack said `{error}`). Please try again in a minute."
MAX_NAMED_READERS = 10   # users.info calls for the reads section; the rest keep their Slack id


@dataclass(frozen=True)
class Readable:
    checkins: list[LoggedCheckin]
    refused: bool = False
    reads: tuple[ReadRecord, ...] = ()   # the engineer's own export: who read their log
    reads_notice: bool = False           # someone else's: their first read, tell them it is visible


@dataclass(frozen=True)
class ExportResult:
    message: str           # what to tell the requester
    uploaded: bool = False


def display_name(client: WebClient, user_id: str) -> str:
    """The person's real name from Slack, or their mention when Slack won't say."""
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except SlackApiError as exc:
        logger.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
        return f"<@{user_id}>"
    name = user.get("real_name") or (user.get("profile") or {}).get("real_name")
    return name or f"<@{user_id}>"


class Exporter:
    def __init__(self, services: Services, client: WebClient):
        self.services = services
        self.client = client

    def send(self, team_id: str, requester: str, owner_user_id: str | None, fmt: str) -> ExportResult:
        """Upload `owner_user_id`'s log (default: the requester's) to the requester's DM, if they may read it."""
        owner_user_id = owner_user_id or requester
        own = owner_user_id == requester
        try:
            readable = self._readable_log(Reader(team_id, requester), team_id, owner_user_id)
        except ReadNotRecorded:
            return ExportResult(NOT_RECORDED)
        checkins = readable.checkins
        if readable.refused:
            return ExportResult(REFUSAL)
        if not checkins:
            return ExportResult(EMPTY_OWN if own else EMPTY_OTHER.format(user=owner_user_id))
        today = self.services.now().date()
        name = display_name(self.client, owner_user_id)
        names = {reader: display_name(self.client, reader)
                 for reader in list(dict.fromkeys(r.reader_user_id for r in readable.reads))[:MAX_NAMED_READERS]}
        content = (export.to_markdown(name, checkins, own=own, exported_on=today, reads=readable.reads,
                                      reader_names={k: v for k, v in names.items() if not v.startswith("<@")})
                   if fmt == "md" else export.to_csv(checkins, readable.reads))
        file_name = export.filename(name, fmt, today)
        count = f"{len(checkins)} check-in{'s' if len(checkins) != 1 else ''}, {export.date_range(checkins)}"
        whose = "Your growth log" if own else f"<@{owner_user_id}>'s growth log (without private answers)"
        try:
            channel = self.client.conversations_open(users=requester)["channel"]["id"]
            self.client.files_upload_v2(channel=channel, content=content, filename=file_name,
                                        title=f"Growth log: {name}", initial_comment=f"{whose}: {count}.")
        except SlackApiError as exc:
            logger.exception("uploading an export for %s failed", requester)
            return ExportResult(UPLOAD_FAILED.format(error=exc.response.get("error")))
        where = "in our DM" if own else "in your DM with me"
        told = f"\n{READS_NOTICE}" if readable.reads_notice else ""
        return ExportResult(f"{whose} is {where}: `{file_name}` ({count}).{told}", uploaded=True)

    def _readable_log(self, reader: Reader, team_id: str, owner_user_id: str) -> Readable:
        """The check-ins the reader may see; one's own missing log is empty, not refused.

        Someone else's export is recorded as a read in the unit of work that decided it (so
        a write): recorded even if the upload then fails, as the log has left the database."""
        own = owner_user_id == reader.user_id
        with recording_reads(), (self.services.uow.reading() if own else self.services.uow.writing()) as session:
            owner = Engineers(session).get(team_id, owner_user_id)
            if owner is None and own:
                return Readable([])
            if not can_read(reader, owner):
                return Readable([], refused=True)
            checkins = read_all(session, owner.id, include_private=sees_private(reader, owner))
            if own:
                return Readable(checkins, reads=tuple(LogReads(session).all_for(owner.id)))
            if not checkins:
                return Readable([])  # nothing left the database: no file, no read
            entries = sum(len(c.entries) for c in checkins)
            told = record_read(session, reader, owner.id, owner_user_id, EXPORT, entries, self.services.now())
            return Readable(checkins, reads_notice=told)
