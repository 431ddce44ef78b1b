from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RecordingRef:
    """What an adapter needs to know about one recording of one call; no ORM object crosses this line."""

    organization_id: str
    provider: str
    provider_call_id: str
    storage_bucket: str | None
    storage_key: str | None
    provider_recording_id: str | None
    content_type: str


@dataclass(frozen=True, slots=True)
class SignedAudio:
    """Audio the client downloads itself, from a short-lived signed URL (`audioUrl`)."""

    url: str


@dataclass(frozen=True, slots=True)
class InlineAudio:
    """Audio fetched server-side and returned inline as a `data:` URI (`audioData`)."""

    data_uri: str


AudioSource = SignedAudio | InlineAudio


class AudioProvider(Protocol):
    """How one provider's recordings reach a client."""

    async def audio(self, recording: RecordingRef) -> AudioSource: ...
