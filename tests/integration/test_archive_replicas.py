"""Two service replicas and one `tether-relay worker` on one PostgreSQL, as real processes: 500 Twilio
recording webhooks over 500 calls are archived by exactly 500 downloads done to completion, with the worker
SIGKILLed in the middle (its downloads in flight held by Twilio's fake, so none of them completed) and a
new one started: none lost, none done twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.conftest import superadmin
from tests.fakes import senders
from tests.fakes.twilio import TwilioFake, sid
from tests.processes import service_env, service_process, worker_process
from tether_relay.calls.models import Recording
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

# Starts service processes, browsers or long runs: `make test` skips it; CI and `make test-all` run it.
pytestmark = pytest.mark.slow

ORG = "org-replicas"
HOOK = "/api/webhook/calls/twilio/recording"
CALLS = 500
KILL_AFTER = 200
AUDIO = b"ID3\x04" + bytes(range(256)) * 16


async def archived(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Recording).where(Recording.storage_key.is_not(None))
        )
    return int(count or 0)


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_replicas_and_a_killed_worker_archive_each_recording_once(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, twilio: TwilioFake, tmp_path: Path
) -> None:
    config = twilio.credentials_config()
    assert (
        await client.post("/api/calls/providers/config", json=config, headers=superadmin(ORG))
    ).status_code == 200
    sids = [twilio.add_recording(sid("CA"), AUDIO).sid for _ in range(CALLS)]
    twilio.hold_media_after = KILL_AFTER
    env = service_env(
        settings.database_url,
        settings.data_dir,
        twilio_api_base_url=twilio.base_url,
        public_base_url=senders.PUBLIC_BASE_URL,  # what Twilio signed the webhooks' URLs with
        jobs_in_process="false",
        job_heartbeat_timeout_seconds="3",
        job_retry_first_seconds="0.5",
        provider_timeout_seconds="60",
    )
    with (
        service_process(env, tmp_path, "replica-a") as a,
        service_process(env, tmp_path, "replica-b") as b,
        worker_process(env, tmp_path, "doomed-worker") as doomed,
    ):
        async with httpx.AsyncClient(timeout=30) as http:

            async def deliver(index: int, recording_sid: str) -> None:
                params = {
                    "AccountSid": twilio.account_sid,
                    "CallSid": twilio.recordings[recording_sid].call_sid,
                    "RecordingSid": recording_sid,
                    "RecordingStatus": "completed",
                    "RecordingDuration": "12",
                }
                body, headers = senders.twilio(HOOK, params, twilio.auth_token)
                replica = a if index % 2 == 0 else b
                response = await http.post(replica.url + HOOK, content=body, headers=headers)
                assert response.status_code == 200, response.text

            for start in range(0, CALLS, 25):
                await asyncio.gather(*(deliver(i, s) for i, s in enumerate(sids[start : start + 25], start)))

        async def held() -> bool:  # every download before the gate is archived; those after it wait
            served = sum(twilio.media_served.values())
            return (
                served == KILL_AFTER
                and await archived(runtime) == KILL_AFTER
                and twilio.plan.count(".mp3") > served
            )

        await wait_for(held, 60)
        doomed.kill()
        doomed.wait(timeout=10)
        twilio.media_abandoned_up_to = twilio.media_started  # what the dead worker asked for is not served
        twilio.media_gate.set()
        with worker_process(env, tmp_path, "new-worker"):

            async def all_archived() -> bool:
                return await archived(runtime) == CALLS

            await wait_for(all_archived, 120)

    assert sum(twilio.media_served.values()) == CALLS
    assert set(twilio.media_served) == set(sids)
    assert set(twilio.media_served.values()) == {1}
