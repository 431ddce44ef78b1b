"""GET /player/{callId}: the recording player a support agent opens (api/static/player.html).

The page is static: it holds no data and needs no credentials to load. Its script reads the bearer token
from the URL fragment, fetches the recording answer, plays `playbackUrl` (seekable, any provider) and
highlights the utterance being spoken.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(tags=["Player"])

_PAGE = Path(__file__).resolve().parent.parent / "static" / "player.html"
# The page's own script and style only; it talks to this origin alone.
_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; media-src 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@cache
def _page() -> str:
    return _PAGE.read_text(encoding="utf-8")


@router.get("/player/{callId}", include_in_schema=False, response_class=HTMLResponse)
async def player() -> HTMLResponse:  # the page reads the call id from its own address
    return HTMLResponse(
        _page(),
        headers={
            "Content-Security-Policy": _CSP,
            "Cache-Control": "no-cache",
            "X-Content-Type-Options": "nosniff",
        },
    )
