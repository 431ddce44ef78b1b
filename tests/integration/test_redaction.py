"""Redaction end to end on the app (both databases, the in-process job worker, real PyAV): the policy
API, an ingested call whose words spell a card number, an SSN and a phone number, and what each role
reads on every route that carries audio or text."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.audio import rms, tone
from tests.conftest import auth, superadmin
from tests.factories import make_twilio_call
from tests.fakes import senders
from tests.fakes.twilio import TwilioFake, sid
from tests.jobs import until
from tether_relay.calls.models import Call
from tether_relay.calls.storage_sweep import StorageSweep
from tether_relay.jobs.models import LocalJob
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

ORG = "org-a"
RECORDING_HOOK, STATUS_HOOK = "/api/webhook/calls/twilio/recording", "/api/webhook/calls/twilio/status"
AUDIO = tone(seconds=20.0)
DIGIT_WORDS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "forty"}


def timed(role: str, message: str, start: float, end: float) -> dict[str, Any]:
    words = message.split()
    step = (end - start) / len(words)
    return {
        "role": role,
        "message": message,
        "timestamp": start,
        "end": end,
        "words": [
            {"word": w, "start": start + i * step, "end": start + (i + 1) * step} for i, w in enumerate(words)
        ],
    }


TRANSCRIPT = [
    {"role": "agent", "message": "Thanks for calling, how can I help?", "timestamp": 0.0, "end": 2.0},
    timed("user", "My card is 4111 1111 1111 1111 thanks.", 2.5, 6.0),
    # no word times: the whole utterance goes
    {
        "role": "user",
        "message": "and my social is one two three forty five six seven eight nine",
        "timestamp": 6.5,
        "end": 10.0,
    },
    timed("user", "call me back on four one five five five five zero one three two", 10.5, 15.0),
    {"role": "agent", "message": "Great, thank you.", "timestamp": 15.5, "end": 17.0},
]
SUMMARY = "Customer gave card 4111 1111 1111 1111 and phone 415-555-0132."


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"jobs_in_process": True, "job_retry_first_seconds": 0.2}


def call_body(audio: bytes = AUDIO) -> dict[str, Any]:
    """An ingest body: the call whose words spell the numbers, on `audio`."""
    return {
        "direction": "inbound",
        "fromNumber": "+14165550100",
        "toNumber": "+14165550199",
        "duration": 20,
        "status": "completed",
        "transcript": TRANSCRIPT,
        "summary": SUMMARY,
        "recording": base64.b64encode(audio).decode(),
    }


async def ingest(client: httpx.AsyncClient, audio: bytes = AUDIO) -> str:
    api_key = (await client.get("/api/user/api-key", headers=auth(ORG))).json()["data"]["apiKey"]
    response = await client.post(
        "/api/calls/ingest", json=call_body(audio), headers={"Authorization": f"Bearer {api_key}"}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["callId"])


async def set_policy(client: httpx.AsyncClient, **policy: Any) -> httpx.Response:
    return await client.post(
        "/api/calls/redaction/config", json={"enabled": True, **policy}, headers=auth(ORG)
    )


async def read(client: httpx.AsyncClient, call_id: str, role: str = "USER", **params: Any) -> httpx.Response:
    return await client.get(f"/api/calls/{call_id}/recording", params=params, headers=auth(ORG, role))


async def ready(client: httpx.AsyncClient, call_id: str) -> dict[str, Any]:
    async def answered() -> bool:
        return (await read(client, call_id)).status_code == 200

    await until(answered, 30)
    return dict((await read(client, call_id)).json())


def said_in(utterances: list[dict[str, Any]]) -> str:
    """The words of a transcript's data, without its times."""
    return " ".join(
        [u["message"], *(w["word"] for w in u.get("words", []))][i]
        for u in utterances
        for i in range(1 + len(u.get("words", [])))
    )


def without_times(caption_file: str) -> str:
    """A caption file's text lines: no cue numbers, no timings, no header."""
    return "\n".join(
        line
        for line in caption_file.splitlines()
        if not re.fullmatch(r"\d+|[\d:.,]+ --> [\d:.,]+|WEBVTT", line)
    )


