"""Customers' webhook endpoints (ADMIN or SUPERADMIN of the organisation): register one and get its
signing secret once, list, delete, rotate the secret, read the delivery log, replay a delivery. The
events and their delivery: outbound/."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from tether_relay.api.deps import Admin, RuntimeDep
from tether_relay.api.errors import error_responses
from tether_relay.api.late_body import documented_body, validated_body
from tether_relay.api.types import StoredText
from tether_relay.outbound.endpoints import LoggedDelivery, NewEndpoint
from tether_relay.outbound.events import EventType
from tether_relay.outbound.models import Delivery, WebhookEndpoint

router = APIRouter(tags=["Webhooks"])


# Anything storable up to 64 characters is looked up (and not found); a NUL never reaches the database.
EndpointId = Annotated[StoredText, Path(max_length=64, description="The endpoint's id (`ep_…`).")]
DeliveryId = Annotated[StoredText, Path(max_length=64, description="The delivery's id (`dlv_…`).")]
ERRORS = error_responses(400, 401, 403, 404)


class EndpointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: StoredText = Field(
        min_length=1, max_length=2048, description="https, on a public address (events are POSTed here)."
    )
    events: list[EventType] | None = Field(
        None, min_length=1, max_length=20, description="The event types to send; omitted: every type."
    )
    description: StoredText | None = Field(None, max_length=500)


class EndpointOut(BaseModel):
    id: str
    url: str
    events: list[str] | None = Field(description="null: every event type.")
    description: str | None
    enabled: bool
    disabledReason: Literal["gone", "failing"] | None = Field(
        None, description="Why it was disabled: `gone` (it answered 410), `failing` (five days of failures)."
    )
    createdAt: datetime


class EndpointWithSecret(BaseModel):
    success: Literal[True]
    endpoint: EndpointOut
    secret: str = Field(description="The signing secret (`whsec_…`), shown in full only in this answer.")


class EndpointList(BaseModel):
    success: Literal[True]
    endpoints: list[EndpointOut]


class EndpointDeleted(BaseModel):
    success: Literal[True]
    id: str


class AttemptOut(BaseModel):
    attemptedAt: datetime
    status: int | None = Field(description="The endpoint's HTTP status; null when there was no answer.")
    error: str | None = Field(description="What went wrong: `timeout`, `connection failed`, `HTTP 500`, …")
    durationMs: int


class DeliveryOut(BaseModel):
    id: str
    eventId: str = Field(description="The `webhook-id` of every attempt.")
    eventType: str
    status: Literal["pending", "delivered", "failed"]
    attemptCount: int
    nextAttemptAt: datetime | None
    createdAt: datetime
    attempts: list[AttemptOut] = Field(description="Oldest first.")


class DeliveryList(BaseModel):
    success: Literal[True]
    deliveries: list[DeliveryOut] = Field(description="Newest first.")
    limit: int
    offset: int


class Replayed(BaseModel):
    success: Literal[True]
    deliveryId: str
    status: Literal["pending"]


def _endpoint(endpoint: WebhookEndpoint) -> EndpointOut:
    return EndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        events=endpoint.events,
        description=endpoint.description,
        enabled=endpoint.enabled,
        disabledReason=endpoint.disabled_reason,
        createdAt=endpoint.created_at,
    )


def _delivery(logged: LoggedDelivery) -> DeliveryOut:
    delivery: Delivery = logged.delivery
    return DeliveryOut(
        id=delivery.id,
        eventId=logged.event.id,
        eventType=logged.event.type,
        status=delivery.status,
        attemptCount=delivery.attempt_count,
        nextAttemptAt=delivery.next_attempt_at,
        createdAt=delivery.created_at,
        attempts=[
            AttemptOut(
                attemptedAt=a.attempted_at, status=a.status_code, error=a.error, durationMs=a.duration_ms
            )
            for a in logged.attempts
        ],
    )


@router.post(
    "/api/webhooks/endpoints",
    status_code=201,
    response_model=EndpointWithSecret,
    responses=error_responses(400, 401, 403, 409),
    summary="Register a webhook endpoint (admin)",
    openapi_extra=documented_body(EndpointCreate),
)
async def create_endpoint(request: Request, admin: Admin, runtime: RuntimeDep) -> EndpointWithSecret:
    """Events are signed with the secret in this answer (Standard Webhooks); it is not shown again."""
    body = await validated_body(request, EndpointCreate)  # read once the token was checked
    created = await runtime.endpoints.create(
        admin.organization_id,
        NewEndpoint(
            body.url, list(body.events) if body.events is not None else None, body.description or None
        ),
    )
    return EndpointWithSecret(success=True, endpoint=_endpoint(created.endpoint), secret=created.secret)


@router.get(
    "/api/webhooks/endpoints",
    response_model=EndpointList,
    responses=error_responses(401, 403),
    summary="List the organisation's webhook endpoints (admin)",
)
async def list_endpoints(admin: Admin, runtime: RuntimeDep) -> EndpointList:
    endpoints = await runtime.endpoints.of_organization(admin.organization_id)
    return EndpointList(success=True, endpoints=[_endpoint(e) for e in endpoints])


@router.delete(
    "/api/webhooks/endpoints/{endpointId}",
    response_model=EndpointDeleted,
    responses=ERRORS,
    summary="Delete a webhook endpoint and its delivery log (admin)",
)
async def delete_endpoint(endpointId: EndpointId, admin: Admin, runtime: RuntimeDep) -> EndpointDeleted:
    await runtime.endpoints.delete(admin.organization_id, endpointId)
    return EndpointDeleted(success=True, id=endpointId)


@router.post(
    "/api/webhooks/endpoints/{endpointId}/rotate-secret",
    response_model=EndpointWithSecret,
    responses=ERRORS,
    summary="Rotate an endpoint's signing secret (admin)",
)
async def rotate_secret(endpointId: EndpointId, admin: Admin, runtime: RuntimeDep) -> EndpointWithSecret:
    """The new secret, shown once. For 24 hours deliveries carry a signature with each secret."""
    rotated = await runtime.endpoints.rotate(admin.organization_id, endpointId)
    return EndpointWithSecret(success=True, endpoint=_endpoint(rotated.endpoint), secret=rotated.secret)


@router.get(
    "/api/webhooks/endpoints/{endpointId}/deliveries",
    response_model=DeliveryList,
    responses=ERRORS,
    summary="An endpoint's deliveries, newest first, with every attempt (admin)",
)
async def list_deliveries(
    endpointId: EndpointId,
    admin: Admin,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> DeliveryList:
    logged = await runtime.endpoints.deliveries(admin.organization_id, endpointId, limit, offset)
    return DeliveryList(success=True, deliveries=[_delivery(d) for d in logged], limit=limit, offset=offset)


@router.post(
    "/api/webhooks/deliveries/{deliveryId}/replay",
    status_code=202,
    response_model=Replayed,
    responses=error_responses(400, 401, 403, 404, 409),
    summary="Send a delivery's event again now (admin)",
)
async def replay_delivery(deliveryId: DeliveryId, admin: Admin, runtime: RuntimeDep) -> Replayed:
    """Same `webhook-id`, signed anew with the endpoint's current secret; the attempt joins the log."""
    delivery = await runtime.endpoints.replay(admin.organization_id, deliveryId)
    return Replayed(success=True, deliveryId=delivery.id, status="pending")
