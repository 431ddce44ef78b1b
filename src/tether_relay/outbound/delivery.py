"""The delivery job: one attempt of one event to one endpoint, then what it calls for, recorded in one
transaction: delivered; retried after the next delay of TETHER_WEBHOOK_RETRY_SCHEDULE (or the endpoint's
Retry-After, if longer) by a new job; or given up. A 410 disables the endpoint at once, and an endpoint
whose every attempt has failed for TETHER_WEBHOOK_DISABLE_AFTER_SECONDS is disabled. Every attempt of an
event carries the event's id as `webhook-id`, and is signed anew at its own time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay import metrics
from tether_relay.db import utcnow
from tether_relay.jobs.queue import enqueue
from tether_relay.organizations.repository import OrganizationRepository
from tether_relay.outbound.events import delivery_job
from tether_relay.outbound.models import DeliveryAttempt
from tether_relay.outbound.repository import DeliveryRepository, EndpointRepository, Pending
from tether_relay.outbound.sender import Outcome, Sender
from tether_relay.outbound.signing import Seals, signature

log = logging.getLogger("tether_relay.outbound")

MAX_RETRY_AFTER = timedelta(days=1)
TURN_MARGIN_SECONDS = 0.05
# How often a delivery waiting for its organisation's turns looks again.
ORGANISATION_POLL_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    retry_schedule: tuple[float, ...]
    disable_after: timedelta
    # How long one attempt may hold its endpoint: the attempt's own time cap, and a margin.
    turn: timedelta = timedelta(seconds=20)
    # Attempts one organisation may have under way at once, across its endpoints.
    organisation_turns: int = 2


class Deliverer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sender: Sender,
        seals: Seals,
        policy: DeliveryPolicy,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._sender = sender
        self._seals = seals
        self._policy = policy
        self._clock = clock

    async def deliver(self, payload: dict[str, str]) -> None:
        """The job's handler. Only a database failure raises (the job is then retried as any job is)."""
        delivery_id, attempt = payload["delivery"], int(payload["attempt"])
        async with self._sessions() as session:
            pending = await DeliveryRepository(session).pending(delivery_id)
        if pending is None or pending.delivery.status != "pending":
            return  # the endpoint was deleted, or the delivery settled
        if pending.delivery.attempt_count != attempt - 1:
            return  # this attempt was made already (a job run twice, a replay that went first)
        if not pending.endpoint.enabled:
            async with self._sessions.begin() as session:
                await DeliveryRepository(session).give_up(delivery_id)
            return
        now = self._clock()
        turn = now + self._policy.turn
        if not await self._take_turn(pending, attempt, now, turn):
            return  # another attempt is under way, or made this one: this one runs after it, if at all
        signed = signature(
            self._seals.signers(pending.endpoint, now), pending.event.id, now, pending.event.body
        )
        outcome = await self._sender.send(
            pending.endpoint.url, pending.event.id, now, pending.event.body, signed
        )
        async with self._sessions.begin() as session:
            await self._settle(session, pending, attempt, now, turn, outcome)

    async def _take_turn(self, pending: Pending, attempt: int, now: datetime, turn: datetime) -> bool:
        async with self._sessions.begin() as session:
            endpoints, deliveries = EndpointRepository(session), DeliveryRepository(session)
            oldest = await deliveries.next_due(pending.endpoint.id, now)
            if oldest is not None and oldest[0] != pending.delivery.id:
                # In order of creation: the endpoint's oldest due delivery goes first, and the one after
                # it is kicked when it settles; this job is only the fallback.
                await enqueue(session, delivery_job(*oldest, replay=True))
                fallback = self._policy.turn.total_seconds()
                await enqueue(
                    session, delivery_job(pending.delivery.id, attempt, after=fallback, replay=True)
                )
                return False
            # One organisation's turns are taken one at a time (its row locked), and only so many at once.
            organization_id = pending.endpoint.organization_id
            await OrganizationRepository(session).lock(organization_id)
            busy, free_at = await endpoints.turns_of(organization_id, now)
            if busy >= self._policy.organisation_turns:
                # A turn usually ends long before its cap (free_at): look again soon, not then.
                wait = min(max(((free_at or now) - now).total_seconds(), 0.0), ORGANISATION_POLL_SECONDS)
                wait += TURN_MARGIN_SECONDS
                await enqueue(session, delivery_job(pending.delivery.id, attempt, after=wait, replay=True))
                return False
            busy_until = await endpoints.take_turn(pending.endpoint.id, now, turn)
            if busy_until is None:
                # Checked again under the turn: the read above may predate the last attempt's record
                # (two jobs for one attempt: its own and the one the previous attempt kicked).
                if await deliveries.is_next(pending.delivery.id, attempt):
                    return True
                await endpoints.end_turn(pending.endpoint.id, turn)
                return False
            wait = max((busy_until - now).total_seconds(), 0.0) + TURN_MARGIN_SECONDS
            await enqueue(session, delivery_job(pending.delivery.id, attempt, after=wait, replay=True))
        return False

    async def _settle(
        self,
        session: AsyncSession,
        pending: Pending,
        attempt: int,
        at: datetime,
        turn: datetime,
        outcome: Outcome,
    ) -> None:
        endpoint_id = pending.endpoint.id
        endpoints = EndpointRepository(session)
        now = self._clock()
        status, retry_in = "failed", None
        if outcome.delivered:
            status = "delivered"
        elif outcome.retry and attempt <= len(self._policy.retry_schedule):
            retry_in = timedelta(seconds=self._policy.retry_schedule[attempt - 1])
            if outcome.retry_after_seconds is not None:
                retry_in = max(retry_in, min(timedelta(seconds=outcome.retry_after_seconds), MAX_RETRY_AFTER))
            status = "pending"
        attempted = DeliveryAttempt(
            delivery_id=pending.delivery.id,
            attempted_at=at,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
        next_at = now + retry_in if retry_in is not None else None
        deliveries = DeliveryRepository(session)
        await endpoints.end_turn(endpoint_id, turn)
        recorded = await deliveries.record(
            pending.delivery.id, attempt, attempted, status=status, next_attempt_at=next_at
        )
        # The endpoint's next delivery goes now, oldest first, rather than when its wait ends.
        if (following := await deliveries.next_due(endpoint_id, now)) is not None:
            await enqueue(session, delivery_job(*following, replay=True))
        if not recorded:
            return  # another run recorded this attempt first
        metrics.WEBHOOK_ATTEMPTS.labels(
            "delivered" if outcome.delivered else "retried" if retry_in else "failed"
        ).inc()
        if outcome.delivered:
            await endpoints.succeeded(endpoint_id)
            return
        if retry_in is not None:
            await enqueue(
                session, delivery_job(pending.delivery.id, attempt + 1, after=retry_in.total_seconds())
            )
        if outcome.gone:
            await self._disable(endpoints, endpoint_id, "gone", now)
        elif now - await endpoints.failed(endpoint_id, now) >= self._policy.disable_after:
            await self._disable(endpoints, endpoint_id, "failing", now)

    async def _disable(
        self, endpoints: EndpointRepository, endpoint_id: str, reason: str, now: datetime
    ) -> None:
        if await endpoints.disable(endpoint_id, reason, now):
            metrics.WEBHOOK_ENDPOINTS_DISABLED.labels(reason).inc()
            log.warning("webhook endpoint disabled", extra={"endpoint": endpoint_id, "reason": reason})
