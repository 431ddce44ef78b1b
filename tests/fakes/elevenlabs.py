"""A loopback fake of the ElevenLabs conversations API (`GET /v1/convai/conversations/{id}` and its
`/audio`), in the wire format of shared/reference/providers.md §2: `xi-api-key` auth, the
GetConversationResponseModel shape, `{"detail": {"status", "message"}}` errors."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.faults import FaultInjection, FaultPlan
from tests.fakes.loopback import running


def error(status: int) -> dict[str, Any]:
    detail = {
        401: ("invalid_api_key", "Invalid API key"),
        404: ("conversation_not_found", "Conversation not found"),
    }.get(status, ("internal_error", "Error"))
    return {"detail": {"status": detail[0], "message": detail[1]}}


def conversation(
    conversation_id: str,
    *,
    agent_id: str = "agent_01jabc",
    status: str = "done",
    turns: list[tuple[str, str | None, int]] | None = None,
    direction: str = "inbound",
    agent_number: str = "+15550001111",
    external_number: str = "+15552223333",
    duration: int = 65,
    start: int = 1772532004,
) -> dict[str, Any]:
    """A GetConversationResponseModel (also the `data` of a post_call_transcription webhook)."""
    turns = (
        turns
        if turns is not None
        else [
            ("agent", "Hi, how can I help?", 0),
            ("user", "I want to check my order.", 3),
            ("agent", None, 5),
            ("agent", "It shipped this morning.", 7),
        ]
    )
    transcript = []
    for role, message, at in turns:
        turn: dict[str, Any] = {
            "role": role,
            "message": message,
            "time_in_call_secs": at,
            "tool_calls": [],
            "tool_results": [],
            "feedback": None,
            "interrupted": False,
        }
        if message is None:
            turn["tool_calls"] = [
                {
                    "type": "webhook",
                    "request_id": "req_1",
                    "tool_name": "lookup_order",
                    "params_as_json": '{"order_id": "123"}',
                    "tool_has_been_called": True,
                    "tool_details": None,
                }
            ]
        transcript.append(turn)
    return {
        "agent_id": agent_id,
        "agent_name": "Support agent",
        "conversation_id": conversation_id,
        "status": status,
        "user_id": None,
        "branch_id": None,
        "version_id": None,
        "environment": None,
        "transcript": transcript,
        "metadata": {
            "start_time_unix_secs": start,
            "accepted_time_unix_secs": start,
            "call_duration_secs": duration,
            "cost": 412,
            "termination_reason": "Call ended by remote party",
            "main_language": "en",
            "phone_call": {
                "type": "twilio",
                "direction": direction,
                "phone_number_id": "phnum_01j",
                "agent_number": agent_number,
                "external_number": external_number,
                "stream_sid": "MZ" + "8" * 32,
                "call_sid": "CA" + "2" * 32,
            },
        },
        "analysis": {
            "evaluation_criteria_results": {},
            "data_collection_results": {},
            "call_successful": "success",
            "transcript_summary": "Caller asked about an order; the agent confirmed it shipped.",
        },
        "conversation_initiation_client_data": {
            "conversation_config_override": {},
            "custom_llm_extra_body": {},
            "dynamic_variables": {},
        },
        "has_audio": True,
        "has_user_audio": True,
        "has_response_audio": True,
        "has_auxiliary_audio": False,
    }


@dataclass
class ElevenLabsFake:
    base_url: str = ""
    api_key: str = field(default_factory=lambda: "sk_" + secrets.token_hex(20))
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    audio: dict[str, bytes] = field(default_factory=dict)
    plan: FaultPlan = field(default_factory=FaultPlan)

    def add(self, conversation_id: str, *, audio: bytes | None = None, **fields: Any) -> dict[str, Any]:
        body = conversation(conversation_id, **fields)
        self.conversations[conversation_id] = body
        if audio is not None:
            self.audio[conversation_id] = audio
        return body

    def reset(self) -> None:
        self.conversations.clear()
        self.audio.clear()
        self.plan.reset()
        self.api_key = "sk_" + secrets.token_hex(20)

    def _refused(self, request: Request) -> Response | None:
        if request.headers.get("xi-api-key") != self.api_key:
            return JSONResponse(error(401), status_code=401)
        if request.path_params["id"] not in self.conversations:
            return JSONResponse(error(404), status_code=404)
        return None

    async def get_conversation(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        return JSONResponse(self.conversations[request.path_params["id"]])

    async def delete_conversation(self, request: Request) -> Response:
        """DELETE /v1/convai/conversations/{id}: the conversation, its transcript and its audio."""
        if (refused := self._refused(request)) is not None:
            return refused
        del self.conversations[request.path_params["id"]]
        self.audio.pop(request.path_params["id"], None)
        return JSONResponse({})

    async def get_audio(self, request: Request) -> Response:
        if (refused := self._refused(request)) is not None:
            return refused
        audio = self.audio.get(request.path_params["id"])
        if audio is None:
            return JSONResponse(error(404), status_code=404)
        return Response(audio, media_type="audio/mpeg")

    def asgi(self) -> FaultInjection:
        app = Starlette(
            routes=[
                Route("/v1/convai/conversations/{id}", self.get_conversation, methods=["GET"]),
                Route("/v1/convai/conversations/{id}", self.delete_conversation, methods=["DELETE"]),
                Route("/v1/convai/conversations/{id}/audio", self.get_audio),
            ]
        )
        return FaultInjection(app, self.plan, error)


@pytest.fixture(scope="session")
def elevenlabs_server() -> Iterator[ElevenLabsFake]:
    with running(ElevenLabsFake()) as fake:
        yield fake


@pytest.fixture
def elevenlabs(elevenlabs_server: ElevenLabsFake) -> ElevenLabsFake:
    elevenlabs_server.reset()
    return elevenlabs_server
