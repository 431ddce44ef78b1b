"""POST /api/webhook/calls/sinch: ICE, ACE, DiCE and the notify events of recordings and transcripts.

The sender is the organisation whose Sinch application key is in `Authorization: Application <key>:…`
and whose secret signs the request (providers/sinch/signature.py); `x-timestamp` must be within ten
minutes. Calls are keyed by the Sinch call id. `recording_available` tells where the audio landed in the
bucket Sinch records into; `transcription_available` where its transcript file did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.calls.models import Call
from tether_relay.calls.repository import CallRepository, NewRecording
from tether_relay.db import in_storable_range, storable, utcnow
from tether_relay.digits import parse_uint
from tether_relay.errors import ValidationFailed
from tether_relay.organizations.credentials import CredentialStore
from tether_relay.providers.errors import InvalidWebhookSignature, WebhookTimestampRefused
from tether_relay.providers.sinch import signature
from tether_relay.storage.buckets import SINCH
from tether_relay.webhooks.events import apply_once, body_key

PROVIDER = "sinch"
MAX_CALL_SECONDS = 7 * 24 * 3600
_RESULTS = {"ANSWERED": "completed", "BUSY": "busy", "NOANSWER": "no-answer", "FAILED": "failed"}
_EVENTS = ("ice", "ace", "dice", "notify")


@dataclass(frozen=True, slots=True)
class SinchSender:
    """What the headers of a Sinch callback claim, checked as far as it can be without the body."""

    timestamp: str
    signature: str
    candidates: list[tuple[str, dict[str, str]]]


class SinchWebhooks:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], credentials: CredentialStore) -> None:
        self._sessions = sessions
        self._credentials = credentials

    async def precheck(self, *, timestamp: str | None, authorization: str | None) -> SinchSender:
        """Before the body is read: the signature header parses, its timestamp is fresh, and its
        application key is one an organisation configured."""
        parsed = signature.parse_authorization(authorization)
        if parsed is None or timestamp is None:
            raise InvalidWebhookSignature()
        if not signature.timestamp_fresh(timestamp, utcnow()):
            raise WebhookTimestampRefused()
        application_key, given = parsed
        candidates = await self._credentials.by_lookup_key(PROVIDER, application_key)
        if not candidates:
            raise InvalidWebhookSignature()
        return SinchSender(timestamp, given, candidates)

    async def verify(self, sender: SinchSender, *, body: bytes, path: str, content_type: str) -> str:
        """The organisation whose application secret signed the body."""
        timestamp, given = sender.timestamp, sender.signature
        for organization_id, creds in sender.candidates:
            secret = creds.get("sinchApplicationSecret")
            if secret is None:
                continue
            expected = signature.compute(
                method="POST",
                body=body,
                content_type=content_type,
                timestamp=timestamp,
                path=path,
                secret=secret,
            )
            if signature.hmac_equal(expected, given):
                return organization_id
        raise InvalidWebhookSignature()

    async def receive(self, organization_id: str, body: bytes) -> tuple[str, str | None]:
        """(event name, call id)."""
        event = _parse(body)
        name, call_id_sinch = event["event"], event["callid"]

        async def apply(session: AsyncSession) -> str:
            call = await CallRepository(session).find_or_create(organization_id, PROVIDER, call_id_sinch)
            if call.recording_deleted_at is not None:
                return call.id  # after a deletion an event is recorded and applied as a no-op
            await _APPLY[name](call, event, session)
            return call.id

        call_id, _ = await apply_once(
            self._sessions,
            provider=PROVIDER,
            organization_id=organization_id,
            event_key=body_key(organization_id, body),
            apply=apply,
        )
        return name, call_id


async def _ice(call: Call, event: dict[str, Any], _session: AsyncSession) -> None:
    to: dict[str, Any] = event["to"] if isinstance(event.get("to"), dict) else {}
    call.direction = call.direction or "inbound"
    call.from_number = call.from_number or _number(event.get("cli"))
    call.to_number = call.to_number or _number(to.get("endpoint"))
    call.start_time = call.start_time or _time(event.get("timestamp"))
    if call.status == "initiated":
        call.status = "ringing"


async def _ace(call: Call, event: dict[str, Any], _session: AsyncSession) -> None:
    call.answer_time = call.answer_time or _time(event.get("timestamp"))
    if call.status in ("initiated", "ringing"):
        call.status = "in-progress"


async def _dice(call: Call, event: dict[str, Any], _session: AsyncSession) -> None:
    to: dict[str, Any] = event["to"] if isinstance(event.get("to"), dict) else {}
    call.status = _RESULTS.get(str(event.get("result")), "completed")
    call.end_time = call.end_time or _time(event.get("timestamp"))
    if isinstance(event.get("duration"), int | float) and 0 <= event["duration"] <= MAX_CALL_SECONDS:
        call.duration = float(event["duration"])
    call.from_number = call.from_number or _number(event.get("from"))  # a string in DiCE, not an object
    call.to_number = call.to_number or _number(to.get("endpoint"))


async def _notify(call: Call, event: dict[str, Any], session: AsyncSession) -> None:
    kind, key = event.get("type"), _bucket_key(event.get("destination"))
    if key is None or kind not in ("recording_available", "transcription_available"):
        return  # recording_finished, amd, …: nothing to keep
    calls = CallRepository(session)
    stored = next((r for r in call.recordings if r.storage_bucket == SINCH), None)
    if kind == "recording_available":
        if stored is None:
            recording = NewRecording(
                storage_bucket=SINCH,
                storage_key=key,
                content_type="audio/wav" if key.endswith(".wav") else "audio/mpeg",
                duration=call.duration,
                transcript_key=(call.provider_metadata or {}).get("transcriptKey"),
            )
            await calls.attach_recording(call.id, recording)  # refused if the recording was deleted
    elif stored is not None:
        await calls.update_recording(call.id, stored.id, transcript_key=key)
    elif call.recording_deleted_at is None:
        # The transcript was announced before the recording: keep it for when the recording arrives.
        call.provider_metadata = {**(call.provider_metadata or {}), "transcriptKey": key}


_APPLY = {"ice": _ice, "ace": _ace, "dice": _dice, "notify": _notify}


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