def assert_nothing_said(text: str) -> None:
    assert not re.search(r"\d", text), text
    assert not DIGIT_WORDS & set(re.findall(r"[a-z]+", text.lower())), text


async def test_the_policy_is_off_until_an_admin_turns_it_on(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/calls/redaction/config", headers=auth(ORG))).json() == {
        "success": True,
        "enabled": False,
        "entities": ["CREDIT_CARD", "US_SSN", "PHONE_NUMBER", "EMAIL_ADDRESS"],
        "audio": "silence",
    }
    assert (
        await client.post("/api/calls/redaction/config", json={"enabled": True}, headers=auth(ORG, "USER"))
    ).status_code == 403
    for bad in (
        {"enabled": True, "entities": ["IBAN"]},
        {"enabled": True, "audio": "mute"},
        {"enabled": "yes"},
        {},
    ):
        response = await client.post("/api/calls/redaction/config", json=bad, headers=auth(ORG))
        assert (response.status_code, response.json()["code"]) == (400, "VALIDATION_ERROR"), bad

    response = await set_policy(client, entities=["US_SSN", "CREDIT_CARD"], audio="beep")

    assert response.json() == {
        "success": True,
        "enabled": True,
        "entities": ["CREDIT_CARD", "US_SSN"],
        "audio": "beep",
    }
    assert (await client.get("/api/calls/redaction/config", headers=auth(ORG))).json() == response.json()


