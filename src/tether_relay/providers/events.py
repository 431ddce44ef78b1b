"""Our own events: what a provider's verified webhook said, in our words. Each vendor's `webhook.py` turns a
request into one of these; `webhooks/applier.py` applies them to calls. Every value is already storable
(`db.storable`: no NUL, no lone surrogate) and fits its column."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from tether_relay.providers.base import TranscriptResult

# Our call statuses in the order a call goes through them: a later state wins, and an event that arrives
# late never moves a call back. The final states rank alike.
STATUS_ORDER = {
    "queued": 0,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "completed": 4,
    "busy": 4,
    "no-answer": 4,
    "failed": 4,
    "canceled": 4,
}

# The organisations that may have signed a webhook naming this sender (a Twilio AccountSid, a Sinch
# application key), each with its signing secret if it configured one. The webhooks layer supplies it, so a
# verifier needs no database.
Signers = Callable[[str], Awaitable[list[tuple[str, str | None]]]]


def body_key(*parts: str | bytes) -> str:
    """An event key from parts that identify it (for providers whose events carry no id of their own)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What a provider said about a call. The status never moves backwards, a duration replaces the one
    known, and every other fact only fills a gap."""

    status: str | None = None
    direction: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    start_time: datetime | None = None
    answer_time: datetime | None = None
    end_time: datetime | None = None
    duration: float | None = None


class EventIds(TypedDict):
    """What every event carries: whose it is, and under which key it is applied once."""

    provider: str
    event_key: str
    organization_id: str
    provider_call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderEvent:
    """One verified webhook: applied once per (provider, event key), to the organisation's call that the
    provider knows as `provider_call_id` (created by the first event of it). After the call's recording was
    deleted, an event is recorded and changes nothing."""

    provider: str
    event_key: str
    organization_id: str
    provider_call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallMentioned(ProviderEvent):
    """An event that carries nothing we keep (a recording still in progress, an AMD result): the call is
    still made and the event recorded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CallStatusChanged(ProviderEvent):
    facts: CallFacts


@dataclass(frozen=True, slots=True, kw_only=True)
class CallInitiationFailed(ProviderEvent):
    """The call never got going. Applies only while the call is still `initiated`: arriving after the
    call's completion, it moves nothing backwards."""

    status: str
    direction: str
    from_number: str | None
    to_number: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingCompleted(ProviderEvent):
    """The provider holds a finished recording of the call under its own id (we fetch it when asked)."""

    recording_id: str
    duration: float | None
    channels: int | None
    reference_url: str | None  # kept for reference, never fetched


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordingAvailable(ProviderEvent):
    """The provider put the call's recording into a bucket of ours: the first one it announces is kept."""

    bucket: str
    key: str
    content_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptAvailable(ProviderEvent):
    """The provider put the recording's transcript file beside it; it may be announced first."""

    bucket: str
    key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptDelivered(ProviderEvent):
    """The provider pushed the call's transcript (`ready`, or not final) with the call's facts."""

    facts: CallFacts
    transcript: TranscriptResult
    summary: str | None
    metadata: Mapping[str, Any]  # merged into the call's provider metadata


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioDelivered(ProviderEvent):
    """The provider pushed the call's audio. `audio()` decodes it and checks that it is audio (validation
    errors otherwise); it is deferred so that a repeated delivery skips the work."""

    content_type: str
    extension: str
    audio: Callable[[], Awaitable[bytes]] = field(compare=False, repr=False)


Event = (
    CallMentioned
    | CallStatusChanged
    | CallInitiationFailed
    | RecordingCompleted
    | RecordingAvailable
    | TranscriptAvailable
    | TranscriptDelivered
    | AudioDelivered
)
