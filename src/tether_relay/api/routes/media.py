"""Serves the local store's objects behind HMAC-signed, expiring URLs, with HTTP Range (206/416)."""

from __future__ import annotations

import mimetypes
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from tether_relay.api.deps import RuntimeDep
from tether_relay.api.errors import error_responses
from tether_relay.errors import RecordingNotFound, SignedUrlRefused
from tether_relay.storage.base import StorageError

router = APIRouter(tags=["Calls"])

# The recording formats we store; anything else falls back to the platform's table.
_AUDIO_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav"}


@router.head("/media/{bucket}/{key:path}", include_in_schema=False)
@router.get(
    "/media/{bucket}/{key:path}",
    summary="Download a stored recording through a signed URL",
    response_class=FileResponse,
    responses={
        200: {"content": {"audio/mpeg": {}}, "description": "The audio"},
        206: {"description": "The requested byte range"},
        416: {"description": "Range not satisfiable"},
        **error_responses(403, 404, d403="Link expired or tampered with"),
    },
)
async def get_stored_media(
    bucket: str,
    key: str,
    runtime: RuntimeDep,
    expires: Annotated[str, Query()] = "",
    signature: Annotated[str, Query()] = "",
) -> FileResponse:
    """A recording from the local store, the embedded default's stand-in for S3/R2."""
    store = runtime.buckets.local(bucket)
    if store is None or not store.verify(key, expires, signature):
        raise SignedUrlRefused()
    try:
        path = store.path_for(key)
    except StorageError:
        raise SignedUrlRefused() from None
    if not path.is_file():
        raise RecordingNotFound()
    media_type = (
        _AUDIO_TYPES.get(path.suffix.lower())
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )
    return FileResponse(
        path, media_type=media_type, headers={"Cache-Control": "private, max-age=0, no-store"}
    )
