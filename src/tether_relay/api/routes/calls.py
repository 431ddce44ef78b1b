"""The call read APIs: one call, and the organisation's call history."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict

from tether_relay.api.deps import CurrentPrincipal, SessionDep
from tether_relay.api.errors import error_responses
from tether_relay.api.types import CallId, Moment, StoredText
from tether_relay.calls.conditions import CallFilter
from tether_relay.calls.document import call_document
from tether_relay.calls.redaction_requests import readable_summaries, wants_redacted
from tether_relay.calls.repository import CallRepository
from tether_relay.errors import CallNotFound

router = APIRouter(tags=["Calls"])

Filter = Annotated[StoredText | None, Query(max_length=64)]


async def _filters(
    contactId: Filter = None,
    userId: Filter = None,
    status: Filter = None,
    since: Annotated[
        Moment | None, Query(description="calls from this moment on (ISO 8601, with a zone)")
    ] = None,
    until: Annotated[
        Moment | None, Query(description="calls before this moment (ISO 8601, with a zone)")
    ] = None,
) -> CallFilter:
    """The history's filters (shared with search); times are the history's: start, else creation."""
    return CallFilter(contact_id=contactId, user_id=userId, status=status, since=since, until=until)


HistoryFilters = Annotated[CallFilter, Depends(_filters)]


class CallDocument(BaseModel):
    """A Call document; many fields are provider-specific, so clients should tolerate extra properties."""

    model_config = ConfigDict(extra="allow")

    callId: str


class CallResponse(BaseModel):
    success: Literal[True]
    call: CallDocument


class HistoryResponse(BaseModel):
    success: Literal[True]
    calls: list[CallDocument]
    total: int


@router.get(
    "/api/calls/history",
    response_model=HistoryResponse,
    responses=error_responses(400, 401),
    summary="List calls with filters",
)
async def list_call_history(
    principal: CurrentPrincipal,
    session: SessionDep,
    filters: HistoryFilters,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """The caller's organisation's calls, newest first (start time, else creation time)."""
    calls, total = await CallRepository(session).history(principal, filters, limit=limit, offset=offset)
    summaries = await readable_summaries(
        session, principal.organization_id, wants_redacted(principal.role), [c.id for c in calls]
    )
    return {"success": True, "calls": [call_document(c, summaries) for c in calls], "total": total}


@router.get(
    "/api/calls/{callId}",
    response_model=CallResponse,
    responses=error_responses(401, 404),
    summary="Get a single call by id",
)
async def get_call(
    call_id: Annotated[CallId, Path(alias="callId")], principal: CurrentPrincipal, session: SessionDep
) -> dict[str, Any]:
    """One Call document of the caller's organisation; another organisation's call is a 404."""
    call = await CallRepository(session).get_visible_to(principal, call_id)
    if call is None:
        raise CallNotFound()
    summaries = await readable_summaries(
        session, principal.organization_id, wants_redacted(principal.role), [call.id]
    )
    return {"success": True, "call": call_document(call, summaries)}
