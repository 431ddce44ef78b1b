"""Finding an organisation's calls by what was said (full text) or by a number or id (exact), as the
reader may see them: a role that reads only redacted content searches only the redacted copies."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.auth.principal import Principal
from tether_relay.calls.conditions import CallFilter
from tether_relay.calls.models import Call
from tether_relay.calls.redaction_requests import policy_in, summaries_under, wants_redacted
from tether_relay.calls.repository import CallRepository, RedactionRepository
from tether_relay.calls.search_repository import COUNTED, RANKED, Hit, SearchRepository
from tether_relay.errors import ValidationFailed
from tether_relay.search.highlight import Matches, matches
from tether_relay.search.query import (
    QueryTooLong,
    TextQuery,
    UnsearchableQuery,
    id_forms,
    phone_forms,
    text_query,
)
from tether_relay.transcripts.model import Utterance, utterances_of

# Above this many characters in a page's transcripts, their matches are worked out in a thread.
_OFF_LOOP_CHARS = 20_000
NO_MATCHES = Matches([], 0, True)


@dataclass(frozen=True, slots=True)
class SearchHit:
    call: Call
    matched_on: str  # transcript | phoneNumber | id
    score: float
    matches: Matches = NO_MATCHES


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[SearchHit]
    total: int  # exact and transcript matches, counted up to COUNTED
    total_exact: bool  # False: more match than `total` says
    reachable: int  # how many hits paging reaches: the exact ones (up to COUNTED), then RANKED text ones
    # What a reader of redacted content sees of each hit's summary (None: the summaries as they are).
    summaries: dict[str, str | None] | None


async def search_calls(
    session: AsyncSession, principal: Principal, q: str, filters: CallFilter, *, limit: int, offset: int
) -> SearchResult:
    organization_id = principal.organization_id
    numbers, idents = phone_forms(q), id_forms(q)
    query = _text_query(q, exact=bool(numbers or idents))
    redacted_under = None
    if wants_redacted(principal.role):  # an admin reads the original whatever the policy
        policy = await policy_in(session, organization_id)
        redacted_under = policy.key if policy.enabled else None

    search = SearchRepository(session)
    exact = await search.by_facts(organization_id, numbers, idents, filters, COUNTED + 1)
    exact_over, exact = len(exact) > COUNTED, exact[:COUNTED]
    page_exact = exact[offset : offset + limit]
    found: list[Hit] = []
    total, total_exact, reachable = len(exact), not exact_over, len(exact)
    text_offset = max(0, offset - len(exact))
    if query is not None:
        # Paging reaches the best RANKED transcript hits (with filters as without).
        text = await search.search(
            organization_id,
            query,
            filters,
            redacted_under=redacted_under,
            excluding=exact,
            limit=max(0, min(limit - len(page_exact), RANKED - text_offset)),
            offset=text_offset,
        )
        found = text.hits
        total += text.total
        total_exact = total_exact and text.exact
        reachable += min(text.total, RANKED)
    if total > COUNTED:  # exact and transcript matches are each counted up to COUNTED: so is their sum
        total, total_exact = COUNTED, False
    ids = [*page_exact, *(hit.call_id for hit in found)]
    calls = await CallRepository(session).of_organization(organization_id, ids)
    readable = [calls[h.call_id] for h in found if h.call_id in calls]
    transcripts = await _transcripts(session, readable, redacted_under)

    hits: list[SearchHit] = []
    for call_id in page_exact:
        if call_id in calls:
            numbered = {calls[call_id].from_number, calls[call_id].to_number} & set(numbers)
            hits.append(SearchHit(calls[call_id], "phoneNumber" if numbered else "id", 1.0))
    if query is not None:
        said = {call_id: utterances_of(transcripts.get(call_id)) or [] for call_id in calls}
        where = await _matches([(said.get(hit.call_id, []), hit.terms) for hit in found], query)
        for hit, matched in zip(found, where, strict=True):
            if hit.call_id in calls:  # else deleted between the two reads
                hits.append(SearchHit(calls[hit.call_id], "transcript", hit.score, matched))
    # The policy was read above: the summaries under it, not readable_summaries (which reads it again).
    summaries = None if redacted_under is None else await summaries_under(session, redacted_under, ids)
    return SearchResult(hits, total, total_exact, reachable, summaries)


def _text_query(q: str, *, exact: bool) -> TextQuery | None:
    """The words to search for; None when `q` has none but may be a number or an id (looked up exactly).
    Too many words is refused either way: a run of 65 Chinese characters is one token, not an id."""
    try:
        return text_query(q)
    except UnsearchableQuery as exc:
        if exact and not isinstance(exc, QueryTooLong):
            return None
        raise ValidationFailed.of("q", str(exc)) from None


async def _matches(transcripts: list[tuple[list[Utterance], str]], query: TextQuery) -> list[Matches]:
    """Each hit's matching utterances (from its transcript and the terms the database matched). Bounded
    per hit (search/highlight.py SCANNED_CHARS), and worked out in a thread when the hits' transcripts are
    long, so one organisation's enormous transcripts never hold the event loop every request shares."""

    def work() -> list[Matches]:
        return [matches(utterances, query, indexed) for utterances, indexed in transcripts]

    size = sum(len(u["message"]) for utterances, _ in transcripts for u in utterances)
    return await asyncio.to_thread(work) if size > _OFF_LOOP_CHARS else work()


async def _transcripts(
    session: AsyncSession, calls: list[Call], redacted_under: str | None
) -> dict[str, Any]:
    """Each hit's transcript data as the reader may read it (the redacted copy's, for such a reader)."""
    if redacted_under is None:
        return {call.id: call.transcription_data for call in calls}
    return await RedactionRepository(session).ready_transcripts([c.id for c in calls], redacted_under)
