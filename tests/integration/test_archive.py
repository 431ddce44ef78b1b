"""Every Twilio recording archived in our storage by a job, then read, played and deleted from our copy:
the recording keeps working with Twilio down, the credentials revoked or Twilio's copy gone, and a read
after archiving sends Twilio nothing."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import auth, superadmin
from tests.fakes import senders
from tests.fakes.twilio import TwilioFake, sid
from tests.jobs import until
from tether_relay.calls.models import Call, Recording
from tether_relay.runtime import Runtime
from tether_relay.storage.buckets import RECORDINGS

ORG = "org-archive"
RECORDING_HOOK = "/api/webhook/calls/twilio/recording"
AUDIO = b"ID3\x04" + bytes(range(256)) * 64  # 16 KiB and a bit: several ranges apart


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"jobs_in_process": True, "job_retry_first_seconds": 0.0}


async def completed(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, **config_fields: Any
) -> tuple[str, str]:
    """A Twilio organisation, a call with a completed recording and its webhook; the call's id and the
    RecordingSid."""
    config = {**twilio.credentials_config(), **config_fields}
    assert (
        await client.post("/api/calls/providers/config", json=config, headers=superadmin(ORG))
    ).status_code == 200
    call_sid = sid("CA")
    recording = twilio.add_recording(call_sid, AUDIO)
    params = {
        "AccountSid": twilio.account_sid,
        "CallSid": call_sid,
        "RecordingSid": recording.sid,
        "RecordingStatus": "completed",
        "RecordingDuration": "65",
        "RecordingChannels": "2",
    }
    body, headers = senders.twilio(RECORDING_HOOK, params, twilio.auth_token)
    assert (await client.post(RECORDING_HOOK, content=body, headers=headers)).status_code == 200
    async with runtime.sessions() as session:
        call_id = (await session.scalars(select(Call.id))).one()
    return call_id, recording.sid


async def archived(runtime: Runtime) -> Recording | None:
    async with runtime.sessions() as session:
        recording = (await session.scalars(select(Recording))).one()
    return recording if recording.storage_key is not None else None


async def archived_after_webhook(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, seconds: float = 15.0, **config: Any
) -> tuple[str, str, Recording]:
    """`completed`, then the recording once the job archived it."""
    call_id, recording_sid = await completed(client, runtime, twilio, **config)
    await until(lambda: archived(runtime), seconds)
    recording = await archived(runtime)
    assert recording is not None
    return call_id, recording_sid, recording


def twilio_requests(twilio: TwilioFake) -> int:
    return sum(twilio.plan.requests.values())


async def test_the_webhook_archives_the_recording_and_reads_then_never_ask_twilio(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call_id, recording_sid, recording = await archived_after_webhook(client, runtime, twilio)
    assert recording.storage_bucket == RECORDINGS
    assert await runtime.buckets.get(RECORDINGS).get(recording.storage_key or "") == AUDIO
    assert twilio.plan.count(f"/Recordings/{recording_sid}.mp3") == 1  # one download, by the job

    before = twilio_requests(twilio)
    answer = (await client.get(f"/api/calls/{call_id}/recording", headers=auth(ORG))).json()
    assert base64.b64decode(answer["audioData"].split(",", 1)[1]) == AUDIO  # the contract's shape
    assert answer["recordingId"] == recording_sid
    late = await client.get(answer["playbackUrl"], headers={"Range": "bytes=16000-16099"})
    assert (late.status_code, late.content) == (206, AUDIO[16000:16100])
    # Transcripts still come from Twilio (none here); the audio never does.
    assert twilio.plan.count(f"/Recordings/{recording_sid}.mp3") == 1
    assert twilio_requests(twilio) - before <= 2  # transcript lookups only


@pytest.mark.parametrize("mishap", ["twilio down", "credentials revoked", "deleted at twilio"])
async def test_an_archived_recording_survives_what_happens_at_twilio(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, mishap: str
) -> None:
    call_id, recording_sid, _ = await archived_after_webhook(client, runtime, twilio)
    if mishap == "twilio down":
        twilio.plan.add("503", times=1000)
    elif mishap == "credentials revoked":
        twilio.revoke_credentials()
    else:
        del twilio.recordings[recording_sid]

    answer = await client.get(f"/api/calls/{call_id}/recording", headers=auth(ORG))
    assert answer.status_code == 200, answer.text
    assert base64.b64decode(answer.json()["audioData"].split(",", 1)[1]) == AUDIO
    played = await client.get(answer.json()["playbackUrl"])
    assert (played.status_code, played.content) == (200, AUDIO)
    assert twilio.plan.count(f"/Recordings/{recording_sid}.mp3") == 1


async def test_deleting_an_archived_recording_removes_our_copy_and_twilios(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call_id, recording_sid, recording = await archived_after_webhook(client, runtime, twilio)

    response = await client.delete(f"/api/calls/{call_id}/recording", headers=auth(ORG))

    assert response.status_code == 200, response.text
    assert (response.json()["storedCopy"], response.json()["providerCopy"]) == ("deleted", "deleted")
    assert await runtime.buckets.get(RECORDINGS).get(recording.storage_key or "") is None
    assert recording_sid not in twilio.recordings


async def test_a_failed_download_is_retried_by_the_job(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    twilio.plan.add("500", times=3, path_contains=".mp3")  # more than one read's own retries
    _, _, recording = await archived_after_webhook(client, runtime, twilio, seconds=30)
    assert await runtime.buckets.get(RECORDINGS).get(recording.storage_key or "") == AUDIO


async def test_a_read_before_the_job_ran_works_as_before(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    twilio.plan.add("slow", times=1, path_contains=".mp3", delay=1.0)  # the job's download, held back
    call_id, _ = await completed(client, runtime, twilio)
    answer = await client.get(f"/api/calls/{call_id}/recording", headers=auth(ORG))
    assert answer.status_code == 200
    assert base64.b64decode(answer.json()["audioData"].split(",", 1)[1]) == AUDIO
    await until(lambda: archived(runtime))


@pytest.mark.parametrize("opted_in", [True, False])
async def test_twilios_copy_is_deleted_after_archiving_only_when_the_organisation_asked(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake, opted_in: bool
) -> None:
    config = {"twilioDeleteAfterArchive": True} if opted_in else {}
    call_id, recording_sid, _ = await archived_after_webhook(client, runtime, twilio, **config)
    if opted_in:
        await until(lambda: recording_sid not in twilio.recordings)
    else:
        await asyncio.sleep(0.5)
        assert recording_sid in twilio.recordings
    described = await client.get("/api/calls/providers/config", headers=superadmin(ORG))
    assert described.json()["providers"]["twilio"]["twilioDeleteAfterArchive"] is opted_in

    answer = await client.get(f"/api/calls/{call_id}/recording", headers=auth(ORG))
    assert base64.b64decode(answer.json()["audioData"].split(",", 1)[1]) == AUDIO


async def test_a_failed_deletion_of_twilios_copy_is_retried(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    twilio.plan.add("503", times=6, path_contains=".json")  # the DELETE, past its own retries twice
    _, recording_sid, _ = await archived_after_webhook(client, runtime, twilio, twilioDeleteAfterArchive=True)
    await until(lambda: recording_sid not in twilio.recordings, seconds=30)
    assert twilio.plan.count(f"/Recordings/{recording_sid}.json") == 7  # six refused, then deleted


async def test_jobs_are_counted_in_the_metrics(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    twilio.plan.add("500", times=3, path_contains=".mp3")  # one failed run (past the request's retries)
    await archived_after_webhook(client, runtime, twilio, seconds=30)
    text = (await client.get("/metrics")).text
    assert 'tether_job_duration_seconds_count{job="archive-recording",outcome="done"}' in text
    assert 'tether_job_failures_total{job="archive-recording",kind="retried"}' in text
    assert "tether_job_queue_depth " in text
