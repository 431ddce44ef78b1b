"""Answering with a Playback: the whole file (200) or the one range asked for (206), 416 outside it. The
playback proxy and the local store's signed URLs answer through here, so Range and If-Range mean the same
on both (playback/ranges.py decides which bytes)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask

from tether_relay.playback import ranges
from tether_relay.playback.service import Playback


async def ranged(request: Request, playback: Playback, headers: dict[str, str]) -> Response:
    headers = {**headers, "Accept-Ranges": "bytes", "ETag": playback.etag}
    try:
        byte_range = ranges.select(
            request.headers.get("range"), request.headers.get("if-range"), playback.size, playback.etag
        )
    except ranges.RangeNotSatisfiable:
        await playback.aclose()
        raise
    if byte_range is not None and playback.size is not None:
        headers["Content-Range"] = byte_range.content_range(playback.size)
        headers["Content-Length"] = str(byte_range.length)
    elif playback.size is not None:
        headers["Content-Length"] = str(playback.size)
    status = 206 if byte_range else 200
    if request.method == "HEAD" or playback.size == 0:
        await playback.aclose()
        return Response(status_code=status, media_type=playback.content_type, headers=headers)
    return StreamingResponse(
        playback.body(byte_range),
        status_code=status,
        media_type=playback.content_type,
        headers=headers,
        background=BackgroundTask(playback.aclose),
    )
