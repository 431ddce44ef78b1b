from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tether_relay.db import Base, JSONType, UTCDateTime, utcnow


class Organization(Base):
    """A tenant, known by the `organizationId` claim; created the first time a token names it."""

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Recordings older than this are deleted by `tether-relay retention sweep`; None keeps them.
    retention_days: Mapped[int | None] = mapped_column(Integer)
    # redaction/policy.py's Policy as JSON; None is off.
    redaction_policy: Mapped[Any | None] = mapped_column(JSONType)


class ProviderCredential(Base):
    """One provider's credentials for one organisation, encrypted at rest as a single Fernet token."""

    __tablename__ = "provider_credentials"
    __table_args__ = (UniqueConstraint("organization_id", "provider"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    encrypted: Mapped[str] = mapped_column(Text)
    # Not a secret: what a webhook names its sender by (Twilio AccountSid, Sinch application key).
    lookup_key: Mapped[str | None] = mapped_column(String(128), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
