"""The bot as production runs it: `python app.py` in its own process, killed the way hosts kill it.

    bot = BotProcess(env, log_path).start()     # returns once GET /healthz answers 200
    bot.signal(signal.SIGKILL)
    code = bot.wait(timeout=5)

Its output goes to a file: a failing test shows the tail (`bot.log_tail()`).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.keys import TEST_KEY_ENV

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bot_environment(*, api_url: str, database_url: str, port: int, signing_secret: str, home: Path,
                    **extra: str) -> dict[str, str]:
    """A clean environment: nothing from the developer's shell (a SLACK_APP_TOKEN there would
    switch to Socket Mode), HTTP mode on `port`, Slack at `api_url`."""
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "PYTHONUNBUFFERED": "1",
            "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": signing_secret, "SLACK_API_URL": api_url,
            "DATABASE_URL": database_url, "PORT": str(port), "SCHEDULER_ENABLED": "false", "LOG_LEVEL": "INFO",
            **TEST_KEY_ENV, **extra}


class BotProcess:
    def __init__(self, env: dict[str, str], log_path: Path, cwd: Path):
        self.env = env
        self.port = int(env["PORT"])
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.cwd = cwd
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20.0) -> "BotProcess":
        """Start it (cwd has no .env) and wait until it answers its readiness probe."""
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen([sys.executable, str(REPO / "app.py")], cwd=self.cwd, env=self.env,
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        finally:
            log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the bot exited at start-up ({self.process.returncode}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"the bot was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int | None:
        """Its exit code (negative: killed by that signal), or None if still running after `timeout`."""
        assert self.process is not None
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """Make sure it is gone (a test's clean-up); safe to call when it has exited."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def worker_pid(self) -> int | None:
        """The pid of its after-ack worker process (bot.after_ack), as its log announces it."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return None
        found = re.findall(r"After-ack work runs in worker process (\d+)", text)
        return int(found[-1]) if found else None

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no output)"
        return "\n".join(text.splitlines()[-lines:])