async def test_a_non_admin_reads_only_the_redacted_copy_on_every_route(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await set_policy(client)
    call_id = await ingest(client)

    body = await ready(client, call_id)

    # the transcript, its text and the summary: nothing of the card, the SSN or the phone number
    assert_nothing_said(body["transcriptionText"])
    assert_nothing_said(said_in(body["transcriptionData"]))
    for entity in ("CREDIT_CARD", "US_SSN", "PHONE_NUMBER"):
        assert f"[{entity}]" in body["transcriptionText"]
    for fmt in ("vtt", "srt", "txt", "json"):
        export = await client.get(
            f"/api/calls/{call_id}/transcript", params={"format": fmt}, headers=auth(ORG, "USER")
        )
        assert export.status_code == 200
        assert_nothing_said(said_in(export.json()) if fmt == "json" else without_times(export.text))
    document = await client.get(f"/api/calls/{call_id}", headers=auth(ORG, "USER"))
    assert document.status_code == 200, document.text
    document = document.json()["call"]
    history = (await client.get("/api/calls/history", headers=auth(ORG, "USER"))).json()["calls"]
    assert (
        document["summary"]
        == history[0]["summary"]
        == "Customer gave card [CREDIT_CARD] and phone [PHONE_NUMBER]"
    )
    # the audio: silent where it was said, the tone elsewhere, wherever it is read from
    redacted = (await client.get(body["audioUrl"])).content
    by_bearer = await client.get(f"/api/calls/{call_id}/recording/audio", headers=auth(ORG, "USER"))
    by_token = await client.get(body["playbackUrl"])
    assert by_bearer.content == by_token.content == redacted
    manifest = (await client.get(f"/api/calls/{call_id}/recording/redactions", headers=auth(ORG))).json()
    assert manifest["status"] == "ready"
    assert [(s["entity"], s["utterance"]) for s in manifest["spans"]] == [
        ("CREDIT_CARD", 1),
        ("US_SSN", 2),
        ("PHONE_NUMBER", 3),
    ]
    ssn = manifest["spans"][1]
    assert (ssn["start"], ssn["end"]) == (6.3, 10.2)  # the whole utterance, padded
    for span in manifest["spans"]:
        assert rms(redacted, span["start"] + 0.03, span["end"] - 0.03) < 0.002
    for start, end in [(0.0, 2.0), (17.5, 19.5)]:
        assert rms(redacted, start, end) == pytest.approx(rms(AUDIO, start, end), rel=0.1)
    # the card's words: muted from its first digit group to its last, not the whole utterance
    card = manifest["spans"][0]
    assert 2.5 < card["start"] < card["end"] < 6.0


async def test_an_admin_gets_the_original_unless_asking_for_the_redacted_copy(
    client: httpx.AsyncClient,
) -> None:
    await set_policy(client)
    call_id = await ingest(client)
    redacted = await ready(client, call_id)

    original = (await read(client, call_id, "ADMIN")).json()
    asked = (await read(client, call_id, "SUPERADMIN", redacted="true")).json()

    assert "4111 1111 1111 1111" in original["transcriptionText"]
    assert (await client.get(original["audioUrl"])).content == AUDIO
    assert (await client.get(original["playbackUrl"])).content == AUDIO
    assert asked["transcriptionText"] == redacted["transcriptionText"]
    assert (await client.get(asked["audioUrl"])).content == (await client.get(redacted["audioUrl"])).content
    document = (await client.get(f"/api/calls/{call_id}", headers=auth(ORG))).json()["call"]
    assert document["summary"] == SUMMARY


async def test_while_the_copy_is_made_reads_are_not_ready_and_a_call_from_before_is_redacted_on_need(
    client: httpx.AsyncClient,
) -> None:
    call_id = await ingest(client)  # before the policy
    assert (await read(client, call_id)).status_code == 200
    await set_policy(client)

    first = await read(client, call_id)
    audio = await client.get(f"/api/calls/{call_id}/recording/audio", headers=auth(ORG, "USER"))

    assert (first.status_code, first.json()["code"]) == (404, "RECORDING_NOT_READY")
    assert int(first.headers["retry-after"]) > 0
    assert audio.status_code == 404
    assert_nothing_said(first.text)
    body = await ready(client, call_id)
    assert_nothing_said(body["transcriptionText"])


async def test_a_copy_that_cannot_be_made_fails_closed(client: httpx.AsyncClient) -> None:
    await set_policy(client)
    call_id = await ingest(client, audio=b"ID3\x04\x00\x00" + bytes(range(256)) * 40)  # sniffs as MP3, is not

    async def failed() -> bool:
        return (await read(client, call_id)).status_code == 500

    await until(failed, 30)
    response = await read(client, call_id)
    transcript = await client.get(f"/api/calls/{call_id}/transcript", headers=auth(ORG, "USER"))
    assert response.json()["code"] == transcript.json()["code"] == "REDACTION_FAILED"
    assert_nothing_said(response.text + transcript.text)
    assert (await read(client, call_id, "ADMIN")).status_code == 200  # the original stays the admins'
    manifest = (await client.get(f"/api/calls/{call_id}/recording/redactions", headers=auth(ORG))).json()
    assert (manifest["status"], manifest["spans"]) == ("failed", [])


async def test_deleting_the_recording_deletes_the_redacted_copy_and_the_sweep_keeps_it_before(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await set_policy(client)
    call_id = await ingest(client)
    await ready(client, call_id)
    stored = [p for p in (settings.data_dir / "storage").rglob("*") if p.is_file()]
    assert any("redacted" in str(p) for p in stored)
    await client.post("/api/calls/redaction/config", json={"enabled": True}, headers=auth(ORG))

    assert (await client.delete(f"/api/calls/{call_id}/recording", headers=auth(ORG))).status_code == 200

    assert [p for p in (settings.data_dir / "storage").rglob("*") if p.is_file()] == []
    assert (await read(client, call_id)).json()["code"] == "RECORDING_DELETED"
    manifest = await client.get(f"/api/calls/{call_id}/recording/redactions", headers=auth(ORG))
    assert manifest.json()["code"] == "RECORDING_DELETED"


async def test_a_twilio_call_is_redacted_from_our_archived_copy_by_its_word_times(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    config = twilio.credentials_config(with_service=True)
    assert (
        await client.post("/api/calls/providers/config", json=config, headers=superadmin(ORG))
    ).status_code == 200
    await set_policy(client)
    recording = twilio.add_recording(call_sid := sid("CA"), AUDIO, duration="20")
    twilio.add_intelligence_transcript(
        recording.sid,
        [(2, 0.5, 2.0, "Thanks for calling."), (1, 2.5, 6.0, "My card is 4111 1111 1111 1111 thanks.")],
    )
    params = {
        "AccountSid": twilio.account_sid,
        "CallSid": call_sid,
        "RecordingSid": recording.sid,
        "RecordingStatus": "completed",
        "RecordingDuration": "20",
    }
    body, headers = senders.twilio(RECORDING_HOOK, params, twilio.auth_token)
    assert (await client.post(RECORDING_HOOK, content=body, headers=headers)).status_code == 200
    status = {
        "AccountSid": twilio.account_sid,
        "CallSid": call_sid,
        "CallStatus": "completed",
        "CallDuration": "20",
    }
    body, headers = senders.twilio(STATUS_HOOK, status, twilio.auth_token)
    assert (await client.post(STATUS_HOOK, content=body, headers=headers)).status_code == 200
    async with runtime.sessions() as session:
        call_id = (await session.scalars(select(Call.id))).one()

    answer = await ready(client, call_id)

    assert_nothing_said(answer["transcriptionText"])
    heard = base64.b64decode(answer["audioData"].split(",", 1)[1])  # Twilio calls answer inline
    (card,) = (await client.get(f"/api/calls/{call_id}/recording/redactions", headers=auth(ORG))).json()[
        "spans"
    ]
    assert 2.5 < card["start"] < card["end"] < 6.0  # its words' times, not the sentence's
    assert rms(heard, card["start"] + 0.03, card["end"] - 0.03) < 0.002
    assert rms(heard, 0.5, 2.0) == pytest.approx(rms(AUDIO, 0.5, 2.0), rel=0.1)
    assert twilio.media_served[recording.sid] == 1  # the archive's one download; the copy is made from ours


async def test_the_storage_sweep_keeps_a_redacted_copy(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await set_policy(client)
    call_id = await ingest(client)
    body = await ready(client, call_id)

    await StorageSweep(runtime.sessions, runtime.buckets).sweep(grace=timedelta(0))

    assert (await client.get(body["audioUrl"])).status_code == 200


async def test_a_call_whose_recording_we_do_not_know_never_reaches_the_providers_original(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    """A Twilio call whose recording webhook was lost: an admin's read would find the recording at
    Twilio; a reader of redacted content must not get it that way."""
    config = twilio.credentials_config()
    assert (
        await client.post("/api/calls/providers/config", json=config, headers=superadmin(ORG))
    ).status_code == 200
    await set_policy(client)
    twilio.add_recording(call_sid := sid("CA"), AUDIO, duration="20")
    call = await make_twilio_call(runtime, ORG, call_sid, None, status="completed")

    response = await read(client, call.id)
    ringing = await make_twilio_call(runtime, ORG, sid("CA"), None, status="ringing")

    assert (response.status_code, response.json()["code"]) == (404, "RECORDING_NOT_FOUND")
    assert twilio.plan.count("/Recordings") == 0  # Twilio was not asked
    assert (await read(client, ringing.id)).json()["code"] == "RECORDING_NOT_READY"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("settings_overrides", [{"jobs_in_process": False}])
async def test_a_copy_asked_for_under_a_new_policy_gets_a_job_of_its_own(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    """Found by the outsider attack of issue 15: a policy changed while the last copy was being made
    folded the new request into that job, which then made nothing, and the call stayed pending."""
    await set_policy(client, entities=["CREDIT_CARD"])
    call_id = await ingest(client)
    await set_policy(client, entities=["CREDIT_CARD", "US_SSN"])

    assert (await read(client, call_id)).json()[
        "code"
    ] == "RECORDING_NOT_READY"  # asked for under the new one

    async with runtime.sessions() as session:
        jobs = (
            await session.scalars(select(LocalJob.dedupe_key).where(LocalJob.name == "redact-call"))
        ).all()
    assert len(set(jobs)) == 2


async def test_a_call_without_a_transcript_has_no_copy_to_serve(client: httpx.AsyncClient) -> None:
    """Nothing says what was said, so nothing can be checked: a copy of the original would fail open."""
    await set_policy(client)
    api_key = (await client.get("/api/user/api-key", headers=auth(ORG))).json()["data"]["apiKey"]
    body = {**call_body(), "transcript": []}
    response = await client.post(
        "/api/calls/ingest", json=body, headers={"Authorization": f"Bearer {api_key}"}
    )
    call_id = response.json()["callId"]

    async def failed() -> bool:
        return (await read(client, call_id)).status_code == 500

    await until(failed, 30)
    assert (await read(client, call_id)).json()["code"] == "REDACTION_FAILED"
    assert (await read(client, call_id, "ADMIN")).status_code == 200
