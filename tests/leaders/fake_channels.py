"""Channels for the fake Slack: conversations.info, conversations.members and chat.getPermalink,
answered as Slack answers them (a private channel the bot is not in is `channel_not_found`).

Registered onto a FakeSlack instance here rather than in tests/fake_slack.py while that file has
other work in flight; it belongs there."""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.fake_slack import FakeSlack, _ApiError


@dataclass
class Channel:
    id: str
    name: str
    private: bool = False
    bot_member: bool = True
    members: list[str] = field(default_factory=list)
    archived: bool = False


def add_channels(fake: FakeSlack, *channels: Channel) -> None:
    known = {c.id: c for c in channels}

    def info(args: dict) -> dict:
        channel = known.get(str(args.get("channel")))
        if channel is None or (channel.private and not channel.bot_member):
            raise _ApiError("channel_not_found")
        return {"ok": True, "channel": {"id": channel.id, "name": channel.name, "is_channel": not channel.private,
                                        "is_group": channel.private, "is_private": channel.private,
                                        "is_member": channel.bot_member, "is_archived": channel.archived,
                                        "is_im": False, "is_mpim": False}}

    def members(args: dict) -> dict:
        channel = known.get(str(args.get("channel")))
        if channel is None or (channel.private and not channel.bot_member):
            raise _ApiError("channel_not_found")
        return {"ok": True, "members": list(channel.members), "response_metadata": {"next_cursor": ""}}

    def permalink(args: dict) -> dict:
        channel, ts = str(args.get("channel")), str(args.get("message_ts"))
        if fake._find(channel, ts) is None:
            raise _ApiError("message_not_found")
        return {"ok": True, "channel": channel,
                "permalink": f"https://test.slack.com/archives/{channel}/p{ts.replace('.', '')}"}

    fake._methods.update({"conversations.info": info, "conversations.members": members,
                          "chat.getPermalink": permalink})


def reply_in_thread(fake: FakeSlack, channel: str, thread_ts: str, user: str, text: str) -> str:
    """Someone (not the bot) replies in a thread, as typed in Slack."""
    with fake._lock:
        ts = fake._next_ts()
        fake._messages[channel].append({"type": "message", "user": user, "text": text, "ts": ts, "thread_ts": thread_ts})
    return ts
