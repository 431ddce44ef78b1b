"""Serves the local store's objects behind HMAC-signed, expiring URLs, with HTTP Range (206/416)."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from tether_relay.api.deps import RuntimeDep
from tether_relay.api.errors import error_responses
from tether_relay.api.ranged import ranged
from tether_relay.errors import RecordingNotFound, SignedUrlRefused
from tether_relay.playback.service import stored_object
from tether_relay.storage.base import StorageError

router = APIRouter(tags=["Calls"])

# The recording formats we store; anything else falls back to the platform's table.
_AUDIO_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav"}


@router.head("/media/{bucket}/{key:path}", include_in_schema=False)
@router.get(
    "/media/{bucket}/{key:path}",
    summary="Download a stored recording through a signed URL",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"audio/mpeg": {}}, "description": "The audio"},
        206: {"description": "The requested byte range"},
        **error_responses(403, 404, 416, d403="Link expired or tampered with", d416="Range outside the file"),
    },
)
async def get_stored_media(
    bucket: str,
    key: str,
    request: Request,
    runtime: RuntimeDep,
    expires: Annotated[str, Query()] = "",
    signature: Annotated[str, Query()] = "",
) -> Response:
    """A recording from the local store, the embedded default's stand-in for S3/R2."""
    store = runtime.buckets.local(bucket)
    if store is None or not store.verify(key, expires, signature):
        raise SignedUrlRefused()
    try:
        playback = await stored_object(store, key, _media_type(key))
    except StorageError:
        raise SignedUrlRefused() from None
    if playback is None:
        raise RecordingNotFound()
    return await ranged(request, playback, {"Cache-Control": "private, max-age=0, no-store"})


def _media_type(key: str) -> str:
    suffix = PurePosixPath(key).suffix.lower()
    return _AUDIO_TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"
