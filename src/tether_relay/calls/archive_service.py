"""Every recording in our storage: a job copies a provider-hosted recording (Twilio's) into the recordings
bucket, checks it, and records it on the recording row. From then on the recording is read, played and
deleted from our copy; the provider's copy no longer matters to a read.

Idempotent: a recording that is archived, deleted or gone is left alone. The row is written under the
repository's deletion guard; if the recording was deleted while the copy was made, the copy goes too."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.calls.repository import CallRepository
from tether_relay.errors import RecordingNotFound
from tether_relay.jobs.handlers import Permanent
from tether_relay.jobs.queue import Job
from tether_relay.providers.audio import SNIFF_BYTES, sniff
from tether_relay.providers.base import CallRef, Downloadable, InlineAudio, RecordingRef
from tether_relay.providers.registry import ProviderRegistry
from tether_relay.storage.base import StorageError
from tether_relay.storage.buckets import RECORDINGS, Buckets, recording_key

log = logging.getLogger("tether_relay.archive")

ARCHIVE_RECORDING = "archive-recording"
_EXTENSIONS = {"audio/mpeg": "mp3", "audio/wav": "wav", "audio/ogg": "ogg", "audio/mp4": "m4a"}


def archive_job(call_id: str, recording_id: str) -> Job:
    return Job(
        ARCHIVE_RECORDING,
        {"callId": call_id, "recordingId": recording_id},
        dedupe_key=f"{ARCHIVE_RECORDING}:{recording_id}",
    )


class ArchiveNotVerified(Exception):
    """The stored copy is not the bytes that were downloaded: the job is retried."""


class ArchiveService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        providers: ProviderRegistry,
        buckets: Buckets,
        max_bytes: int,
    ) -> None:
        self._sessions = sessions
        self._providers = providers
        self._buckets = buckets
        self._max_bytes = max_bytes

    async def archive(self, payload: dict[str, str]) -> None:
        call_id, recording_id = payload["callId"], payload["recordingId"]
        async with self._sessions() as session:
            calls = CallRepository(session)
            call = await calls.get(call_id)
            recordings = await calls.recordings_of(call_id) if call is not None else []
        recording = next((r for r in recordings if r.id == recording_id), None)
        if call is None or call.recording_deleted_at is not None or recording is None:
            return  # deleted since it was asked for: nothing to keep
        provider = self._providers.get(call.provider)
        if not isinstance(provider, Downloadable):
            raise Permanent(f"{call.provider} recordings are not downloaded")
        ref = CallRef(call.id, call.organization_id, call.provider, call.provider_call_id, call.direction)
        if recording.storage_bucket is not None and recording.storage_key is not None:
            # Archived by an earlier run, which may have failed after it: the provider's copy is dealt
            # with again (deleting it twice is harmless), if ours is still whole.
            store = self._buckets.get(recording.storage_bucket)
            if await store.size(recording.storage_key) == recording.size_bytes:
                await provider.after_archive(ref, recording.ref())
            return
        try:
            fetched = await provider.download(ref, recording.ref())
        except RecordingNotFound:
            raise Permanent("the provider has no such recording") from None
        data = await self._collect(fetched.audio)
        media_type = sniff(data[:SNIFF_BYTES])
        if media_type is None:
            raise Permanent("the provider's media is not audio")
        key = recording_key(call.organization_id, call.id, recording.id, _EXTENSIONS.get(media_type, "bin"))
        store = self._buckets.get(RECORDINGS)
        await store.put(key, data, media_type)
        if await store.get(key) != data:  # read back whole: the provider's copy may be deleted on this
            raise ArchiveNotVerified()
        async with self._sessions.begin() as session:
            saved = await CallRepository(session).update_recording(
                call.id,
                recording.id,
                storage_bucket=RECORDINGS,
                storage_key=key,
                content_type=media_type,
                size_bytes=len(data),
            )
        if not saved:  # deleted while the copy was made: the copy goes too
            try:
                await store.delete(key)
            except StorageError:
                log.warning("archive of a deleted recording not removed; the storage sweep will")
            return
        stored = RecordingRef(
            recording.id, RECORDINGS, key, recording.provider_recording_id, media_type, recording.duration
        )
        provider_copy = await provider.after_archive(ref, stored)
        log.info(
            "recording archived",
            extra={"provider": call.provider, "bytes": len(data), "provider_copy": provider_copy or "kept"},
        )

    async def _collect(self, audio: object) -> bytes:
        if not isinstance(audio, InlineAudio):
            raise Permanent("only streamed audio is archived")
        parts, size = [], 0
        try:
            async for chunk in audio.chunks:
                size += len(chunk)
                if size > self._max_bytes:
                    raise Permanent("the recording is larger than TETHER_PROVIDER_MAX_RESPONSE_BYTES")
                parts.append(chunk)
        finally:
            await audio.aclose()
        return b"".join(parts)
