"""OpenTelemetry traces: off unless the standard OTLP endpoint variable is set, and then cheap.

On (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; `OTEL_SDK_DISABLED=true` or
`OTEL_TRACES_EXPORTER=none` turn it off again), FastAPI's own telemetry makes a span per request and sets up
the SDK's batching OTLP/HTTP exporter from the standard `OTEL_*` variables (api/app.py); this module adds
the spans below it: each database query (`db.py`, `calls/snapshot.py`) and each provider request
(`providers/http.py`), and puts the request id on the request's span. Spans carry no query string, header,
body or bound value: nothing a log line may not carry.

Off, `span` hands back one shared no-op context manager and nothing of the SDK is loaded, so the hot path
pays an attribute test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from opentelemetry import trace
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
    """Make spans from now on (the exporter behind them is set up at the app's startup)."""
    global _tracer
    _tracer = trace.get_tracer("tether_relay")


def stop() -> None:
    global _tracer
    _tracer = None


def on() -> bool:
    return _tracer is not None


def span(
    name: str, attributes: dict[str, Any], kind: SpanKind = SpanKind.INTERNAL
) -> AbstractContextManager[Span | None]:
    """A child of the current span, or nothing when tracing is off."""
    if _tracer is None:
        return _OFF
    return _child(_tracer, name, attributes, kind)


@contextmanager
def _child(tracer: trace.Tracer, name: str, attributes: dict[str, Any], kind: SpanKind) -> Iterator[Span]:
    # A failure is marked with its type only: the SDK would record its message and stack trace, and a
    # driver's message can carry a statement's bound values.
    with tracer.start_as_current_span(
        name, kind=kind, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as current:
        try:
            yield current
        except BaseException as error:
            current.set_status(StatusCode.ERROR, type(error).__name__)
            raise


def tag_request(request_id: str) -> None:
    """The request id on the current (the request's) span, so a trace and the log lines can be joined."""
    if _tracer is not None:
        trace.get_current_span().set_attribute(REQUEST_ID, request_id)
