"""Thin HTTP for ElevenLabs: the `xi-api-key` credential, our configured base URL, validated conversation
ids."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

import httpx

from tether_relay.providers.elevenlabs.payloads import Conversation
from tether_relay.providers.http import (
    Credential,
    RetryPolicy,
    body_or_none,
    deleted_or_gone,
    parsed_or_none,
    send,
)

PROVIDER = "elevenlabs"
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def is_conversation_id(value: str) -> bool:
    return _CONVERSATION_ID.match(value) is not None


class ElevenLabsClient:
    def __init__(self, http: httpx.AsyncClient, base_url: str, policy: RetryPolicy) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._policy = policy

    async def _send(self, api_key: str, path: str, method: str = "GET") -> httpx.Response:
        request = self._http.build_request(method, f"{self._base}{path}")
        # The key goes only to our configured origin (providers/http.py), never along a redirect elsewhere.
        credential = Credential.api_key("xi-api-key", api_key, self._base)
        return await send(self._http, request, provider=PROVIDER, policy=self._policy, credential=credential)

    async def conversation(self, api_key: str, conversation_id: str) -> Conversation | None:
        assert is_conversation_id(conversation_id)
        response = await self._send(api_key, f"/v1/convai/conversations/{quote(conversation_id)}")
        return parsed_or_none(response, Conversation, PROVIDER)

    async def delete_conversation(
        self, api_key: str, conversation_id: str
    ) -> Literal["deleted", "already-gone"]:
        """DELETE /v1/convai/conversations/{id}: the conversation with its audio and transcript (the SDK's
        `conversations.delete`; not in our reference, so any 2xx is success and 404 means gone)."""
        assert is_conversation_id(conversation_id)
        path = f"/v1/convai/conversations/{quote(conversation_id)}"
        return deleted_or_gone(await self._send(api_key, path, method="DELETE"), PROVIDER)

    async def audio(self, api_key: str, conversation_id: str) -> bytes | None:
        assert is_conversation_id(conversation_id)
        response = await self._send(api_key, f"/v1/convai/conversations/{quote(conversation_id)}/audio")
        return body_or_none(response, PROVIDER)
