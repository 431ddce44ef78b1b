from __future__ import annotations

import io
import json
import logging

import pytest

from tether_relay.logs import JsonFormatter, RedactingFilter, redact

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
    handler.addFilter(RedactingFilter())
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
