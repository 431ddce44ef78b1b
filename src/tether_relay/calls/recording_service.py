"""GET /api/calls/{callId}/recording: find the caller's call, get its audio, attach the transcript."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tether_relay.auth.principal import Principal
from tether_relay.calls.errors import CallNotFound, RecordingNotFound
from tether_relay.calls.models import Call, Recording
from tether_relay.calls.repository import CallRepository
from tether_relay.providers.base import AudioSource, RecordingRef
from tether_relay.providers.registry import ProviderRegistry
from tether_relay.transcripts.model import text_of


@dataclass(frozen=True, slots=True)
class RecordingPayload:
    audio: AudioSource
    recording_id: str
    duration: float | None
    direction: str | None
    from_number: str | None
    to_number: str | None
    transcription_text: str | None
    transcription_data: Any | None


class RecordingService:
    def __init__(self, calls: CallRepository, providers: ProviderRegistry) -> None:
        self._calls = calls
        self._providers = providers

    async def for_call(self, principal: Principal, call_id: str) -> RecordingPayload:
        call = await self._calls.get_visible_to(principal, call_id)
        if call is None:
            raise CallNotFound()
        audio_provider = self._providers.audio_for(call.provider)
        recording = _latest(call)
        audio = await audio_provider.audio(_ref(call, recording))
        return RecordingPayload(
            audio=audio,
            recording_id=recording.public_id,
            duration=recording.duration if recording.duration is not None else call.duration,
            direction=call.direction,
            from_number=call.from_number,
            to_number=call.to_number,
            transcription_text=call.transcription_text or text_of(call.transcription_data),
            transcription_data=call.transcription_data,
        )


def _latest(call: Call) -> Recording:
    if not call.recordings:
        raise RecordingNotFound()
    return call.recordings[-1]


def _ref(call: Call, recording: Recording) -> RecordingRef:
    return RecordingRef(
        organization_id=call.organization_id,
        provider=call.provider,
        provider_call_id=call.provider_call_id,
        storage_bucket=recording.storage_bucket,
        storage_key=recording.storage_key,
        provider_recording_id=recording.provider_recording_id,
        content_type=recording.content_type,
    )
