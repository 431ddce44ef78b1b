"""Finding an organisation's calls by what was said (full text) or by a number or id (exact), as the
reader may see them: a role that reads only redacted content searches only the redacted copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.auth.principal import Principal
from tether_relay.calls.models import Call
from tether_relay.calls.redaction_requests import policy_in, wants_redacted
from tether_relay.calls.repository import (
    RANKED,
    CallFilter,
    CallRepository,
    Hit,
    RedactionRepository,
    SearchRepository,
)
from tether_relay.errors import ValidationFailed
from tether_relay.search.highlight import MAX_MATCHES, Match, matches
from tether_relay.search.query import TextQuery, UnsearchableQuery, id_form, phone_forms, text_query
from tether_relay.transcripts.model import utterances_of

# Exact matches come first, at most this many of them.
MAX_EXACT = 100


@dataclass(frozen=True, slots=True)
class SearchHit:
    call: Call
    matched_on: str  # transcript | phoneNumber | id
    score: float
    matches: list[Match] = field(default_factory=list)
    match_count: int = 0


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[SearchHit]
    total: int  # counted up to COUNTED text matches (plus the exact ones)
    total_exact: bool  # False: more match than `total` says
    reachable: int  # how many of them paging reaches (without filters, the RANKED newest text matches)
    # What a reader of redacted content sees of each hit's summary (None: the summaries as they are).
    summaries: dict[str, str | None] | None


async def search_calls(
    session: AsyncSession, principal: Principal, q: str, filters: CallFilter, *, limit: int, offset: int
) -> SearchResult:
    organization_id = principal.organization_id
    numbers, ident = phone_forms(q), id_form(q)
    query = _text_query(q, exact=bool(numbers or ident))
    policy = await policy_in(session, organization_id)
    redacted_under = policy.key if policy.enabled and wants_redacted(principal.role) else None

    search = SearchRepository(session)
    exact = await search.by_facts(organization_id, numbers, ident, filters, MAX_EXACT)
    page_exact = exact[offset : offset + limit]
    found: list[Hit] = []
    total, exact_total, reachable = len(exact), True, len(exact)
    if query is not None:
        text = await search.search(
            organization_id,
            query,
            filters,
            redacted_under=redacted_under,
            excluding=exact,
            limit=limit - len(page_exact),
            offset=max(0, offset - len(exact)),
        )
        found, exact_total = text.hits, text.exact
        total += text.total
        reachable += text.total if filters.conditions() else min(text.total, RANKED)
    ids = [*page_exact, *(hit.call_id for hit in found)]
    calls = await CallRepository(session).of_organization(organization_id, ids)
    transcripts = await _transcripts(
        session, [calls[h.call_id] for h in found if h.call_id in calls], redacted_under
    )

    hits: list[SearchHit] = []
    for call_id in page_exact:
        if call_id in calls:
            on = (
                "phoneNumber"
                if {calls[call_id].from_number, calls[call_id].to_number} & set(numbers)
                else "id"
            )
            hits.append(SearchHit(calls[call_id], on, 1.0))
    for hit in found:
        if hit.call_id not in calls or query is None:
            continue  # deleted between the two reads
        utterances = utterances_of(transcripts.get(hit.call_id))
        found_in = matches(utterances, query) if utterances else []
        hits.append(
            SearchHit(calls[hit.call_id], "transcript", hit.score, found_in[:MAX_MATCHES], len(found_in))
        )
    summaries = None
    if redacted_under is not None:
        copies = await RedactionRepository(session).ready_summaries(ids, redacted_under)
        summaries = {call_id: copies.get(call_id) for call_id in ids}
    return SearchResult(hits, total, exact_total, reachable, summaries)


def _text_query(q: str, *, exact: bool) -> TextQuery | None:
    try:
        return text_query(q)
    except UnsearchableQuery as exc:
        if exact:
            return None
        raise ValidationFailed.of("q", str(exc)) from None


async def _transcripts(
    session: AsyncSession, calls: list[Call], redacted_under: str | None
) -> dict[str, Any]:
    """Each hit's transcript data as the reader may read it (the redacted copy's, for such a reader)."""
    if redacted_under is None:
        return {call.id: call.transcription_data for call in calls}
    return await RedactionRepository(session).ready_transcripts([c.id for c in calls], redacted_under)
