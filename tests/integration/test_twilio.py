"""Twilio calls end to end through the HTTP API against the loopback Twilio fake: credentials configured
through the API, audio fetched server-side as a data URI, transcripts fetched once and cached."""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from tests.conftest import auth, superadmin
from tests.factories import make_twilio_call
from tests.fakes.twilio import FakeRecording, TwilioFake, sid
from tether_relay.calls.models import Call
from tether_relay.runtime import Runtime

AUDIO = b"ID3\x03" + bytes(range(256)) * 64
ORG = "org-twilio"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"provider_timeout_seconds": 0.5}


async def configure(client: httpx.AsyncClient, twilio: TwilioFake, **kw: bool) -> None:
    response = await client.post(
        "/api/calls/providers/config", json=twilio.credentials_config(**kw), headers=superadmin(ORG)
    )
    assert response.status_code == 200, response.text


async def read(client: httpx.AsyncClient, call_id: str) -> httpx.Response:
    return await client.get(f"/api/calls/{call_id}/recording", headers=auth(ORG))


async def known_call(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, with_service: bool = False
) -> tuple[Call, FakeRecording]:
    """Credentials configured and a call whose recording webhook arrived (RecordingSid and duration known)."""
    await configure(client, twilio, with_service=with_service)
    recording = twilio.add_recording(call_sid := sid("CA"), AUDIO)
    return await make_twilio_call(runtime, ORG, call_sid, recording.sid, duration=65.0), recording


def decoded(body: dict[str, Any]) -> bytes:
    prefix = "data:audio/mpeg;base64,"
    assert body["audioData"].startswith(prefix)
    return base64.b64decode(body["audioData"][len(prefix) :])


def words_of(twilio: TwilioFake, recording_sid: str, index: int) -> list[dict[str, Any]]:
    """The fake's timed words of one sentence, in our shape."""
    row = twilio.intelligence[recording_sid].sentences[index]
    return [{"word": w["word"], "start": w["start_time"], "end": w["end_time"]} for w in row["words"]]


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text[:300]
    assert response.json()["code"] == code
    assert response.json()["success"] is False


@pytest.mark.parametrize("api_key", [False, True], ids=["auth-token", "api-key"])
async def test_audio_is_fetched_server_side_and_transcript_only_once(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, api_key: bool
) -> None:
    await configure(client, twilio, with_service=True, api_key=api_key)
    call_sid = sid("CA")
    recording = twilio.add_recording(call_sid, AUDIO, duration="65")
    twilio.add_intelligence_transcript(
        recording.sid, [(1, 0.48, 2.96, "Hi, I have a question."), (2, 3.1, 4.4, "Sure, how can I help?")]
    )
    call = await make_twilio_call(runtime, ORG, call_sid, recording.sid, direction="inbound")

    first = await read(client, call.id)
    requests_after_first = twilio.plan.count()
    second = await read(client, call.id)

    assert first.status_code == second.status_code == 200
    body = first.json()
    assert decoded(body) == AUDIO
    assert "audioUrl" not in body
    assert body["duration"] == 65.0
    assert body["recordingId"] == recording.sid
    assert (body["direction"], body["from"], body["to"]) == ("inbound", "+14165550100", "+14165550199")
    assert body["transcriptionData"] == [
        {
            "role": "user",
            "message": "Hi, I have a question.",
            "timestamp": 0.48,
            "end": 2.96,
            "words": words_of(twilio, recording.sid, 0),
            "channel": 1,
        },
        {
            "role": "agent",
            "message": "Sure, how can I help?",
            "timestamp": 3.1,
            "end": 4.4,
            "words": words_of(twilio, recording.sid, 1),
            "channel": 2,
        },
    ]
    words = [w["word"] for w in body["transcriptionData"][0]["words"]]
    assert words == ["Hi,", "I", "have", "a", "question."]
    assert body["transcriptionText"] == "User: Hi, I have a question.\nAgent: Sure, how can I help?"
    assert second.json() == body
    # The second read fetches the audio again (Twilio audio is always fetched server-side) and nothing else.
    assert (
        twilio.plan.count("/v2/") == 2
    )  # one Transcripts lookup, one Sentences page, both on the first read
    assert twilio.plan.count(f"/Recordings/{recording.sid}.json") == 1  # the duration, learnt once
    assert twilio.plan.count() - requests_after_first == 1
    assert twilio.plan.count(f"/Recordings/{recording.sid}.mp3") == 2


