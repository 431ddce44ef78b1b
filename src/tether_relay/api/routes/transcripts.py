"""GET /api/calls/{callId}/transcript: the transcript as a file (WebVTT, SRT, plain text or JSON)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from tether_relay.api.deps import CurrentPrincipal, RuntimeDep
from tether_relay.api.errors import error_responses
from tether_relay.api.routes.recordings import CallIdPath, RedactedQuery
from tether_relay.errors import TranscriptNotFound
from tether_relay.transcripts.exports import MEDIA_TYPES, Format, export
from tether_relay.transcripts.model import utterances_of

router = APIRouter(tags=["Calls"])


@router.get(
    "/api/calls/{callId}/transcript",
    operation_id="get_calls_callId_transcript",
    summary="Get a call's transcript as WebVTT, SRT, plain text or JSON",
    description=(
        "The transcript the recording answer carries, as a file: `vtt` (one cue per utterance with a "
        "`<v agent>` / `<v user>` voice tag), `srt`, `txt` (`Agent: …` lines) or `json` (the "
        "`[{role, message, timestamp, end, words?}]` list). Times are seconds from the start of the "
        "recording served. Fetched from the provider on first need and cached, like the recording's."
    ),
    responses={
        200: {
            "description": "The transcript",
            "content": {media_type.split(";")[0]: {} for media_type in MEDIA_TYPES.values()},
        },
        **error_responses(
            400,
            401,
            404,
            d400="Unknown format",
            d404="Call not found, recording deleted (RECORDING_DELETED), transcript not ready yet "
            "(TRANSCRIPT_NOT_READY, with Retry-After) or none in that form (TRANSCRIPT_NOT_FOUND)",
        ),
    },
)
async def get_call_transcript(
    call_id: CallIdPath,
    principal: CurrentPrincipal,
    runtime: RuntimeDep,
    fmt: Annotated[Format, Query(alias="format")] = "json",
    redacted: RedactedQuery = False,
) -> Response:
    found = await runtime.recordings.transcript_of(principal, call_id, redacted)
    utterances = utterances_of(found.data)
    if utterances is not None:
        body = export(utterances, fmt, found.duration)
    elif fmt == "txt" and found.text:
        body = found.text + "\n"  # a transcript of text alone (Twilio's legacy transcriptions)
    else:
        raise TranscriptNotFound()
    filename = f"{call_id}.{fmt}"
    return Response(
        body, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": f'inline; filename="{filename}"'}
    )
