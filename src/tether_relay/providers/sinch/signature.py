"""Sinch callback signing, `Authorization: Application <key>:<signature>` (sinch-sdk-node
`authorization.helper.ts`; shared/reference/providers.md §3.4):
base64(HMAC-SHA256(base64decode(secret),
    METHOD\\nbase64(MD5(body))\\nContent-Type\\nx-timestamp:<value>\\n<path>)).
The secret is base64-decoded first, leniently as Node's `Buffer.from(secret, "base64")` does, so that
decoding never fails on whatever is stored; the config API accepts only `usable_secret`s."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

MAX_SKEW_SECONDS = 10 * 60
_URLSAFE = str.maketrans("-_", "+/")


MIN_SECRET_BYTES = 16  # Sinch issues 128-bit application secrets
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")


def decode_secret(secret: str) -> bytes:
    """Like Node: either alphabet, decoding stops at padding, other characters skipped, a dangling
    character (six bits, no whole byte) dropped. Never raises."""
    symbols = re.sub(r"[^A-Za-z0-9+/_-]", "", secret.split("=", 1)[0]).translate(_URLSAFE)
    symbols = symbols[: len(symbols) - len(symbols) % 4 if len(symbols) % 4 == 1 else len(symbols)]
    return base64.b64decode(symbols + "=" * (-len(symbols) % 4))


def usable_secret(secret: str) -> bool:
    """Base64 (either alphabet) of at least MIN_SECRET_BYTES: what Sinch issues and what signs."""
    return _BASE64.fullmatch(secret) is not None and len(decode_secret(secret)) >= MIN_SECRET_BYTES


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
        # OverflowError: year 1 or 9999 with an offset lies outside datetime's range once in UTC.
        return moment.tzinfo is not None and abs((now - moment).total_seconds()) <= MAX_SKEW_SECONDS
    except (ValueError, OverflowError):
        return False


def hmac_equal(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
