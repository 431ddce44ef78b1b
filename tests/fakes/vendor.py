"""A loopback stand-in for an external calling system's file host, from which ingest downloads
recordings: it serves given bytes with a given content type, or redirects, or drips slowly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.faults import FaultInjection, FaultPlan
from tests.fakes.loopback import running


@dataclass
class Served:
    body: bytes
    content_type: str = "audio/mpeg"
    redirect_to: str | None = None
    drip_seconds: float = 0.0


@dataclass
class VendorFake:
    base_url: str = ""
    files: dict[str, Served] = field(default_factory=dict)
    plan: FaultPlan = field(default_factory=FaultPlan)

    def serve(self, name: str, body: bytes = b"", **kw: object) -> str:
        self.files[name] = Served(body, **kw)  # type: ignore[arg-type]
        return f"{self.base_url}/files/{name}"

    async def file(self, request: Request) -> Response:
        served = self.files.get(request.path_params["name"])
        if served is None:
            return Response(status_code=404)
        if served.redirect_to:
            return RedirectResponse(served.redirect_to, status_code=302)
        if served.drip_seconds:
            return StreamingResponse(self._drip(served), media_type=served.content_type)
        return Response(served.body, media_type=served.content_type)

    @staticmethod
    async def _drip(served: Served) -> AsyncIterator[bytes]:
        for byte in served.body:
            await asyncio.sleep(served.drip_seconds)
            yield bytes([byte])

    def asgi(self) -> FaultInjection:
        return FaultInjection(
            Starlette(routes=[Route("/files/{name}", self.file)]), self.plan, lambda status: {"error": status}
        )


@pytest.fixture(scope="session")
def vendor_server() -> Iterator[VendorFake]:
    with running(VendorFake()) as fake:
        yield fake


@pytest.fixture
def vendor(vendor_server: VendorFake) -> VendorFake:
    vendor_server.files.clear()
    vendor_server.plan.reset()
    return vendor_server
