"""ElevenLabs' JSON as sent (the fields we read). `time_in_call_secs` is an int offset per turn, with no
end time; `message` is null on tool-call turns."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TranscriptTurn(_Payload):
    role: str
    message: str | None = None
    time_in_call_secs: float | None = None


class PhoneCall(_Payload):
    type: str | None = None
    direction: Literal["inbound", "outbound"] | None = None
    agent_number: str | None = None
    external_number: str | None = None
    call_sid: str | None = None


class Metadata(_Payload):
    start_time_unix_secs: int | None = None
    call_duration_secs: float | None = None
    phone_call: PhoneCall | None = None


class Analysis(_Payload):
    transcript_summary: str | None = None


class Conversation(_Payload):
    """`GetConversationResponseModel`; also the `data` of a `post_call_transcription` webhook."""

    conversation_id: str
    agent_id: str | None = None
    status: str | None = None  # initiated | in-progress | processing | done | failed
    transcript: list[TranscriptTurn] = []
    metadata: Metadata | None = None
    analysis: Analysis | None = None
    has_audio: bool | None = None
