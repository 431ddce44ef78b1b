"""Logging: one JSON object per line, and no secret in any of them.

Redaction happens in a filter on the handler, so it covers every logger, uvicorn's access log included
(which would otherwise print signed media URLs with their signatures): bearer tokens, API keys, URL
signatures and credentials, and Basic auth are replaced before a line is written.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

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


def redact(text: str) -> str:
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
        if (request_id := REQUEST_ID.get()) is not None:
            line["request_id"] = request_id
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:  # a type and its message, never the trace (it can carry secrets)
            line["error"] = redact(f"{record.exc_info[0].__name__ if record.exc_info[0] else 'Error'}")
        return json.dumps(line, default=str)


def config(level: str) -> dict[str, Any]:
    """A dictConfig for the service and for uvicorn (pass it as uvicorn's `log_config`)."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact": {"()": RedactingFilter}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["redact"],
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {
            name: {"handlers": ["stdout"], "level": level, "propagate": False}
            for name in ("tether_relay", "uvicorn", "uvicorn.error", "uvicorn.access", "alembic")
        },
        "root": {"handlers": ["stdout"], "level": "WARNING"},
    }


def configure(level: str) -> None:
    logging.config.dictConfig(config(level))
