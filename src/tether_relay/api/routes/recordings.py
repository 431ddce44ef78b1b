from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from tether_relay.api.deps import CurrentPrincipal, RuntimeDep, runtime_of
from tether_relay.api.errors import error_responses
from tether_relay.api.schemas import CallsRecordingResponse, DeletionReceipt, render_receipt, render_recording
from tether_relay.api.types import CallId
from tether_relay.auth.principal import ADMIN, SUPERADMIN
from tether_relay.errors import CallNotFound, Forbidden, ValidationFailed

router = APIRouter(tags=["Calls"])

REDACTED_DESCRIPTION = (
    "When the organisation redacts recordings: `true` answers the redacted copy. ADMIN and SUPERADMIN "
    "get the original unless they ask; every other role gets only the redacted copy, whatever this says."
)
RedactedQuery = Annotated[bool, Query(description=REDACTED_DESCRIPTION)]
# The contract lists this operation's parameters exactly: accepted, documented in the README instead.
_UndocumentedRedacted = Annotated[bool, Query(include_in_schema=False)]

CallIdPath = Annotated[
    CallId,
    Path(
        alias="callId",
        description=(
            "The provider-agnostic `callId` minted by Tether (also used as `providerCallId` for SDK calls)."
        ),
    ),
]


@router.get(
    "/api/calls/{callId}/recording",
    operation_id="get_calls_callId_recording",
    summary="Get a call recording (audio + transcription)",
    description=(
        "Returns the audio recording for a completed call along with any available transcription. "
        "Twilio recordings are fetched server-side and returned as a base64 `audioData` blob; Sinch / "
        "ElevenLabs / external recordings are returned as a signed `audioUrl` (S3 or R2). Transcriptions "
        "are lazy-fetched on first read and cached on the Call."
    ),
    response_model=CallsRecordingResponse,
    response_description="Recording payload",
    responses=error_responses(
        400,
        401,
        404,
        500,
        d400="callId missing, unsupported provider, or Twilio creds missing",
        d404="Call or recording not found",
        d500="Failed to fetch or sign the recording",
    ),
)
async def get_call_recording(
    call_id: CallIdPath,
    principal: CurrentPrincipal,
    request: Request,
    redacted: _UndocumentedRedacted = False,
) -> Response:
    """Audio and transcript of a completed call."""
    # The service straight from the runtime: as a dependency it cost 12 µs of this, the hottest read.
    return render_recording(await runtime_of(request).recordings.for_call(principal, call_id, redacted))


@router.delete(
    "/api/calls/{callId}/recording",
    operation_id="delete_calls_callId_recording",
    summary="Delete a call's recording (admins of the organisation)",
    description=(
        "Deletes our stored copy of the recording and its transcript, and the provider's copy where its "
        "API allows (Twilio Recording, ElevenLabs conversation). Answers with a receipt of what was "
        "deleted, by whom and when; deleting again answers the same receipt (and retries a provider "
        "copy that failed). Later reads answer 404 RECORDING_DELETED."
    ),
    response_model=DeletionReceipt,
    responses=error_responses(
        401,
        403,
        404,
        500,
        d403="Only ADMIN or SUPERADMIN of the organisation",
        d404="Call not found",
        d500="Our stored copy could not be deleted (nothing recorded; try again)",
    ),
)
async def delete_call_recording(
    call_id: CallIdPath, principal: CurrentPrincipal, runtime: RuntimeDep
) -> JSONResponse:
    if await runtime.snapshots.visible(principal.organization_id, call_id) is None:
        raise CallNotFound()  # before the role check: another organisation's call stays a 404
    if principal.role not in (ADMIN, SUPERADMIN):
        raise Forbidden("Deleting a recording needs the ADMIN role")
    receipt = await runtime.deletions.delete(
        principal.organization_id, call_id, by=principal.user_id, reason="request"
    )
    return JSONResponse(render_receipt(receipt))


# `/api/calls//recording` never reaches the route above (an empty segment does not match); the contract
# documents "callId missing" as a 400, so answer it as one.
@router.get("/api/calls//recording", include_in_schema=False)
async def get_call_recording_without_id() -> None:
    raise ValidationFailed(
        "callId is required", details=[{"field": "callId", "message": "must not be empty", "type": "missing"}]
    )
