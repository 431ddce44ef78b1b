"""Concurrent first reads of one call make exactly one transcript request to the provider: in one
process on both databases, and across two service processes sharing one PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.conftest import auth, superadmin
from tests.factories import make_call
from tests.fakes.elevenlabs import ElevenLabsFake
from tests.processes import service_env, service_process
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

# Starts service processes, browsers or long runs: `make test` skips it; CI and `make test-all` run it.
pytestmark = pytest.mark.slow

ORG = "org-race"


async def prepare(
    client: httpx.AsyncClient,
    runtime: Runtime,
    elevenlabs: ElevenLabsFake,
    conversation: str,
    *,
    organization: str = ORG,
    delay: float = 0.5,
) -> str:
    """An ElevenLabs call whose transcript is not fetched yet; the fake takes `delay` seconds to give it
    once, long enough for every concurrent reader to arrive while the first holds the lease."""
    await client.post(
        "/api/calls/voice-ai/config",
        headers=superadmin(organization),
        json={"elevenlabsApiKey": elevenlabs.api_key},
    )
    elevenlabs.add(conversation)
    elevenlabs.plan.add("slow", times=1, path_contains=conversation, delay=delay)
    call = await make_call(
        runtime, organization, provider="elevenlabs", provider_call_id=conversation, transcription_data=None
    )
    return call.id


def assert_all_have_the_transcript(responses: list[httpx.Response]) -> None:
    assert {r.status_code for r in responses} == {200}
    texts = {r.json()["transcriptionText"] for r in responses}
    assert len(texts) == 1
    assert texts.pop().startswith("Agent: Hi, how can I help?")


async def test_concurrent_first_reads_in_one_process(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    call_id = await prepare(client, runtime, elevenlabs, "conv_race_local")

    responses = await asyncio.gather(
        *(client.get(f"/api/calls/{call_id}/recording", headers=auth(ORG)) for _ in range(25))
    )

    assert_all_have_the_transcript(list(responses))
    assert elevenlabs.plan.count("conv_race_local") == 1


async def test_concurrent_first_reads_of_two_calls_each_get_their_own_transcript(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    # Readers of one call share one fetch in a process; readers of another call must not share it.
    first = await prepare(client, runtime, elevenlabs, "conv_race_one")
    second = await prepare(client, runtime, elevenlabs, "conv_race_two")
    elevenlabs.add("conv_race_two", turns=[("user", "A different call.", 0)])

    responses = await asyncio.gather(
        *(
            client.get(f"/api/calls/{call_id}/recording", headers=auth(ORG))
            for _ in range(10)
            for call_id in (first, second)
        )
    )

    texts = {(str(r.url).split("/")[-2], r.json()["transcriptionText"]) for r in responses}
    assert texts == {
        (
            first,
            "Agent: Hi, how can I help?\nUser: I want to check my order.\nAgent: It shipped this morning.",
        ),
        (second, "User: A different call."),
    }
    assert elevenlabs.plan.count("conv_race_one") == 1
    assert elevenlabs.plan.count("conv_race_two") == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_concurrent_first_reads_across_two_service_processes(
    client: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    elevenlabs: ElevenLabsFake,
    tmp_path: Path,
) -> None:
    call_id = await prepare(client, runtime, elevenlabs, "conv_race_replicas")
    env = service_env(settings.database_url, settings.data_dir, elevenlabs_api_base_url=elevenlabs.base_url)

    with service_process(env, tmp_path, "a") as first, service_process(env, tmp_path, "b") as second:
        async with httpx.AsyncClient(timeout=30) as http:
            responses = await asyncio.gather(
                *(
                    http.get(f"{(first, second)[i % 2].url}/api/calls/{call_id}/recording", headers=auth(ORG))
                    for i in range(40)
                )
            )

    assert_all_have_the_transcript(list(responses))
    assert elevenlabs.plan.count("conv_race_replicas") == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_replicas_200_first_reads_over_20_calls_make_20_fetches(
    client: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    elevenlabs: ElevenLabsFake,
    tmp_path: Path,
) -> None:
    await client.post(
        "/api/calls/voice-ai/config", headers=superadmin(ORG), json={"elevenlabsApiKey": elevenlabs.api_key}
    )
    call_ids = []
    for i in range(20):
        conversation = f"conv_many_{i:02d}"
        elevenlabs.add(conversation)
        elevenlabs.plan.add("slow", times=1, path_contains=conversation, delay=0.3)
        call = await make_call(
            runtime, ORG, provider="elevenlabs", provider_call_id=conversation, transcription_data=None
        )
        call_ids.append(call.id)
    env = service_env(settings.database_url, settings.data_dir, elevenlabs_api_base_url=elevenlabs.base_url)

    with service_process(env, tmp_path, "a") as first, service_process(env, tmp_path, "b") as second:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200)) as http:
            responses = await asyncio.gather(
                *(
                    http.get(
                        f"{(first, second)[i % 2].url}/api/calls/{call_ids[i % 20]}/recording",
                        headers=auth(ORG),
                    )
                    for i in range(200)
                )
            )

    assert [r.status_code for r in responses] == [200] * 200
    assert all(r.json()["transcriptionText"].startswith("Agent: Hi, how can I help?") for r in responses)
    assert elevenlabs.plan.count("/v1/convai/conversations/conv_many_") == 20
    for i in range(20):
        assert elevenlabs.plan.count(f"conv_many_{i:02d}") == 1
