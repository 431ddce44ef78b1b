"""Traces from a real service process to a loopback OTLP receiver that decodes them: one trace per request
with the request's span (carrying its request id), its database queries and its provider requests, and
nothing secret in any attribute; no exporter and no span when the endpoint is not set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import auth
from tests.fakes.loopback import running
from tests.fakes.otlp import OtlpReceiver, ReceivedSpan
from tests.fakes.twilio import TwilioFake
from tests.integration.test_twilio import ORG, known_call
from tests.processes import service_env, service_process
from tether_relay import tracing
from tether_relay.providers.http import _span_attributes
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

SERVER, CLIENT = 2, 3  # opentelemetry-proto's Span.SpanKind
CALLER_TRACE, CALLER_SPAN = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with running(OtlpReceiver()) as fake:
        yield fake


def trace_of(spans: list[ReceivedSpan], request_id: str) -> list[ReceivedSpan]:
    (root,) = [s for s in spans if s.attributes.get(tracing.REQUEST_ID) == request_id]
    return [s for s in spans if s.trace_id == root.trace_id]


async def test_a_recording_read_is_one_trace_with_its_queries_and_provider_requests(
    client: httpx.AsyncClient,
    runtime: Runtime,
    settings: Settings,
    twilio: TwilioFake,
    receiver: OtlpReceiver,
    tmp_path: Path,
) -> None:
    call, _ = await known_call(client, runtime, twilio)
    env = service_env(
        settings.database_url,
        settings.data_dir,
        twilio_api_base_url=twilio.base_url,
        twilio_intelligence_base_url=twilio.base_url,
        jobs_in_process="false",  # the read alone: the archive job would download the recording too
    )
    env |= {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.base_url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        "OTEL_SERVICE_NAME": "tether-relay",
    }
    with service_process(env, tmp_path) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            caller = {"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"}
            response = await http.get(f"/api/calls/{call.id}/recording", headers=auth(ORG) | caller)
        assert response.status_code == 200, response.text
        request_id = response.headers["x-request-id"]

        def complete(spans: list[ReceivedSpan]) -> bool:
            ours = [s for s in spans if s.attributes.get(tracing.REQUEST_ID) == request_id]
            return bool(ours) and sum(s.name.startswith("twilio ") for s in trace_of(spans, request_id)) >= 2

        spans = trace_of(receiver.wait_for(complete), request_id)

    assert receiver.paths[0] == "/v1/traces"
    (root,) = [s for s in spans if s.attributes.get(tracing.REQUEST_ID) == request_id]
    assert (root.trace_id, root.parent_id) == (CALLER_TRACE, CALLER_SPAN)  # the caller's trace, continued
    assert all(s.parent_id == root.span_id for s in spans if s is not root)
    assert root.kind == SERVER
    assert root.name == "GET /api/calls/{callId}/recording"
    assert root.attributes["http.response.status_code"] == 200
    assert root.service == "tether-relay"

    (snapshot,) = [s for s in spans if s.name == "SELECT calls"]
    assert snapshot.kind == CLIENT
    system = "sqlite" if settings.database_url.startswith("sqlite") else "postgresql"
    assert snapshot.attributes["db.system"] == system
    assert "FROM calls" in snapshot.attributes["db.statement"]
    assert call.id not in str(snapshot.attributes)  # the statement's placeholders, never its values

    provider = [s for s in spans if s.name.startswith("twilio ")]
    assert all(s.kind == CLIENT and s.attributes["tether.provider"] == "twilio" for s in provider)
    assert {s.attributes["http.response.status_code"] for s in provider} == {200}
    assert all(s.attributes["url.path"].startswith("/2010-04-01/Accounts/") for s in provider)
    assert not any("?" in str(value) for s in provider for value in s.attributes.values())

    # The ORM's statements (the transcript cached on the call) come from SQLAlchemy's instrumentation.
    assert any(s.attributes.get("db.system") == system and s.name == "UPDATE" for s in spans)

    everything = " ".join(f"{s.name} {s.attributes}" for s in receiver.spans)
    for secret in (twilio.auth_token, "Basic ", "Bearer ", "authorization"):
        assert secret not in everything


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "TRUE"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False),
    ],
)
def test_traces_are_wanted_only_when_the_standard_variables_say_so(
    environ: dict[str, str], wanted: bool
) -> None:
    assert tracing.wanted(environ) is wanted


def test_off_a_span_is_one_shared_no_op() -> None:
    tracing.stop()
    assert tracing.span("a", {}) is tracing.span("b", {"x": 1})
    with tracing.span("a", {}) as span:
        assert span is None


def test_a_provider_span_says_host_and_path_never_the_query_or_a_header() -> None:
    request = httpx.Request(
        "GET", "https://api.example/a/b.mp3?Signature=s3cr3t", headers={"Authorization": "k"}
    )
    attributes = _span_attributes(request, "twilio")
    assert attributes == {
        "tether.provider": "twilio",
        "http.request.method": "GET",
        "server.address": "api.example",
        "url.path": "/a/b.mp3",
    }
