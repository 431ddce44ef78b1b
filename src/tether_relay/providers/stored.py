"""Recordings that sit in one of our buckets (Sinch → S3; ElevenLabs and external → R2): sign a URL."""

from __future__ import annotations

from tether_relay.calls.errors import RecordingNotFound, RecordingSigningFailed
from tether_relay.providers.base import RecordingRef, SignedAudio
from tether_relay.storage.buckets import Buckets


class StoredAudio:
    def __init__(self, buckets: Buckets, ttl_seconds: int) -> None:
        self._buckets = buckets
        self._ttl = ttl_seconds

    async def audio(self, recording: RecordingRef) -> SignedAudio:
        if recording.storage_bucket is None or recording.storage_key is None:
            raise RecordingNotFound()
        try:
            store = self._buckets.get(recording.storage_bucket)
            return SignedAudio(store.signed_url(recording.storage_key, self._ttl))
        except Exception as exc:  # any signing failure is a 500 with no internals
            raise RecordingSigningFailed() from exc
