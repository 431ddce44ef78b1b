"""Sinch callback signing, `Authorization: Application <key>:<signature>` (sinch-sdk-node
`authorization.helper.ts`; shared/reference/providers.md §3.4):
base64(HMAC-SHA256(base64decode(secret),
    METHOD\\nbase64(MD5(body))\\nContent-Type\\nx-timestamp:<value>\\n<path>)).
The secret is base64-decoded first (leniently, as Node does)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime

MAX_SKEW_SECONDS = 10 * 60


def decode_secret(secret: str) -> bytes:
    padded = secret + "=" * (-len(secret) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))


def compute(*, method: str, body: bytes, content_type: str, timestamp: str, path: str, secret: str) -> str:
    content_md5 = base64.b64encode(hashlib.md5(body).digest()).decode() if body else ""  # noqa: S324 - Sinch's scheme
    string_to_sign = f"{method.upper()}\n{content_md5}\n{content_type}\nx-timestamp:{timestamp}\n{path}"
    digest = hmac.new(decode_secret(secret), string_to_sign.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def parse_authorization(header: str | None) -> tuple[str, str] | None:
    """(application key, signature) from `Application <key>:<signature>`."""
    if not header or not header.startswith("Application "):
        return None
    key, separator, signature = header[len("Application ") :].partition(":")
    return (key, signature) if separator and key and signature else None


def timestamp_fresh(value: str, now: datetime) -> bool:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    if moment.tzinfo is None:
        return False
    return abs((now - moment).total_seconds()) <= MAX_SKEW_SECONDS


def hmac_equal(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
