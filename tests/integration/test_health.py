from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import make_settings
from tether_relay.app import create_app


async def test_liveness_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ok", "database": "ok"}


async def test_readiness_without_a_database_is_a_503_in_the_envelope(tmp_path: Path) -> None:
    # Nothing listens on the discard port of loopback: the database is unreachable.
    app = create_app(make_settings("postgresql://postgres@127.0.0.1:9/none", tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "success": False,
        "error": "The database does not answer",
        "code": "SERVICE_UNAVAILABLE",
    }
