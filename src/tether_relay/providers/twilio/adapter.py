"""Twilio → our dataclasses: audio as a data URI, from our archive once the archive job copied it there
(calls/archive_service.py), else fetched from Twilio server-side; transcripts from Voice Intelligence
(when the organisation has a service SID) or else from the legacy Transcriptions of the recording."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tether_relay.errors import RecordingNotFound, RecordingNotReady
from tether_relay.ids import new_recording_id
from tether_relay.organizations.credentials import CredentialStore, TwilioCredentials
from tether_relay.providers.audio import SNIFF_BYTES, is_mp3
from tether_relay.providers.base import (
    CallRef,
    FetchedAudio,
    InlineAudio,
    ProviderCopy,
    RecordingRef,
    TranscriptResult,
)
from tether_relay.providers.errors import RecordingFetchFailed, TwilioCredentialsMissing
from tether_relay.providers.stored import StoredAudio
from tether_relay.providers.twilio import payloads
from tether_relay.providers.twilio.client import TwilioClient
from tether_relay.providers.twilio.payloads import is_sid
from tether_relay.transcripts.alignment import with_ends
from tether_relay.transcripts.model import Role, Utterance, Word, to_text

INTELLIGENCE = "twilio-intelligence"
LEGACY = "twilio-transcriptions"
_PENDING_INTELLIGENCE = {"queued", "in-progress", "new"}
_PENDING_LEGACY = {"in-progress"}
# Recording statuses before the audio is final (absent, deleted and failed never will be).
RECORDING_PROCESSING = frozenset({"in-progress", "paused", "stopped", "processing"})


class TwilioProvider:
    name = "twilio"
    fetches_transcripts = True
    inline_audio = True  # the contract answers Twilio audio as a data: URI, never a URL to Twilio

    def __init__(self, client: TwilioClient, credentials: CredentialStore, stored: StoredAudio) -> None:
        self._client = client
        self._credentials = credentials
        self._stored = stored

    async def _creds(self, organization_id: str) -> TwilioCredentials:
        creds = await self._credentials.twilio(organization_id)
        if creds is None:
            raise TwilioCredentialsMissing()
        return creds

    async def audio(self, call: CallRef, recording: RecordingRef | None) -> FetchedAudio:
        if self._stored.has(recording):
            archived = await self._stored.stream(recording)
            if archived is not None:
                return archived
            # Our copy is missing (an operator's mistake): Twilio's, if it still has one.
        return await self.download(call, recording)

    async def download(self, call: CallRef, recording: RecordingRef | None) -> FetchedAudio:
        """Twilio's copy, streamed from Twilio."""
        creds = await self._creds(call.organization_id)
        ref, found = recording, None
        if ref is not None and ref.storage_key is not None:  # what Twilio has, not our copy
            ref = RecordingRef(
                ref.recording_id, None, None, ref.provider_recording_id, ref.content_type, ref.duration
            )
        if ref is None or not is_sid("RE", ref.provider_recording_id):
            found = await self._completed_recording(creds, call)  # the recording webhook was lost
        elif ref.duration is None:
            found = await self._client.recording(creds, ref.provider_recording_id or "")
            if found is not None and found.status in RECORDING_PROCESSING:
                raise RecordingNotReady()
            if found is None or found.status != "completed":
                raise RecordingNotFound()
        if found is not None:
            ref = _ref_for(found, ref)
        assert ref is not None and ref.provider_recording_id is not None
        body = await self._client.media(creds, ref.provider_recording_id)
        if body is None:
            raise RecordingNotFound()
        if not is_mp3(body.first_bytes(SNIFF_BYTES)):  # a 200 with an error page is a failed fetch
            await body.aclose()
            raise RecordingFetchFailed(self.name, 200, "the media body is not audio")
        return FetchedAudio(
            InlineAudio("audio/mpeg", body.chunks(), body.aclose),
            ref,
            discovered=found is not None,
            channels=found.channels if found else None,
            size_bytes=body.size,
        )

    async def _completed_recording(self, creds: TwilioCredentials, call: CallRef) -> payloads.Recording:
        """The Call knows no RecordingSid (its webhook was lost): ask Twilio for the call's recordings."""
        if not is_sid("CA", call.provider_call_id):
            raise RecordingNotFound()
        recordings = await self._client.call_recordings(creds, call.provider_call_id)
        completed = [r for r in recordings if r.status == "completed" and is_sid("RE", r.sid)]
        if not completed:
            if any(r.status in RECORDING_PROCESSING for r in recordings):
                raise RecordingNotReady()
            raise RecordingNotFound()
        return max(completed, key=_created)  # the newest, whatever order the page came in

    async def delete(self, call: CallRef, recording: RecordingRef | None) -> ProviderCopy:
        """Twilio's Recording (the call's recordings, if we never learnt its RecordingSid)."""
        creds = await self._credentials.twilio(call.organization_id)
        if creds is None:
            return "failed"  # Twilio keeps it, and we cannot ask it not to
        sid = recording.provider_recording_id if recording else None
        if is_sid("RE", sid):
            assert sid is not None
            return await self._client.delete_recording(creds, sid)
        if not is_sid("CA", call.provider_call_id):
            return "none"
        found = [
            r.sid
            for r in await self._client.call_recordings(creds, call.provider_call_id)
            if is_sid("RE", r.sid)
        ]
        outcomes = {await self._client.delete_recording(creds, s) for s in found}
        return "deleted" if "deleted" in outcomes else "already-gone"

    async def after_archive(self, call: CallRef, recording: RecordingRef) -> ProviderCopy | None:
        creds = await self._credentials.twilio(call.organization_id)
        if (
            creds is None
            or not creds.delete_after_archive
            or not is_sid("RE", recording.provider_recording_id)
        ):
            return None
        return await self._client.delete_recording(creds, recording.provider_recording_id or "")

    async def transcript(self, call: CallRef, recording: RecordingRef | None) -> TranscriptResult:
        creds = await self._credentials.twilio(call.organization_id)
        if creds is None:
            return TranscriptResult.failed(LEGACY)  # credentials may come; the transcript is still there
        sid = recording.provider_recording_id if recording else None
        if not is_sid("RE", sid):
            return TranscriptResult.pending(LEGACY)
        assert sid is not None
        if creds.service_sid:
            return await self._intelligence(creds, creds.service_sid, sid, call.direction)
        return await self._legacy(creds, sid)

    async def _intelligence(
        self, creds: TwilioCredentials, service_sid: str, recording_sid: str, direction: str | None
    ) -> TranscriptResult:
        transcripts = await self._client.intelligence_transcripts(creds, service_sid, recording_sid)
        if not transcripts:
            return TranscriptResult.pending(INTELLIGENCE)  # not created yet, or still being created
        transcript = transcripts[0]  # one Transcript per RecordingSid
        if transcript.status in _PENDING_INTELLIGENCE:
            return TranscriptResult.pending(INTELLIGENCE)
        if transcript.status != "completed":
            return TranscriptResult.unavailable(INTELLIGENCE)
        sentences = [s async for s in self._client.sentences(creds, transcript.sid)]
        utterances = sentences_to_utterances(sentences, direction)
        return TranscriptResult("ready", INTELLIGENCE, utterances, to_text(utterances))

    async def _legacy(self, creds: TwilioCredentials, recording_sid: str) -> TranscriptResult:
        transcriptions = await self._client.transcriptions(creds, recording_sid)
        done = [t for t in transcriptions if t.status == "completed" and t.transcription_text]
        if done:
            # Legacy transcriptions are text only: no speakers, no times.
            return TranscriptResult("ready", LEGACY, None, done[0].transcription_text)
        if not transcriptions or any(t.status in _PENDING_LEGACY for t in transcriptions):
            return TranscriptResult.pending(LEGACY)
        return TranscriptResult.unavailable(LEGACY)


