"""Recordings that sit in one of our buckets: the answer is a short-lived signed URL. Sinch, ElevenLabs
and external calls all serve their audio this way; external calls bring their transcript with them."""

from __future__ import annotations

from tether_relay.errors import RecordingNotFound, RecordingSigningFailed
from tether_relay.providers.base import (
    CallRef,
    FetchedAudio,
    InlineAudio,
    ProviderCopy,
    RecordingRef,
    SignedAudio,
    TranscriptResult,
)
from tether_relay.storage.base import StorageError
from tether_relay.storage.buckets import Buckets


class StoredAudio:
    def __init__(self, buckets: Buckets, ttl_seconds: int) -> None:
        self.buckets = buckets
        self._ttl = ttl_seconds

    def has(self, recording: RecordingRef | None) -> bool:
        return (
            recording is not None
            and recording.storage_bucket is not None
            and recording.storage_key is not None
        )

    def sign(self, recording: RecordingRef | None) -> FetchedAudio:
        if recording is None or recording.storage_bucket is None or recording.storage_key is None:
            raise RecordingNotFound()
        try:
            url = self.buckets.get(recording.storage_bucket).signed_url(recording.storage_key, self._ttl)
        except Exception as exc:  # any signing failure is a 500 with no internals
            raise RecordingSigningFailed() from exc
        return FetchedAudio(SignedAudio(url), recording)

    async def stream(self, recording: RecordingRef | None) -> FetchedAudio | None:
        """The stored object as streamed audio (for answers that carry the bytes, Twilio's data URI), or
        None when there is no such object. Nothing is read until the chunks are."""
        if recording is None or recording.storage_bucket is None or recording.storage_key is None:
            return None
        store = self.buckets.get(recording.storage_bucket)
        try:
            size = await store.size(recording.storage_key)
        except StorageError:
            return None
        if size is None:
            return None
        chunks = store.read(recording.storage_key, 0, size - 1)
        audio = InlineAudio(recording.content_type, chunks, chunks.aclose)  # type: ignore[attr-defined]
        return FetchedAudio(audio, recording, size_bytes=size)


class ExternalProvider:
    """Calls ingested through POST /api/calls/ingest: audio in R2, transcript from the ingest payload."""

    name = "external"
    fetches_transcripts = False
    inline_audio = False

    def __init__(self, stored: StoredAudio) -> None:
        self._stored = stored

    async def audio(self, call: CallRef, recording: RecordingRef | None) -> FetchedAudio:
        return self._stored.sign(recording)

    async def transcript(self, call: CallRef, recording: RecordingRef | None) -> TranscriptResult | None:
        return None

    async def delete(self, call: CallRef, recording: RecordingRef | None) -> ProviderCopy:
        return "none"  # the client sent us the audio; ours is the only copy we know of
