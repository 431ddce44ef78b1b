"""The pages people open in a browser: the console at `/` (find a call, play it, delete it) and the player
at `/player/{callId}`, each a static page (api/static/) holding no data and needing no credentials to
load; their scripts (`/assets/…`) read the bearer token the user gives them and call the API."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from tether_relay.errors import NotFound

router = APIRouter(tags=["Pages"])

_STATIC = Path(__file__).resolve().parent.parent / "static"
# Our own scripts and inline styles only; the pages talk to this origin alone and are framed by nobody.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; "
    "media-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_SCRIPTS = frozenset({"console.js", "player.js", "transcript.js"})


@cache
def _read(name: str) -> str:
    return (_STATIC / name).read_text(encoding="utf-8")


@router.get("/", include_in_schema=False, response_class=HTMLResponse)
async def console() -> HTMLResponse:
    return HTMLResponse(_read("console.html"), headers=_HEADERS)


@router.get("/player/{callId}", include_in_schema=False, response_class=HTMLResponse)
async def player() -> HTMLResponse:  # the page reads the call id from its own address
    return HTMLResponse(_read("player.html"), headers=_HEADERS)


@router.get("/assets/{name}", include_in_schema=False)
async def script(name: str) -> Response:
    if name not in _SCRIPTS:  # only these files, never a path
        raise NotFound()
    return Response(_read(name), media_type="text/javascript", headers=_HEADERS)
