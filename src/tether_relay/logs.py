"""Logging: one JSON object per line, and no secret in any of them, written off the event loop.

On the loop a record is only stamped with its request id and put on a bounded queue; a listener thread
redacts, renders (orjson) and writes it. A slow stdout or pipe never blocks a request: when the queue is
full a line is dropped and counted, and the next line written says how many were. `configure` starts the
listener once per process; `stop` (also at exit) writes out whatever is queued.

Redaction happens in the writing handler's formatter, so it covers every logger: bearer tokens, API keys,
URL signatures and credentials, and Basic auth are replaced before a line is written.
"""

from __future__ import annotations

import atexit
import collections
import json
import logging
import logging.config
import logging.handlers
import queue
import re
import sys
import threading
import time
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


# A word of which every match of some pattern contains one, lower case: an ASCII string with none of them
# is returned as it is after a few substring tests. (A case-insensitive regex search, even one combining the
# patterns, took microseconds per field, and most fields carry no secret.) Other strings take every pattern:
# outside ASCII, `lower()` and the regex's case rules differ (dotted capital I, dotless i, long s, Kelvin).
_WORDS = ("bearer", "basic", "tk_live_", "=", "authorization", "xi-api-key", "signature", "eyj")


def redact(text: str) -> str:
    if text.isascii():
        folded = text.lower()
        for word in _WORDS:
            if word in folded:
                break
        else:
            return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, logger, message and its `extra=` fields, every string among
    them redacted. The formatter of the one writing handler, so redaction covers every logger."""

    def __init__(self) -> None:
        super().__init__()
        self._second, self._stamp = -1, ""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if "request_id" not in vars(record) and (request_id := REQUEST_ID.get()) is not None:
            line["request_id"] = request_id  # logged without the queue (the stamp below): read it here
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                line[name] = redact(value) if isinstance(value, str) else value
        if record.exc_info:  # a type and its message, never the trace (it can carry secrets)
            line["error"] = redact(f"{record.exc_info[0].__name__ if record.exc_info[0] else 'Error'}")
        try:
            return orjson.dumps(line, default=str).decode()
        except orjson.JSONEncodeError:  # an integer past 64 bits, a key that is not a string
            return json.dumps(line, default=str)

    def _time(self, created: float) -> str:
        """ISO 8601 in UTC to the millisecond; the date and time of day rendered once per second."""
        second = int(created)
        if second != self._second:
            self._second = second
            self._stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{self._stamp}.{int((created - second) * 1000):03d}+00:00"


# Lines held while the writer is behind: a burst's worth. Past it lines are dropped (and counted), because
# holding them would grow memory without bound, and waiting would stall every request.
QUEUE_LINES = 10_000


# What the loop hands the writer: a record, an access line as it is (its time, request id and fields), or
# the writer's stop sentinel.
_AccessLine = tuple[float, str | None, dict[str, Any]]
_Item = logging.LogRecord | _AccessLine | None


class _Lines:
    """The queue between the loop and the writer thread, for the stdlib's QueueHandler and QueueListener.

    `queue.Queue` wakes its reader for every line: at a few thousand requests a second the writer thread
    then takes the GIL back after every request, and each GIL hand-off stalls the loop (measured: it
    doubled the time of a cached read; docs/performance.md). Here a put is a deque append, and the reader
    looks every `WAIT` seconds and writes whatever came, so the loop pays for a line, not for a wake-up."""

    WAIT = 0.05

    def __init__(self, maxsize: int) -> None:
        self._items: collections.deque[_Item] = collections.deque()
        self._maxsize = maxsize
        self._closing = threading.Event()

    def put_nowait(self, item: _Item) -> None:
        if len(self._items) >= self._maxsize:
            raise queue.Full
        self._items.append(item)

    def put(self, item: _Item) -> None:
        """The listener's sentinel: always let in, and the reader woken for it at once."""
        self._items.append(item)
        self._closing.set()

    def get(self, block: bool = True) -> _Item:
        while True:
            try:
                return self._items.popleft()
            except IndexError:
                if not block:
                    raise queue.Empty from None
                self._closing.wait(self.WAIT)

    def empty(self) -> bool:
        return not self._items


class _Enqueue(logging.handlers.QueueHandler):
    """The loop's side: stamp the request id (a context variable, readable only here) and enqueue; no
    formatting, no I/O, never a wait."""

    def __init__(self, lines: _Lines) -> None:
        super().__init__(lines)
        self.lines, self.dropped = lines, 0

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if "request_id" not in vars(record) and (request_id := REQUEST_ID.get()) is not None:
            record.request_id = request_id
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        if self.dropped:
            record.dropped_lines = self.dropped  # the first line that fits says how many did not
        self._put(record)

    def access(self, fields: dict[str, Any]) -> None:
        if self.dropped:
            fields["dropped_lines"] = self.dropped
        self._put((time.time(), REQUEST_ID.get(), fields))

    def _put(self, item: _Item) -> None:
        try:
            self.lines.put_nowait(item)
        except queue.Full:
            self.dropped += 1
        else:
            self.dropped = 0


class _Writer(logging.handlers.QueueListener):
    def __init__(self, lines: _Lines, handler: logging.Handler) -> None:
        super().__init__(lines, handler)
        self.lines = lines

    def enqueue_sentinel(self) -> None:
        self.lines.put(None)  # behind whatever is queued

    def prepare(self, item: _Item) -> logging.LogRecord:
        if not isinstance(item, tuple):
            assert item is not None  # the listener stops at its sentinel before preparing it
            return item
        created, request_id, fields = item
        record = logging.makeLogRecord({"name": ACCESS.name, "levelno": logging.INFO, "levelname": "INFO"})
        record.msg, record.created = "request", created
        record.__dict__.update(fields)
        if request_id is not None:
            record.request_id = request_id
        return record


class _BatchingHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes each line, and flushes only when no line is waiting: under load, one write of many lines
    instead of a system call per line."""

    def __init__(self, stream: TextIO, lines: _Lines) -> None:
        super().__init__(stream)
        self._lines = lines

    def flush(self) -> None:
        if self._lines.empty():
            super().flush()


def _writer(stream: TextIO, lines: _Lines) -> logging.Handler:
    handler = _BatchingHandler(stream, lines)
    handler.setFormatter(JsonFormatter())
    return handler


_listener: logging.handlers.QueueListener | None = None
_enqueue: _Enqueue | None = None
ACCESS = logging.getLogger("tether_relay.access")


def access(fields: dict[str, Any]) -> None:
    """A request's access line, at info. Once `configure` has run it goes to the writer as it is, and its
    record is made there: made on the loop, a LogRecord cost 16 µs of a 300 µs read (docs/performance.md)."""
    if not ACCESS.isEnabledFor(logging.INFO):
        return
    if _enqueue is not None:
        _enqueue.access(fields)
    else:
        ACCESS.info("request", extra=fields)


def configure(level: str, stream: TextIO | None = None) -> None:
    """Route every logger of ours, uvicorn's and alembic's through the queue at `level`, written to
    `stream` (stdout); idempotent."""
    global _listener, _enqueue
    if _listener is None:
        lines = _Lines(QUEUE_LINES)
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
