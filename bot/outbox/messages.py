"""What the bot sends on its own, as plain values: the domain says *what* to tell someone, and
`bot.outbox.rendering` turns it into Block Kit when it is queued. So the services that decide
to send never import a builder."""

from __future__ import annotations

from dataclasses import dataclass

from bot.growthlog.prep import PrepDigest


@dataclass(frozen=True)
class AnswersSaved:
    """The modal's confirmation in the check-in's thread."""

    saved: int
    edited: int


@dataclass(frozen=True)
class ThreadReplySaved:
    """The confirmation under a reply typed in the check-in's thread."""


@dataclass(frozen=True)
class Notice:
    """A sentence or two of mrkdwn, e.g. how to answer a check-in."""

    text: str


@dataclass(frozen=True)
class ManagerNamed:
    """To someone just named as a manager: what they can read now, and who decides."""

    engineer_user_id: str


@dataclass(frozen=True)
class PrepDigestReady:
    """An automatic 1:1 prep digest: one or more messages, posted in order."""

    digest: PrepDigest


OutboxMessage = AnswersSaved | ThreadReplySaved | Notice | ManagerNamed | PrepDigestReady
