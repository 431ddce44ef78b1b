"""Bearer JWTs: HS256 only, `exp` required, claims checked for type before anything trusts them."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import jwt

from tether_relay.auth.principal import Principal
from tether_relay.errors import Unauthorized

ALGORITHM = "HS256"
# Anything longer is not a token we minted; refuse before spending time on it.
MAX_TOKEN_LENGTH = 8192
# Organisation ids become primary keys and storage key prefixes: keep them plain.
_KEY_HEADERS = {"kid", "jku", "jwk", "x5u", "x5c", "crit"}
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")


def mint_token(
    secret: str,
    *,
    user_id: str,
    organization_id: str,
    role: str | None,
    ttl_seconds: int = 3600,
    now: float | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "id": user_id,
        "sub": user_id,
        "organizationId": organization_id,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if role is not None:
        claims["accessRole"] = role
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: str, secret: str) -> Principal:
    return _verify(token, secret)[0]


class TokenVerifier:
    """`verify_token` with a bounded memory of tokens it has verified.

    Verification is a pure function of the token and the secret, so a token seen before needs only its
    expiry checked again; on the cached recording read, PyJWT was 14 % of the server's time
    (docs/performance.md). Only the exact token string hits, and an entry is dropped once expired.
    """

    def __init__(self, secret: str, *, size: int = 4096, clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self._size = size
        self._clock = clock
        self._seen: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        seen = self._seen.get(token)
        if seen is not None:
            if seen[1] > self._clock():
                return seen[0]
            del self._seen[token]
        principal, expires = _verify(token, self._secret)
        if len(self._seen) >= self._size:
            del self._seen[next(iter(self._seen))]  # the oldest entry
        self._seen[token] = (principal, expires)
        return principal


def _verify(token: str, secret: str) -> tuple[Principal, float]:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized()
    try:
        # We issue no key ids and fetch no keys: a header that names one is not a token of ours.
        if _KEY_HEADERS & set(jwt.get_unverified_header(token)):
            raise Unauthorized("Invalid or expired token")
        # Pinning the algorithm list is what refuses `alg: none` and public-key confusion.
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"]}, leeway=0)
    except jwt.PyJWTError as exc:
        raise Unauthorized("Invalid or expired token") from exc
    user_id = claims.get("id", claims.get("sub"))
    organization_id = claims.get("organizationId")
    role = claims.get("accessRole")
    if (
        not is_plain_id(user_id)
        or not is_plain_id(organization_id)
        or not (role is None or is_plain_id(role))
    ):
        raise Unauthorized("Token claims are missing or malformed")
    assert isinstance(user_id, str) and isinstance(organization_id, str)
    return Principal(user_id=user_id, organization_id=organization_id, role=role), float(claims["exp"])


def is_plain_id(value: object) -> bool:
    return isinstance(value, str) and _ID_PATTERN.match(value) is not None


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("Missing bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing bearer token")
    return token.strip()
