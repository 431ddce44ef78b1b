"""Development mode's first run: a demo organisation, one `external` call with generated audio and a
transcript, and a token that reads it. Idempotent, so every restart (or replica) finds the same call."""

from __future__ import annotations

import io
import math
import struct
import wave
from dataclasses import dataclass

from tether_relay.auth.tokens import mint_token
from tether_relay.calls.models import Call
from tether_relay.calls.repository import CallRepository, NewRecording
from tether_relay.db import utcnow
from tether_relay.ids import new_call_id, new_recording_id
from tether_relay.organizations.repository import OrganizationRepository
from tether_relay.runtime import Runtime
from tether_relay.storage.buckets import RECORDINGS, recording_key
from tether_relay.transcripts.model import Utterance, to_text

DEMO_ORGANIZATION = "demo-org"
DEMO_USER = "demo-user"
DEMO_PROVIDER_CALL_ID = "demo-call-1"
DEMO_TOKEN_TTL_SECONDS = 7 * 24 * 3600

DEMO_TRANSCRIPT: list[Utterance] = [
    {"role": "agent", "message": "Hi, this is Alex from Example Corp.", "timestamp": 0.5},
    {"role": "user", "message": "Hey Alex, I'm calling about my order.", "timestamp": 1.6},
    {"role": "agent", "message": "Sure, it shipped this morning.", "timestamp": 2.7},
]


@dataclass(frozen=True, slots=True)
class DemoCall:
    call_id: str
    token: str


def demo_audio(seconds: float = 4.0, rate: int = 8000) -> bytes:
    """A short mono WAV: one tone per utterance, so there is something to hear and to seek in."""
    tones = [(0.5, 440.0), (1.6, 554.0), (2.7, 659.0)]
    frames = bytearray()
    for n in range(int(seconds * rate)):
        t = n / rate
        freq = next((f for start, f in reversed(tones) if t >= start), 0.0)
        sample = int(8000 * math.sin(2 * math.pi * freq * t)) if freq else 0
        frames += struct.pack("<h", sample)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(frames))
    return buffer.getvalue()


async def ensure_demo_call(runtime: Runtime) -> DemoCall:
    async with runtime.sessions.begin() as session:
        await OrganizationRepository(session).ensure(DEMO_ORGANIZATION)
        calls = CallRepository(session)
        call = await calls.find_by_provider_id(DEMO_ORGANIZATION, "external", DEMO_PROVIDER_CALL_ID)
        if call is None:
            call = await _create(runtime, calls)
    token = mint_token(
        runtime.keys.jwt_secret,
        user_id=DEMO_USER,
        organization_id=DEMO_ORGANIZATION,
        role="ADMIN",
        ttl_seconds=DEMO_TOKEN_TTL_SECONDS,
    )
    return DemoCall(call.id, token)


async def _create(runtime: Runtime, calls: CallRepository) -> Call:
    audio = demo_audio()
    call_id, recording_id = new_call_id(), new_recording_id()
    key = recording_key(DEMO_ORGANIZATION, call_id, recording_id, "wav")
    # Upload first: a row that points at no object would be worse than an object with no row.
    await runtime.buckets.get(RECORDINGS).put(key, audio, "audio/wav")
    call = Call(
        id=call_id,
        organization_id=DEMO_ORGANIZATION,
        provider="external",
        provider_call_id=DEMO_PROVIDER_CALL_ID,
        direction="outbound",
        status="completed",
        from_number="+14165550100",
        to_number="+14165550199",
        duration=4.0,
        summary="Demo call: the customer asked about an order.",
        transcription_data=DEMO_TRANSCRIPT,
        transcription_text=to_text(DEMO_TRANSCRIPT),
        transcription_source="demo",
        transcription_fetched_at=utcnow(),
    )
    await calls.add(call)
    recording = NewRecording(
        id=recording_id,
        storage_bucket=RECORDINGS,
        storage_key=key,
        content_type="audio/wav",
        size_bytes=len(audio),
        duration=4.0,
        channels=1,
    )
    await calls.attach_recording(call.id, recording)
    return call
