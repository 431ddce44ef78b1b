from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tether_relay.db import Base, UTCDateTime, utcnow


class WebhookEvent(Base):
    """Each delivered event once: a duplicate delivery hits the unique constraint and changes nothing."""

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("provider", "event_key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(255))
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    call_id: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ElevenLabsAgent(Base):
    """Which organisation an ElevenLabs agent belongs to, learnt from webhooks that verified: the next
    event from that agent is checked against one secret instead of every organisation's."""

    __tablename__ = "elevenlabs_agents"

    agent_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    learnt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
