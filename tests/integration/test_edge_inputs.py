"""Path and query parameters a client mangled: a 4xx in the envelope on both databases, never a 500
(PostgreSQL refuses NUL in text, and a column's length is a hard limit there)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import auth, superadmin

LONG = "x" * 5000
MANGLED = [
    "/api/calls/%00",
    f"/api/calls/{LONG}",
    "/api/calls/%ED%A0%80",
    "/api/calls/%00/recording",
    f"/api/calls/{LONG}/recording",
    "/api/calls/%00/recording/audio",
    "/api/calls/history?status=%00",
    "/api/calls/history?contactId=a%00b&userId=%00",
    "/api/calls/history?limit=" + "9" * 5000,
    "/api/calls/history?offset=-1",
    "/api/calls/voice-ai/config?organizationId=%00",
    f"/api/calls/voice-ai/config?organizationId={LONG}",
]


@pytest.mark.parametrize("url", MANGLED)
async def test_mangled_path_and_query_parameters_are_4xx(client: httpx.AsyncClient, url: str) -> None:
    response = await client.get(url, headers=superadmin("org-a"))

    assert 400 <= response.status_code < 500, response.text
    assert response.json()["success"] is False


@pytest.mark.parametrize("call_id", ["%00", LONG])
async def test_deleting_a_mangled_call_id_is_4xx(client: httpx.AsyncClient, call_id: str) -> None:
    response = await client.delete(f"/api/calls/{call_id}/recording", headers=auth("org-a"))

    assert 400 <= response.status_code < 500, response.text
