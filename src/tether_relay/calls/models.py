from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tether_relay.db import Base, JSONType, UTCDateTime, utcnow
from tether_relay.ids import new_call_id, new_recording_id
from tether_relay.providers.base import RecordingRef

# Call statuses (set by the providers' webhooks) before the call has ended.
CALL_IN_PROGRESS = frozenset({"initiated", "queued", "ringing", "in-progress", "answered"})


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        # One call per provider call; scoped by organisation because ingest ids are chosen by clients.
        UniqueConstraint("provider", "provider_call_id", "organization_id"),
        Index("ix_calls_organization_id_sort_time", "organization_id", "sort_time", "call_id"),
        # Search's exact matches (calls/search_repository.py SearchRepository.by_facts).
        Index("ix_calls_organization_id_from_number", "organization_id", "from_number"),
        Index("ix_calls_organization_id_to_number", "organization_id", "to_number"),
        Index("ix_calls_organization_id_provider_call_id", "organization_id", "provider_call_id"),
        Index("ix_calls_organization_id_conversation_id", "organization_id", "conversation_id"),
    )

    id: Mapped[str] = mapped_column("call_id", String(32), primary_key=True, default=new_call_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(16))
    provider_call_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(64))
    contact_id: Mapped[str | None] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    direction: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="completed")
    from_number: Mapped[str | None] = mapped_column(String(32))
    to_number: Mapped[str | None] = mapped_column(String(32))
    provider_phone_number: Mapped[str | None] = mapped_column(String(32))
    start_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answer_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str | None] = mapped_column(Text)
    agent_name: Mapped[str | None] = mapped_column(String(200))
    provider_metadata: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    # The transcript cache: filled on first read (or at ingest) and never fetched again once final.
    transcription_text: Mapped[str | None] = mapped_column(Text)
    transcription_data: Mapped[Any | None] = mapped_column(JSONType)
    transcription_source: Mapped[str | None] = mapped_column(String(32))
    transcription_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # ready | pending | unavailable | failed; see transcripts/service.py for what each means.
    transcription_status: Mapped[str | None] = mapped_column(String(16))
    # The right to fetch the transcript from the provider, held by one reader in any replica at a time.
    transcript_lease_owner: Mapped[str | None] = mapped_column(String(32))
    transcript_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    transcript_retry_after: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Set when the recording was deleted (on request or by retention): reads answer RECORDING_DELETED.
    recording_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # History order: the start time, or the creation time of a call that has none (kept by the model).
    sort_time: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    recordings: Mapped[list[Recording]] = relationship(
        back_populates="call",
        order_by="[Recording.created_at, Recording.id]",
        lazy="raise",  # RECORDING_ORDER
    )


class Recording(Base):
    """One recording of a call: where its audio is (a bucket and key, or the provider) and what it is."""

    __tablename__ = "recordings"
    # The order of RECORDING_ORDER, so the latest recording is read from the index alone.
    __table_args__ = (Index("ix_recordings_call_id_created_at_id", "call_id", "created_at", "recording_id"),)

    id: Mapped[str] = mapped_column("recording_id", String(64), primary_key=True, default=new_recording_id)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"))
    # A logical bucket name from storage.buckets, or None when the provider hosts the audio (Twilio).
    storage_bucket: Mapped[str | None] = mapped_column(String(16))
    storage_key: Mapped[str | None] = mapped_column(String(1024))
    provider_recording_id: Mapped[str | None] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(64), default="audio/mpeg")
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    channels: Mapped[int | None] = mapped_column(Integer)
    # Where the provider said the audio was (Twilio's RecordingUrl): kept for reference, never fetched.
    reference_url: Mapped[str | None] = mapped_column(String(1024))
    # Sinch writes its transcript as a JSON file beside the recording, in the same bucket.
    transcript_key: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    call: Mapped[Call] = relationship(back_populates="recordings")

    @property
    def public_id(self) -> str:
        """The `recordingId` users see: the provider's own id (Twilio `RE…`) where there is one."""
        return self.provider_recording_id or self.id

    def ref(self) -> RecordingRef:
        """What a provider adapter is given of this recording."""
        return RecordingRef(
            self.id,
            self.storage_bucket,
            self.storage_key,
            self.provider_recording_id,
            self.content_type,
            self.duration,
            self.transcript_key,
        )


# The one order of a call's recordings, oldest first: the latest recording is the last.
RECORDING_ORDER = (Recording.created_at, Recording.id)


class RecordingDeletion(Base):
    """Who deleted a call's recording, when, and what was deleted where: the receipt, kept for audit."""

    __tablename__ = "recording_deletions"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(64), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    recording_ids: Mapped[list[str]] = mapped_column(JSONType)
    # A user id, or "retention" for the sweep.
    deleted_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))  # request | retention
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    stored_copy: Mapped[str] = mapped_column(String(16))  # deleted | none
    # deleted | already-gone | not-supported | failed (a later DELETE tries again)
    provider_copy: Mapped[str] = mapped_column(String(16))


class CallRedaction(Base):
    """The redacted copy of a call's latest recording and transcript, made by the redaction job under
    one policy (`policy_key`): pending, ready (the copy in our bucket, the transcript, the spans), or
    failed. Non-admin readers get only this; deleting the recording deletes it."""

    __tablename__ = "call_redactions"

    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))  # pending | ready | failed
    policy: Mapped[Any] = mapped_column(JSONType)
    policy_key: Mapped[str] = mapped_column(String(32))
    recording_id: Mapped[str | None] = mapped_column(String(64))  # the recording it was made from
    storage_bucket: Mapped[str | None] = mapped_column(String(16))
    storage_key: Mapped[str | None] = mapped_column(String(1024))
    content_type: Mapped[str | None] = mapped_column(String(64))
    duration: Mapped[float | None] = mapped_column(Float)
    transcription_text: Mapped[str | None] = mapped_column(Text)
    transcription_data: Mapped[Any | None] = mapped_column(JSONType)
    summary: Mapped[str | None] = mapped_column(Text)
    spans: Mapped[Any | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SearchDocument(Base):
    """The terms a call's transcript is found by (search/terms.py): the original's, and the redacted
    copy's. Written only by the repository, in the statements' own transaction, so search is in step with
    what reads return. Each database indexes `terms` its own way, both made by the migration: PostgreSQL a
    generated tsvector (`vector`) with a GIN index, SQLite an FTS5 table kept by triggers."""

    __tablename__ = "search_documents"
    __table_args__ = (UniqueConstraint("call_id", "redacted"),)

    # An integer key: SQLite's FTS5 table names its rows by it (a rowid that VACUUM cannot renumber).
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.call_id", ondelete="CASCADE"))
    organization_id: Mapped[str] = mapped_column(String(64))
    redacted: Mapped[bool] = mapped_column(Boolean)
    terms: Mapped[str] = mapped_column(Text)


@event.listens_for(Call, "before_insert")
@event.listens_for(Call, "before_update")
def _keep_sort_time(_mapper: object, _connection: object, call: Call) -> None:
    call.sort_time = call.start_time or call.created_at or utcnow()
