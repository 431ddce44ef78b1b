"""POST /api/calls/ingest: completed calls from external systems, authenticated with a user API key."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tether_relay.api.deps import IngestKeyHolder, IngestServiceDep
from tether_relay.api.errors import error_responses
from tether_relay.api.late_body import converted_body, documented_body
from tether_relay.api.types import E164, AsciiToken, Finite, JsonObject, Moment, StoredText
from tether_relay.calls.ingest_service import IngestCall
from tether_relay.transcripts.model import Utterance

router = APIRouter(tags=["Calls"])


Seconds = Annotated[Finite, Field(ge=0, description="Seconds from the start of the recording.")]


class TranscriptWord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    word: Annotated[StoredText, Field(min_length=1, max_length=1_000)]
    start: Seconds
    end: Seconds

    @model_validator(mode="after")
    def _ordered(self) -> TranscriptWord:
        if self.end < self.start:
            raise ValueError("a word's end is before its start")
        return self


class TranscriptItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["agent", "user"]
    message: Annotated[StoredText, Field(max_length=100_000)]
    timestamp: Seconds
    end: Seconds | None = Field(
        None, description="When the utterance ends; guessed from the next one if left out."
    )
    words: Annotated[list[TranscriptWord], Field(max_length=10_000)] | None = Field(
        None, description="The utterance's words with their times, which let redaction mute only them."
    )

    @model_validator(mode="after")
    def _within(self) -> TranscriptItem:
        if self.end is not None and self.end < self.timestamp:
            raise ValueError("an utterance's end is before its timestamp")
        last = self.end if self.end is not None else float("inf")
        if any(w.start < self.timestamp or w.end > last for w in self.words or []):
            raise ValueError("a word lies outside its utterance's timestamp and end")
        return self

    def utterance(self) -> Utterance:
        utterance: Utterance = {"role": self.role, "message": self.message, "timestamp": self.timestamp}
        if self.end is not None:
            utterance["end"] = self.end
        if self.words:
            utterance["words"] = [{"word": w.word, "start": w.start, "end": w.end} for w in self.words]
        return utterance


class IngestRequest(BaseModel):
    """Vendor-agnostic completed-call payload. `transcript`, `summary` and `recording` are required when
    `status` is `completed`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    direction: Literal["inbound", "outbound"]
    fromNumber: E164
    toNumber: E164
    duration: Annotated[Finite, Field(ge=0, le=7 * 24 * 3600, description="Seconds.")]
    status: Literal["completed", "no-answer", "busy", "failed"]
    transcript: Annotated[list[TranscriptItem], Field(max_length=20_000)] | None = Field(
        None, description="Structured transcript; plain text is not accepted."
    )
    summary: Annotated[StoredText, Field(min_length=1, max_length=100_000)] | None = None
    recording: Annotated[StoredText, Field(min_length=1)] | None = Field(
        None, description="Base64 MP3 (optionally with a `data:audio/...;base64,` prefix) or an https URL."
    )
    externalCallId: Annotated[AsciiToken, Field(min_length=1, max_length=128)] | None = Field(
        None, description="Your identifier of the call; a repeat returns the same callId (idempotency)."
    )
    agentName: Annotated[StoredText, Field(max_length=200)] | None = None
    metadata: JsonObject | None = Field(None, description="Arbitrary vendor metadata, stored with the call.")
    callerName: Annotated[StoredText, Field(max_length=200)] | None = None
    callStartTime: Moment | None = Field(
        None, description="ISO 8601 with a zone, 1970 to 2099; defaults to now."
    )

    @model_validator(mode="after")
    def _completed_calls_are_complete(self) -> IngestRequest:
        if self.status == "completed":
            missing = [name for name in ("transcript", "summary", "recording") if getattr(self, name) is None]
            if missing:
                raise ValueError(f"{', '.join(missing)} required when status is completed")
        return self

    def to_call(self) -> IngestCall:
        transcript: list[Utterance] | None = None
        if self.transcript is not None:
            transcript = [item.utterance() for item in self.transcript]
        return IngestCall(
            direction=self.direction,
            from_number=self.fromNumber,
            to_number=self.toNumber,
            duration=self.duration,
            status=self.status,
            transcript=transcript,
            summary=self.summary,
            recording=self.recording,
            external_call_id=self.externalCallId,
            agent_name=self.agentName,
            metadata=self.metadata,
            caller_name=self.callerName,
            start_time=self.callStartTime,
        )


class IngestResponse(BaseModel):
    success: Literal[True]
    callId: str
    deduplicated: bool


@router.post(
    "/api/calls/ingest",
    response_model=IngestResponse,
    summary="Ingest an externally completed call record",
    responses=error_responses(400, 401, 413, 429, 500),
    openapi_extra=documented_body(IngestRequest),
)
async def ingest_call(request: Request, holder: IngestKeyHolder, ingest: IngestServiceDep) -> IngestResponse:
    """Authenticated with a user API key (`tk_live_…`), not a JWT. Idempotent on `externalCallId`."""
    # The key was checked (and counted) by `holder` before a byte of the body was read.
    call = await converted_body(request, IngestRequest, IngestRequest.to_call)
    result = await ingest.ingest(holder, call)
    return IngestResponse(success=True, callId=result.call_id, deduplicated=result.deduplicated)
