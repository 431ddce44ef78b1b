"""For every route that takes an id, another organisation's id gets exactly the answer a nonexistent id
gets. A guard test keeps the sweep complete as routes are added."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import auth, superadmin
from tests.factories import make_call
from tether_relay.outbound.events import Fact, emit
from tether_relay.runtime import Runtime

# Routes whose path carries a call id: swept below.
CALL_ID_ROUTES = {
    ("GET", "/api/calls/{callId}"),
    ("GET", "/api/calls/{callId}/recording"),
    ("GET", "/api/calls/{callId}/transcript"),
    ("GET", "/api/calls/{callId}/recording/redactions"),
    ("GET", "/api/calls/{callId}/recording/audio"),
    ("DELETE", "/api/calls/{callId}/recording"),
}
# Routes whose path carries a webhook endpoint's or delivery's id: swept below.
WEBHOOK_ID_ROUTES = {
    ("DELETE", "/api/webhooks/endpoints/{endpointId}"),
    ("POST", "/api/webhooks/endpoints/{endpointId}/rotate-secret"),
    ("GET", "/api/webhooks/endpoints/{endpointId}/deliveries"),
    ("POST", "/api/webhooks/deliveries/{deliveryId}/replay"),
}
# Routes with other path parameters, and why they are not tenant ids.
NOT_TENANT_IDS = {
    ("DELETE", "/api/calls/providers/config/{provider}"): "a provider name; the tenant is ?organizationId=",
    ("GET", "/media/{bucket}/{key}"): "a capability URL: the HMAC signature is the authority, tested apart",
}
# Routes that select a tenant by ?organizationId=.
ORGANIZATION_PARAM_ROUTES = [
    ("GET", "/api/calls/providers/config"),
    ("GET", "/api/calls/voice-ai/config"),
    ("DELETE", "/api/calls/providers/config/twilio"),
]


async def test_the_sweep_covers_every_route_with_a_path_parameter(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    with_ids = {(method.upper(), path) for path, item in paths.items() if "{" in path for method in item}

    assert with_ids == CALL_ID_ROUTES | WEBHOOK_ID_ROUTES | set(NOT_TENANT_IDS)


@pytest.mark.parametrize(("method", "path"), sorted(CALL_ID_ROUTES))
@pytest.mark.parametrize("role", ["SUPERADMIN", "ADMIN", None])
async def test_another_organisations_call_id_is_answered_like_a_missing_one(
    client: httpx.AsyncClient, runtime: Runtime, method: str, path: str, role: str | None
) -> None:
    theirs = await make_call(runtime, "org-a")

    foreign = await client.request(method, path.format(callId=theirs.id), headers=auth("org-b", role))
    missing = await client.request(method, path.format(callId="0" * 24), headers=auth("org-b", role))

    assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json())
    assert foreign.status_code == 404


@pytest.mark.parametrize("settings_overrides", [{"webhook_allow_private_urls": True}])
@pytest.mark.parametrize(("method", "path"), sorted(WEBHOOK_ID_ROUTES))
@pytest.mark.parametrize("role", ["SUPERADMIN", "ADMIN"])
async def test_another_organisations_endpoint_or_delivery_id_is_answered_like_a_missing_one(
    client: httpx.AsyncClient, runtime: Runtime, method: str, path: str, role: str
) -> None:
    created = await client.post(
        "/api/webhooks/endpoints", json={"url": "http://127.0.0.1:9/hook"}, headers=auth("org-a")
    )
    endpoint_id = created.json()["endpoint"]["id"]
    call = await make_call(runtime, "org-a")
    async with runtime.sessions.begin() as session:
        await emit(session, Fact("call.completed", call.id, "org-a", call.id, "external"))
    log = await client.get(f"/api/webhooks/endpoints/{endpoint_id}/deliveries", headers=auth("org-a"))
    delivery_id = log.json()["deliveries"][0]["id"]

    foreign = await client.request(
        method, path.format(endpointId=endpoint_id, deliveryId=delivery_id), headers=auth("org-b", role)
    )
    missing = await client.request(
        method,
        path.format(endpointId="ep_" + "0" * 24, deliveryId="dlv_" + "0" * 24),
        headers=auth("org-b", role),
    )

    assert (foreign.status_code, foreign.json()) == (missing.status_code, missing.json())
    assert foreign.status_code == 404


async def test_a_playback_token_opens_only_its_own_organisations_call(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    theirs = await make_call(runtime, "org-a")
    mine = await make_call(runtime, "org-b")
    # A token minted for org-b naming org-a's call id (as if org-b guessed it) finds nothing.
    forged = runtime.playback_tokens.mint("org-b", theirs.id)
    missing = runtime.playback_tokens.mint("org-b", "0" * 24)

    foreign = await client.get(f"/api/calls/{theirs.id}/recording/audio?token={forged}")
    absent = await client.get(f"/api/calls/{'0' * 24}/recording/audio?token={missing}")
    own = await client.get(
        f"/api/calls/{mine.id}/recording/audio?token={runtime.playback_tokens.mint('org-b', mine.id)}"
    )

    assert (foreign.status_code, foreign.json()) == (absent.status_code, absent.json())
    assert foreign.status_code == 404
    assert own.status_code == 200


@pytest.mark.parametrize(("method", "path"), ORGANIZATION_PARAM_ROUTES)
async def test_naming_another_organisation_is_answered_alike_whether_it_exists_or_not(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    await client.post(
        "/api/calls/voice-ai/config", headers=superadmin("org-a"), json={"elevenlabsApiKey": "k" * 20}
    )

    existing = await client.request(method, f"{path}?organizationId=org-a", headers=auth("org-b", "ADMIN"))
    unknown = await client.request(method, f"{path}?organizationId=org-zzz", headers=auth("org-b", "ADMIN"))

    assert (existing.status_code, existing.json()) == (unknown.status_code, unknown.json())
    assert existing.status_code == 403


async def test_history_never_shows_another_organisations_calls(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await make_call(runtime, "org-a", user_id="shared-user-id")

    body = (
        await client.get("/api/calls/history?userId=shared-user-id", headers=auth("org-b", "SUPERADMIN"))
    ).json()

    assert body == {"success": True, "calls": [], "total": 0}
