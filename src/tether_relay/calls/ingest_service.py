"""POST /api/calls/ingest: a completed call from an external system becomes an `external` call with its
audio in R2 and its transcript cached. Idempotent on `externalCallId`, also when two requests race."""

from __future__ import annotations

import asyncio
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pybase64
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.apikeys.service import KeyHolder
from tether_relay.calls.announcements import announce
from tether_relay.calls.models import Call
from tether_relay.calls.repository import CallRepository, NewRecording
from tether_relay.db import utcnow
from tether_relay.errors import ValidationFailed
from tether_relay.ids import new_call_id, new_recording_id
from tether_relay.providers.audio import SNIFF_BYTES, is_mp3
from tether_relay.providers.download import SafeDownloader
from tether_relay.storage.buckets import RECORDINGS, Buckets, recording_key
from tether_relay.transcripts.alignment import with_ends
from tether_relay.transcripts.model import UnrenderableTranscript, Utterance, checked, to_text

PROVIDER = "external"
_DATA_URI = re.compile(r"^data:audio/[\w.+-]+;base64,", re.IGNORECASE)
_EXTENSIONS = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/ogg": "ogg",
    "audio/webm": "webm",
    "audio/mp4": "m4a",
}


@dataclass(frozen=True, slots=True)
class IngestCall:
    direction: str
    from_number: str
    to_number: str
    duration: float
    status: str
    transcript: list[Utterance] | None
    summary: str | None
    recording: str | None
    external_call_id: str | None
    agent_name: str | None
    metadata: dict[str, Any] | None
    caller_name: str | None
    start_time: datetime | None


@dataclass(frozen=True, slots=True)
class IngestResult:
    call_id: str
    deduplicated: bool


@dataclass(frozen=True, slots=True)
class Audio:
    content: bytes
    content_type: str


class IngestService:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], buckets: Buckets, downloader: SafeDownloader
    ) -> None:
        self._sessions = sessions
        self._buckets = buckets
        self._downloader = downloader

    async def ingest(self, holder: KeyHolder, data: IngestCall) -> IngestResult:
        if data.external_call_id and (existing := await self._existing(holder, data.external_call_id)):
            return IngestResult(existing, deduplicated=True)
        audio = await self._audio(data.recording) if data.recording else None
        call_id, recording_id = new_call_id(), new_recording_id()
        key = None
        if audio is not None:
            key = recording_key(
                holder.organization_id, call_id, recording_id, _EXTENSIONS.get(audio.content_type, "mp3")
            )
            await self._buckets.get(RECORDINGS).put(key, audio.content, audio.content_type)
        try:
            await self._insert(holder, data, call_id, recording_id, key, audio)
        except IntegrityError:
            # The same externalCallId won a race with us: keep its call, drop our copy of the audio.
            if key is not None:
                await self._buckets.get(RECORDINGS).delete(key)
            existing = await self._existing(holder, data.external_call_id or "")
            if existing is None:
                raise
            return IngestResult(existing, deduplicated=True)
        except Exception:
            if key is not None:
                await self._discard_unreferenced(call_id, key)
            raise
        return IngestResult(call_id, deduplicated=False)

    async def _discard_unreferenced(self, call_id: str, key: str) -> None:
        """After any other failure of the insert, the audio goes unless the row made it after all (a commit
        can fail after taking effect); if that cannot be told, the storage sweep has the object."""
        try:
            async with self._sessions() as session:
                committed = await CallRepository(session).get(call_id) is not None
            if not committed:
                await self._buckets.get(RECORDINGS).delete(key)
        except Exception:  # noqa: BLE001, S110 - the insert's own failure is the one to report
            pass

    async def _existing(self, holder: KeyHolder, external_call_id: str) -> str | None:
        async with self._sessions() as session:
            call = await CallRepository(session).find_by_provider_id(
                holder.organization_id, PROVIDER, external_call_id
            )
        return call.id if call else None

    async def _audio(self, recording: str) -> Audio:
        if recording.startswith(("https://", "http://")):
            downloaded = await self._downloader.fetch(recording)
            return Audio(downloaded.content, downloaded.content_type)
        return Audio(decode_mp3(recording), "audio/mpeg")

    async def _insert(
        self,
        holder: KeyHolder,
        data: IngestCall,
        call_id: str,
        recording_id: str,
        key: str | None,
        audio: Audio | None,
    ) -> None:
        now = utcnow()
        start = data.start_time or now
        metadata = {k: v for k, v in {"metadata": data.metadata, "callerName": data.caller_name}.items() if v}
        call = Call(
            id=call_id,
            organization_id=holder.organization_id,
            user_id=holder.user_id,
            provider=PROVIDER,
            provider_call_id=data.external_call_id or call_id,
            direction=data.direction,
            status=data.status,
            from_number=data.from_number,
            to_number=data.to_number,
            start_time=start,
            end_time=start + timedelta(seconds=data.duration),
            duration=data.duration,
            summary=data.summary,
            agent_name=data.agent_name,
            provider_metadata=metadata or None,
        )
        if data.transcript is not None:
            call.transcription_data, call.transcription_text = await _transcript(
                with_ends(data.transcript, data.duration)
            )
            call.transcription_source, call.transcription_status = "ingest", "ready"
            call.transcription_fetched_at = now
        async with self._sessions.begin() as session:
            calls = CallRepository(session)
            await calls.add(call)
            if audio is not None:
                recording = NewRecording(
                    id=recording_id,
                    storage_bucket=RECORDINGS,
                    storage_key=key,
                    content_type=audio.content_type,
                    size_bytes=len(audio.content),
                    duration=data.duration,
                )
                await calls.attach_recording(call_id, recording)
            await announce(session, call_id)


# Checking and joining more utterances than this holds the event loop for milliseconds: a thread does it.
_OFF_LOOP_UTTERANCES = 1000


async def _transcript(utterances: list[Utterance]) -> tuple[Any, str]:
    """(transcriptionData, transcriptionText) of an ingested transcript, or a 400 if it cannot be stored."""

    def columns() -> tuple[Any, str]:
        try:
            return checked(list(utterances)), to_text(utterances)
        except UnrenderableTranscript as exc:
            raise ValidationFailed.of("transcript", f"transcript cannot be stored: {exc}") from None

    if len(utterances) > _OFF_LOOP_UTTERANCES:
        return await asyncio.to_thread(columns)
    return columns()


def decode_mp3(value: str) -> bytes:
    """Base64 MP3, with or without a `data:audio/…;base64,` prefix."""
    payload = _DATA_URI.sub("", value.strip(), count=1)
    try:
        audio = pybase64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed.of("recording", "recording is neither an https URL nor valid base64") from None
    if not is_mp3(audio[:SNIFF_BYTES]):
        raise ValidationFailed.of("recording", "recording is not an MP3 (no ID3 tag or MPEG frame header)")
    return audio
