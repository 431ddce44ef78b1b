"""GET /api/calls/{callId}/transcript: each format parsed back with the library that wrote it, the times
and speakers kept, markup in a message escaped, and the recording's visibility rules."""

from __future__ import annotations

import base64
import html
import json

import httpx
import pytest
import srt
import webvtt

from tests.conftest import auth, superadmin
from tests.factories import make_twilio_call
from tests.fakes.twilio import TwilioFake, sid
from tether_relay.runtime import Runtime

MP3 = b"ID3\x04\x00\x00" + bytes(range(256)) * 20
TRANSCRIPT = [
    {
        "role": "agent",
        "message": "Hi, this is <Alex> & co.\n\nHow can I help? -->",
        "timestamp": 0.5,
        "end": 2.25,
    },
    {"role": "user", "message": "My card is four one one one.", "timestamp": 2.8},
    {"role": "agent", "message": "Noted.", "timestamp": 3661.2},
]
ONE_LINE = ["Hi, this is <Alex> & co. How can I help? -->", "My card is four one one one.", "Noted."]
TIMES = [(0.5, 2.25), (2.8, 3661.2), (3661.2, 3700.0)]  # guessed ends: the next start, then the duration


@pytest.fixture
async def call_id(client: httpx.AsyncClient) -> str:
    api_key = (await client.get("/api/user/api-key", headers=auth("org-a"))).json()["data"]["apiKey"]
    body = {
        "direction": "outbound",
        "fromNumber": "+14165550100",
        "toNumber": "+14165550199",
        "duration": 3700,
        "status": "completed",
        "transcript": TRANSCRIPT,
        "summary": "Card noted.",
        "recording": base64.b64encode(MP3).decode(),
    }
    response = await client.post(
        "/api/calls/ingest", json=body, headers={"Authorization": f"Bearer {api_key}"}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["callId"])


async def export(
    client: httpx.AsyncClient, call_id: str, fmt: str | None, org: str = "org-a"
) -> httpx.Response:
    params = {} if fmt is None else {"format": fmt}
    return await client.get(f"/api/calls/{call_id}/transcript", params=params, headers=auth(org, "USER"))


async def test_webvtt_has_a_voice_tagged_cue_per_utterance(client: httpx.AsyncClient, call_id: str) -> None:
    response = await export(client, call_id, "vtt")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/vtt; charset=utf-8"
    captions = webvtt.from_string(response.text).captions
    assert [c.voice for c in captions] == ["agent", "user", "agent"]
    assert [html.unescape(c.text) for c in captions] == ONE_LINE
    assert [
        (c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000) for c in captions
    ] == TIMES


async def test_srt_has_a_numbered_cue_per_utterance_with_its_speaker(
    client: httpx.AsyncClient, call_id: str
) -> None:
    response = await export(client, call_id, "srt")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-subrip; charset=utf-8"
    subtitles = list(srt.parse(response.text))
    assert [s.index for s in subtitles] == [1, 2, 3]
    assert [s.content for s in subtitles] == [
        f"{who}: {text}" for who, text in zip(["Agent", "User", "Agent"], ONE_LINE, strict=True)
    ]
    assert [(s.start.total_seconds(), s.end.total_seconds()) for s in subtitles] == TIMES


async def test_text_is_one_line_per_utterance_and_json_the_list(
    client: httpx.AsyncClient, call_id: str
) -> None:
    text = await export(client, call_id, "txt")
    as_json = await export(client, call_id, None)

    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    assert text.text.splitlines() == [
        f"{w}: {t}" for w, t in zip(["Agent", "User", "Agent"], ONE_LINE, strict=True)
    ]
    assert as_json.headers["content-type"] == "application/json"
    assert [(u["message"], u["timestamp"], u["end"]) for u in json.loads(as_json.text)] == [
        (u["message"], *times) for u, times in zip(TRANSCRIPT, TIMES, strict=True)
    ]


@pytest.mark.parametrize("fmt", ["docx", "", "VTT", "json\x00"])
async def test_an_unknown_format_is_a_400(client: httpx.AsyncClient, call_id: str, fmt: str) -> None:
    response = await export(client, call_id, fmt)

    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_another_organisations_call_and_a_deleted_recording_are_404s(
    client: httpx.AsyncClient, call_id: str
) -> None:
    assert (await export(client, call_id, "vtt", org="org-b")).json()["code"] == "CALL_NOT_FOUND"
    assert (await client.delete(f"/api/calls/{call_id}/recording", headers=auth("org-a"))).status_code == 200

    response = await export(client, call_id, "vtt")

    assert (response.status_code, response.json()["code"]) == (404, "RECORDING_DELETED")
    assert "four" not in response.text


async def test_a_transcript_twilio_is_still_making_is_not_ready_with_retry_after(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    config = twilio.credentials_config(with_service=True)
    assert (
        await client.post("/api/calls/providers/config", json=config, headers=superadmin("org-t"))
    ).status_code == 200
    recording = twilio.add_recording(call_sid := sid("CA"), MP3, duration="65")
    twilio.add_intelligence_transcript(recording.sid, [(1, 0.0, 1.0, "Hello.")], status="in-progress")
    call = await make_twilio_call(runtime, "org-t", call_sid, recording.sid)

    response = await export(client, call.id, "vtt", org="org-t")

    assert (response.status_code, response.json()["code"]) == (404, "TRANSCRIPT_NOT_READY")
    assert int(response.headers["retry-after"]) > 0


async def test_a_text_only_transcript_is_served_as_text_and_not_as_captions(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    config = twilio.credentials_config()
    assert (
        await client.post("/api/calls/providers/config", json=config, headers=superadmin("org-t"))
    ).status_code == 200
    recording = twilio.add_recording(call_sid := sid("CA"), MP3, duration="65")
    twilio.add_legacy_transcription(recording.sid, "Hello, this is a test.")
    call = await make_twilio_call(runtime, "org-t", call_sid, recording.sid)

    text = await export(client, call.id, "txt", org="org-t")
    captions = await export(client, call.id, "vtt", org="org-t")

    assert (text.status_code, text.text) == (200, "Hello, this is a test.\n")
    assert (captions.status_code, captions.json()["code"]) == (404, "TRANSCRIPT_NOT_FOUND")
