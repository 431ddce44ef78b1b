"""GET /api/user/api-key and POST /api/user/api-key/regenerate."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.conftest import auth
from tether_relay.runtime import Runtime

INGEST = {
    "direction": "inbound",
    "fromNumber": "+14165550100",
    "toNumber": "+14165550199",
    "duration": 5,
    "status": "no-answer",
}


async def ingest_with(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post("/api/calls/ingest", json=INGEST, headers={"Authorization": f"Bearer {key}"})


async def test_first_get_creates_and_shows_the_key_once(client: httpx.AsyncClient) -> None:
    first = (await client.get("/api/user/api-key", headers=auth("org-a"))).json()
    second = (await client.get("/api/user/api-key", headers=auth("org-a"))).json()

    key = first["data"]["apiKey"]
    assert first["success"] is True
    assert key.startswith("tk_live_")
    assert len(key) == len("tk_live_") + 36
    assert first["data"]["masked"] is False
    assert second["data"] == {**second["data"], "apiKey": f"tk_live_****{key[-4:]}", "masked": True}
    assert (await ingest_with(client, key)).status_code == 200


async def test_regenerate_revokes_the_old_key_at_once(client: httpx.AsyncClient) -> None:
    old = (await client.get("/api/user/api-key", headers=auth("org-a"))).json()["data"]["apiKey"]

    regenerated = (await client.post("/api/user/api-key/regenerate", headers=auth("org-a"))).json()

    new = regenerated["data"]["apiKey"]
    assert regenerated["message"] == "API key regenerated"
    assert new != old
    assert (await ingest_with(client, new)).status_code == 200
    refused = await ingest_with(client, old)
    assert refused.status_code == 401
    assert refused.json()["code"] == "UNAUTHORIZED"


async def test_keys_belong_to_the_user_and_organisation(client: httpx.AsyncClient, runtime: Runtime) -> None:
    a = (await client.get("/api/user/api-key", headers=auth("org-a"))).json()["data"]["apiKey"]
    b = (await client.get("/api/user/api-key", headers=auth("org-b"))).json()["data"]["apiKey"]

    call_id = (await ingest_with(client, b)).json()["callId"]

    assert a != b
    other = await client.get(f"/api/calls/{call_id}", headers=auth("org-a"))
    assert other.status_code == 404


async def test_keys_are_stored_only_as_hashes(client: httpx.AsyncClient, runtime: Runtime) -> None:
    key = (await client.get("/api/user/api-key", headers=auth("org-a"))).json()["data"]["apiKey"]

    async with runtime.engine.connect() as connection:
        rows = repr((await connection.execute(text("SELECT * FROM api_keys"))).all())

    assert key not in rows
    assert key[len("tk_live_") : -4] not in rows


async def test_a_jwt_is_not_an_api_key(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/calls/ingest", json=INGEST, headers=auth("org-a"))

    assert response.status_code == 401


@pytest.mark.parametrize("first_time", [True, False], ids=["no key yet", "a live key"])
async def test_concurrent_regenerations_leave_one_live_key_and_no_500(
    app: FastAPI, client: httpx.AsyncClient, first_time: bool
) -> None:
    if not first_time:
        await client.get("/api/user/api-key", headers=auth("org-a"))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a 500 is an answer here
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        answers = await asyncio.gather(
            *(http.post("/api/user/api-key/regenerate", headers=auth("org-a")) for _ in range(6))
        )

    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    keys = [a.json()["data"]["apiKey"] for a in answers]
    working = [key for key in keys if (await ingest_with(client, key)).status_code == 200]
    assert len(working) == 1


async def test_concurrent_first_gets_create_one_key_shown_once(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a 500 is an answer here
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        answers = await asyncio.gather(
            *(http.get("/api/user/api-key", headers=auth("org-a")) for _ in range(6))
        )

    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    assert sum(not a.json()["data"]["masked"] for a in answers) == 1
