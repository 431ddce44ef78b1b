"""Request body caps by route: recordings (ingest, the ElevenLabs audio webhook) get the large cap,
everything else the small JSON one. A declared Content-Length over the cap is answered here at once;
otherwise Starlette's RequestBodyLimitMiddleware counts the body as it streams in and stops reading as
soon as it passes the cap, so an endless body is never read whole (its 413 is rendered in our envelope
by api/errors.py; for a declared length Starlette would answer in plain text, hence the check here)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from tether_relay.api.errors import render
from tether_relay.errors import PayloadTooLarge

LARGE_BODY_PATHS = ("/api/calls/ingest", "/api/webhook/elevenlabs")


class BodyLimits:
    def __init__(self, app: ASGIApp, *, large: int, small: int) -> None:
        self._limits = {True: large, False: small}
        self._apps = {
            True: RequestBodyLimitMiddleware(app, max_body_size=large),
            False: RequestBodyLimitMiddleware(app, max_body_size=small),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        large = scope["type"] == "http" and scope["path"].startswith(LARGE_BODY_PATHS)
        if scope["type"] == "http":
            declared = Headers(scope=scope).get("content-length", "")
            if declared.isdigit() and int(declared) > self._limits[large]:
                await render(PayloadTooLarge())(scope, receive, send)
                return
        await self._apps[large](scope, receive, send)
