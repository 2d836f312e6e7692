"""Start-up against a Slack that cannot be reached or refuses the token: one line, non-zero exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import load_settings
from bot.slack_client import SlackUnavailable, check_slack, make_web_client

ROOT = Path(__file__).resolve().parents[2]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def serve(tmp_path, api_url: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env.update(SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="secret", SLACK_API_URL=api_url,
               DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}", SCHEDULER_ENABLED="false", PORT=str(closed_port()),
               PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "bot.cli", "serve"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


def test_an_unreachable_slack_is_one_line_and_a_non_zero_exit(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/api/"
    result = serve(tmp_path, url)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert [line for line in lines if "Slack" in line] == [lines[-1]]
    assert lines[-1].startswith(f"growth-bot: Cannot reach Slack at {url} (")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_rejected_token_is_one_line_and_a_non_zero_exit(tmp_path, fake_slack):
    fake_slack.fail_next("auth.test", error="invalid_auth", times=3)
    result = serve(tmp_path, fake_slack.base_url)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("growth-bot: Slack rejected SLACK_BOT_TOKEN (auth.test: invalid_auth)")
    assert "Traceback" not in result.stderr
    assert [c.method for c in fake_slack.calls] == ["auth.test"]


@pytest.mark.parametrize("error, says", [("invalid_auth", "rejected SLACK_BOT_TOKEN"), ("fatal_error", "failed (fatal_error)")])
def test_check_slack_names_what_slack_said(fake_slack, error, says):
    fake_slack.fail_next("auth.test", error=error)
    with pytest.raises(SlackUnavailable, match=says.replace("(", r"\(").replace(")", r"\)")):
        check_slack(make_web_client("xoxb-test", fake_slack.base_url), fake_slack.base_url)


def test_check_slack_passes_a_working_token(fake_slack):
    check_slack(make_web_client("xoxb-test", fake_slack.base_url), fake_slack.base_url)
