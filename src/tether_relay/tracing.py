"""OpenTelemetry traces: off unless the standard OTLP endpoint variable is set, and then cheap.

On (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_SDK_DISABLED=true` or
`OTEL_TRACES_EXPORTER=none` turn it off again), `start` sets up the SDK with its batching OTLP/HTTP exporter,
both configured by the standard `OTEL_*` variables (endpoint, headers, sampler, service name). Spans: one per
request (api/request_context.py: its route template, status and request id, continuing the caller's
`traceparent`), and under it each database query (`db.py`, `calls/snapshot.py`) and provider request
(`providers/http.py`). They carry no query string, header, body or bound value: nothing a log line may not
carry. (FastAPI's own request spans did the same at twice the cost per request, bench/profile.py --tracing.)

Off, `request` hands back None and `span` one shared no-op context manager, and nothing of the SDK is
loaded: the hot path pays an attribute test.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.trace import Span, SpanKind, StatusCode

REQUEST_ID = "tether.request_id"
CLIENT = SpanKind.CLIENT
_OFF: AbstractContextManager[Span | None] = nullcontext()
_tracer: trace.Tracer | None = None


def wanted(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the standard variables ask for traces to be exported."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if (environ.get("OTEL_TRACES_EXPORTER") or "otlp").strip().lower() == "none":
        return False
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def start() -> None:
    """Export spans from now on, as the standard variables say; idempotent."""
    global _tracer
    if _tracer is not None:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()  # sampler and resource (service name) from OTEL_* too; flushed at exit
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    _tracer = provider.get_tracer("tether_relay")


def stop() -> None:
    global _tracer
    _tracer = None


def on() -> bool:
    return _tracer is not None


def span(
    name: str, attributes: dict[str, Any], kind: SpanKind = SpanKind.INTERNAL
) -> AbstractContextManager[Span | None]:
    """A leaf span under the current one (a query, a provider request), or nothing when tracing is off.

    It is never made current: nothing is traced inside it, and attaching it to the context (and a
    generator-based context manager around that) was a third of its cost (bench/profile.py --tracing)."""
    if _tracer is None:
        return _OFF
    return _Leaf(_tracer.start_span(name, kind=kind, attributes=attributes))


class _Leaf:
    __slots__ = ("_span",)

    def __init__(self, span: Span) -> None:
        self._span = span

    def __enter__(self) -> Span:
        return self._span

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _trace: Any) -> None:
        if kind is not None:
            # Marked with its type only: the SDK would record the message and stack trace, and a
            # driver's message can carry a statement's bound values.
            self._span.set_status(StatusCode.ERROR, kind.__name__)
        self._span.end()


def request(method: str, request_id: str, headers: list[tuple[bytes, bytes]]) -> RequestSpan | None:
    """The span of one HTTP request, current until `end`; None when tracing is off."""
    if _tracer is None:
        return None
    carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in headers if name in _W3C}
    attributes = {"http.request.method": method, REQUEST_ID: request_id}
    span = _tracer.start_span(method, extract(carrier), SpanKind.SERVER, attributes)
    return RequestSpan(span, otel_context.attach(trace.set_span_in_context(span)))


_W3C = (b"traceparent", b"tracestate")


class RequestSpan:
    def __init__(self, span: Span, token: object) -> None:
        self._span, self._token = span, token

    def end(self, method: str, route: str, status: int) -> None:
        """Named for its route template, as HTTP server spans are; a 5xx is an error."""
        self._span.update_name(f"{method} {route}")
        self._span.set_attribute("http.route", route)
        self._span.set_attribute("http.response.status_code", status)
        if status >= 500:
            self._span.set_status(StatusCode.ERROR)
        otel_context.detach(self._token)  # type: ignore[arg-type]
        self._span.end()
