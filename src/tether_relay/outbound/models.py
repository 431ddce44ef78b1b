from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tether_relay.db import Base, JSONType, UTCDateTime, utcnow


class WebhookEndpoint(Base):
    """A customer's URL and the events it takes. Its signing secrets are sealed (outbound/secrets.py);
    during a rotation the previous one signs too, until `previous_secret_until`."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2048))
    events: Mapped[list[str] | None] = mapped_column(JSONType)  # None: every type
    description: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(16))  # gone (a 410) | failing
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    secret: Mapped[str] = mapped_column(Text)
    previous_secret: Mapped[str | None] = mapped_column(Text)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Since when every attempt has failed (None after a success): five days of it disable the endpoint.
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # One attempt at a time per endpoint (in order, and a slow endpoint holds one worker, not all of
    # them): the attempt under way holds the endpoint until then; a worker that died lets it lapse.
    sending_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OutboundEvent(Base):
    """One fact, once: (organisation, fact) is unique, so the same fact reported twice (a webhook
    delivered to us twice, two replicas, a retried job) is one event. `body` is the JSON sent, as sent."""

    __tablename__ = "outbound_events"
    __table_args__ = (UniqueConstraint("organization_id", "fact"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the `webhook-id` of every attempt
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    fact: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Delivery(Base):
    """An event on its way to one endpoint: pending until delivered, or failed for good."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_endpoint", "endpoint_id", "created_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("outbound_events.id", ondelete="CASCADE"), index=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DeliveryAttempt(Base):
    """What one attempt got: the HTTP status, or what went wrong before there was one."""

    __tablename__ = "webhook_delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    duration_ms: Mapped[int] = mapped_column(Integer)
