"""calls/snapshot.py reads a call with one hand-compiled query (stdlib sqlite3 on SQLite). It must load
exactly what the ORM loads, on both databases, and see every commit made after it last read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from tests.factories import make_call, make_twilio_call
from tether_relay.calls.models import Call, CallRedaction, Recording
from tether_relay.calls.snapshot import CallSnapshot, RedactionRef
from tether_relay.organizations.models import Organization
from tether_relay.providers.base import CallRef, RecordingRef
from tether_relay.runtime import Runtime

WHEN = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


async def orm_snapshot(runtime: Runtime, organization_id: str, call_id: str) -> CallSnapshot | None:
    """The same snapshot built the ordinary way: an ORM session and the relationship's own order."""
    async with runtime.sessions() as session:
        call = (
            await session.scalars(
                select(Call)
                .where(Call.id == call_id, Call.organization_id == organization_id)
                .options(selectinload(Call.recordings))
            )
        ).one_or_none()
        if call is None:
            return None
        organization = await session.get(Organization, call.organization_id)
        redaction = await session.get(CallRedaction, call.id)
    latest = call.recordings[-1] if call.recordings else None
    return CallSnapshot(
        id=call.id,
        organization_id=call.organization_id,
        provider=call.provider,
        provider_call_id=call.provider_call_id,
        status=call.status,
        direction=call.direction,
        from_number=call.from_number,
        to_number=call.to_number,
        duration=call.duration,
        transcription_status=call.transcription_status,
        transcription_text=call.transcription_text,
        transcription_data=call.transcription_data,
        transcription_fetched_at=call.transcription_fetched_at,
        transcript_retry_after=call.transcript_retry_after,
        transcript_lease_until=call.transcript_lease_until,
        recording_deleted_at=call.recording_deleted_at,
        recording=None
        if latest is None
        else RecordingRef(
            recording_id=latest.id,
            storage_bucket=latest.storage_bucket,
            storage_key=latest.storage_key,
            provider_recording_id=latest.provider_recording_id,
            content_type=latest.content_type,
            duration=latest.duration,
            transcript_key=latest.transcript_key,
        ),
        redaction_policy=organization.redaction_policy if organization else None,
        redaction=None
        if redaction is None
        else RedactionRef(
            status=redaction.status,
            policy_key=redaction.policy_key,
            storage_bucket=redaction.storage_bucket,
            storage_key=redaction.storage_key,
            content_type=redaction.content_type,
            duration=redaction.duration,
            transcription_text=redaction.transcription_text,
            transcription_data=redaction.transcription_data,
            summary=redaction.summary,
            requested_at=redaction.requested_at,
        ),
    )


async def add_recording(runtime: Runtime, call_id: str, **fields: Any) -> None:
    async with runtime.sessions() as session:
        session.add(Recording(call_id=call_id, **fields))
        await session.commit()


