"""A loopback OTLP/HTTP trace receiver: decodes every export (the opentelemetry-proto messages, as a
collector would) and keeps its spans."""

from __future__ import annotations

import gzip
import time
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]
    service: str


@dataclass
class OtlpReceiver:
    base_url: str = ""
    spans: list[ReceivedSpan] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        self.paths.append(request.url.path)
        export = ExportTraceServiceRequest.FromString(body)
        for resource_spans in export.resource_spans:
            resource = {kv.key: _value(kv.value) for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                self.spans.extend(
                    ReceivedSpan(
                        name=span.name,
                        kind=span.kind,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_id=span.parent_span_id.hex(),
                        attributes={kv.key: _value(kv.value) for kv in span.attributes},
                        service=str(resource.get("service.name", "")),
                    )
                    for span in scope_spans.spans
                )
        answer = ExportTraceServiceResponse().SerializeToString()
        await Response(answer, media_type="application/x-protobuf")(scope, receive, send)

    def asgi(self) -> ASGIApp:
        return self

    def wait_for(self, found: Any, seconds: float = 15.0) -> list[ReceivedSpan]:
        """The spans received once `found(spans)` holds (the SDK exports in batches, off the request)."""
        deadline = time.monotonic() + seconds
        while not found(self.spans):
            if time.monotonic() > deadline:
                raise AssertionError(f"no such spans within {seconds} s: {[s.name for s in self.spans]}")
            time.sleep(0.05)
        return list(self.spans)


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None
