"""Sinch → our dataclasses: audio signed from the S3 bucket Sinch records into; the transcript read from
the JSON file Sinch writes beside it."""

from __future__ import annotations

import json

from tether_relay.providers.base import CallRef, FetchedAudio, ProviderCopy, RecordingRef, TranscriptResult
from tether_relay.providers.sinch import transcript
from tether_relay.providers.stored import StoredAudio
from tether_relay.storage.base import StorageError

SOURCE = "sinch"


def transcript_key_for(recording_key: str) -> str:
    """Where Sinch puts a recording's transcript when no notify told us: `<name>-transcript.json`."""
    stem = recording_key.rsplit(".", 1)[0]
    return f"{stem}-transcript.json"


class SinchProvider:
    name = "sinch"
    fetches_transcripts = True
    inline_audio = False

    def __init__(self, stored: StoredAudio) -> None:
        self._stored = stored

    async def audio(self, call: CallRef, recording: RecordingRef | None) -> FetchedAudio:
        return self._stored.sign(recording)

    async def delete(self, call: CallRef, recording: RecordingRef | None) -> ProviderCopy:
        return "none"  # Sinch writes recordings only to the bucket we were given: our stored copy

    async def transcript(self, call: CallRef, recording: RecordingRef | None) -> TranscriptResult:
        if recording is None or recording.storage_bucket is None or recording.storage_key is None:
            return TranscriptResult.pending(SOURCE)
        key = recording.transcript_key or transcript_key_for(recording.storage_key)
        try:
            raw = await self._stored.buckets.get(recording.storage_bucket).get(key)
        except StorageError:
            return TranscriptResult.pending(SOURCE)
        if raw is None:
            return TranscriptResult.pending(SOURCE)  # transcription_available has not happened yet
        try:
            document = json.loads(raw)
        except ValueError:
            return TranscriptResult.failed(SOURCE)  # not a valid answer: never cached as final
        data, text = transcript.parse(document)
        if data is None and text is None:
            return TranscriptResult.failed(SOURCE)
        return TranscriptResult("ready", SOURCE, data, text)
