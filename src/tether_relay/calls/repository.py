"""The only place that builds queries for calls. Every read a user makes is scoped to an organisation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from tether_relay.auth.principal import Principal
from tether_relay.calls.models import Call, Recording
from tether_relay.providers.base import CallDetails


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

    async def history(
        self,
        principal: Principal,
        *,
        contact_id: str | None,
        user_id: str | None,
        status: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[Call], int]:
        """Newest first (start time, else creation time), served by ix_calls_organization_id_sort_time."""
        scope = [Call.organization_id == principal.organization_id]
        for column, value in ((Call.contact_id, contact_id), (Call.user_id, user_id), (Call.status, status)):
            if value is not None:
                scope.append(column == value)
        total = await self._session.scalar(select(func.count()).select_from(Call).where(*scope))
        page = await self._session.scalars(
            select(Call)
            .where(*scope)
            .order_by(Call.sort_time.desc(), Call.id.desc())
            .limit(limit)
            .offset(offset)
            .options(selectinload(Call.recordings))
        )
        return list(page), int(total or 0)

    async def get(self, call_id: str) -> Call | None:
        return await self._session.get(Call, call_id, populate_existing=True)

    async def find_by_provider_id(
        self, organization_id: str, provider: str, provider_call_id: str
    ) -> Call | None:
        query = select(Call).where(
            Call.organization_id == organization_id,
            Call.provider == provider,
            Call.provider_call_id == provider_call_id,
        )
        return (await self._session.scalars(query)).one_or_none()

    async def find_or_create(self, organization_id: str, provider: str, provider_call_id: str) -> Call:
        """The call a provider event is about, created if this is the first event of it. A concurrent
        creation surfaces as IntegrityError at commit; webhooks/events.py retries the whole event then."""
        query = (
            select(Call)
            .where(
                Call.organization_id == organization_id,
                Call.provider == provider,
                Call.provider_call_id == provider_call_id,
            )
            .options(selectinload(Call.recordings))
            .with_for_update()
        )
        call = (await self._session.scalars(query)).one_or_none()
        if call is None:
            call = Call(
                organization_id=organization_id,
                provider=provider,
                provider_call_id=provider_call_id,
                status="initiated",
                recordings=[],
            )
            self._session.add(call)
            await self._session.flush()
        return call

    def add(self, call: Call, *recordings: Recording) -> None:
        self._session.add(call)
        for recording in recordings:
            recording.call_id = call.id
            self._session.add(recording)

    async def flush(self) -> None:
        await self._session.flush()

    # The transcript lease: one reader, in any replica, fetches a call's transcript at a time.

    async def take_transcript_lease(self, call_id: str, owner: str, now: datetime, until: datetime) -> bool:
        result = await self._session.execute(
            update(Call)
            .where(
                Call.id == call_id,
                Call.transcription_fetched_at.is_(None),
                (Call.transcript_lease_until.is_(None)) | (Call.transcript_lease_until < now),
                (Call.transcript_retry_after.is_(None)) | (Call.transcript_retry_after <= now),
            )
            .values(transcript_lease_owner=owner, transcript_lease_until=until)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def store_transcript(
        self,
        call_id: str,
        owner: str,
        *,
        status: str,
        source: str,
        text: str | None,
        data: Any,
        now: datetime,
        details: CallDetails | None,
    ) -> bool:
        """Final transcript (ready or unavailable); call facts the provider reported fill only gaps."""
        values: dict[str, Any] = {
            "transcription_status": status,
            "transcription_source": source,
            "transcription_text": text,
            "transcription_data": data,
            "transcription_fetched_at": now,
            "transcript_lease_owner": None,
            "transcript_lease_until": None,
            "transcript_retry_after": None,
        }
        if details is not None:
            for column, value in (
                ("from_number", details.from_number),
                ("to_number", details.to_number),
                ("direction", details.direction),
                ("duration", details.duration),
                ("start_time", details.start_time),
            ):
                if value is not None:
                    values[column] = func.coalesce(getattr(Call, column), value)
            if details.start_time is not None:  # a bulk UPDATE skips the model's sort_time hook
                values["sort_time"] = func.coalesce(Call.start_time, details.start_time)
        return await self._update_leased(call_id, owner, values)

    async def defer_transcript(self, call_id: str, owner: str, *, status: str, retry_after: datetime) -> bool:
        """Not final (provider still processing, or it failed): try again after `retry_after`."""
        values = {
            "transcription_status": status,
            "transcript_retry_after": retry_after,
            "transcript_lease_owner": None,
            "transcript_lease_until": None,
        }
        return await self._update_leased(call_id, owner, values)

    async def _update_leased(self, call_id: str, owner: str, values: dict[str, Any]) -> bool:
        result = await self._session.execute(
            update(Call)
            .where(Call.id == call_id, Call.transcript_lease_owner == owner)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def save_recording(self, call_id: str, recording: Recording) -> None:
        """Remember a recording a provider revealed (insert, or update the row with that id)."""
        existing = await self._session.get(Recording, recording.id)
        if existing is None:
            recording.call_id = call_id
            self._session.add(recording)
            return
        for column in (
            "storage_bucket",
            "storage_key",
            "provider_recording_id",
            "content_type",
            "duration",
            "channels",
            "size_bytes",
        ):
            value = getattr(recording, column)
            if value is not None:
                setattr(existing, column, value)


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
