"""The endpoint API's logic: register an endpoint (its URL checked as an ingest URL is), list and delete
them, rotate a secret, read an endpoint's delivery log, replay a delivery. Always within one
organisation: another organisation's ids are not found."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.db import utcnow
from tether_relay.errors import Conflict, DeliveryNotFound, EndpointNotFound, ValidationFailed
from tether_relay.ids import new_endpoint_id
from tether_relay.jobs.queue import enqueue
from tether_relay.organizations.repository import OrganizationRepository
from tether_relay.outbound.events import EVENT_TYPES, delivery_job
from tether_relay.outbound.models import Delivery, DeliveryAttempt, OutboundEvent, WebhookEndpoint
from tether_relay.outbound.repository import MAX_ENDPOINTS, DeliveryRepository, EndpointRepository
from tether_relay.outbound.signing import ROTATION_OVERLAP, Seals, new_secret
from tether_relay.providers.public_url import Resolver, UrlRefused, check, system_resolver

MAX_URL_LENGTH = 2048


@dataclass(frozen=True, slots=True)
class NewEndpoint:
    url: str
    events: list[str] | None
    description: str | None


@dataclass(frozen=True, slots=True)
class Created:
    endpoint: WebhookEndpoint
    secret: str  # shown this once


@dataclass(frozen=True, slots=True)
class LoggedDelivery:
    delivery: Delivery
    event: OutboundEvent
    attempts: list[DeliveryAttempt]


class EndpointService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        seals: Seals,
        *,
        allow_private: bool,
        resolver: Resolver = system_resolver,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._seals = seals
        self._allow_private = allow_private
        self._resolve = resolver
        self._clock = clock

    async def create(self, organization_id: str, new: NewEndpoint) -> Created:
        await self._check_url(new.url)
        events = _checked_events(new.events)
        secret = new_secret()
        endpoint = WebhookEndpoint(
            id=new_endpoint_id(),
            organization_id=organization_id,
            url=new.url,
            events=events,
            description=new.description,
            enabled=True,
            secret=self._seals.seal(secret),
            created_at=self._clock(),
        )
        async with self._sessions.begin() as session:
            # Counted and added one request at a time per organisation: concurrent ones cannot pass the cap.
            await OrganizationRepository(session).lock(organization_id)
            endpoints = EndpointRepository(session)
            if await endpoints.count(organization_id) >= MAX_ENDPOINTS:
                raise Conflict(f"An organisation may have at most {MAX_ENDPOINTS} webhook endpoints")
            endpoints.add(endpoint)
        return Created(endpoint, secret)

    async def of_organization(self, organization_id: str) -> Sequence[WebhookEndpoint]:
        async with self._sessions() as session:
            return await EndpointRepository(session).of_organization(organization_id)

    async def delete(self, organization_id: str, endpoint_id: str) -> None:
        async with self._sessions.begin() as session:
            if not await EndpointRepository(session).remove(organization_id, endpoint_id):
                raise EndpointNotFound()

    async def rotate(self, organization_id: str, endpoint_id: str) -> Created:
        """A new secret signs from now on; the one it replaces signs too for the next 24 hours."""
        secret = new_secret()
        async with self._sessions.begin() as session:
            # One rotation at a time (SQLite ignores FOR UPDATE): each keeps the secret the last one made.
            await OrganizationRepository(session).lock(organization_id)
            endpoint = await EndpointRepository(session).get(organization_id, endpoint_id, lock=True)
            if endpoint is None:
                raise EndpointNotFound()
            endpoint.previous_secret = endpoint.secret
            endpoint.previous_secret_until = self._clock() + ROTATION_OVERLAP
            endpoint.secret = self._seals.seal(secret)
        return Created(endpoint, secret)

    async def deliveries(
        self, organization_id: str, endpoint_id: str, limit: int, offset: int
    ) -> list[LoggedDelivery]:
        async with self._sessions() as session:
            if await EndpointRepository(session).get(organization_id, endpoint_id) is None:
                raise EndpointNotFound()
            deliveries = DeliveryRepository(session)
            found = await deliveries.of_endpoint(endpoint_id, limit, offset)
            attempts = await deliveries.attempts_of([delivery.id for delivery, _ in found])
        return [LoggedDelivery(delivery, event, attempts[delivery.id]) for delivery, event in found]

    async def replay(self, organization_id: str, delivery_id: str) -> Delivery:
        """The event sent again now, as a new attempt of the same delivery (same `webhook-id`), signed
        with the endpoint's current secrets."""
        async with self._sessions.begin() as session:
            deliveries = DeliveryRepository(session)
            delivery = await deliveries.of_organization(organization_id, delivery_id)
            if delivery is None:
                raise DeliveryNotFound()
            endpoint = await EndpointRepository(session).get(organization_id, delivery.endpoint_id)
            if endpoint is None or not endpoint.enabled:
                raise Conflict("The endpoint is disabled: create it again to resume deliveries")
            attempt = await deliveries.reopen(delivery_id, self._clock())
            await enqueue(session, delivery_job(delivery_id, attempt, replay=True))
            await session.refresh(delivery)
        return delivery

    async def _check_url(self, url: str) -> None:
        if len(url) > MAX_URL_LENGTH:
            raise ValidationFailed.of("url", f"url must be at most {MAX_URL_LENGTH} characters")
        try:
            await check(url, allow_private=self._allow_private, resolve=self._resolve)
        except UrlRefused as refused:
            raise ValidationFailed.of("url", f"url refused: {refused}", "url") from None


def _checked_events(events: list[str] | None) -> list[str] | None:
    if events is None:
        return None
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise ValidationFailed.of(
            "events", f"unknown event types: {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}"
        )
    if not events:
        raise ValidationFailed.of("events", "events must name at least one type (omit it for every type)")
    return sorted(set(events), key=EVENT_TYPES.index)
