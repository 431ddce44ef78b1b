"""The queries of outbound events: endpoints (one aggregate), and events with their deliveries and
attempts (the other). Every change of a delivery is one conditional statement, so two runs of the same
attempt (a job run twice, a replay racing a retry) record it once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.db import rowcount
from tether_relay.outbound.models import Delivery, DeliveryAttempt, OutboundEvent, WebhookEndpoint

MAX_ENDPOINTS = 20  # per organisation


class EndpointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of_organization(self, organization_id: str) -> Sequence[WebhookEndpoint]:
        query = (
            select(WebhookEndpoint)
            .where(WebhookEndpoint.organization_id == organization_id)
            .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        )
        return (await self._session.scalars(query)).all()

    async def subscribed(self, organization_id: str, event_type: str) -> list[WebhookEndpoint]:
        """The enabled endpoints that take `event_type` (no list: every type)."""
        return [
            endpoint
            for endpoint in await self.of_organization(organization_id)
            if endpoint.enabled and (endpoint.events is None or event_type in endpoint.events)
        ]

    async def get(
        self, organization_id: str, endpoint_id: str, *, lock: bool = False
    ) -> WebhookEndpoint | None:
        query = select(WebhookEndpoint).where(
            WebhookEndpoint.id == endpoint_id, WebhookEndpoint.organization_id == organization_id
        )
        if lock:
            query = query.with_for_update()
        return (await self._session.scalars(query)).one_or_none()

    async def count(self, organization_id: str) -> int:
        query = select(func.count()).where(WebhookEndpoint.organization_id == organization_id)
        return int(await self._session.scalar(query) or 0)

    async def turns_of(self, organization_id: str, now: datetime) -> tuple[int, datetime | None]:
        """How many of the organisation's endpoints have an attempt under way, and when the first ends."""
        count, first = (
            await self._session.execute(
                select(func.count(), func.min(WebhookEndpoint.sending_until)).where(
                    WebhookEndpoint.organization_id == organization_id, WebhookEndpoint.sending_until > now
                )
            )
        ).one()
        return int(count or 0), first

    def add(self, endpoint: WebhookEndpoint) -> None:
        self._session.add(endpoint)

    async def remove(self, organization_id: str, endpoint_id: str) -> bool:
        result = await self._session.execute(
            delete(WebhookEndpoint).where(
                WebhookEndpoint.id == endpoint_id, WebhookEndpoint.organization_id == organization_id
            )
        )
        return rowcount(result) == 1

    async def take_turn(self, endpoint_id: str, now: datetime, until: datetime) -> datetime | None:
        """Hold the endpoint for one attempt until `until`; None if taken, else when the holder's turn
        ends (try again then)."""
        result = await self._session.execute(
            update(WebhookEndpoint)
            .where(
                WebhookEndpoint.id == endpoint_id,
                (WebhookEndpoint.sending_until.is_(None)) | (WebhookEndpoint.sending_until <= now),
            )
            .values(sending_until=until)
        )
        if rowcount(result) == 1:
            return None
        held = await self._session.scalar(
            select(WebhookEndpoint.sending_until).where(WebhookEndpoint.id == endpoint_id)
        )
        return held or now

    async def end_turn(self, endpoint_id: str, until: datetime) -> None:
        """End the turn taken until `until` (not a later one, taken after this one lapsed)."""
        await self._session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.sending_until == until)
            .values(sending_until=None)
        )

    async def succeeded(self, endpoint_id: str) -> None:
        await self._session.execute(
            update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(failing_since=None)
        )

    async def failed(self, endpoint_id: str, now: datetime) -> datetime:
        """Since when the endpoint has been failing (now, if this is the first failure since a success)."""
        await self._session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id)
            .values(failing_since=func.coalesce(WebhookEndpoint.failing_since, now))
        )
        since = await self._session.scalar(
            select(WebhookEndpoint.failing_since).where(WebhookEndpoint.id == endpoint_id)
        )
        return since or now

    async def disable(self, endpoint_id: str, reason: str, now: datetime) -> bool:
        """True if this disabled it (it was enabled)."""
        result = await self._session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.enabled.is_(True))
            .values(enabled=False, disabled_reason=reason, disabled_at=now)
        )
        return rowcount(result) == 1


