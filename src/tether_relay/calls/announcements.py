"""Which events a call's state announces to the organisation's endpoints (outbound/), and its redacted
copy asked for once it completed (calls/redaction_requests.py). Called at the end of
every transaction that changes a call (provider webhooks, ingest, a transcript cached, a recording found
on a read): it reads the call as that transaction sees it and emits each fact that now holds. A fact is
emitted once however often it is announced (outbound/events.py), so announcing is always safe."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.calls.models import RecordingDeletion
from tether_relay.calls.redaction_requests import request_when_due
from tether_relay.calls.repository import CallRepository
from tether_relay.outbound.events import Fact, emit
from tether_relay.outbound.repository import EndpointRepository

# A call that ended without taking place: announced as call.failed (its status says which).
_FAILED = {"failed", "busy", "no-answer", "canceled"}


async def announce(session: AsyncSession, call_id: str) -> None:
    state = await CallRepository(session).state_of(call_id)
    if state is None:
        return  # deleted
    completed = state.status == "completed" and bool(state.readable_recordings)
    await request_when_due(session, state.organization_id, call_id, completed)
    if not await EndpointRepository(session).of_organization(state.organization_id):
        return  # (the common case) nobody listens
    ids = {"organization_id": state.organization_id, "call_id": call_id, "provider": state.provider}
    status = {"status": state.status}
    if state.status == "completed":
        await emit(session, Fact("call.completed", f"call:{call_id}", data=status, **ids))
    elif state.status in _FAILED:
        await emit(session, Fact("call.failed", f"call:{call_id}", data=status, **ids))
    for recording_id, provider_recording_id in state.readable_recordings:
        data = {"recordingId": provider_recording_id or recording_id}
        await emit(session, Fact("recording.ready", f"recording:{recording_id}", data=data, **ids))
    if state.transcription_status == "ready":
        ready = {"transcriptionStatus": "ready"}
        await emit(session, Fact("transcript.ready", f"call:{call_id}", data=ready, **ids))


async def announce_deletion(session: AsyncSession, deletion: RecordingDeletion) -> None:
    data = {
        "deletedAt": deletion.deleted_at.isoformat().replace("+00:00", "Z"),
        "reason": deletion.reason,
        "recordingIds": list(deletion.recording_ids),
    }
    fact = Fact(
        "recording.deleted",
        f"call:{deletion.call_id}",
        deletion.organization_id,
        deletion.call_id,
        deletion.provider,
        data,
    )
    await emit(session, fact)
