"""GET /api/calls/{callId}/recording/audio: one stable, seekable audio URL for every provider.

Browsers' <audio> elements seek with Range requests and cannot send an Authorization header, so the
route takes either the bearer JWT or the playback token of the recording answer's `playbackUrl`. Provider
credentials stay on the server: Twilio audio is fetched here and streamed on.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Security
from fastapi.responses import Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from tether_relay.api.deps import RuntimeDep, authenticate, bearer_scheme
from tether_relay.api.errors import error_responses
from tether_relay.api.ranged import ranged
from tether_relay.api.routes.recordings import REDACTED_DESCRIPTION, CallIdPath
from tether_relay.calls.redaction_requests import wants_redacted
from tether_relay.errors import Unauthorized

router = APIRouter(tags=["Calls"])

_AUDIO = {"content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}}


@router.get(
    "/api/calls/{callId}/recording/audio",
    operation_id="get_calls_callId_recording_audio",
    summary="Stream a call's recording (seekable, any provider)",
    description=(
        "The audio of the call, streamed through the service with HTTP Range support (206, 416), an "
        "ETag and `Cache-Control: private, no-store`. Authenticate with the bearer JWT, or with the "
        "`token` of the recording answer's `playbackUrl` (bound to this call, short-lived). Several "
        "ranges in one request are answered with the first."
    ),
    response_class=StreamingResponse,
    responses={
        200: {**_AUDIO, "description": "The whole recording"},
        206: {**_AUDIO, "description": "The requested byte range"},
        304: {"description": "Not modified (If-None-Match)"},
        **error_responses(
            401,
            404,
            416,
            500,
            d401="No credentials, or an invalid, expired or other call's playback token",
            d404="Call or recording not found",
            d416="Range outside the recording",
            d500="Failed to fetch the recording",
        ),
    },
)
async def get_call_recording_audio(
    call_id: CallIdPath,
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    token: Annotated[str | None, Query(description="The playback token from `playbackUrl`.")] = None,
    redacted: Annotated[bool, Query(description=REDACTED_DESCRIPTION)] = False,
) -> Response:
    if credentials is not None:
        principal = await authenticate(runtime, credentials.credentials)
        organization_id, redacted = principal.organization_id, wants_redacted(principal.role, redacted)
    elif token:
        organization_id, by_token = runtime.playback_tokens.grant_of(token, call_id)
        redacted = redacted or by_token
    else:
        raise Unauthorized("Missing bearer token or playback token")
    playback = await runtime.playback.open(organization_id, call_id, redacted)
    if _matches(request.headers.get("if-none-match"), playback.etag):
        await playback.aclose()
        headers = {"Accept-Ranges": "bytes", "ETag": playback.etag, "Cache-Control": "private, no-store"}
        return Response(status_code=304, headers=headers)
    return await ranged(request, playback, {"Cache-Control": "private, no-store"})


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag in tags
