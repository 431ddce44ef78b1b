"""Operations: Prometheus metrics (request latency per route, provider requests and errors, transcript
cache hits and misses), request ids in responses and on every log line, and a graceful shutdown that
finishes the requests in flight."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import auth
from tests.factories import make_call
from tests.fakes.elevenlabs import ElevenLabsFake
from tests.fakes.twilio import TwilioFake
from tests.integration.test_fetched_once import prepare
from tests.integration.test_twilio import ORG, known_call, read
from tests.processes import service_env, service_process
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings


async def sample(client: httpx.AsyncClient, name: str, **labels: str) -> float:
    """The value of one sample of /metrics (0 if it has not been recorded yet)."""
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for family in text_string_to_metric_families(response.text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


async def test_request_latency_is_recorded_per_route_template(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    call = await make_call(runtime, ORG)
    labels = {"method": "GET", "route": "/api/calls/{callId}/recording", "status": "200"}
    before = await sample(client, "tether_http_request_duration_seconds_count", **labels)

    for _ in range(3):
        assert (await read(client, call.id)).status_code == 200
    missing = await read(client, "0" * 24)

    assert await sample(client, "tether_http_request_duration_seconds_count", **labels) == before + 3
    assert missing.status_code == 404
    assert (
        await sample(client, "tether_http_request_duration_seconds_count", **{**labels, "status": "404"}) >= 1
    )


async def test_provider_requests_errors_and_transcript_cache_are_counted(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call, recording = await known_call(client, runtime, twilio, with_service=True)
    twilio.add_intelligence_transcript(recording.sid, [(1, 0.5, 1.5, "Hello.")])
    twilio.plan.add("503", times=1, path_contains=".mp3")  # one failed attempt, then retried
    counters = {
        "requests": ("tether_provider_requests_total", {"provider": "twilio"}),
        "5xx": ("tether_provider_errors_total", {"provider": "twilio", "kind": "5xx"}),
        "hit": ("tether_transcript_cache_total", {"provider": "twilio", "result": "hit"}),
        "miss": ("tether_transcript_cache_total", {"provider": "twilio", "result": "miss"}),
    }
    before = {key: await sample(client, name, **labels) for key, (name, labels) in counters.items()}

    assert (await read(client, call.id)).status_code == 200  # media x2, transcript list, sentences
    assert (await read(client, call.id)).status_code == 200  # media only; the transcript is cached

    after = {key: await sample(client, name, **labels) for key, (name, labels) in counters.items()}
    assert after["requests"] - before["requests"] == twilio.plan.count()
    assert after["5xx"] - before["5xx"] == 1
    assert (after["miss"] - before["miss"], after["hit"] - before["hit"]) == (1, 1)


async def test_every_answer_carries_a_request_id(client: httpx.AsyncClient) -> None:
    chosen = await client.get("/healthz", headers={"X-Request-ID": "support-ticket-42"})
    junk = await client.get("/healthz", headers={"X-Request-ID": "no spaces or\tcontrol"})
    none = await client.get("/api/calls/x/recording")
    # An id the logs would redact is not written to them, nor echoed: a fresh one replaces it.
    key = "tk_live_" + "ab12" * 9
    secret = await client.get("/healthz", headers={"X-Request-ID": key})

    assert secret.headers["x-request-id"] != key
    assert chosen.headers["x-request-id"] == "support-ticket-42"
    assert junk.headers["x-request-id"] != "no spaces or\tcontrol"
    assert len(junk.headers["x-request-id"]) == 16
    assert len(none.headers["x-request-id"]) == 16


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_log_lines_carry_the_request_id_and_shutdown_finishes_requests_in_flight(
    client: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    elevenlabs: ElevenLabsFake,
    tmp_path: Path,
) -> None:
    # In flight at SIGTERM: the fake takes 2 s to answer its transcript.
    call_id = await prepare(client, runtime, elevenlabs, "conv_shutdown", organization=ORG, delay=2.0)
    env = service_env(
        settings.database_url,
        settings.data_dir,
        elevenlabs_api_base_url=elevenlabs.base_url,
        log_level="info",
    )
    with service_process(env, tmp_path, "graceful") as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            in_flight = asyncio.create_task(
                http.get(
                    f"/api/calls/{call_id}/recording", headers={**auth(ORG), "X-Request-ID": "graceful-1"}
                )
            )
            while elevenlabs.plan.count("conv_shutdown") == 0:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            service.process.send_signal(signal.SIGTERM)
            response = await in_flight
        # uvicorn finishes the requests in flight, then re-raises the signal so the exit status says why.
        assert service.process.wait(timeout=30) in (0, -signal.SIGTERM)

    assert response.status_code == 200
    assert response.json()["transcriptionText"].startswith("Agent: Hi, how can I help?")
    lines = [json.loads(line) for line in service.output().splitlines() if line.startswith("{")]
    ours = [line for line in lines if line.get("request_id") == "graceful-1"]
    assert any(line["logger"] == "tether_relay.access" and line["status"] == 200 for line in ours)
