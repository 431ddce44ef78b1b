"""`ElevenLabs-Signature: t=<unix seconds>,v0=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`
(elevenlabs-python `webhooks_custom.py`; shared/reference/providers.md §2.4). The SDK only refuses old
timestamps; we also refuse ones more than five minutes ahead."""

from __future__ import annotations

import hashlib
import hmac

from tether_relay.digits import parse_uint
from tether_relay.providers.errors import InvalidWebhookSignature, WebhookTimestampRefused

MAX_AGE_SECONDS = 30 * 60
MAX_AHEAD_SECONDS = 5 * 60


def parse_header(header: str | None) -> tuple[int, str]:
    """(timestamp, "v0=<hex>") from the header; its parts may come in any order, each once (a second `t`
    or `v0` would leave which one was judged to the parser: refused)."""
    if not header:
        raise InvalidWebhookSignature()
    pairs = [part.strip().split("=", 1) for part in header.split(",") if "=" in part]
    parts = dict(pairs)
    if len(parts) != len(pairs):
        raise InvalidWebhookSignature()
    timestamp, digest = parse_uint(parts.get("t", "")), parts.get("v0")
    if timestamp is None or not digest:
        raise InvalidWebhookSignature()
    return timestamp, f"v0={digest}"


def sign(body: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode(), hashlib.sha256)
    mac.update(body)  # not prefix + body: that would copy a large body once per secret tried
    return f"v0={mac.hexdigest()}"


def check_timestamp(timestamp: int, now: float) -> None:
    if timestamp < now - MAX_AGE_SECONDS or timestamp > now + MAX_AHEAD_SECONDS:
        raise WebhookTimestampRefused()


def matches(body: bytes, signature: str, secret: str, timestamp: int) -> bool:
    # As bytes: compare_digest refuses str with non-ASCII characters, and a header may carry them.
    return hmac.compare_digest(sign(body, secret, timestamp).encode(), signature.encode())
