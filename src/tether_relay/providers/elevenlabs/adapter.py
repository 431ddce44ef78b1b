"""ElevenLabs → our dataclasses. Audio normally arrives by webhook into R2; if that webhook was lost it
is fetched from the conversation once, stored in R2, and signed like any other stored recording."""

from __future__ import annotations

from datetime import UTC, datetime

from tether_relay.db import LATEST
from tether_relay.errors import RecordingNotFound, RecordingNotReady
from tether_relay.ids import new_recording_id
from tether_relay.organizations.credentials import CredentialStore
from tether_relay.providers.audio import SNIFF_BYTES, is_mp3
from tether_relay.providers.base import (
    CallDetails,
    CallRef,
    FetchedAudio,
    ProviderCopy,
    RecordingRef,
    TranscriptResult,
)
from tether_relay.providers.elevenlabs.client import ElevenLabsClient, is_conversation_id
from tether_relay.providers.elevenlabs.payloads import Conversation
from tether_relay.providers.errors import ElevenLabsCredentialsMissing, RecordingFetchFailed
from tether_relay.providers.stored import StoredAudio
from tether_relay.storage.buckets import RECORDINGS, recording_key
from tether_relay.transcripts.alignment import with_ends
from tether_relay.transcripts.model import Utterance, to_text

SOURCE = "elevenlabs"
MAX_CALL_SECONDS = 7 * 24 * 3600
# Conversation statuses before its audio and transcript are final.
_PENDING = {"initiated", "in-progress", "processing"}


class ElevenLabsProvider:
    name = "elevenlabs"
    fetches_transcripts = True
    inline_audio = False

    def __init__(self, client: ElevenLabsClient, credentials: CredentialStore, stored: StoredAudio) -> None:
        self._client = client
        self._credentials = credentials
        self._stored = stored

    async def _api_key(self, organization_id: str) -> str | None:
        creds = await self._credentials.elevenlabs(organization_id)
        return creds.api_key if creds else None

    async def audio(self, call: CallRef, recording: RecordingRef | None) -> FetchedAudio:
        if self._stored.has(recording):
            return self._stored.sign(recording)
        api_key = await self._api_key(call.organization_id)
        if api_key is None:
            raise ElevenLabsCredentialsMissing()
        if not is_conversation_id(call.provider_call_id):
            raise RecordingNotFound()
        audio = await self._client.audio(api_key, call.provider_call_id)
        if not audio:
            conversation = await self._client.conversation(api_key, call.provider_call_id)
            if conversation is not None and conversation.status in _PENDING:
                raise RecordingNotReady()
            raise RecordingNotFound()
        if not is_mp3(audio[:SNIFF_BYTES]):  # stored only if it is audio: an error page is a failure
            raise RecordingFetchFailed(self.name, 200, "the audio body is not audio")
        recording_id = recording.recording_id if recording else new_recording_id()
        key = recording_key(call.organization_id, call.call_id, recording_id, "mp3")
        await self._stored.buckets.get(RECORDINGS).put(key, audio, "audio/mpeg")
        ref = RecordingRef(
            recording_id, RECORDINGS, key, None, "audio/mpeg", recording.duration if recording else None
        )
        signed = self._stored.sign(ref)
        return FetchedAudio(signed.audio, ref, discovered=True, size_bytes=len(audio))

    async def delete(self, call: CallRef, recording: RecordingRef | None) -> ProviderCopy:
        api_key = await self._api_key(call.organization_id)
        if api_key is None or not is_conversation_id(call.provider_call_id):
            return "failed" if api_key is None else "none"
        return await self._client.delete_conversation(api_key, call.provider_call_id)

    async def transcript(self, call: CallRef, recording: RecordingRef | None) -> TranscriptResult:
        if not is_conversation_id(call.provider_call_id):
            return TranscriptResult.unavailable(SOURCE)
        api_key = await self._api_key(call.organization_id)
        if api_key is None:  # the webhook may still bring it, or the key be configured: not final
            return TranscriptResult.failed(SOURCE)
        conversation = await self._client.conversation(api_key, call.provider_call_id)
        if conversation is None:
            return TranscriptResult.unavailable(SOURCE)
        return conversation_transcript(conversation)


def conversation_transcript(conversation: Conversation) -> TranscriptResult:
    """A conversation (from the API or a `post_call_transcription` webhook) as our transcript."""
    if conversation.status in _PENDING:
        return TranscriptResult.pending(SOURCE)
    if conversation.status == "failed":
        return TranscriptResult.unavailable(SOURCE)
    utterances: list[Utterance] = [
        {
            "role": "agent" if turn.role == "agent" else "user",
            "message": turn.message,
            "timestamp": float(turn.time_in_call_secs or 0),
        }
        for turn in conversation.transcript
        if turn.message  # tool-call turns carry no words
    ]
    duration = conversation.metadata.call_duration_secs if conversation.metadata else None
    # Turns start on whole seconds: a turn may run up to a second into the next one's.
    utterances = with_ends(utterances, duration, resolution=1.0)
    return TranscriptResult("ready", SOURCE, utterances, to_text(utterances), call_details(conversation))


def call_details(conversation: Conversation) -> CallDetails | None:
    metadata = conversation.metadata
    if metadata is None:
        return None
    phone = metadata.phone_call
    from_number = to_number = direction = None
    if phone is not None:
        direction = phone.direction
        # Inbound: the external party called our agent's number; outbound: the reverse.
        if phone.direction == "outbound":
            from_number, to_number = phone.agent_number, phone.external_number
        else:
            from_number, to_number = phone.external_number, phone.agent_number
    return CallDetails(
        from_number,
        to_number,
        direction,
        _seconds(metadata.call_duration_secs),
        _moment(metadata.start_time_unix_secs),
    )


def _moment(unix_seconds: int | None) -> datetime | None:
    """A start time we can store (1970..2099), else unknown: the provider's value is not ours to fail on."""
    if unix_seconds is None or not 0 <= unix_seconds < LATEST.timestamp():
        return None
    return datetime.fromtimestamp(unix_seconds, UTC)


def _seconds(duration: float | None) -> float | None:
    return duration if duration is not None and 0 <= duration <= MAX_CALL_SECONDS else None
