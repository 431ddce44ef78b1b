"""Events pushed to customers, with the service as real processes: an event whose change committed in a
service SIGKILLed before any delivery is delivered once the service is back; and two replicas on one
PostgreSQL deliver each event once to an endpoint (no failures injected)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.conftest import auth
from tests.fakes.receiver import Receiver
from tests.integration.test_ingest import payload
from tests.jobs import until
from tests.processes import ServiceProcess, service_env, service_process
from tether_relay.settings import Settings

# Starts service processes, browsers or long runs: `make test` skips it; CI and `make test-all` run it.
pytestmark = pytest.mark.slow

ORG = "org-pushed"


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    return service_env(
        settings.database_url,
        settings.data_dir,
        webhook_allow_private_urls="true",
        webhook_retry_schedule="0.5,0.5,0.5",
        job_heartbeat_timeout_seconds="2",
        **extra,
    )


async def register(http: httpx.AsyncClient, service: ServiceProcess, receiver: Receiver, path: str) -> None:
    body = {"url": receiver.url(path), "events": ["call.completed", "recording.ready", "transcript.ready"]}
    response = await http.post(f"{service.url}/api/webhooks/endpoints", json=body, headers=auth(ORG))
    assert response.status_code == 201, response.text
    receiver.secrets[path].append(response.json()["secret"])


async def api_key(http: httpx.AsyncClient, service: ServiceProcess) -> dict[str, str]:
    shown = (await http.get(f"{service.url}/api/user/api-key", headers=auth(ORG))).json()["data"]["apiKey"]
    return {"Authorization": f"Bearer {shown}", "Content-Type": "application/json"}


async def ingest(http: httpx.AsyncClient, service: ServiceProcess, key: dict[str, str], call: str) -> None:
    body = payload(externalCallId=call)
    response = await http.post(f"{service.url}/api/calls/ingest", content=json.dumps(body), headers=key)
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_event_committed_before_a_crash_is_delivered_after_the_restart(
    settings: Settings, receiver: Receiver, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        # The first process commits the calls and their events but runs no job: it dies before any delivery.
        with service_process(env_for(settings, jobs_in_process="false"), tmp_path, "doomed") as doomed:
            await register(http, doomed, receiver, "/after-crash")
            key = await api_key(http, doomed)
            for number in range(3):
                await ingest(http, doomed, key, f"crash-{number}")
            doomed.kill()
        await asyncio.sleep(1.0)
        assert receiver.at("/after-crash") == []

        with service_process(env_for(settings), tmp_path, "restarted"):
            await until(lambda: len(receiver.at("/after-crash")) == 9, seconds=30)
    assert all(r.verified_by for r in receiver.at("/after-crash"))
    assert len({r.id for r in receiver.at("/after-crash")}) == 9


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_replicas_deliver_each_event_once(
    settings: Settings, receiver: Receiver, tmp_path: Path
) -> None:
    calls = 40
    env = env_for(settings)
    async with httpx.AsyncClient(timeout=30) as http:
        with (
            service_process(env, tmp_path, "replica-a") as a,
            service_process(env, tmp_path, "replica-b") as b,
        ):
            await register(http, a, receiver, "/replicated")
            key = await api_key(http, a)
            await asyncio.gather(*(ingest(http, (a, b)[n % 2], key, f"replicated-{n}") for n in range(calls)))
            await until(lambda: len(receiver.at("/replicated")) >= 3 * calls, seconds=60)
            await asyncio.sleep(2.0)  # time for a second delivery of any event to arrive, were there one
    received = receiver.at("/replicated")
    assert all(r.verified_by for r in received)
    counts = Counter(r.id for r in received)
    assert len(counts) == 3 * calls
    assert set(counts.values()) == {1}
