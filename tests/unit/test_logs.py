from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tether_relay import logs
from tether_relay.logs import JsonFormatter, redact

SECRETS = {
    "bearer header": ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJpZCI6InUifQ.c2lnbmF0dXJl", "eyJhbGci"),
    "api key": ("key tk_live_7c2b3d8e21a9f6c2b3d8e21a9f6c2b3d8e21 used", "7c2b3d8e21a9"),
    "local signed url": (
        '"GET /media/recordings/o/c/r.mp3?expires=1&signature=SnO9rKdAD1-31yiBOSqYL HTTP/1.1"',
        "SnO9rKdAD1",
    ),
    "s3 signed url": (
        "https://b.r2/x.mp3?X-Amz-Credential=AKID%2F2026&X-Amz-Signature=613e2df663e4c0",
        "613e2df6",
    ),
    "basic auth": ("Authorization: Basic QUMxMjM6c2VjcmV0", "QUMxMjM6"),
    "xi-api-key header": ('{"xi-api-key": "sk_abcdef0123456789"}', "sk_abcdef"),
    "bare jwt": ("token was eyJhbGciOiJIUzI1NiJ9.eyJvcmciOiJhIn0.abcdefghij", "eyJvcmci"),
}


@pytest.mark.parametrize(("line", "secret"), SECRETS.values(), ids=SECRETS.keys())
def test_secrets_are_redacted(line: str, secret: str) -> None:
    redacted = redact(line)

    assert secret not in redacted
    assert "[REDACTED]" in redacted


def test_ordinary_lines_are_untouched() -> None:
    line = "GET /api/calls/64f0a1b2c3d4e5f6a7b8cb00/recording 200"

    assert redact(line) == line


def test_records_are_json_with_their_extras_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tether_relay.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(
            "fetch of %s failed", "https://x/y?signature=abc123", extra={"cause": "Bearer abc.def.ghi"}
        )
    finally:
        logger.removeHandler(handler)

    line = json.loads(stream.getvalue())
    assert line["level"] == "warning"
    assert line["message"] == "fetch of https://x/y?signature=[REDACTED] failed"
    assert line["cause"] == "Bearer [REDACTED]"


QUEUED = logging.getLogger("tether_relay.test_queue")


class Output(io.StringIO):
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.getvalue().splitlines()]


@pytest.fixture
def output() -> Iterator[Output]:
    stream = Output()
    logs.configure("info", stream)
    try:
        yield stream
    finally:
        logs.stop()


def test_queued_lines_keep_their_request_id_fields_and_redaction(output: Output) -> None:
    """The request id is a context variable of the request's task: it is stamped on the record before
    the record leaves for the writer thread, where it would read as unset."""
    token = logs.REQUEST_ID.set("req-1234")
    try:
        QUEUED.info("request", extra={"route": "/x", "status": 200, "cause": "Bearer a.b.c"})
    finally:
        logs.REQUEST_ID.reset(token)
    QUEUED.warning("outside %s", "https://x/y?signature=abc")
    logs.stop()

    first, second = output.records()
    assert first == {
        "time": first["time"],
        "level": "info",
        "logger": "tether_relay.test_queue",
        "message": "request",
        "request_id": "req-1234",
        "route": "/x",
        "status": 200,
        "cause": "Bearer [REDACTED]",
    }
    assert second["message"] == "outside https://x/y?signature=[REDACTED]"
    assert "request_id" not in second


def test_access_lines_are_made_by_the_writer_with_their_id_time_and_redaction(output: Output) -> None:
    """The loop hands an access line over as it is; the writer makes it the same line a record would be."""
    before = datetime.now(UTC)
    token = logs.REQUEST_ID.set("req-5678")
    try:
        logs.access({"method": "GET", "route": "/x?token=abc", "status": 200, "ms": 1.5})
        after = datetime.now(UTC)
    finally:
        logs.REQUEST_ID.reset(token)
    time.sleep(0.1)  # the writer's time is later: the line keeps the time it was logged at
    logs.stop()

    (line,) = output.records()
    assert line == {
        "time": line["time"],
        "level": "info",
        "logger": "tether_relay.access",
        "message": "request",
        "request_id": "req-5678",
        "method": "GET",
        "route": "/x?token=[REDACTED]",
        "status": 200,
        "ms": 1.5,
    }
    written = datetime.fromisoformat(line["time"])
    assert before - timedelta(milliseconds=1) <= written <= after


