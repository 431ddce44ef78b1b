"""Sinch voice callbacks: ICE, ACE, DiCE and the notify events of recordings and transcripts
(shared/reference/providers.md §3.3, §3.4) → our events.

The sender is the organisation whose Sinch application key is in `Authorization: Application <key>:…`
and whose secret signs the request (signature.py); `x-timestamp` must be within ten minutes. Calls are
keyed by the Sinch call id. `recording_available` tells where the audio landed in the bucket Sinch records
into; `transcription_available` where its transcript file did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from tether_relay.db import in_storable_range, storable, utcnow
from tether_relay.digits import parse_uint
from tether_relay.errors import ValidationFailed
from tether_relay.providers.errors import InvalidWebhookSignature, WebhookTimestampRefused
from tether_relay.providers.events import (
    CallFacts,
    CallMentioned,
    CallStatusChanged,
    Event,
    EventIds,
    RecordingAvailable,
    Signers,
    TranscriptAvailable,
    body_key,
)
from tether_relay.providers.sinch import signature
from tether_relay.storage.buckets import SINCH

PROVIDER = "sinch"
MAX_CALL_SECONDS = 7 * 24 * 3600
_RESULTS = {"ANSWERED": "completed", "BUSY": "busy", "NOANSWER": "no-answer", "FAILED": "failed"}
_EVENTS = ("ice", "ace", "dice", "notify")


@dataclass(frozen=True, slots=True)
class SinchSender:
    """What the headers of a Sinch callback claim, checked as far as it can be without the body."""

    timestamp: str
    signature: str
    candidates: list[tuple[str, str | None]]


class SinchWebhook:
    def __init__(self, signers: Signers) -> None:
        """`signers`: by application key, each organisation's application secret."""
        self._signers = signers

    async def precheck(self, *, timestamp: str | None, authorization: str | None) -> SinchSender:
        """Before the body is read: the signature header parses, its timestamp is fresh, and its
        application key is one an organisation configured."""
        parsed = signature.parse_authorization(authorization)
        if parsed is None or timestamp is None:
            raise InvalidWebhookSignature()
        if not signature.timestamp_fresh(timestamp, utcnow()):
            raise WebhookTimestampRefused()
        application_key, given = parsed
        candidates = await self._signers(application_key)
        if not candidates:
            raise InvalidWebhookSignature()
        return SinchSender(timestamp, given, candidates)

    async def receive(
        self, sender: SinchSender, *, body: bytes, path: str, content_type: str
    ) -> tuple[str, Event]:
        """(the Sinch event's name, our event) of a callback whose signature verifies."""
        return parse(self.verify(sender, body=body, path=path, content_type=content_type), body)

    @staticmethod
    def verify(sender: SinchSender, *, body: bytes, path: str, content_type: str) -> str:
        """The organisation whose application secret signed the body."""
        for organization_id, secret in sender.candidates:
            if secret is None:
                continue
            expected = signature.compute(
                method="POST",
                body=body,
                content_type=content_type,
                timestamp=sender.timestamp,
                path=path,
                secret=secret,
            )
            if signature.hmac_equal(expected, sender.signature):
                return organization_id
        raise InvalidWebhookSignature()


def parse(organization_id: str, body: bytes) -> tuple[str, Event]:
    """(the Sinch event's name, our event) of a verified body; ValidationFailed if Sinch sends no such."""
    event = _parse(body)
    name = event["event"]
    ids = EventIds(
        provider=PROVIDER,
        event_key=body_key(organization_id, body),
        organization_id=organization_id,
        provider_call_id=event["callid"],
    )
    to: dict[str, Any] = event["to"] if isinstance(event.get("to"), dict) else {}
    at = _time(event.get("timestamp"))
    if name == "ice":
        facts = CallFacts(
            status="ringing",
            direction="inbound",
            from_number=_number(event.get("cli")),
            to_number=_number(to.get("endpoint")),
            start_time=at,
        )
    elif name == "ace":
        facts = CallFacts(status="in-progress", answer_time=at)
    elif name == "dice":
        facts = CallFacts(
            status=_RESULTS.get(str(event.get("result")), "completed"),
            from_number=_number(event.get("from")),  # a string in DiCE, not an object
            to_number=_number(to.get("endpoint")),
            end_time=at,
            duration=_duration(event.get("duration")),
        )
    else:
        return name, _notify(event, ids)
    return name, CallStatusChanged(**ids, facts=facts)


def _notify(event: dict[str, Any], ids: EventIds) -> Event:
    kind, key = event.get("type"), _bucket_key(event.get("destination"))
    if key is None:
        return CallMentioned(**ids)
    if kind == "recording_available":
        content_type = "audio/wav" if key.endswith(".wav") else "audio/mpeg"
        return RecordingAvailable(**ids, bucket=SINCH, key=key, content_type=content_type)
    if kind == "transcription_available":
        return TranscriptAvailable(**ids, bucket=SINCH, key=key)
    return CallMentioned(**ids)  # recording_finished, amd, …: nothing to keep


def _duration(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and 0 <= value <= MAX_CALL_SECONDS else None


def _parse(body: bytes) -> dict[str, Any]:
    try:
        event = json.loads(body)
    except ValueError:
        raise ValidationFailed.of("body", "body is not JSON") from None
    if not isinstance(event, dict) or event.get("event") not in _EVENTS:
        raise ValidationFailed.of("body", "event is not one of ice, ace, dice, notify")
    call_id = event.get("callid")
    if not isinstance(call_id, str) or not 0 < len(call_id) <= 128:
        raise ValidationFailed.of("body", "callid is missing")
    return dict(storable(event))


def _bucket_key(destination: Any) -> str | None:
    """`s3://bucket/path/file.mp3` → `path/file.mp3` (the bucket is the one Sinch records into)."""
    if not isinstance(destination, str):
        return None
    parts = urlsplit(destination)
    key = parts.path.lstrip("/")
    return key if parts.scheme in ("s3", "https") and key and ".." not in key.split("/") else None


def _number(value: Any) -> str | None:
    # E.164: at most 15 ASCII digits (the column holds 32).
    if not isinstance(value, str) or parse_uint(value.removeprefix("+"), max_digits=15) is None:
        return None
    return value if value.startswith("+") else f"+{value}"


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None and in_storable_range(moment) else None
