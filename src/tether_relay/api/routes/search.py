"""GET /api/calls/search: an organisation's calls by what was said in them, or by a number or an id."""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from starlette.responses import Response

from tether_relay.api.deps import CurrentPrincipal, SessionDep
from tether_relay.api.errors import error_responses
from tether_relay.api.routes.calls import CallDocument, HistoryFilters
from tether_relay.api.types import StoredText
from tether_relay.calls.document import call_document
from tether_relay.calls.search_service import search_calls

router = APIRouter(tags=["Calls"])


class Utterance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    index: int
    role: str
    timestamp: float
    end: float | None
    message: str
    excerptStart: int
    highlights: list[tuple[int, int]]
    snippet: str


class SearchHit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call: CallDocument
    matchedOn: Literal["transcript", "phoneNumber", "id"]
    score: float
    matches: list[Utterance]
    matchCount: int
    matchesComplete: bool


class SearchResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    success: Literal[True]
    hits: list[SearchHit]
    total: int
    totalExact: bool
    reachable: int


@router.get(
    "/api/calls/search",
    response_model=SearchResponse,
    responses=error_responses(400, 401),
    summary="Search calls by what was said, a phone number or an id",
)
async def search(
    principal: CurrentPrincipal,
    session: SessionDep,
    filters: HistoryFilters,
    q: Annotated[StoredText, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    """Words must all be said in the call; "quoted words" together. A phone number or an id matches
    calls exactly first. Each hit carries the utterances that matched: `highlights` are [start, end)
    offsets in `message` (in code points), `snippet` is HTML (escaped, matches in `<mark>`). Readers of
    redacted content search the redacted transcripts only. `total` counts matches up to 1,000
    (`totalExact` false beyond); the 250 transcript matches (that pass the filters) indexed most
    recently are ranked, and `reachable` says how many hits paging reaches."""
    result = await search_calls(session, principal, q, filters, limit=limit, offset=offset)
    # Rendered as it is (SearchResponse documents it; tests/integration/test_search.py holds the two
    # together): validating twenty calls and their matches through the model cost more than finding them.
    body = {
        "success": True,
        "total": result.total,
        "totalExact": result.total_exact,
        "reachable": result.reachable,
        "hits": [
            {
                "call": call_document(hit.call, result.summaries),
                "matchedOn": hit.matched_on,
                "score": hit.score,
                "matches": [m.document() for m in hit.matches.shown],
                "matchCount": hit.matches.count,
                "matchesComplete": hit.matches.complete,
            }
            for hit in result.hits
        ],
    }
    return Response(orjson.dumps(body), media_type="application/json")