def test_every_queued_line_is_written_at_stop_in_order(output: Output) -> None:
    for n in range(5000):
        logs.access({"n": n}) if n % 2 else QUEUED.info("line", extra={"n": n})
    logs.stop()

    assert [record["n"] for record in output.records()] == list(range(5000))


def test_access_lines_are_not_made_below_info() -> None:
    stream = Output()
    logs.configure("warning", stream)
    try:
        logs.access({"method": "GET"})
    finally:
        logs.stop()
        logs.configure("info", io.StringIO())
        logs.stop()
    assert stream.getvalue() == ""


def test_a_value_orjson_cannot_render_is_still_logged(output: Output) -> None:
    QUEUED.info("big", extra={"value": 2**70, "odd": {1: object()}})
    logs.stop()

    (line,) = output.records()
    assert line["value"] == 2**70


def test_a_stalled_stdout_never_blocks_the_logger_and_drops_are_counted() -> None:
    """The writer is stuck (a pipe nobody reads): logging goes on at once, what does not fit the queue
    is dropped, and the first line written after says how many were."""
    release = threading.Event()
    lines: list[str] = []

    class StuckStdout(io.StringIO):
        def write(self, text: str) -> int:
            release.wait()
            lines.append(text)
            return len(text)

    logs.configure("info", StuckStdout())
    logger = logging.getLogger("tether_relay.test_stuck")
    total = logs.QUEUE_LINES * 2
    try:
        done = threading.Event()

        def burst() -> None:
            for n in range(total):
                logger.info("line %d", n)
            done.set()

        threading.Thread(target=burst, daemon=True).start()
        assert done.wait(30), "logging blocked on the stalled stdout"
    finally:
        release.set()
        logs.stop()

    records = [json.loads(text) for text in "".join(lines).splitlines()]
    written = [record for record in records if record["message"].startswith("line ")]
    dropped = sum(record.get("dropped_lines", 0) for record in records)
    assert dropped > 0
    assert len(written) + dropped == total


def every_pattern(text: str) -> str:
    for pattern, replacement in logs._PATTERNS:
        text = pattern.sub(replacement, text)
    return text


# Secrets and pieces of them, in other cases, and the letters whose case rules differ between `lower()` and
# the regex engine (dotted and dotless i, long s, Kelvin sign).
FRAGMENTS = [line for line, _ in SECRETS.values()] + [
    "GET /x?a=1",
    "token",
    "Bearer",
    "BEARER",
    "bAsIc",
    "ba\u017fic",
    "bas\u0130c",
    "bas\u0131c",
    "xi-api-\u212aey",
    "TK_LIVE_",
    "tk_live_",
    "Signature",
    " ",
    "=",
    ":",
    "eyJ",
    "EYJ",
    "abcdefgh",
    ".",
]


@given(st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=12), max_size=8).map("".join))
def test_the_word_precheck_misses_nothing_every_pattern_would_change(text: str) -> None:
    """redact() skips the patterns when no word of theirs is in the text: the same result either way."""
    assert redact(text) == every_pattern(text)


# Each pattern alone (no word of another in the line), in odd cases.
ALONE = [
    "bAsIc QUMxMjM6c2VjcmV0",
    "BEARER abcdef",
    "tk_live_0123abcd",
    "Api-Key=abc",
    "XI-API-KEY: abc",
    "AUTHORIZATION: opaque-value",
    "x-twilio-signature: abc",
    "eyJabcdefgh.abcdefgh.x",
]


@pytest.mark.parametrize("text", ALONE)
def test_every_pattern_is_reached_through_its_words(text: str) -> None:
    assert redact(text) == every_pattern(text) != text


@pytest.mark.parametrize(
    "text",
    ["ba\u017fic QUMxMjM6c2VjcmV0", "bas\u0131c QUMxMjM6", "bas\u0130c QUMxMjM6", "xi-api-\u212aey: k"],
)
def test_text_outside_ascii_takes_every_pattern(text: str) -> None:
    """The regex engine folds these to ASCII letters where `lower()` does not."""
    assert redact(text) == every_pattern(text) != text