CASES: dict[str, dict[str, Any]] = {
    "stored recording, list transcript": {},
    "no recording": {"audio": None},
    "dict transcript, unicode, cache columns set": {
        "transcription_data": {"segments": [{"text": "Grüße, 你好", "speaker": 1}], "n": 2.5},
        "transcription_text": "Grüße",
        "transcription_status": "ready",
        "transcription_fetched_at": WHEN,
        "transcript_retry_after": WHEN + timedelta(minutes=5),
        "transcript_lease_until": WHEN - timedelta(seconds=1),
        "recording_deleted_at": WHEN + timedelta(days=1),
    },
    "a call still ringing": {"status": "ringing", "audio": None},
    "nulls everywhere": {
        "direction": None,
        "from_number": None,
        "to_number": None,
        "duration": None,
        "transcription_data": None,
    },
    "sinch with transcript key": {
        "provider": "sinch",
        "recording": {
            "transcript_key": "org/x/transcript.json",
            "content_type": "audio/wav",
            "duration": 0.25,
        },
    },
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_snapshot_equals_what_the_orm_loads(runtime: Runtime, case: str) -> None:
    call = await make_call(runtime, "org-a", **CASES[case])
    lean = await runtime.snapshots.visible("org-a", call.id)
    assert lean is not None
    assert lean == await orm_snapshot(runtime, "org-a", call.id)
    assert lean.ref == CallRef(call.id, "org-a", call.provider, call.provider_call_id, call.direction)
    # Datetimes come back aware, as the ORM's UTCDateTime gives them.
    for value in (lean.transcription_fetched_at, lean.transcript_retry_after, lean.transcript_lease_until):
        assert value is None or value.tzinfo is not None


async def test_the_organisations_policy_and_the_calls_redaction_are_read_with_it(runtime: Runtime) -> None:
    call = await make_call(runtime, "org-a")
    async with runtime.sessions.begin() as session:
        organization = await session.get(Organization, "org-a")
        assert organization is not None
        organization.redaction_policy = {"enabled": True, "entities": ["US_SSN"], "audio": "beep"}
        session.add(
            CallRedaction(
                call_id=call.id,
                organization_id="org-a",
                status="ready",
                policy={"enabled": True},
                policy_key="k1",
                storage_bucket="recordings",
                storage_key="redacted/x.mp3",
                content_type="audio/mpeg",
                duration=12.5,
                transcription_text="User: [US_SSN] ünïcode 你好",
                transcription_data=[{"role": "user", "message": "[US_SSN]", "timestamp": 1.5}],
                summary="Caller gave [US_SSN].",
                requested_at=WHEN,
            )
        )

    lean = await runtime.snapshots.visible("org-a", call.id)

    assert lean is not None
    assert lean.redaction is not None
    assert lean.redaction_policy == {"enabled": True, "entities": ["US_SSN"], "audio": "beep"}
    assert (lean.redaction.status, lean.redaction.requested_at) == ("ready", WHEN)
    assert lean == await orm_snapshot(runtime, "org-a", call.id)


async def test_the_latest_recording_is_the_one_the_orm_lists_last(runtime: Runtime) -> None:
    call = await make_twilio_call(runtime, "org-a", "CA" + "1" * 32, "RE" + "1" * 32)
    await add_recording(
        runtime, call.id, id="rec-later", provider_recording_id="RE" + "2" * 32, created_at=WHEN
    )
    # Same created_at: the id breaks the tie, in both readers.
    await add_recording(runtime, call.id, id="rec-tie-b", created_at=WHEN + timedelta(days=3650))
    await add_recording(runtime, call.id, id="rec-tie-a", created_at=WHEN + timedelta(days=3650))
    lean = await runtime.snapshots.visible("org-a", call.id)
    assert lean is not None
    assert lean.recording is not None
    assert lean.recording.recording_id == "rec-tie-b"
    assert lean == await orm_snapshot(runtime, "org-a", call.id)


async def test_another_organisations_call_and_a_missing_one_read_as_none(runtime: Runtime) -> None:
    call = await make_call(runtime, "org-a")
    assert await runtime.snapshots.visible("org-b", call.id) is None
    assert await runtime.snapshots.visible("org-a", "0" * 24) is None
    assert await orm_snapshot(runtime, "org-b", call.id) is None


async def test_each_read_sees_the_latest_commit(runtime: Runtime) -> None:
    call = await make_call(runtime, "org-a", transcription_data=None)
    before = await runtime.snapshots.visible("org-a", call.id)
    assert before is not None
    assert before.transcription_data is None
    async with runtime.sessions() as session:
        await session.execute(
            update(Call).where(Call.id == call.id).values(transcription_data=[{"role": "user"}])
        )
        await session.commit()
    after = await runtime.snapshots.visible("org-a", call.id)
    assert after is not None
    assert after.transcription_data == [{"role": "user"}]
    await add_recording(runtime, call.id, id="rec-new", created_at=WHEN + timedelta(days=36500))
    newest = await runtime.snapshots.visible("org-a", call.id)
    assert newest is not None
    assert newest.recording is not None
    assert newest.recording.recording_id == "rec-new"