@dataclass(frozen=True, slots=True)
class Pending:
    """What one attempt of a delivery needs."""

    delivery: Delivery
    event: OutboundEvent
    endpoint: WebhookEndpoint


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_event(self, event: OutboundEvent) -> bool:
        """Record the event unless its fact was recorded before (then False: it is not emitted again)."""
        dialect = (await self._session.connection()).dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        added = await self._session.scalar(
            insert(OutboundEvent)
            .values(
                id=event.id,
                organization_id=event.organization_id,
                fact=event.fact,
                type=event.type,
                body=event.body,
                created_at=event.created_at,
            )
            .on_conflict_do_nothing()
            .returning(OutboundEvent.id)
        )
        return added is not None

    def add(self, delivery: Delivery) -> None:
        self._session.add(delivery)

    async def pending(self, delivery_id: str) -> Pending | None:
        row = (
            await self._session.execute(
                select(Delivery, OutboundEvent, WebhookEndpoint)
                .join(OutboundEvent, OutboundEvent.id == Delivery.event_id)
                .join(WebhookEndpoint, WebhookEndpoint.id == Delivery.endpoint_id)
                .where(Delivery.id == delivery_id)
            )
        ).one_or_none()
        return None if row is None else Pending(row[0], row[1], row[2])

    async def record(
        self,
        delivery_id: str,
        attempt: int,
        attempted: DeliveryAttempt,
        *,
        status: str,
        next_attempt_at: datetime | None,
    ) -> bool:
        """Record attempt number `attempt` of a pending delivery; False (nothing recorded) if that attempt
        was recorded already."""
        result = await self._session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.attempt_count == attempt - 1,
                Delivery.status == "pending",
            )
            .values(attempt_count=attempt, status=status, next_attempt_at=next_attempt_at)
        )
        if rowcount(result) != 1:
            return False
        self._session.add(attempted)
        return True

    async def is_next(self, delivery_id: str, attempt: int) -> bool:
        """Whether attempt number `attempt` of the delivery is still to be made."""
        count = await self._session.scalar(
            select(Delivery.attempt_count).where(Delivery.id == delivery_id, Delivery.status == "pending")
        )
        return count == attempt - 1

    async def next_due(self, endpoint_id: str, now: datetime) -> tuple[str, int] | None:
        """The endpoint's oldest pending delivery that is due: (its id, the number of its next attempt)."""
        row = (
            await self._session.execute(
                select(Delivery.id, Delivery.attempt_count)
                .where(
                    Delivery.endpoint_id == endpoint_id,
                    Delivery.status == "pending",
                    Delivery.next_attempt_at <= now,
                )
                .order_by(Delivery.created_at, Delivery.id)
                .limit(1)
            )
        ).one_or_none()
        return None if row is None else (row.id, row.attempt_count + 1)

    async def give_up(self, delivery_id: str) -> None:
        """A pending delivery whose endpoint was disabled: never attempted again."""
        await self._session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == "pending")
            .values(status="failed", next_attempt_at=None)
        )

    async def of_endpoint(
        self, endpoint_id: str, limit: int, offset: int
    ) -> list[tuple[Delivery, OutboundEvent]]:
        """Newest first."""
        rows = await self._session.execute(
            select(Delivery, OutboundEvent)
            .join(OutboundEvent, OutboundEvent.id == Delivery.event_id)
            .where(Delivery.endpoint_id == endpoint_id)
            .order_by(Delivery.created_at.desc(), Delivery.id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [(row[0], row[1]) for row in rows]

    async def attempts_of(self, delivery_ids: Sequence[str]) -> dict[str, list[DeliveryAttempt]]:
        found: dict[str, list[DeliveryAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
        if delivery_ids:
            query = (
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id.in_(delivery_ids))
                .order_by(DeliveryAttempt.id)
            )
            for attempted in await self._session.scalars(query):
                found[attempted.delivery_id].append(attempted)
        return found

    async def of_organization(self, organization_id: str, delivery_id: str) -> Delivery | None:
        """The delivery, if it went to one of the organisation's endpoints."""
        query = (
            select(Delivery)
            .join(WebhookEndpoint, WebhookEndpoint.id == Delivery.endpoint_id)
            .where(Delivery.id == delivery_id, WebhookEndpoint.organization_id == organization_id)
            .with_for_update(of=Delivery)
        )
        return (await self._session.scalars(query)).one_or_none()

    async def reopen(self, delivery_id: str, now: datetime) -> int:
        """Make a delivery pending and due again (a replay); the number its next attempt will have."""
        await self._session.execute(
            update(Delivery).where(Delivery.id == delivery_id).values(status="pending", next_attempt_at=now)
        )
        count = await self._session.scalar(select(Delivery.attempt_count).where(Delivery.id == delivery_id))
        return int(count or 0) + 1
