"""Forged and broken credentials, table-driven: each is a 401 in the envelope (or, for a genuine token of
another organisation, the same 404 as a call that does not exist)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import JWT_SECRET, auth, token_for
from tests.factories import make_call
from tether_relay.runtime import Runtime

_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_PUBLIC_PEM = _RSA.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)
CLAIMS: dict[str, Any] = {"id": "u1", "organizationId": "org-a", "accessRole": "SUPERADMIN"}


def signed(
    claims: dict[str, Any] | None = None,
    *,
    secret: str | bytes = JWT_SECRET,
    algorithm: str = "HS256",
    headers: dict[str, Any] | None = None,
) -> str:
    body = {**CLAIMS, "exp": int(time.time()) + 600, **(claims or {})}
    return jwt.encode(
        {k: v for k, v in body.items() if v is not None}, secret, algorithm=algorithm, headers=headers
    )


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def hs256_with_public_key() -> str:
    # Key confusion: the attacker signs HS256 with the (public) RSA key, hoping it is used as the secret.
    header, payload = b64({"alg": "HS256", "typ": "JWT"}), b64({**CLAIMS, "exp": int(time.time()) + 600})
    mac = hmac.new(_PUBLIC_PEM, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


VALID = signed()
ATTACKS: dict[str, str | None] = {
    "no header": None,
    "basic scheme": "Basic dXNlcjpwYXNz",
    "empty bearer": "Bearer ",
    "not a jwt": "Bearer not.a.jwt",
    "alg none": "Bearer "
    + f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({**CLAIMS, 'exp': int(time.time()) + 600})}.",
    "HS256 signed with a public key": "Bearer " + hs256_with_public_key(),
    "RS256 with the attacker's key": "Bearer "
    + signed(
        secret=_RSA.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        algorithm="RS256",
    ),
    "wrong secret": "Bearer " + signed(secret="another-secret-of-at-least-32-characters!"),
    "expired": "Bearer " + signed({"exp": int(time.time()) - 5}),
    "nbf in the future": "Bearer " + signed({"nbf": int(time.time()) + 3600}),
    "no exp": "Bearer " + jwt.encode(CLAIMS, JWT_SECRET, algorithm="HS256"),
    "truncated": "Bearer " + VALID[:-6],
    "signature stripped": "Bearer " + VALID.rsplit(".", 1)[0] + ".",
    "oversized": "Bearer " + VALID + "A" * 10_000,
    "numeric organisation": "Bearer " + signed({"organizationId": 12345}),
    "list role": "Bearer " + signed({"accessRole": ["SUPERADMIN"]}),
    "no organisation": "Bearer " + signed({"organizationId": None}),
    "unknown kid": "Bearer " + signed(headers={"kid": "attacker-key-1"}),
    "jku header": "Bearer " + signed(headers={"jku": "https://attacker.example/jwks.json"}),
    "payload swapped": "Bearer "
    + ".".join(
        [
            VALID.split(".")[0],
            b64({**CLAIMS, "organizationId": "org-b", "exp": int(time.time()) + 600}),
            VALID.split(".")[2],
        ]
    ),
    "api key as bearer on a JWT route": "Bearer tk_live_" + "0" * 36,
}


@pytest.mark.parametrize("header", ATTACKS.values(), ids=ATTACKS.keys())
async def test_every_forged_or_broken_token_is_401(
    client: httpx.AsyncClient, runtime: Runtime, header: str | None
) -> None:
    call = await make_call(runtime, "org-a")
    headers = {} if header is None else {"Authorization": header}

    for response in (
        await client.get(f"/api/calls/{call.id}/recording", headers=headers),
        await client.get("/api/calls/history", headers=headers),
        await client.get("/api/calls/providers/config", headers=headers),
    ):
        assert response.status_code == 401, (response.status_code, response.text)
        assert response.json()["code"] == "UNAUTHORIZED"
        assert response.json()["success"] is False


API_KEY_ATTACKS = {
    "a JWT": None,
    "made-up key": "tk_live_" + "f" * 36,
    "wrong prefix": "sk_live_" + "f" * 36,
    "revoked key": "revoked",
    "empty": "",
}


@pytest.mark.parametrize("kind", API_KEY_ATTACKS.keys())
async def test_ingest_refuses_keys_that_are_not_live(client: httpx.AsyncClient, kind: str) -> None:
    key = API_KEY_ATTACKS[kind]
    if key is None:
        key = token_for("org-a")
    elif key == "revoked":
        key = (await client.get("/api/user/api-key", headers=auth("org-a"))).json()["data"]["apiKey"]
        await client.post("/api/user/api-key/regenerate", headers=auth("org-a"))

    response = await client.post(
        "/api/calls/ingest",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "direction": "inbound",
            "fromNumber": "+14165550100",
            "toNumber": "+14165550199",
            "duration": 1,
            "status": "busy",
        },
    )

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"


async def test_a_genuine_token_of_another_organisation_sees_a_missing_call(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    call = await make_call(runtime, "org-a")

    theirs = await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-b"))
    nothing = await client.get("/api/calls/ffffffffffffffffffffffff/recording", headers=auth("org-b"))

    assert theirs.status_code == 404
    assert theirs.json() == nothing.json()