def _ref_for(found: payloads.Recording, known: RecordingRef | None) -> RecordingRef:
    return RecordingRef(
        recording_id=known.recording_id if known else new_recording_id(),
        storage_bucket=None,
        storage_key=None,
        provider_recording_id=found.sid,
        content_type="audio/mpeg",
        duration=_seconds(found.duration),
    )


def _created(recording: payloads.Recording) -> datetime:
    try:
        return parsedate_to_datetime(recording.date_created or "")
    except (TypeError, ValueError):
        return datetime.min.replace(tzinfo=UTC)


def _seconds(value: float | str | None) -> float | None:
    """Twilio sends durations and times as numbers or numeric strings; anything else is unknown."""
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def sentences_to_utterances(sentences: list[payloads.Sentence], direction: str | None) -> list[Utterance]:
    """Channel 1 is the parent call leg: the caller on an inbound call, our agent on an outbound one."""
    first: Role = "agent" if direction == "outbound" else "user"
    second: Role = "user" if direction == "outbound" else "agent"
    ordered = sorted(sentences, key=lambda s: (s.sentence_index is None, s.sentence_index or 0))
    utterances: list[Utterance] = []
    for sentence in ordered:
        if not sentence.transcript:
            continue
        utterance: Utterance = {
            "role": first if sentence.media_channel == 1 else second,
            "message": sentence.transcript,
            "timestamp": _seconds(sentence.start_time) or 0.0,
        }
        end = _seconds(sentence.end_time)
        if end is not None:
            utterance["end"] = end
        if (words := _words(sentence.words or [])) is not None:
            utterance["words"] = words
        if sentence.media_channel is not None:
            utterance["channel"] = sentence.media_channel
        utterances.append(utterance)
    return with_ends(utterances, None)


def _words(words: list[payloads.SentenceWord]) -> list[Word] | None:
    """The sentence's timed words, or None when there are none or any lacks its text or times (the
    sentence is then handled as a whole: redaction mutes all of it rather than guess)."""
    timed: list[Word] = []
    for word in words:
        start, end = _seconds(word.start_time), _seconds(word.end_time)
        if not word.word or start is None or end is None or not 0 <= start <= end:
            return None
        timed.append({"word": word.word, "start": start, "end": end})
    return timed or None
