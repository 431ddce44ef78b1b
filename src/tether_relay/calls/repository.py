"""The only place that builds queries for calls. Every read is scoped to the caller's organisation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tether_relay.auth.principal import Principal
from tether_relay.calls.models import Call, Recording


class CallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get_visible_to(self, principal: Principal, call_id: str) -> Call | None:
        query = (
            select(Call)
            .where(Call.id == call_id, Call.organization_id == principal.organization_id)
            .options(selectinload(Call.recordings))
        )
        return (await self._session.scalars(query)).one_or_none()

    async def find_by_provider_id(
        self, organization_id: str, provider: str, provider_call_id: str
    ) -> Call | None:
        query = select(Call).where(
            Call.organization_id == organization_id,
            Call.provider == provider,
            Call.provider_call_id == provider_call_id,
        )
        return (await self._session.scalars(query)).one_or_none()

    def add(self, call: Call, *recordings: Recording) -> None:
        self._session.add(call)
        for recording in recordings:
            recording.call_id = call.id
            self._session.add(recording)

    async def flush(self) -> None:
        await self._session.flush()
