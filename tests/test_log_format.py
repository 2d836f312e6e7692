"""A request's content cannot forge a log line."""

import io
import logging

from bot.log_format import one_line, one_line_handler

FORGED = "2026-12-03 06:00:00,000 INFO growth_bot: all good"


def _log(*args, exc: bool = False) -> str:
    stream = io.StringIO()
    logger = logging.getLogger("test.log_format")
    logger.propagate = False
    handler = one_line_handler(stream)
    logger.addHandler(handler)
    try:
        if exc:
            try:
                raise ValueError(f"bad value\n{FORGED}")
            except ValueError:
                logger.exception(*args)
        else:
            logger.warning(*args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_a_newline_in_an_argument_stays_on_the_record_line():
    out = _log("Unknown command %r %s", "x", f"text\n{FORGED}\r\x1b[2K")
    assert out.count("\n") == 1
    assert "\\n2026-12-03" in out and "\\r" in out and "\\x1b" in out


def test_unicode_line_separators_are_escaped():
    out = _log("said %s", f"a\u2028{FORGED}\u2029b\x85c")
    assert out.count("\n") == 1 and "\\u2028" in out and "\\u2029" in out and "\\x85" in out


def test_a_traceback_is_kept_but_indented_so_no_line_passes_for_a_record():
    out = _log("Handler failed", exc=True)
    lines = out.splitlines()
    assert "Handler failed" in lines[0]
    assert any("Traceback (most recent call last):" in line for line in lines)
    assert all(line.startswith("    ") for line in lines[1:])
    assert not any(line.startswith(FORGED) for line in lines)


def test_plain_text_is_unchanged():
    assert one_line("Due pass at 2026-12-03T06:00:00+00:00: sent 3\tok — ünïcode") == \
        "Due pass at 2026-12-03T06:00:00+00:00: sent 3\tok — ünïcode"


def test_the_bot_logs_through_the_one_line_formatter():
    import subprocess
    import sys

    code = ("import logging; from bot.runtime import configure_logging; configure_logging('INFO'); "
            f"logging.getLogger('x').warning('typed %s', {('hi' + chr(10) + FORGED)!r})")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("\n") == 1 and "typed hi\\n2026-12-03" in result.stderr
