"""No lost update: concurrent changes of one organisation's credentials all survive (issue 11, class 8).

Every change goes through `CredentialStore.update`, which locks the organisation's row before it reads
the encrypted blob. These tests race requests on the HTTP app, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import superadmin
from tether_relay.runtime import Runtime

VOICE_AI = "/api/calls/voice-ai/config"
# The voice-AI fields a partial update may set, each to a value of a usable length.
FIELDS = (
    "elevenlabsApiKey",
    "elevenlabsWebhookSecret",
    "sinchEstKeyId",
    "sinchEstKeySecret",
    "sinchEstProjectId",
    "sinchEstTrunkId",
    "sinchEstTrunkDomain",
)
_examples = itertools.count()


async def _post_all(client: httpx.AsyncClient, organization_id: str, bodies: list[dict[str, Any]]) -> None:
    responses = await asyncio.gather(
        *(client.post(VOICE_AI, headers=superadmin(organization_id), json=body) for body in bodies)
    )
    assert [r.status_code for r in responses] == [200] * len(bodies), [r.text for r in responses]


async def test_two_concurrent_partial_updates_keep_both_fields(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """The reproduction: one request sets the API key, one the webhook secret, at once; ten rounds."""
    for round_ in range(10):
        api_key, secret = f"key-{round_}-" + "k" * 20, f"secret-{round_}-" + "s" * 20
        await _post_all(client, "org-a", [{"elevenlabsApiKey": api_key}, {"elevenlabsWebhookSecret": secret}])
        stored = await runtime.credentials.elevenlabs("org-a")
        assert stored is not None
        assert (stored.api_key, stored.webhook_secret) == (api_key, secret), f"round {round_}"


async def test_concurrent_updates_of_a_new_organisation_keep_every_field(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """First writes race too: no row for the organisation nor its credentials exists yet."""
    for round_ in range(5):
        organization_id = f"org-new-{round_}"
        await _post_all(client, organization_id, [{name: f"{name}-" + "v" * 20} for name in FIELDS])
        stored = await runtime.credentials.get(organization_id, "elevenlabs")
        assert stored == {name: f"{name}-" + "v" * 20 for name in FIELDS}


async def test_tool_secret_generated_concurrently_with_other_fields_is_kept(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    bodies: list[dict[str, Any]] = [{"generateToolSecret": True}, {"elevenlabsApiKey": "k" * 24}]
    responses = await asyncio.gather(
        *(client.post(VOICE_AI, headers=superadmin("org-a"), json=body) for body in bodies)
    )
    shown = responses[0].json()["elevenlabsToolSecret"]
    stored = await runtime.credentials.get("org-a", "elevenlabs")
    assert stored == {"elevenlabsToolSecret": shown, "elevenlabsApiKey": "k" * 24}


async def test_delete_racing_saves_never_fails_and_leaves_one_whole_outcome(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """A delete and two saves of one provider at once: every request succeeds, and what is left is either
    nothing or one save whole."""
    saves = [
        {"provider": "sinch", "sinchApplicationKey": f"app-{n}", "sinchApplicationSecret": f"s{n}" * 12}
        for n in range(2)
    ]
    for _ in range(5):
        admin = superadmin("org-a")
        responses = await asyncio.gather(
            *(client.post("/api/calls/providers/config", headers=admin, json=body) for body in saves),
            client.delete("/api/calls/providers/config/sinch", headers=admin),
        )
        assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]
        stored = await runtime.credentials.get("org-a", "sinch")
        assert stored is None or stored in [
            {k: v for k, v in body.items() if k != "provider"} for body in saves
        ]


updates = st.dictionaries(
    st.sampled_from(FIELDS), st.text("abcdefgh0123456789", min_size=16, max_size=30), min_size=1
).flatmap(
    # Split the drawn fields into 1-5 concurrent partial updates, each touching different fields.
    lambda fields: st.lists(st.integers(0, 4), min_size=len(fields), max_size=len(fields)).map(
        lambda owners: [
            {name: value for (name, value), owner in zip(fields.items(), owners, strict=True) if owner == n}
            for n in range(5)
        ]
    )
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.dictionaries(st.sampled_from(FIELDS), st.text("xyz", min_size=16, max_size=20)),
    concurrent=updates,
)
async def test_concurrent_partial_updates_merge(
    client: httpx.AsyncClient,
    runtime: Runtime,
    before: dict[str, str],
    concurrent: list[dict[str, str]],
) -> None:
    """Any set of concurrent partial updates of different fields ends as the merge of all of them."""
    organization_id = f"org-h{next(_examples)}"
    if before:
        await _post_all(client, organization_id, [before])
    await _post_all(client, organization_id, [body for body in concurrent if body])
    merged = dict(before)
    for body in concurrent:
        merged.update(body)
    assert await runtime.credentials.get(organization_id, "elevenlabs") == merged
