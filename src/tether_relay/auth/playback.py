"""Playback tokens: a short-lived right to stream one call's audio, carried in the URL of the playback
proxy so a browser's <audio> element (which cannot send an Authorization header) can play and seek.

A JWT signed with its own derived key and audience: a playback token is never accepted as a bearer
token, nor a bearer token as a playback token, and it names the one call and organisation it opens.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jwt

from tether_relay.errors import Unauthorized

_AUDIENCE = "tether:playback"
_ALGORITHM = "HS256"


class PlaybackTokenInvalid(Unauthorized):
    code = "PLAYBACK_TOKEN_INVALID"
    message = "The playback link is invalid or has expired"


class PlaybackTokens:
    """Mints and checks playback tokens. Every recording read mints one, and signing cost 19 µs (5 % of a
    cached read), so expiries are rounded down to a step (a tenth of the TTL, at most a minute) and a
    token minted within the same step is reused: a token lives between TTL minus a step and TTL."""

    def __init__(
        self, key: bytes, ttl_seconds: int, clock: Callable[[], float] = time.time, *, remember: int = 4096
    ) -> None:
        self._key = key
        self._ttl = ttl_seconds
        self._step = max(1, min(60, ttl_seconds // 10))
        self._clock = clock
        self._remember = remember
        self._minted: dict[tuple[str, str, int, bool], str] = {}

    def mint(self, organization_id: str, call_id: str, redacted: bool = False) -> str:
        expires = (int(self._clock()) + self._ttl) // self._step * self._step
        known = (organization_id, call_id, expires, redacted)
        token = self._minted.get(known)
        if token is None:
            claims = {"aud": _AUDIENCE, "org": organization_id, "call": call_id, "exp": expires}
            if redacted:  # opens the redacted copy only, whoever holds it
                claims["redacted"] = True
            token = jwt.encode(claims, self._key, algorithm=_ALGORITHM)
            if len(self._minted) >= self._remember:
                del self._minted[next(iter(self._minted))]  # the oldest
            self._minted[known] = token
        return token

    def organization_of(self, token: str, call_id: str) -> str:
        """The organisation the token was minted for, if it is valid, unexpired and for this call."""
        return self.grant_of(token, call_id)[0]

    def grant_of(self, token: str, call_id: str) -> tuple[str, bool]:
        """(organisation, whether it opens only the redacted copy) of a valid, unexpired token for this
        call."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                audience=_AUDIENCE,
                options={"require": ["exp", "aud"]},
                leeway=0,
            )
        except jwt.PyJWTError:
            raise PlaybackTokenInvalid() from None
        organization_id, bound_call = claims.get("org"), claims.get("call")
        if not isinstance(organization_id, str) or bound_call != call_id:
            raise PlaybackTokenInvalid()
        return organization_id, claims.get("redacted") is True


class PlaybackLinks:
    """The `playbackUrl` of a recording answer: the proxy's URL with a fresh token for that call."""

    def __init__(self, tokens: PlaybackTokens, base_url: str) -> None:
        self._tokens = tokens
        self._base_url = base_url.rstrip("/")

    def url(self, organization_id: str, call_id: str, redacted: bool = False) -> str:
        token = self._tokens.mint(organization_id, call_id, redacted)
        return f"{self._base_url}/api/calls/{call_id}/recording/audio?token={token}"