async def test_outbound_channels_map_the_other_way(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    await configure(client, twilio, with_service=True)
    recording = twilio.add_recording(call_sid := sid("CA"), AUDIO)
    twilio.add_intelligence_transcript(
        recording.sid, [(1, 0.5, 1.0, "Hello, this is Alex."), (2, 1.2, 2.0, "Hi.")]
    )
    call = await make_twilio_call(runtime, ORG, call_sid, recording.sid, direction="outbound")

    body = (await read(client, call.id)).json()

    assert [u["role"] for u in body["transcriptionData"]] == ["agent", "user"]


async def test_a_lost_recording_webhook_is_recovered_through_the_calls_recordings(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    await configure(client, twilio)
    call_sid = sid("CA")
    twilio.add_recording(call_sid, b"older", date_created="Tue, 03 Mar 2026 09:00:00 +0000")
    newest = twilio.add_recording(
        call_sid, AUDIO, date_created="Tue, 03 Mar 2026 10:00:00 +0000", duration="12"
    )
    twilio.add_recording(
        call_sid,
        b"still recording",
        status="in-progress",
        duration=None,
        date_created="Tue, 03 Mar 2026 11:00:00 +0000",
    )
    twilio.add_legacy_transcription(newest.sid, "Hello, this is a test.")
    call = await make_twilio_call(runtime, ORG, call_sid, None)

    first = (await read(client, call.id)).json()
    second = (await read(client, call.id)).json()

    assert decoded(first) == AUDIO
    assert first["recordingId"] == newest.sid
    assert first["duration"] == 12.0
    assert first["transcriptionText"] == "Hello, this is a test."
    assert first["transcriptionData"] is None  # legacy transcriptions are text only
    assert second == first
    assert twilio.plan.count(f"/Calls/{call_sid}/Recordings.json") == 1  # the RecordingSid was remembered
    assert twilio.plan.count("/Transcriptions.json") == 1


async def test_missing_credentials_are_a_400(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call = await make_twilio_call(runtime, ORG, sid("CA"), sid("RE"))

    assert_error(await read(client, call.id), 400, "TWILIO_CREDENTIALS_MISSING")
    assert twilio.plan.count() == 0


async def test_recording_twilio_does_not_know_is_a_404(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    await configure(client, twilio)
    call = await make_twilio_call(runtime, ORG, sid("CA"), sid("RE"))

    assert_error(await read(client, call.id), 404, "RECORDING_NOT_FOUND")
    assert twilio.plan.count() == 3  # the 404 right after completion is retried before it is believed


async def test_a_brief_404_after_completion_is_retried(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call, _ = await known_call(client, runtime, twilio)
    twilio.plan.add("404", times=2, path_contains=".mp3")

    response = await read(client, call.id)

    assert response.status_code == 200
    assert decoded(response.json()) == AUDIO


async def test_rejected_credentials_are_provider_auth_failed(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    await configure(client, twilio)
    recording = twilio.add_recording(call_sid := sid("CA"), AUDIO)
    call = await make_twilio_call(runtime, ORG, call_sid, recording.sid)
    twilio.revoke_credentials()

    assert_error(await read(client, call.id), 500, "PROVIDER_AUTH_FAILED")


@pytest.mark.parametrize(
    ("fault", "times"),
    [("500", 3), ("503", 3), ("truncate", 3), ("reset", 3), ("slow", 3)],
)
async def test_twilio_down_is_recording_fetch_failed(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, fault: Any, times: int
) -> None:
    call, _ = await known_call(client, runtime, twilio)
    twilio.plan.add(fault, times=times, path_contains=".mp3", delay=1.0)

    response = await read(client, call.id)

    assert_error(response, 500, "RECORDING_FETCH_FAILED")
    assert response.json()["error"] == "Failed to fetch the recording from the provider"


@pytest.mark.parametrize("fault", ["500", "truncate", "reset", "slow"])
async def test_one_transient_failure_is_retried(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, fault: Any
) -> None:
    call, _ = await known_call(client, runtime, twilio)
    twilio.plan.add(fault, times=1, path_contains=".mp3", delay=1.0)

    response = await read(client, call.id)

    assert response.status_code == 200
    assert decoded(response.json()) == AUDIO


async def test_redirect_to_signed_storage_is_followed_without_our_credentials(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call, _ = await known_call(client, runtime, twilio)
    twilio.redirect_media = True

    response = await read(client, call.id)

    assert decoded(response.json()) == AUDIO
    assert twilio.storage_saw_authorization == [False]


async def test_pending_transcript_is_retried_only_after_the_retry_window(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    await configure(client, twilio, with_service=True)
    recording = twilio.add_recording(call_sid := sid("CA"), AUDIO)
    transcript = twilio.add_intelligence_transcript(
        recording.sid, [(1, 0.5, 1.0, "Hello.")], status="in-progress"
    )
    call = await make_twilio_call(runtime, ORG, call_sid, recording.sid, duration=65.0)

    first = (await read(client, call.id)).json()
    second = (await read(client, call.id)).json()

    assert first["transcriptionText"] is None
    assert first["transcriptionData"] is None
    assert decoded(first) == AUDIO
    assert second["transcriptionText"] is None
    assert twilio.plan.count("/v2/Transcripts") == 1  # the second read is inside the 60 s window

    transcript.status = "completed"
    await _expire_retry_window(runtime, call.id)
    third = (await read(client, call.id)).json()

    assert third["transcriptionText"] == "User: Hello."


async def test_transcript_failure_never_fails_the_recording(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call, recording = await known_call(client, runtime, twilio, with_service=True)
    twilio.add_intelligence_transcript(recording.sid, [(1, 0.5, 1.0, "Hello.")])
    twilio.plan.add("500", times=10, path_contains="/v2/Transcripts")

    response = await read(client, call.id)

    assert response.status_code == 200
    assert decoded(response.json()) == AUDIO
    assert response.json()["transcriptionText"] is None


async def test_no_credential_reaches_a_response_or_a_log_line(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await configure(client, twilio, with_service=True)
    await client.post(
        "/api/calls/providers/config", json=twilio.credentials_config(api_key=True), headers=superadmin(ORG)
    )
    configured = [twilio.auth_token, twilio.api_key_secret]
    recording = twilio.add_recording(call_sid := sid("CA"), AUDIO)
    call = await make_twilio_call(runtime, ORG, call_sid, recording.sid)
    bodies = [(await read(client, call.id)).text]
    twilio.plan.add("500", times=5)
    bodies.append((await read(client, call.id)).text)
    twilio.revoke_credentials()
    bodies.append((await read(client, call.id)).text)
    bodies.append((await client.get("/api/calls/providers/config", headers=superadmin(ORG))).text)

    for text in [*bodies, caplog.text]:
        for secret in configured:
            assert secret not in text
    assert "PROVIDER_AUTH_FAILED" in bodies[2]


async def _expire_retry_window(runtime: Runtime, call_id: str) -> None:
    async with runtime.sessions() as session:
        await session.execute(update(Call).where(Call.id == call_id).values(transcript_retry_after=None))
        await session.commit()


@pytest.mark.parametrize(
    "settings_overrides",
    [
        {
            "provider_timeout_seconds": 0.5,
            "provider_circuit_failures": 2,
            "provider_circuit_reset_seconds": 0.3,
        }
    ],
)
async def test_a_dead_provider_costs_one_fast_failure_then_recovers(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call, _ = await known_call(client, runtime, twilio)
    twilio.plan.add("503", times=6, path_contains="/2010-04-01/")  # the whole API is down, for two reads

    first, second = await read(client, call.id), await read(client, call.id)
    before = twilio.plan.count()
    fast = await read(client, call.id)

    assert_error(first, 500, "RECORDING_FETCH_FAILED")
    assert_error(second, 500, "RECORDING_FETCH_FAILED")
    assert_error(fast, 500, "RECORDING_FETCH_FAILED")
    assert twilio.plan.count() == before  # the open circuit sent nothing upstream
    await asyncio.sleep(0.35)  # the reset period passes (the fake has recovered meanwhile)
    recovered = await read(client, call.id)
    assert recovered.status_code == 200
    assert decoded(recovered.json()) == AUDIO


@pytest.mark.parametrize("settings_overrides", [{"provider_max_response_bytes": 4096}])
async def test_an_oversized_provider_answer_is_refused_once_without_retries(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call, recording = await known_call(client, runtime, twilio)  # AUDIO is 16 KiB, over the 4 KiB cap

    response = await read(client, call.id)

    assert_error(response, 500, "RECORDING_FETCH_FAILED")
    assert twilio.plan.count(f"{recording.sid}.mp3") == 1


@pytest.mark.parametrize(
    "settings_overrides", [{"provider_timeout_seconds": 1.0, "provider_read_budget_seconds": 0.5}]
)
async def test_a_slow_drip_is_cut_off_by_the_read_budget(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call, _ = await known_call(client, runtime, twilio)
    # 20 bytes/s for 3 s: the first attempt spends the whole 0.5 s budget, so no retry starts.
    twilio.plan.add("drip", times=1, path_contains=".mp3", delay=0.05)

    assert_error(await read(client, call.id), 500, "RECORDING_FETCH_FAILED")
    recovered = await read(client, call.id)  # the provider is well again: nothing wrong was kept
    assert decoded(recovered.json()) == AUDIO


async def test_invalid_json_from_the_provider_is_a_fetch_failure_and_nothing_is_kept(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    await configure(client, twilio)
    recording = twilio.add_recording(call_sid := sid("CA"), AUDIO)
    call = await make_twilio_call(runtime, ORG, call_sid, recording.sid)  # duration unknown: metadata is read
    twilio.plan.add("invalid-json", times=1, path_contains=".json")

    assert_error(await read(client, call.id), 500, "RECORDING_FETCH_FAILED")
    recovered = (await read(client, call.id)).json()
    assert decoded(recovered) == AUDIO
    assert recovered["duration"] == 65.0
