"""Find a call's audio for the playback proxy: a stored object read by range (archived Twilio recordings
included), or the provider's stream (Twilio, not yet archived) sliced to the range. Either way bytes are
streamed, never held whole."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from tether_relay.calls.recording_service import RecordingService
from tether_relay.calls.redaction_service import RedactionService
from tether_relay.errors import RecordingNotFound
from tether_relay.playback.ranges import ByteRange
from tether_relay.providers.base import InlineAudio
from tether_relay.storage.base import ObjectStore, StorageError
from tether_relay.storage.buckets import Buckets


class Playback(Protocol):
    """One recording, ready to stream: its size (None if the provider did not say), type and ETag."""

    @property
    def size(self) -> int | None: ...

    @property
    def content_type(self) -> str: ...

    @property
    def etag(self) -> str: ...

    def body(self, byte_range: ByteRange | None) -> AsyncIterator[bytes]:
        """The bytes of `byte_range`, or all of them."""
        ...

    async def aclose(self) -> None:
        """Release what `body` would have read, if it is never read."""
        ...


@dataclass(frozen=True)
class StoredPlayback:
    store: ObjectStore
    key: str
    size: int
    content_type: str
    etag: str

    def body(self, byte_range: ByteRange | None) -> AsyncIterator[bytes]:
        start, end = (byte_range.start, byte_range.end) if byte_range else (0, self.size - 1)
        return self.store.read(self.key, start, end)

    async def aclose(self) -> None:
        """Nothing is open until `body` is read."""


@dataclass(frozen=True)
class StreamedPlayback:
    audio: InlineAudio
    size: int | None
    content_type: str
    etag: str

    async def body(self, byte_range: ByteRange | None) -> AsyncIterator[bytes]:
        # The provider sends the whole file; a range is cut out of it as it passes.
        position = 0
        async for chunk in self.audio.chunks:
            if byte_range is None:
                yield chunk
                continue
            start, end = position, position + len(chunk) - 1
            position += len(chunk)
            if end < byte_range.start:
                continue
            yield chunk[max(0, byte_range.start - start) : byte_range.end - start + 1]
            if end >= byte_range.end:
                break
        await self.audio.aclose()

    async def aclose(self) -> None:
        await self.audio.aclose()


class PlaybackService:
    def __init__(self, recordings: RecordingService, redactions: RedactionService, buckets: Buckets) -> None:
        self._recordings = recordings
        self._redactions = redactions
        self._buckets = buckets

    async def open(self, organization_id: str, call_id: str, redacted: bool = False) -> Playback:
        """The call's audio: the redacted copy for readers of redacted content in an organisation that
        redacts (calls/redaction_service.py decides), else the original."""
        call = await self._recordings.visible(organization_id, call_id)
        copy = await self._redactions.copy_for(call, redacted)
        if copy is not None:
            if copy.storage_bucket is None or copy.storage_key is None:
                raise RecordingNotFound()
            found = await _stored_or_none(
                self._buckets.get(copy.storage_bucket), copy.storage_key, copy.content_type
            )
            if found is None:
                raise RecordingNotFound()  # never the original in its place
            return found
        _, _, fetched = await self._recordings.original_audio(call)
        recording = fetched.recording
        if recording.storage_bucket is None or recording.storage_key is None:
            if isinstance(fetched.audio, InlineAudio):  # the provider's stream (Twilio, not archived)
                return StreamedPlayback(
                    fetched.audio, fetched.size_bytes, fetched.audio.media_type, f'"{recording.public_id}"'
                )
            raise RecordingNotFound()
        if isinstance(fetched.audio, InlineAudio):
            await fetched.audio.aclose()  # our copy (an archived recording) is read by range instead
        store = self._buckets.get(recording.storage_bucket)
        try:
            size = await store.size(recording.storage_key)
        except StorageError:
            raise RecordingNotFound() from None
        if size is None:
            raise RecordingNotFound()
        etag = f'"{recording.recording_id}-{size}"'
        return StoredPlayback(store, recording.storage_key, size, recording.content_type, etag)


async def _stored_or_none(store: ObjectStore, key: str, content_type: str | None) -> Playback | None:
    try:
        return await stored_object(store, key, content_type or "audio/mpeg")
    except StorageError:
        return None


async def stored_object(store: ObjectStore, key: str, content_type: str) -> Playback | None:
    """An object of a bucket as a Playback (the local store's signed URLs), or None if there is none."""
    size = await store.size(key)
    if size is None:
        return None
    etag = f'"{hashlib.sha256(key.encode()).hexdigest()[:16]}-{size}"'
    return StoredPlayback(store, key, size, content_type, etag)
