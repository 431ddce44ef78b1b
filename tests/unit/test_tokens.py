from __future__ import annotations

import time

import jwt
import pytest

from tether_relay.auth.playback import PlaybackTokens
from tether_relay.auth.principal import Principal
from tether_relay.auth.tokens import TokenVerifier, bearer_token, mint_token, verify_token
from tether_relay.errors import Unauthorized

SECRET = "k" * 40


def test_minted_tokens_verify_into_a_principal() -> None:
    token = mint_token(SECRET, user_id="u1", organization_id="org-1", role="SUPERADMIN")

    assert verify_token(token, SECRET) == Principal("u1", "org-1", "SUPERADMIN")


def test_sub_is_accepted_for_the_user() -> None:
    token = jwt.encode({"sub": "u2", "organizationId": "org-1", "exp": time.time() + 60}, SECRET)

    assert verify_token(token, SECRET) == Principal("u2", "org-1", None)


@pytest.mark.parametrize(
    "claims",
    [
        {"id": "u", "organizationId": "org", "exp": time.time() + 60, "nbf": time.time() + 600},
        {"id": "u", "organizationId": "org", "exp": time.time() + 60, "accessRole": ["ADMIN"]},
        {"id": 5, "organizationId": "org", "exp": time.time() + 60},
        {"id": "u", "organizationId": "../etc", "exp": time.time() + 60},
        {"id": "u", "organizationId": "org", "exp": "tomorrow"},
    ],
)
def test_malformed_claims_are_refused(claims: dict[str, object]) -> None:
    with pytest.raises(Unauthorized):
        verify_token(jwt.encode(claims, SECRET), SECRET)


def test_hs512_is_refused_even_with_the_right_secret() -> None:
    secret = "k" * 64  # long enough that PyJWT signs HS512 without a warning
    token = jwt.encode({"id": "u", "organizationId": "o", "exp": time.time() + 60}, secret, algorithm="HS512")

    with pytest.raises(Unauthorized):
        verify_token(token, secret)


@pytest.mark.parametrize("header", [None, "", "Bearer", "Token abc", "Bearer   "])
def test_bearer_header_must_carry_a_token(header: str | None) -> None:
    with pytest.raises(Unauthorized):
        bearer_token(header)


def test_bearer_scheme_is_case_insensitive() -> None:
    assert bearer_token("bearer abc") == "abc"


def test_the_verifier_remembers_a_token_only_until_it_expires() -> None:
    verifier = TokenVerifier(SECRET)
    token = mint_token(SECRET, user_id="u1", organization_id="org-1", role="ADMIN", ttl_seconds=1)
    assert verifier.verify(token) == verify_token(token, SECRET)
    assert verifier.verify(token) == verify_token(token, SECRET)  # from memory
    time.sleep(1.1)
    with pytest.raises(Unauthorized):
        verifier.verify(token)


def test_the_verifier_never_remembers_a_refused_token() -> None:
    verifier = TokenVerifier(SECRET)
    forged = mint_token(
        "another-secret-" + "x" * 32, user_id="u1", organization_id="org-1", role=None, ttl_seconds=60
    )
    for _ in range(2):
        with pytest.raises(Unauthorized):
            verifier.verify(forged)


def test_the_verifier_memory_is_bounded() -> None:
    verifier = TokenVerifier(SECRET, size=3)
    tokens = [
        mint_token(SECRET, user_id=f"u{i}", organization_id="org-1", role=None, ttl_seconds=60)
        for i in range(5)
    ]
    for token in tokens:
        verifier.verify(token)
    assert len(verifier._seen) == 3
    assert [verifier.verify(t).user_id for t in tokens] == [f"u{i}" for i in range(5)]


def test_playback_tokens_expire_within_the_ttl_and_are_reused_within_a_step() -> None:
    now = [1_000_000.0]
    tokens = PlaybackTokens(b"p" * 32, 600, clock=lambda: now[0])
    first = tokens.mint("org-1", "c" * 24)
    exp = jwt.decode(
        first, b"p" * 32, algorithms=["HS256"], audience="tether:playback", options={"verify_exp": False}
    )["exp"]
    assert 1_000_000 + 600 - 60 < exp <= 1_000_000 + 600
    now[0] += 1
    assert tokens.mint("org-1", "c" * 24) == first  # same step: the same token
    assert tokens.mint("org-1", "d" * 24) != first  # another call: another token
    now[0] += 60
    assert tokens.mint("org-1", "c" * 24) != first  # next step: a fresh token
