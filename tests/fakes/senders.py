"""Build webhook requests the way each provider sends them: body, headers, signature."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tether_relay.providers.elevenlabs import signature as elevenlabs_signature
from tether_relay.providers.sinch import signature as sinch_signature
from tether_relay.providers.twilio import signature as twilio_signature

PUBLIC_BASE_URL = "http://testserver"


def elevenlabs(event: dict[str, Any], secret: str, *, at: int | None = None) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    timestamp = int(time.time()) if at is None else at
    digest = elevenlabs_signature.sign(body, secret, timestamp)
    return body, {"ElevenLabs-Signature": f"t={timestamp},{digest}", "Content-Type": "application/json"}


def elevenlabs_audio(conversation_id: str, audio: bytes, agent_id: str = "agent_01jabc") -> dict[str, Any]:
    return {
        "type": "post_call_audio",
        "event_timestamp": int(time.time()),
        "data": {
            "agent_id": agent_id,
            "conversation_id": conversation_id,
            "full_audio": base64.b64encode(audio).decode(),
        },
    }


def elevenlabs_transcription(conversation: dict[str, Any]) -> dict[str, Any]:
    return {"type": "post_call_transcription", "event_timestamp": int(time.time()), "data": conversation}


def twilio(path: str, params: dict[str, str], auth_token: str) -> tuple[bytes, dict[str, str]]:
    pairs = list(params.items())
    signed = twilio_signature.compute(PUBLIC_BASE_URL + path, pairs, auth_token)
    return urlencode(pairs).encode(), {
        "X-Twilio-Signature": signed,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def sinch(
    path: str, event: dict[str, Any], key: str, secret: str, at: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    timestamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    content_type = "application/json; charset=utf-8"
    signed = sinch_signature.compute(
        method="POST", body=body, content_type=content_type, timestamp=timestamp, path=path, secret=secret
    )
    return body, {
        "Authorization": f"Application {key}:{signed}",
        "x-timestamp": timestamp,
        "Content-Type": content_type,
    }
