"""GET /api/calls/{callId}/recording on the embedded default (local storage), on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import auth
from tests.factories import AUDIO, TRANSCRIPT, make_call
from tether_relay.runtime import Runtime


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert body["code"] == code
    assert isinstance(body["error"], str)
    assert body["error"]
    return body


async def test_external_call_returns_signed_url_and_transcript(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    call = await make_call(runtime, "org-a", provider="external")

    response = await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-a"))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "success",
        "audioUrl",
        "duration",
        "recordingId",
        "direction",
        "from",
        "to",
        "transcriptionText",
        "transcriptionData",
        "transcriptionStatus",
        "playbackUrl",
    }
    assert body["transcriptionStatus"] == "ready"
    assert body["playbackUrl"].startswith(f"http://testserver/api/calls/{call.id}/recording/audio?token=")
    assert body["success"] is True
    assert body["recordingId"].startswith("rec_")
    assert body["duration"] == 154.0
    assert (body["direction"], body["from"], body["to"]) == ("outbound", "+14165550100", "+14165550199")
    assert body["transcriptionData"] == TRANSCRIPT
    assert body["transcriptionText"] == "Agent: Hi, this is Alex from Example Corp.\nUser: Hey Alex."
    download = await client.get(body["audioUrl"])
    assert download.status_code == 200
    assert download.content == AUDIO
    assert download.headers["content-type"] == "audio/mpeg"


@pytest.mark.parametrize("provider", ["elevenlabs", "sinch"])
async def test_stored_providers_are_served_from_their_bucket(
    client: httpx.AsyncClient, runtime: Runtime, provider: str
) -> None:
    call = await make_call(runtime, "org-a", provider=provider)

    body = (await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-a"))).json()

    bucket = "sinch" if provider == "sinch" else "recordings"
    assert f"/media/{bucket}/org-a/{call.id}/" in body["audioUrl"]
    assert (await client.get(body["audioUrl"])).content == AUDIO


async def test_signed_url_expires_after_the_ttl(client: httpx.AsyncClient, runtime: Runtime) -> None:
    call = await make_call(runtime, "org-a")
    body = (await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-a"))).json()
    expires = int(httpx.URL(body["audioUrl"]).params["expires"])

    assert time.time() + 600 - 5 <= expires <= time.time() + 600 + 5


async def test_other_organisations_call_is_indistinguishable_from_a_missing_one(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    call = await make_call(runtime, "org-a")

    other = await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-b"))
    missing = await client.get("/api/calls/0123456789abcdef01234567/recording", headers=auth("org-b"))

    assert_error(other, 404, "CALL_NOT_FOUND")
    assert other.json() == missing.json()


@pytest.mark.parametrize("role", ["SUPERADMIN", "DEPARTMENT_HEAD", None])
async def test_every_role_is_scoped_to_its_own_organisation(
    client: httpx.AsyncClient, runtime: Runtime, role: str | None
) -> None:
    call = await make_call(runtime, "org-a")

    assert_error(
        await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-b", role)),
        404,
        "CALL_NOT_FOUND",
    )
    assert (
        await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-a", role))
    ).status_code == 200


async def test_call_without_recording(client: httpx.AsyncClient, runtime: Runtime) -> None:
    call = await make_call(runtime, "org-a", audio=None)

    assert_error(
        await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-a")), 404, "RECORDING_NOT_FOUND"
    )


async def test_unsupported_provider(client: httpx.AsyncClient, runtime: Runtime) -> None:
    call = await make_call(runtime, "org-a", provider="textgrid")

    assert_error(
        await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-a")),
        400,
        "UNSUPPORTED_PROVIDER",
    )


async def test_signing_failure_is_a_500_without_internals(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    # A recording row that names a bucket this deployment does not have: signing cannot succeed.
    call = await make_call(runtime, "org-a", recording={"storage_bucket": "gone"})

    body = assert_error(
        await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-a")),
        500,
        "RECORDING_SIGNING_FAILED",
    )
    assert body["error"] == "Failed to sign the recording URL"
    assert "Traceback" not in str(body)
    assert "KeyError" not in str(body)


async def test_unknown_route_and_method_use_the_envelope(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/nothing-here"), 404, "NOT_FOUND")
    assert_error(
        await client.post("/api/calls/abc/recording", headers=auth("org-a")), 405, "METHOD_NOT_ALLOWED"
    )


async def test_missing_call_id_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/calls//recording", headers=auth("org-a"))

    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "code": "VALIDATION_ERROR",
        "error": {
            "code": "VALIDATION_ERROR",
            "message": "callId is required",
            "details": [{"field": "callId", "message": "must not be empty", "type": "missing"}],
        },
    }
