"""Request body caps by route: recordings (ingest, the ElevenLabs audio webhook) get the large cap,
everything else the small JSON one. Starlette's RequestBodyLimitMiddleware does the counting: it refuses
at once on a Content-Length over the cap and otherwise stops reading as soon as the body passes it, so an
endless body is never read whole; its 413 is rendered in our envelope by api/errors.py."""

from __future__ import annotations

from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

LARGE_BODY_PATHS = ("/api/calls/ingest", "/api/webhook/elevenlabs")


class BodyLimits:
    def __init__(self, app: ASGIApp, *, large: int, small: int) -> None:
        self._large = RequestBodyLimitMiddleware(app, max_body_size=large)
        self._small = RequestBodyLimitMiddleware(app, max_body_size=small)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        large = scope["type"] == "http" and scope["path"].startswith(LARGE_BODY_PATHS)
        await (self._large if large else self._small)(scope, receive, send)
