"""Logging: one JSON object per line, and no secret in any of them, written off the event loop.

On the loop a record is only stamped with its request id and put on a bounded queue; a listener thread
redacts, renders (orjson) and writes it. A slow stdout or pipe never blocks a request: when the queue is
full a line is dropped and counted, and the next line written says how many were. `configure` starts the
listener once per process; `stop` (also at exit) writes out whatever is queued.

Redaction happens in a filter on the writing handler, so it covers every logger: bearer tokens, API keys,
URL signatures and credentials, and Basic auth are replaced before a line is written.
"""

from __future__ import annotations

import atexit
import json
import logging
import logging.config
import logging.handlers
import queue
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

# The id of the request being served (api/request_context.py sets it); every line logged while serving it
# carries it, so one request's lines can be found together.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
REDACTED = "[REDACTED]"
_PATTERNS = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    (re.compile(r"tk_live_[0-9a-fA-F]+"), f"tk_live_{REDACTED}"),
    (
        re.compile(
            r"(?i)\b(signature|x-amz-signature|x-amz-credential|x-amz-security-token|token|secret|"
            r"api[_-]?key|password)=[^&\s\"']+"
        ),
        rf"\1={REDACTED}",
    ),
    (
        re.compile(
            r"(?i)(\"?(?:authorization|xi-api-key|x-twilio-signature|elevenlabs-signature)\"?\s*[:=]\s*)"
            r"\"?[^\"\s,}]+"
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+"), REDACTED),  # any JWT
]
# LogRecord attributes that are not `extra=` fields.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}


# One scan that finds whether any pattern could match (case folded for all: a superset), so the common
# line, which carries no secret, costs one search instead of one per pattern.
_ANY = re.compile("|".join(f"(?:{p.pattern.removeprefix('(?i)')})" for p, _ in _PATTERNS), re.IGNORECASE)


def redact(text: str) -> str:
    if _ANY.search(text) is None:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, redact(value))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if "request_id" not in vars(record) and (request_id := REQUEST_ID.get()) is not None:
            line["request_id"] = request_id  # logged without the queue (the stamp below): read it here
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:  # a type and its message, never the trace (it can carry secrets)
            line["error"] = redact(f"{record.exc_info[0].__name__ if record.exc_info[0] else 'Error'}")
        try:
            return orjson.dumps(line, default=str).decode()
        except orjson.JSONEncodeError:  # an integer past 64 bits, a key that is not a string
            return json.dumps(line, default=str)


# Lines held while the writer is behind: a burst's worth. Past it lines are dropped (and counted), because
# holding them would grow memory without bound, and waiting would stall every request.
QUEUE_LINES = 10_000


class _Enqueue(logging.handlers.QueueHandler):
    """The loop's side: stamp the request id (a context variable, readable only here) and enqueue; no
    formatting, no I/O, never a wait."""

    def __init__(self, lines: queue.Queue[logging.LogRecord | None]) -> None:
        super().__init__(lines)
        self.lines, self.dropped = lines, 0

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if "request_id" not in vars(record) and (request_id := REQUEST_ID.get()) is not None:
            record.request_id = request_id
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        if self.dropped:
            record.dropped_lines = self.dropped  # the first line that fits says how many did not
        try:
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1
        else:
            self.dropped = 0


class _Writer(logging.handlers.QueueListener):
    def __init__(self, lines: queue.Queue[logging.LogRecord | None], handler: logging.Handler) -> None:
        super().__init__(lines, handler)
        self.lines = lines

    def enqueue_sentinel(self) -> None:
        self.lines.put(None)  # behind whatever is queued, waiting for room if it is full


class _BatchingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each line, and flushes only when no line is waiting: under load, one write of many lines
    instead of a system call per line."""

    def __init__(self, stream: TextIO, lines: queue.Queue[logging.LogRecord | None]) -> None:
        super().__init__(stream)
        self._lines = lines

    def flush(self) -> None:
        if self._lines.empty():
            super().flush()


def _writer(stream: TextIO, lines: queue.Queue[logging.LogRecord | None]) -> logging.Handler:
    handler = _BatchingHandler(stream, lines)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    return handler


_listener: logging.handlers.QueueListener | None = None
_enqueue: _Enqueue | None = None


def configure(level: str, stream: TextIO | None = None) -> None:
    """Route every logger of ours, uvicorn's and alembic's through the queue at `level`, written to
    `stream` (stdout); idempotent."""
    global _listener, _enqueue
    if _listener is None:
        lines: queue.Queue[logging.LogRecord | None] = queue.Queue(QUEUE_LINES)
        _enqueue = _Enqueue(lines)
        _listener = _Writer(lines, _writer(stream or sys.stdout, lines))
        _listener.start()
        atexit.register(stop)
    # Caller information (a frame walk per record) and the process and thread names are not logged.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.config.dictConfig(config(level))


def config(level: str) -> dict[str, Any]:
    """The dictConfig behind `configure`: every logger writes through the one queue handler."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"queue": {"()": lambda: _enqueue}},
        "loggers": {
            name: {"handlers": ["queue"], "level": level, "propagate": False}
            for name in ("tether_relay", "uvicorn", "uvicorn.error", "alembic")
        },
        "root": {"handlers": ["queue"], "level": "WARNING"},
    }


def stop() -> None:
    """Write out every queued line and stop the writer (at shutdown; `configure` may start it again)."""
    global _listener, _enqueue
    if _listener is not None and _enqueue is not None:
        if _enqueue.dropped:  # drops are never silent, even the last ones
            note = logging.makeLogRecord(
                {"name": __name__, "levelno": logging.WARNING, "levelname": "WARNING"}
            )
            note.msg, note.dropped_lines = "log lines dropped", _enqueue.dropped
            _enqueue.lines.put(note)
        _listener.stop()
        for handler in _listener.handlers:
            handler.flush()
        _listener = _enqueue = None
