"""The search index (search_documents) and its queries: a call's terms are written by the call repository's
writes that store its transcript (or its redacted copy's), in their transaction and only when they landed,
and removed with its content, so search finds what reads return, never more. Each database has its own
index over the same terms (the migration); docs/search.md says how each is read and what it costs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    union,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.calls.conditions import CallFilter, live
from tether_relay.calls.models import Call, CallRedaction, SearchDocument
from tether_relay.search.query import TextQuery
from tether_relay.search.rank import scores
from tether_relay.search.terms import indexed, search_scope

# A transcript longer than this is tokenized in a worker thread rather than on the event loop.
_OFF_LOOP_CHARS = 20_000
_FTS = table("search_documents_fts", column("rowid"))
_FTS_TABLE: ColumnElement[Any] = literal_column("search_documents_fts")
_VECTOR = literal_column("search_documents.search_vector", TSVECTOR)


# The newest this many matches are ranked (and paging reaches this many); matches are counted up to
# COUNTED ("1,000+"): counting all of a word said in every call costs more than finding.
RANKED = 250
COUNTED = 1000


# PostgreSQL's two ways to a search's matches (SearchRepository.way_to_matches): through the GIN index, or
# walking ids newest first, asking each row (reading its vector out of TOAST); the walk when the matches
# are expected within this many rows.
_INDEX_ONLY = {"enable_seqscan": "off", "enable_indexscan": "off", "enable_bitmapscan": "on"}
_WALK = {"enable_seqscan": "off", "enable_indexscan": "on", "enable_bitmapscan": "off"}
_WALKED = 2_000
# The planner's estimate of a search's matches and of all documents, planned for the words asked.
_ESTIMATE = text(
    "EXPLAIN (FORMAT JSON) SELECT 1 FROM search_documents WHERE search_vector @@ CAST(:asked AS tsquery)"
    " UNION ALL SELECT 1 FROM search_documents"
)


def _settings(**settings: str) -> Select[Any]:
    """Planner settings for the rest of the transaction (set_config's is_local), with custom plans: a
    prepared statement's generic plan knows no word's frequency, and a cached plan is not re-made when
    these settings change."""
    settings["plan_cache_mode"] = "force_custom_plan"
    return select(*(func.set_config(name, value, True) for name, value in settings.items()))


_PLANNED = {"walk": _settings(**_WALK), "index": _settings(**_INDEX_ONLY)}


@dataclass(frozen=True, slots=True)
class Hit:
    call_id: str
    score: float  # higher is better; comparable only within one search
    terms: str  # what was matched (search_documents.terms): where in the transcript (search/highlight.py)


@dataclass(frozen=True, slots=True)
class Found:
    hits: list[Hit]
    total: int  # at most COUNTED
    exact: bool  # False: there are more than COUNTED


# PostgreSQL: every phrase of three terms or more (`phrases`, TextQuery.spaced_phrases) in the terms, each
# with a space at both ends: a tsvector keeps only a word's first 256 positions, the terms all of them.
_SAYS_EVERY_LONG_PHRASE = text(
    "NOT EXISTS (SELECT FROM unnest(CAST(:phrases AS text[])) AS phrase"
    " WHERE strpos(' ' || search_documents.terms || ' ', phrase) = 0)"
)


def _search_query(
    dialect: str,
    redacted: bool,
    excluding: bool,
    long_phrases: bool,
    narrowed: Sequence[ColumnElement[bool]],
) -> Select[Any]:
    """SearchRepository.search's one statement: the newest matches, one more than are counted (`total`),
    and the newest `ranked` of them with their terms (`call_id`, `terms`), read as the history orders
    calls (newest first, then the newest indexed) so that equal scores keep that order (a stable sort).
    Values bound as it runs: `asked` (the database's query), `organization_id`, `redacted_under`,
    `excluding` (exact matches already found), `ranked`; on PostgreSQL `phrases` too."""
    organization_id = bindparam("organization_id", type_=String)
    asked = bindparam("asked", type_=String)
    if dialect == "postgresql":
        matching = select(SearchDocument.id.label("id")).where(_VECTOR.op("@@")(cast(asked, TSQUERY)))
        if long_phrases:  # else no row pays for the check
            matching = matching.where(_SAYS_EVERY_LONG_PHRASE)
        newest_first: Any = SearchDocument.id.desc()
        every: Any = matching.cte("every")
    else:
        # FTS5 first, materialized: left to itself SQLite's planner walks the organisation's calls and
        # asks FTS5 about each one.
        matching = select(_FTS.c.rowid.label("id")).where(_FTS_TABLE.op("MATCH")(asked))
        newest_first = _FTS.c.rowid.desc()
        every = matching.cte("every").prefix_with("MATERIALIZED")

    finding = matching
    if narrowed or redacted or excluding:  # else the scope term alone holds the organisation's
        finding = (
            select(SearchDocument.id)
            .select_from(every)
            .join(SearchDocument, SearchDocument.id == every.c.id)
            .where(SearchDocument.organization_id == organization_id, SearchDocument.redacted == redacted)
        )
        newest_first = SearchDocument.id.desc()
        if excluding:
            finding = finding.where(SearchDocument.call_id.not_in(bindparam("excluding", expanding=True)))
        if narrowed:
            finding = finding.join(Call, Call.id == SearchDocument.call_id).where(
                Call.organization_id == organization_id, *narrowed
            )
        if redacted:
            finding = finding.join(
                CallRedaction,
                (CallRedaction.call_id == SearchDocument.call_id)
                & (CallRedaction.status == "ready")
                & (CallRedaction.policy_key == bindparam("redacted_under", type_=String)),
            )
    window = finding.order_by(newest_first).limit(COUNTED + 1).cte("window").prefix_with("MATERIALIZED")
    newest = select(window.c.id).order_by(window.c.id.desc()).limit(bindparam("ranked", type_=Integer))
    ranked = newest.subquery("ranked")
    total = select(func.count()).select_from(window).scalar_subquery()
    return (
        select(total.label("total"), SearchDocument.call_id, SearchDocument.terms)
        .select_from(ranked)
        .join(SearchDocument, SearchDocument.id == ranked.c.id)
        .join(Call, Call.id == SearchDocument.call_id)
        .where(SearchDocument.organization_id == organization_id)
        .order_by(Call.sort_time.desc(), SearchDocument.id.desc())
    )


@cache
def _unfiltered_search_query(
    dialect: str, redacted: bool, excluding: bool, long_phrases: bool
) -> Select[Any]:
    return _search_query(dialect, redacted, excluding, long_phrases, ())


def _facts_query(numbers: bool, idents: bool, filters: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """SearchRepository.by_facts's query: the values (`organization_id`, `numbers`, `idents`, `limit`)
    bound as it runs."""
    organization_id = bindparam("organization_id", type_=String)
    named = [
        column.in_(bindparam(values, expanding=True))
        for values, asked, columns in (
            ("numbers", numbers, (Call.from_number, Call.to_number)),
            ("idents", idents, (Call.id, Call.provider_call_id, Call.conversation_id)),
        )
        if asked
        for column in columns
    ]
    each = [
        select(Call.id.label("id"), Call.sort_time.label("sort_time")).where(
            Call.organization_id == organization_id, condition, *filters
        )
        for condition in named
    ]
    found = union(*each).subquery()
    return (
        select(found.c.id)
        .order_by(found.c.sort_time.desc(), found.c.id.desc())
        .limit(bindparam("limit", type_=Integer))
    )


@cache
def _unfiltered_facts_query(numbers: bool, idents: bool) -> Select[Any]:
    return _facts_query(numbers, idents, ())


class SearchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def index(self, call_id: str, text: str | None, data: Any, *, redacted: bool = False) -> None:
        """Index a live call's transcript (or its redacted copy's) as it is now; no transcript, no terms."""
        organization_id = await self._session.scalar(select(Call.organization_id).where(live(call_id)))
        if organization_id is None:
            return  # deleted: nothing of it is indexed (mark_deleted removed what was)
        size = len(text or "") or (
            sum(len(str(u.get("message", ""))) for u in data if isinstance(u, dict))
            if isinstance(data, list)
            else 0
        )
        if size > _OFF_LOOP_CHARS:
            terms = await asyncio.to_thread(indexed, organization_id, redacted, text, data)
        else:
            terms = indexed(organization_id, redacted, text, data)
        if terms is None:
            await self._session.execute(
                delete(SearchDocument).where(
                    SearchDocument.call_id == call_id, SearchDocument.redacted == redacted
                )
            )
            return
        dialect = (await self._session.connection()).dialect.name
        dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        source = select(Call.id, Call.organization_id, literal(redacted), literal(terms)).where(live(call_id))
        statement = dialect_insert(SearchDocument).from_select(
            ["call_id", "organization_id", "redacted", "terms"], source
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=["call_id", "redacted"], set_={"terms": statement.excluded.terms}
            )
        )

    async def search(
        self,
        organization_id: str,
        query: TextQuery,
        filters: CallFilter,
        *,
        redacted_under: str | None,
        excluding: Sequence[str],
        limit: int,
        offset: int,
    ) -> Found:
        """The organisation's calls whose transcript matches, best first (then newest), and how
        many match (counted up to COUNTED). `redacted_under`: search the redacted copies made under this
        policy, ready ones only.

        The newest COUNTED + 1 matches are found (each database reads its index newest first and stops,
        where it can: without filters), the newest RANKED of them ranked (search/rank.py); paging reaches
        those. With filters every match is read to find the newest that pass them."""
        redacted = redacted_under is not None
        scope = search_scope(organization_id, redacted)
        dialect = (await self._session.connection()).dialect.name
        if dialect == "postgresql":
            asked = query.tsquery(scope)
            await self.way_to_matches(asked)
        else:
            asked = query.fts5(scope)
        # Built once without filters (building it took longer than running it); values bound as it runs.
        narrowed = filters.conditions()
        phrases = query.spaced_phrases() if dialect == "postgresql" else []
        shape = (dialect, redacted, bool(excluding), bool(phrases))
        statement = _search_query(*shape, narrowed) if narrowed else _unfiltered_search_query(*shape)
        values = {
            "asked": asked,
            "phrases": phrases,
            "organization_id": organization_id,
            "redacted_under": redacted_under,
            "excluding": list(excluding),
            "ranked": RANKED if limit > 0 else 1,  # no page to fill: one row, for the count
        }
        rows = (await self._session.execute(statement, values)).all()
        counted = rows[0].total if rows else 0
        if limit <= 0:
            return Found([], min(counted, COUNTED), counted <= COUNTED)
        ranked_rows = sorted(
            zip(scores([row.terms for row in rows], query), rows, strict=True),
            key=lambda scored: scored[0],
            reverse=True,  # still stable
        )
        hits = [Hit(row.call_id, score, row.terms) for score, row in ranked_rows[offset : offset + limit]]
        return Found(hits, min(counted, COUNTED), counted <= COUNTED)

    async def way_to_matches(self, asked: str) -> str:
        """PostgreSQL: how this transaction's search finds its matches (said: `walk` or `index`). The GIN
        index's lists answer words exactly, while asking a row means reading its vector out of TOAST, a
        cost the planner does not count: left to itself it asked 33,000 rows to count a word in 3 % of the
        calls (EXPLAIN ANALYZE). So its estimate of the matches decides: walk ids newest first when the
        newest COUNTED + 1 are expected within _WALKED rows, else read the index. Two statements: the
        estimate (_ESTIMATE), then the settings (_PLANNED)."""
        explained = await self._session.scalar(_ESTIMATE, {"asked": asked})
        plan = json.loads(explained) if isinstance(explained, str) else explained
        matching, documents = (float(part["Plan Rows"]) for part in plan[0]["Plan"]["Plans"])
        share = matching / documents if documents > 0 else 0.0
        way = "walk" if share > 0 and (COUNTED + 1) / share <= _WALKED else "index"
        await self._session.execute(_PLANNED[way])
        return way

    async def by_facts(
        self,
        organization_id: str,
        numbers: Sequence[str],
        idents: Sequence[str],
        filters: CallFilter,
        limit: int,
    ) -> list[str]:
        """The organisation's calls from or to one of `numbers`, or whose id (ours, the provider's, the
        conversation's) is one of `idents`: exact matches, newest first. One SELECT per column, each on its
        index led by the organisation (an OR of them is read through the organisation's every call)."""
        if not numbers and not idents:
            return []
        # Built once without filters (building it cost more than running it); values bound as it runs.
        conditions = filters.conditions()
        asked = (bool(numbers), bool(idents))
        rows = await self._session.scalars(
            _facts_query(*asked, conditions) if conditions else _unfiltered_facts_query(*asked),
            {
                "organization_id": organization_id,
                "numbers": list(numbers),
                "idents": list(idents),
                "limit": limit,
            },
        )
        return list(rows)
