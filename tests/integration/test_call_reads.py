"""GET /api/calls/{callId} and GET /api/calls/history, scoped to the caller's organisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import auth
from tests.factories import make_call
from tether_relay.runtime import Runtime

T0 = datetime(2026, 5, 15, 9, 0, tzinfo=UTC)


async def test_one_call_is_the_call_document(client: httpx.AsyncClient, runtime: Runtime) -> None:
    call = await make_call(runtime, "org-a", provider="sinch", start_time=T0, user_id="u1")

    body = (await client.get(f"/api/calls/{call.id}", headers=auth("org-a"))).json()

    document = body["call"]
    assert body["success"] is True
    assert document["_id"] == document["callId"] == call.id
    assert (document["provider"], document["providerCallId"]) == ("sinch", call.provider_call_id)
    assert document["startTime"] == "2026-05-15T09:00:00Z"
    assert document["organizationId"] == "org-a"
    assert document["recordings"][0]["recordingId"].startswith("rec_")
    assert "storage_key" not in str(document)


async def test_another_organisations_call_is_a_404(client: httpx.AsyncClient, runtime: Runtime) -> None:
    call = await make_call(runtime, "org-a")

    other = await client.get(f"/api/calls/{call.id}", headers=auth("org-b"))
    missing = await client.get("/api/calls/000000000000000000000000", headers=auth("org-b"))

    assert other.status_code == missing.status_code == 404
    assert (
        other.json()
        == missing.json()
        == {"success": False, "error": "Call not found", "code": "CALL_NOT_FOUND"}
    )


async def test_history_is_newest_first_with_creation_time_standing_in(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    old = await make_call(runtime, "org-a", start_time=T0 - timedelta(days=2))
    new = await make_call(runtime, "org-a", start_time=T0)
    unstarted = await make_call(runtime, "org-a", start_time=None)  # created now: newest of all
    await make_call(runtime, "org-b", start_time=T0 + timedelta(days=1))

    body = (await client.get("/api/calls/history", headers=auth("org-a"))).json()

    assert body["success"] is True
    assert body["total"] == 3
    assert [c["callId"] for c in body["calls"]] == [unstarted.id, new.id, old.id]


async def test_history_filters_and_pages(client: httpx.AsyncClient, runtime: Runtime) -> None:
    for i in range(5):
        await make_call(
            runtime,
            "org-a",
            start_time=T0 + timedelta(minutes=i),
            user_id="u1" if i % 2 else "u2",
            status="completed" if i < 3 else "no-answer",
            contact_id="c1" if i == 4 else None,
        )

    def ids(response: httpx.Response) -> tuple[int, int]:
        body = response.json()
        return body["total"], len(body["calls"])

    get = client.get
    assert ids(await get("/api/calls/history?userId=u1", headers=auth("org-a"))) == (2, 2)
    assert ids(await get("/api/calls/history?status=no-answer", headers=auth("org-a"))) == (2, 2)
    assert ids(await get("/api/calls/history?contactId=c1", headers=auth("org-a"))) == (1, 1)
    assert ids(await get("/api/calls/history?limit=2&offset=4", headers=auth("org-a"))) == (5, 1)


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "offset=-1", "limit=ten"])
async def test_bad_paging_is_a_validation_error(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/api/calls/history?{query}", headers=auth("org-a"))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_reads_need_a_token(client: httpx.AsyncClient) -> None:
    for path in ("/api/calls/history", "/api/calls/abc"):
        response = await client.get(path)
        assert response.status_code == 401
        assert response.json()["code"] == "UNAUTHORIZED"
