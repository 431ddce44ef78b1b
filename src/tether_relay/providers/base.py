"""The provider boundary: what adapters are given, what they return, and the protocol they implement.
No ORM object and no vendor JSON crosses this line."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, runtime_checkable

from tether_relay.transcripts.model import Utterance


@dataclass(frozen=True, slots=True)
class CallRef:
    call_id: str
    organization_id: str
    provider: str
    provider_call_id: str
    direction: str | None


@dataclass(frozen=True, slots=True)
class RecordingRef:
    recording_id: str
    storage_bucket: str | None
    storage_key: str | None
    provider_recording_id: str | None
    content_type: str
    duration: float | None
    transcript_key: str | None = None

    @property
    def public_id(self) -> str:
        return self.provider_recording_id or self.recording_id


@dataclass(frozen=True, slots=True)
class SignedAudio:
    """Audio the client downloads itself, from a short-lived signed URL (`audioUrl`)."""

    url: str


@dataclass(frozen=True, slots=True)
class InlineAudio:
    """Audio fetched server-side and returned inline as a `data:` URI (`audioData`). The bytes arrive as
    `chunks` while the answer is written (api/streamed_json.py), so a recording is never held whole;
    `aclose` releases the upstream connection if the answer is never written."""

    media_type: str
    chunks: AsyncIterator[bytes]
    aclose: Callable[[], Awaitable[None]]


AudioSource = SignedAudio | InlineAudio


@dataclass(frozen=True, slots=True)
class FetchedAudio:
    audio: AudioSource
    recording: RecordingRef
    # True when the adapter learnt something about the recording that the Call should remember
    # (a Twilio RecordingSid found through the call, ElevenLabs audio re-hosted in R2).
    discovered: bool = False
    channels: int | None = None
    size_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class CallDetails:
    """Call facts a provider reports alongside its transcript (ElevenLabs does)."""

    from_number: str | None = None
    to_number: str | None = None
    direction: str | None = None
    duration: float | None = None
    start_time: datetime | None = None


# The one classification of a provider's answer about a transcript, used by every adapter:
#   final            ready (a transcript) or unavailable (the provider says there will be none): cached;
#   still processing pending: asked again after TETHER_TRANSCRIPT_RETRY_SECONDS;
#   failed           failed (no usable answer: credentials missing, a page missing, an answer we cannot
#                    render): asked again on the same schedule, never cached.
TranscriptStatus = Literal["ready", "unavailable", "pending", "failed"]
FINAL: frozenset[str] = frozenset({"ready", "unavailable"})


@dataclass(frozen=True, slots=True)
class TranscriptResult:
    status: TranscriptStatus
    source: str
    data: list[Utterance] | dict[str, Any] | None = None
    text: str | None = None
    details: CallDetails | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL

    @classmethod
    def pending(cls, source: str) -> TranscriptResult:
        return cls("pending", source)

    @classmethod
    def unavailable(cls, source: str) -> TranscriptResult:
        return cls("unavailable", source)

    @classmethod
    def failed(cls, source: str) -> TranscriptResult:
        return cls("failed", source)


class Provider(Protocol):
    """One telephony or voice-AI provider: how its audio reaches a client, and where its transcript is."""

    name: str
    # False when the transcript arrives with the call (ingest) and there is nothing to fetch.
    fetches_transcripts: bool
    # True when answers carry the audio's bytes (`audioData`), not a signed URL: our copies are too.
    inline_audio: bool

    async def audio(self, call: CallRef, recording: RecordingRef | None) -> FetchedAudio: ...

    async def transcript(self, call: CallRef, recording: RecordingRef | None) -> TranscriptResult | None:
        """None when this provider has no transcript to fetch (it arrived with the call)."""
        ...

    async def delete(self, call: CallRef, recording: RecordingRef | None) -> ProviderCopy:
        """Delete the provider's own copy of the recording, where its API allows."""
        ...


@runtime_checkable
class Downloadable(Protocol):
    """A provider that hosts recordings itself: `download` fetches its copy (never ours), for the archive
    job. `audio` serves our copy once there is one."""

    async def download(self, call: CallRef, recording: RecordingRef | None) -> FetchedAudio: ...

    async def after_archive(self, call: CallRef, recording: RecordingRef) -> ProviderCopy | None:
        """Once our copy is verified: delete the provider's, where the organisation asked for it (what
        became of it), else None."""
        ...


# What became of the provider's copy when a recording was deleted.
ProviderCopy = Literal["deleted", "already-gone", "none", "failed"]
