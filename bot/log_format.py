"""Log lines that a request cannot forge.

A message logged with request content in it (a slash command's text, a path, a Slack error
string) could carry a newline followed by something that looks like a log record of its own,
or a carriage return that hides the real line on a terminal. Here every control character in a
record's message is written as an escape (`\\n`, `\\x1b`, `\\u2028`), so one record is one line;
a traceback's lines are indented, so no line of it can pass for a record either.
"""

from __future__ import annotations

import logging

# C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators that some log
# viewers treat as line breaks. Tab stays: it cannot start a line.
_CONTROLS = [c for c in range(0x20) if c != 0x09] + list(range(0x7F, 0xA0)) + [0x2028, 0x2029]
_ESCAPES = {c: chr(c).encode("unicode_escape").decode("ascii") for c in _CONTROLS}
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def one_line(text: str) -> str:
    """`text` with every character that could break or hide a log line escaped."""
    return text.translate(_ESCAPES)


def _indented(text: str) -> str:
    return "\n".join("    " + one_line(line) for line in text.splitlines())


class OneLineFormatter(logging.Formatter):
    """A Formatter whose records start at column 0 on a line of their own and nothing else does."""

    def format(self, record: logging.LogRecord) -> str:
        # Formatter.format, with the message escaped and the traceback indented. The traceback
        # is formatted here rather than taken from `record.exc_text`, which another handler may
        # already have filled in unindented.
        record.message = one_line(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        parts = [self.formatMessage(record)]
        if record.exc_info:
            parts.append(_indented(self.formatException(record.exc_info)))
        elif record.exc_text:
            parts.append(_indented(record.exc_text))
        if record.stack_info:
            parts.append(_indented(self.formatStack(record.stack_info)))
        return "\n".join(parts)


def one_line_handler(stream=None) -> logging.Handler:
    """A stream handler (stderr by default) with `OneLineFormatter`."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLineFormatter(LOG_FORMAT))
    return handler
