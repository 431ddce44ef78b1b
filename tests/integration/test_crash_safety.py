"""A replica killed with SIGKILL in the middle of a transcript fetch leaves a lease behind; it blocks
later reads for no longer than its expiry, and the next read completes the fetch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import auth, superadmin
from tests.factories import make_call
from tests.fakes.elevenlabs import ElevenLabsFake
from tests.processes import service_env, service_process
from tether_relay.calls.models import Call
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

ORG = "org-crash"
LEASE_SECONDS = 2


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_replica_killed_mid_fetch_blocks_nothing_beyond_its_lease(
    client: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    elevenlabs: ElevenLabsFake,
    tmp_path: Path,
) -> None:
    await client.post(
        "/api/calls/voice-ai/config", headers=superadmin(ORG), json={"elevenlabsApiKey": elevenlabs.api_key}
    )
    elevenlabs.add("conv_crash")
    elevenlabs.plan.add(
        "slow", times=1, path_contains="conv_crash", delay=30
    )  # the fetch the crash interrupts
    call = await make_call(
        runtime, ORG, provider="elevenlabs", provider_call_id="conv_crash", transcription_data=None
    )
    env = service_env(
        settings.database_url,
        settings.data_dir,
        elevenlabs_api_base_url=elevenlabs.base_url,
        transcript_lease_seconds=str(LEASE_SECONDS),
        provider_timeout_seconds="60",
    )
    url = f"/api/calls/{call.id}/recording"

    with service_process(env, tmp_path, "doomed") as doomed:
        async with httpx.AsyncClient(base_url=doomed.url, timeout=60) as http:
            interrupted = asyncio.create_task(http.get(url, headers=auth(ORG)))
            # The doomed replica holds the lease and is fetching; the fake's counter lives in another thread.
            while elevenlabs.plan.count("conv_crash") == 0:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            doomed.kill()
            with pytest.raises(httpx.TransportError):
                await interrupted
    async with runtime.sessions() as session:
        orphan = await session.get(Call, call.id)
    assert orphan is not None
    assert orphan.transcript_lease_owner is not None  # the crash left its lease behind...
    assert orphan.transcript_lease_until is not None
    assert orphan.transcript_lease_until <= datetime.now(UTC) + timedelta(seconds=LEASE_SECONDS)  # ...briefly

    with service_process(env, tmp_path, "survivor") as survivor:
        async with httpx.AsyncClient(base_url=survivor.url, timeout=60) as http:
            response = await http.get(url, headers=auth(ORG))

    assert response.status_code == 200
    assert response.json()["transcriptionText"].startswith("Agent: Hi, how can I help?")
    assert elevenlabs.plan.count("conv_crash") == 2  # the interrupted fetch, then the one that completed
