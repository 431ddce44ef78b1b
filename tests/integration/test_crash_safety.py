"""A replica killed with SIGKILL in the middle of a transcript fetch leaves a lease behind; it blocks
later reads for no longer than its expiry, and the next read completes the fetch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import auth, superadmin
from tests.fakes import senders
from tests.fakes.elevenlabs import ElevenLabsFake
from tests.fakes.vendor import VendorFake
from tests.integration.test_fetched_once import prepare
from tests.processes import service_env, service_process
from tether_relay.calls.models import Call
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

# Starts service processes, browsers or long runs: `make test` skips it; CI and `make test-all` run it.
pytestmark = pytest.mark.slow

ORG = "org-crash"
LEASE_SECONDS = 2
AUDIO = b"ID3\x04" + bytes(range(256)) * 8


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_replica_killed_mid_fetch_blocks_nothing_beyond_its_lease(
    client: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    elevenlabs: ElevenLabsFake,
    tmp_path: Path,
) -> None:
    # The fetch the crash interrupts takes 30 s.
    call_id = await prepare(client, runtime, elevenlabs, "conv_crash", organization=ORG, delay=30)
    env = service_env(
        settings.database_url,
        settings.data_dir,
        elevenlabs_api_base_url=elevenlabs.base_url,
        transcript_lease_seconds=str(LEASE_SECONDS),
        provider_timeout_seconds="60",
    )
    url = f"/api/calls/{call_id}/recording"

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
        orphan = await session.get(Call, call_id)
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


async def _call_rows(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Call)) or 0)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_replica_killed_mid_ingest_download_leaves_nothing_and_the_retry_lands_once(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, vendor: VendorFake, tmp_path: Path
) -> None:
    key = (await client.get("/api/user/api-key", headers=auth(ORG))).json()["data"]["apiKey"]
    url = vendor.serve("slow.mp3", AUDIO, drip_seconds=0.05)  # ~1 minute to download in full
    body = {
        "direction": "inbound",
        "fromNumber": "+14165550100",
        "toNumber": "+14165550199",
        "duration": 3,
        "status": "completed",
        "summary": "s",
        "recording": url,
        "externalCallId": "crash-ingest",
        "transcript": [{"role": "user", "message": "hi", "timestamp": 0}],
    }
    env = service_env(settings.database_url, settings.data_dir, ingest_allow_private_urls="true")
    headers = {"Authorization": f"Bearer {key}"}

    with service_process(env, tmp_path, "doomed") as doomed:
        async with httpx.AsyncClient(base_url=doomed.url, timeout=120) as http:
            interrupted = asyncio.create_task(http.post("/api/calls/ingest", json=body, headers=headers))
            while vendor.plan.count("slow.mp3") == 0:  # noqa: ASYNC110 - the download has begun
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            doomed.kill()
            with pytest.raises(httpx.TransportError):
                await interrupted
    assert await _call_rows(runtime) == 0  # nothing half written

    vendor.serve("slow.mp3", AUDIO)  # the vendor retries; now the file comes at once
    with service_process(env, tmp_path, "survivor") as survivor:
        async with httpx.AsyncClient(base_url=survivor.url, timeout=60) as http:
            retried = await http.post("/api/calls/ingest", json=body, headers=headers)
            again = await http.post("/api/calls/ingest", json=body, headers=headers)

    assert retried.json()["deduplicated"] is False
    assert again.json() == {**retried.json(), "deduplicated": True}
    assert await _call_rows(runtime) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_replica_killed_mid_webhook_leaves_nothing_and_the_redelivery_lands_once(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    secret = "wsec_" + "c" * 40
    await client.post(
        "/api/calls/voice-ai/config", headers=superadmin(ORG), json={"elevenlabsWebhookSecret": secret}
    )
    body, headers = senders.elevenlabs(senders.elevenlabs_audio("conv_crash_hook", AUDIO * 200), secret)
    env = service_env(settings.database_url, settings.data_dir)
    sent_half, killed = asyncio.Event(), asyncio.Event()

    async def half_then_hang() -> AsyncIterator[bytes]:
        yield body[: len(body) // 2]
        sent_half.set()
        await killed.wait()  # the rest comes only after the replica died, into a closed connection
        yield body[len(body) // 2 :]

    with service_process(env, tmp_path, "doomed") as doomed:
        async with httpx.AsyncClient(base_url=doomed.url, timeout=120) as http:
            interrupted = asyncio.create_task(
                http.post(
                    "/api/webhook/elevenlabs",
                    content=half_then_hang(),
                    headers={**headers, "Content-Length": str(len(body))},
                )
            )
            await sent_half.wait()
            await asyncio.sleep(0.3)
            doomed.kill()
            killed.set()
            with pytest.raises(httpx.TransportError):
                await interrupted
    assert await _call_rows(runtime) == 0

    with service_process(env, tmp_path, "survivor") as survivor:
        async with httpx.AsyncClient(base_url=survivor.url, timeout=60) as http:
            delivered = await http.post("/api/webhook/elevenlabs", content=body, headers=headers)
            redelivered = await http.post("/api/webhook/elevenlabs", content=body, headers=headers)

    assert delivered.status_code == redelivered.status_code == 200
    assert delivered.json()["callId"] == redelivered.json()["callId"]
    assert await _call_rows(runtime) == 1
    recording = (
        await client.get(f"/api/calls/{delivered.json()['callId']}/recording", headers=auth(ORG))
    ).json()
    assert (await client.get(recording["audioUrl"])).content == AUDIO * 200
