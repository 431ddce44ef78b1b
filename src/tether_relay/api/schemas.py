"""Response models of the recording contract (../shared/contract/recording.openapi.yaml).

They document the API; the hot route renders its answer through `render_recording` instead of validating
through these models on every request. tests/integration/test_openapi_contract.py holds the two together.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from tether_relay.api.streamed_json import json_with_data_uri
from tether_relay.calls.deletion_service import Receipt
from tether_relay.calls.recording_service import RecordingPayload
from tether_relay.providers.base import InlineAudio


class CallsRecordingResponse(BaseModel):
    """Shape depends on provider. Twilio returns base64 `audioData`; Sinch / ElevenLabs / external return
    a signed `audioUrl`."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    success: Literal[True] = Field(json_schema_extra={"enum": [True]})
    audioData: str | SkipJsonSchema[None] = Field(None, description="data URI (Twilio only).")
    audioUrl: str | SkipJsonSchema[None] = Field(
        None, description="Signed S3 (Sinch) or R2 (ElevenLabs/external) URL."
    )
    duration: float | SkipJsonSchema[None] = None
    recordingId: str | SkipJsonSchema[None] = None
    transcriptionText: str | None = None
    transcriptionData: list[dict[str, Any]] | dict[str, Any] | None = Field(
        None, description="Structured per-utterance transcription (provider-shaped)."
    )
    direction: Literal["inbound", "outbound"] | SkipJsonSchema[None] = None
    from_: str | SkipJsonSchema[None] = Field(None, alias="from")
    to: str | SkipJsonSchema[None] = None
    # Served beyond the contract (its additionalProperties allows them) and documented in docs/playback.md,
    # not here, so this operation's schema stays exactly the contract's: transcriptionStatus, playbackUrl.


class DeletionReceipt(BaseModel):
    """What DELETE /api/calls/{callId}/recording deleted, by whom and when."""

    success: Literal[True] = Field(json_schema_extra={"enum": [True]})
    callId: str
    deletedAt: str = Field(description="ISO 8601, UTC")
    deletedBy: str = Field(description="The user id, or `retention` for the retention sweep")
    reason: Literal["request", "retention"]
    recordingIds: list[str]
    storedCopy: Literal["deleted", "none"] = Field(description="Our stored audio (and transcript file)")
    providerCopy: Literal["deleted", "already-gone", "none", "failed"] = Field(
        description="The provider's copy: `none` where the provider keeps none we could delete; "
        "`failed` is retried by deleting again"
    )
    transcript: Literal["deleted"] = "deleted"


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str | SkipJsonSchema[None] = None
    message: str | SkipJsonSchema[None] = None
    details: list[dict[str, Any]] | SkipJsonSchema[None] = None


class CallsErrorResponse(BaseModel):
    """Error envelope: `error` is a human-readable string, or for validation failures the structured
    `{code, message, details}` object; `code` is the stable machine-readable code."""

    model_config = ConfigDict(extra="allow")

    success: Literal[False] | SkipJsonSchema[None] = Field(None, json_schema_extra={"enum": [False]})
    error: str | ErrorDetail | SkipJsonSchema[None] = None
    code: str | SkipJsonSchema[None] = Field(None, description="Stable error code.")


def render_recording(payload: RecordingPayload) -> Response:
    """The recording answer: plain JSON for a signed URL; streamed JSON for inline (Twilio) audio."""
    body: dict[str, Any] = {"success": True}
    if isinstance(payload.audio, InlineAudio):
        body["audioData"] = None  # filled in as the audio streams
    else:
        body["audioUrl"] = payload.audio.url
    optional = {
        "duration": payload.duration,
        "recordingId": payload.recording_id,
        "direction": payload.direction,
        "from": payload.from_number,
        "to": payload.to_number,
    }
    body.update((name, value) for name, value in optional.items() if value is not None)
    body["transcriptionText"] = payload.transcription_text
    body["transcriptionData"] = payload.transcription_data
    body["transcriptionStatus"] = payload.transcription_status
    body["playbackUrl"] = payload.playback_url
    if isinstance(payload.audio, InlineAudio):
        audio = payload.audio
        return StreamingResponse(
            json_with_data_uri(body, "audioData", audio.media_type, audio.chunks),
            media_type="application/json",
            background=BackgroundTask(audio.aclose),  # idempotent: the stream closes itself when read
        )
    return Response(orjson.dumps(body), media_type="application/json")


def render_receipt(receipt: Receipt) -> dict[str, Any]:
    return {
        "success": True,
        "callId": receipt.call_id,
        "deletedAt": receipt.deleted_at.isoformat(),
        "deletedBy": receipt.deleted_by,
        "reason": receipt.reason,
        "recordingIds": receipt.recording_ids,
        "storedCopy": receipt.stored_copy,
        "providerCopy": receipt.provider_copy,
        "transcript": "deleted",
    }
