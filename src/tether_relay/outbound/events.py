"""Emitting an event: recorded in the caller's transaction with the change it reports, once per fact, with
a delivery (and its job) for each endpoint that takes it. Nothing is recorded for an organisation with no
endpoint for the type. Payloads are thin: ids and states, never audio, transcript text or credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.db import utcnow
from tether_relay.ids import new_delivery_id, new_event_id
from tether_relay.jobs.queue import Job, enqueue
from tether_relay.outbound.models import Delivery, OutboundEvent
from tether_relay.outbound.repository import DeliveryRepository, EndpointRepository

EventType = Literal[
    "recording.ready", "transcript.ready", "recording.deleted", "call.completed", "call.failed"
]
EVENT_TYPES: tuple[str, ...] = get_args(EventType)

DELIVER_WEBHOOK = "deliver-webhook"


@dataclass(frozen=True, slots=True)
class Fact:
    """Something that became true of a call. `key` names the fact: one event per (organisation, key)
    however often it is reported."""

    type: EventType
    key: str
    organization_id: str
    call_id: str
    provider: str
    data: dict[str, Any] = field(default_factory=dict)


def delivery_job(delivery_id: str, attempt: int, *, after: float = 0.0, replay: bool = False) -> Job:
    """Attempt number `attempt` of a delivery. A replay is not deduplicated against a retry waiting for
    its time: the first of them to run records the attempt, the other finds it recorded."""
    return Job(
        DELIVER_WEBHOOK,
        {"delivery": delivery_id, "attempt": str(attempt)},
        dedupe_key=None if replay else f"{DELIVER_WEBHOOK}:{delivery_id}:{attempt}",
        delay=timedelta(seconds=after),
    )


def body_of(fact: Fact, at: datetime) -> str:
    data = {"callId": fact.call_id, "organizationId": fact.organization_id, "provider": fact.provider}
    return orjson.dumps(
        {"type": fact.type, "timestamp": at.isoformat().replace("+00:00", "Z"), "data": data | fact.data}
    ).decode()


async def emit(session: AsyncSession, fact: Fact, now: datetime | None = None) -> str | None:
    """In the caller's transaction; the event's id, or None when it was not recorded (no endpoint takes
    it, or the fact was emitted before)."""
    endpoints = await EndpointRepository(session).subscribed(fact.organization_id, fact.type)
    if not endpoints:
        return None
    now = now or utcnow()
    event = OutboundEvent(
        id=new_event_id(),
        organization_id=fact.organization_id,
        fact=f"{fact.type}:{fact.key}",
        type=fact.type,
        body=body_of(fact, now),
        created_at=now,
    )
    deliveries = DeliveryRepository(session)
    if not await deliveries.add_event(event):
        return None
    for endpoint in endpoints:
        delivery = Delivery(
            id=new_delivery_id(),
            event_id=event.id,
            endpoint_id=endpoint.id,
            status="pending",
            attempt_count=0,
            next_attempt_at=now,
            created_at=now,
        )
        deliveries.add(delivery)
        await enqueue(session, delivery_job(delivery.id, 1))
    await session.flush()
    return event.id
