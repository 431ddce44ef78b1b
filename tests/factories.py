"""Small async builders for test data, with keyword overrides. Each test makes its own rows."""

from __future__ import annotations

from typing import Any

from tether_relay.calls.models import Call, Recording
from tether_relay.calls.repository import CallRepository
from tether_relay.ids import new_call_id, new_recording_id
from tether_relay.organizations.repository import OrganizationRepository
from tether_relay.runtime import Runtime
from tether_relay.storage.buckets import RECORDINGS, SINCH, recording_key

AUDIO = b"ID3\x04\x00" + bytes(range(256)) * 40  # an MP3-ish header and ~10 KB of every byte value

TRANSCRIPT = [
    {"role": "agent", "message": "Hi, this is Alex from Example Corp.", "timestamp": 0.5},
    {"role": "user", "message": "Hey Alex.", "timestamp": 2.8},
]


async def make_call(
    runtime: Runtime,
    organization_id: str = "org-a",
    *,
    provider: str = "external",
    audio: bytes | None = AUDIO,
    recording: dict[str, Any] | None = None,
    **fields: Any,
) -> Call:
    """A call (and, unless `audio=None`, one stored recording) in `organization_id`."""
    call_id = fields.pop("id", new_call_id())
    values: dict[str, Any] = {
        "id": call_id,
        "organization_id": organization_id,
        "provider": provider,
        "provider_call_id": f"{provider}-{call_id}",
        "direction": "outbound",
        "status": "completed",
        "from_number": "+14165550100",
        "to_number": "+14165550199",
        "duration": 154.0,
        "transcription_data": TRANSCRIPT,
        **fields,
    }
    call = Call(**values)
    rows: list[Any] = [call]
    if audio is not None:
        bucket = SINCH if provider == "sinch" else RECORDINGS
        recording_id = new_recording_id()
        key = recording_key(organization_id, call_id, recording_id, "mp3")
        if audio:
            await runtime.buckets.get(bucket).put(key, audio, "audio/mpeg")
        row = {
            "id": recording_id,
            "call_id": call_id,
            "storage_bucket": bucket,
            "storage_key": key,
            "size_bytes": len(audio),
            "duration": 154.0,
            **(recording or {}),
        }
        rows.append(Recording(**row))
    async with runtime.sessions() as session:
        await OrganizationRepository(session).ensure(organization_id)
        await session.flush()
        await CallRepository(session).add(call)  # as every write of a call: its transcript indexed
        session.add_all(rows[1:])
        await session.commit()
    return call


async def make_twilio_call(
    runtime: Runtime,
    organization_id: str,
    call_sid: str,
    recording_sid: str | None,
    **fields: Any,
) -> Call:
    """A Twilio call as its webhooks leave it: the CallSid, and the RecordingSid if that webhook came."""
    values: dict[str, Any] = {
        "provider_call_id": call_sid,
        "direction": "inbound",
        "duration": None,
        "transcription_data": None,
        **fields,
    }
    recording = (
        None
        if recording_sid is None
        else {
            "provider_recording_id": recording_sid,
            "storage_bucket": None,
            "storage_key": None,
            "duration": None,
            "size_bytes": None,
        }
    )
    return await make_call(
        runtime,
        organization_id,
        provider="twilio",
        audio=b"" if recording else None,
        recording=recording,
        **values,
    )
