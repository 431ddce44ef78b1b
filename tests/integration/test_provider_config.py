"""Provider credentials through the config API: roles, validation, masking, encryption at rest."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.conftest import auth, superadmin
from tests.fakes.twilio import sid
from tether_relay.runtime import Runtime

TWILIO = {
    "provider": "twilio",
    "twilioAccountSid": sid("AC"),
    "twilioAuthToken": "auth-token-0123456789abcdef",
    "twilioServiceSid": sid("GA"),
    "phoneNumber": "+14165550100",
}
SINCH = {
    "provider": "sinch",
    "sinchApplicationKey": "669E367E-6BBA-48AB-AF15-266871C28135",
    "sinchApplicationSecret": "BeIukql3pTKJ8RGL5zo0DA==",
}


def validation_error(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert body["code"] == "VALIDATION_ERROR"
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert isinstance(body["error"]["message"], str)
    assert isinstance(body["error"]["details"], list)
    assert body["error"]["details"]
    return body


async def test_superadmin_saves_and_reads_back_masked(client: httpx.AsyncClient, runtime: Runtime) -> None:
    saved = await client.post("/api/calls/providers/config", json=TWILIO, headers=superadmin("org-a"))
    await client.post("/api/calls/providers/config", json=SINCH, headers=superadmin("org-a"))

    described = await client.get("/api/calls/providers/config", headers=superadmin("org-a"))

    assert saved.json() == {
        "success": True,
        "message": "Configuration saved",
        "organizationId": "org-a",
        "elevenlabsToolSecret": None,
    }
    body = described.json()
    assert body["success"] is True
    twilio = body["providers"]["twilio"]
    assert twilio["configured"] is True
    assert twilio["twilioAccountSid"] == TWILIO["twilioAccountSid"]
    assert twilio["twilioAuthToken"] == "****cdef"
    assert body["providers"]["sinch"]["sinchApplicationSecret"] == "****DA=="
    assert TWILIO["twilioAuthToken"] not in described.text
    assert SINCH["sinchApplicationSecret"] not in described.text
    assert (await runtime.credentials.twilio("org-a")) is not None


async def test_secrets_are_not_in_plain_text_in_the_database(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await client.post("/api/calls/providers/config", json=TWILIO, headers=superadmin("org-a"))

    async with runtime.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM provider_credentials"))).all()

    dumped = repr(rows)
    assert rows
    assert TWILIO["twilioAuthToken"] not in dumped
    assert TWILIO["twilioAccountSid"] in dumped  # the lookup key is an identifier, not a secret


@pytest.mark.parametrize("role", ["ADMIN", "DEPARTMENT_HEAD", None])
async def test_writes_and_full_reads_need_superadmin(client: httpx.AsyncClient, role: str | None) -> None:
    headers = auth("org-a", role)
    for response in [
        await client.post("/api/calls/providers/config", json=TWILIO, headers=headers),
        await client.get("/api/calls/providers/config", headers=headers),
        await client.delete("/api/calls/providers/config/twilio", headers=headers),
        await client.post("/api/calls/voice-ai/config", json={"elevenlabsApiKey": "k" * 20}, headers=headers),
    ]:
        assert response.status_code == 403
        assert response.json() == {
            "success": False,
            "error": "This action needs the SUPERADMIN role",
            "code": "FORBIDDEN",
        }


async def test_any_member_reads_voice_ai_config_as_booleans_and_masks(client: httpx.AsyncClient) -> None:
    await client.post(
        "/api/calls/voice-ai/config",
        headers=superadmin("org-a"),
        json={"aiVoiceProvider": "elevenlabs", "elevenlabsApiKey": "sk_live_0123456789abcdefWXYZ"},
    )

    body = (await client.get("/api/calls/voice-ai/config", headers=auth("org-a", None))).json()

    assert body["success"] is True
    assert body["aiVoiceProvider"] == "elevenlabs"
    assert body["elevenlabsApiKeySet"] is True
    assert body["elevenlabsApiKey"] == "****WXYZ"
    assert body["elevenlabsWebhookSecretSet"] is False


async def test_voice_ai_is_a_partial_update(client: httpx.AsyncClient, runtime: Runtime) -> None:
    admin = superadmin("org-a")
    await client.post("/api/calls/voice-ai/config", headers=admin, json={"elevenlabsApiKey": "k" * 24})
    await client.post("/api/calls/voice-ai/config", headers=admin, json={"elevenlabsWebhookSecret": "w" * 24})
    both = await runtime.credentials.elevenlabs("org-a")
    await client.post("/api/calls/voice-ai/config", headers=admin, json={"elevenlabsApiKey": None})
    cleared = await runtime.credentials.elevenlabs("org-a")

    assert both is not None
    assert (both.api_key, both.webhook_secret) == ("k" * 24, "w" * 24)
    assert cleared is not None
    assert (cleared.api_key, cleared.webhook_secret) == (None, "w" * 24)


async def test_generated_tool_secret_is_shown_once(client: httpx.AsyncClient) -> None:
    saved = await client.post(
        "/api/calls/voice-ai/config", headers=superadmin("org-a"), json={"generateToolSecret": True}
    )
    described = await client.get("/api/calls/voice-ai/config", headers=auth("org-a"))

    secret = saved.json()["elevenlabsToolSecret"]
    assert len(secret) == 64
    assert described.json()["elevenlabsToolSecretSet"] is True
    assert secret not in described.text


async def test_delete_removes_the_credentials(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await client.post("/api/calls/providers/config", json=TWILIO, headers=superadmin("org-a"))

    first = await client.delete("/api/calls/providers/config/twilio", headers=superadmin("org-a"))
    again = await client.delete("/api/calls/providers/config/twilio", headers=superadmin("org-a"))

    assert first.json() == {"success": True, "message": "twilio configuration removed", "deleted": True}
    assert again.json()["deleted"] is False
    assert await runtime.credentials.twilio("org-a") is None


async def test_superadmin_may_name_another_organisation(client: httpx.AsyncClient, runtime: Runtime) -> None:
    response = await client.post(
        "/api/calls/providers/config?organizationId=org-b", json=TWILIO, headers=superadmin("org-a")
    )

    assert response.json()["organizationId"] == "org-b"
    assert await runtime.credentials.twilio("org-b") is not None
    assert await runtime.credentials.twilio("org-a") is None


async def test_members_may_not_name_another_organisation(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/calls/voice-ai/config?organizationId=org-b", headers=auth("org-a"))
    own = await client.get("/api/calls/voice-ai/config?organizationId=org-a", headers=auth("org-a"))

    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"
    assert own.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"provider": "twilio", "twilioAccountSid": sid("AC")},  # neither token nor key pair
        {"provider": "twilio", "twilioAccountSid": "AC123", "twilioAuthToken": "x" * 20},  # malformed SID
        {
            "provider": "twilio",
            "twilioAccountSid": sid("AC"),
            "twilioApiKeySid": sid("SK"),
        },  # half a key pair
        {"provider": "sinch", "sinchApplicationKey": "key"},
        {"provider": "textgrid"},
        {**TWILIO, "twilioAuthTokn": "typo"},  # unknown fields are refused, not silently dropped
        {**TWILIO, "phoneNumber": "4165550100"},
        [],
    ],
)
async def test_invalid_config_is_a_validation_error(client: httpx.AsyncClient, body: Any) -> None:
    validation_error(await client.post("/api/calls/providers/config", json=body, headers=superadmin("org-a")))


async def test_body_that_is_not_json_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/calls/providers/config",
        content=b"{not json",
        headers={**superadmin("org-a"), "Content-Type": "application/json"},
    )

    validation_error(response)


async def test_malformed_organization_id_is_a_validation_error(client: httpx.AsyncClient) -> None:
    validation_error(
        await client.get("/api/calls/providers/config?organizationId=../../x", headers=superadmin("org-a"))
    )


# Credentials the code below cannot use (as an HMAC key, in an HTTP header) are refused at the edge.
UNUSABLE = {
    "one-character Sinch secret": {**SINCH, "sinchApplicationSecret": "a"},
    "Sinch secret not base64": {**SINCH, "sinchApplicationSecret": "!!!!" * 8},
    "Sinch secret of 7 bytes": {**SINCH, "sinchApplicationSecret": "app-secret"},
    "non-ASCII Sinch application key": {**SINCH, "sinchApplicationKey": "clé"},
    "Twilio token with a line break": {**TWILIO, "twilioAuthToken": "0123456789\nabcdef0123"},
    "non-ASCII Twilio token": {**TWILIO, "twilioAuthToken": "é" * 32},
    "Twilio token of one character": {**TWILIO, "twilioAuthToken": "x"},
    "NUL in a Twilio token": {**TWILIO, "twilioAuthToken": "0123456789abcdef\x00"},
}


@pytest.mark.parametrize("body", UNUSABLE.values(), ids=UNUSABLE.keys())
async def test_voice_provider_credentials_the_code_cannot_use_are_400(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    validation_error(await client.post("/api/calls/providers/config", json=body, headers=superadmin("org-a")))
    described = await client.get("/api/calls/providers/config", headers=superadmin("org-a"))
    assert not any(provider["configured"] for provider in described.json()["providers"].values())


@pytest.mark.parametrize(
    "change",
    [
        {"elevenlabsApiKey": "k"},
        {"elevenlabsApiKey": "sk_" + "é" * 20},
        {"elevenlabsWebhookSecret": "wsec with spaces inside"},
        {"sinchEstProjectId": "p" * 129},
    ],
)
async def test_voice_ai_credentials_the_code_cannot_use_are_400(
    client: httpx.AsyncClient, change: dict[str, Any]
) -> None:
    validation_error(
        await client.post("/api/calls/voice-ai/config", json=change, headers=superadmin("org-a"))
    )


async def test_concurrent_first_saves_of_one_organisation_are_never_a_500(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # a 500 is an answer here
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        answers = await asyncio.gather(
            *(
                http.post("/api/calls/providers/config", json=SINCH, headers=superadmin("org-new"))
                for _ in range(6)
            )
        )

    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 409}, [a.text for a in answers]
    assert 200 in statuses
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json() == {"success": False, "error": answer.json()["error"], "code": "CONFLICT"}
    described = await client.get("/api/calls/providers/config", headers=superadmin("org-new"))
    assert described.json()["providers"]["sinch"]["configured"] is True
