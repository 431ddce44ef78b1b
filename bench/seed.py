"""Rows for the benchmark, inserted in bulk (Core inserts, batches of 5,000)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert

from tether_relay.calls.models import Call, Recording
from tether_relay.db import create_engine
from tether_relay.organizations.models import Organization

ORG = "org-bench"
TRANSCRIPT_TEXT = "Agent: Hi, this is Alex from Example Corp.\nUser: Hey Alex, I am calling about my order."
TRANSCRIPT = [
    {"role": "agent", "message": "Hi, this is Alex from Example Corp.", "timestamp": 0.5},
    {"role": "user", "message": "Hey Alex, I am calling about my order.", "timestamp": 2.8},
]
BATCH = 5000


def call_id(index: int) -> str:
    return f"{index:024x}"


async def seed_calls(database_url: str, calls: int) -> str:
    """`calls` external calls with stored recordings and cached transcripts; returns one in the middle."""
    now = datetime.now(UTC)
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(insert(Organization), [{"id": ORG, "created_at": now}])
        for start in range(0, calls, BATCH):
            batch = range(start, min(calls, start + BATCH))
            await connection.execute(insert(Call), [_call(call_id(i), f"bench-{i}", now) for i in batch])
            await connection.execute(
                insert(Recording),
                [
                    _recording(
                        call_id(i), f"rec_{i:024x}", storage_key=f"{ORG}/{call_id(i)}/rec.mp3", now=now
                    )
                    for i in batch
                ],
            )
    await engine.dispose()
    return call_id(calls // 2)


async def seed_one(
    database_url: str, provider: str, provider_call_id: str, recording: dict[str, Any], *, cached: bool
) -> str:
    """One call of `provider` with one recording; its transcript cached or not fetched yet."""
    now = datetime.now(UTC)
    engine = create_engine(database_url)
    new_id = secrets.token_hex(12)
    async with engine.begin() as connection:
        row = _call(new_id, provider_call_id, now) | {"provider": provider}
        if not cached:
            row |= {
                "transcription_text": None,
                "transcription_data": None,
                "transcription_status": None,
                "transcription_fetched_at": None,
            }
        await connection.execute(insert(Call), [row])
        await connection.execute(
            insert(Recording), [_recording(new_id, f"rec_{new_id}", now=now, **recording)]
        )
    await engine.dispose()
    return new_id


def _call(identifier: str, provider_call_id: str, now: datetime) -> dict[str, Any]:
    return {
        "call_id": identifier,
        "organization_id": ORG,
        "provider": "external",
        "provider_call_id": provider_call_id,
        "direction": "outbound",
        "status": "completed",
        "from_number": "+14165550100",
        "to_number": "+14165550199",
        "duration": 154.0,
        "transcription_text": TRANSCRIPT_TEXT,
        "transcription_data": TRANSCRIPT,
        "transcription_status": "ready",
        "transcription_fetched_at": now,
        "created_at": now,
        "updated_at": now,
        "sort_time": now,
    }


def _recording(call: str, recording_id: str, *, now: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "recording_id": recording_id,
        "call_id": call,
        "storage_bucket": "recordings",
        "storage_key": None,
        "content_type": "audio/mpeg",
        "duration": 154.0,
        "created_at": now,
        **fields,
    }
