"""The embedded default as users run it: one `tether-relay serve` process on SQLite runs the archive job
itself. A service SIGKILLed while the job's download was in flight archives the recording once it is
started again (the job is durable across restarts); the archived recording is then read and played, by
ranges, with Twilio down and the credentials revoked, and Twilio's media is never asked for again."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.conftest import auth, superadmin
from tests.fakes import senders
from tests.fakes.twilio import TwilioFake, sid
from tests.processes import free_port, service_env, service_process, worker_process
from tether_relay.calls.models import Call, Recording
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

# Starts service processes, browsers or long runs: `make test` skips it; CI and `make test-all` run it.
pytestmark = pytest.mark.slow

ORG = "org-archive-process"
HOOK = "/api/webhook/calls/twilio/recording"
AUDIO = b"ID3\x04" + bytes(range(256)) * 256  # 64 KiB and a bit


async def archived_key(runtime: Runtime) -> str | None:
    async with runtime.sessions() as session:
        return (await session.scalars(select(Recording.storage_key))).one_or_none()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_killed_service_archives_after_restart_and_reads_never_ask_twilio(
    runtime: Runtime, settings: Settings, twilio: TwilioFake, tmp_path: Path
) -> None:
    env = service_env(
        settings.database_url,
        settings.data_dir,
        twilio_api_base_url=twilio.base_url,
        public_base_url=senders.PUBLIC_BASE_URL,  # what Twilio signed the webhook's URL with
        job_heartbeat_timeout_seconds="2",
        job_retry_first_seconds="0.5",
        provider_timeout_seconds="60",
    )
    recording = twilio.add_recording(call_sid := sid("CA"), AUDIO)
    twilio.hold_media_after = 0  # the first download waits at Twilio until the test lets it go
    async with httpx.AsyncClient(timeout=30) as http:
        with service_process(env, tmp_path, "doomed") as doomed:
            config = twilio.credentials_config()
            answer = await http.post(
                doomed.url + "/api/calls/providers/config", json=config, headers=superadmin(ORG)
            )
            assert answer.status_code == 200, answer.text
            params = {
                "AccountSid": twilio.account_sid,
                "CallSid": call_sid,
                "RecordingSid": recording.sid,
                "RecordingStatus": "completed",
                "RecordingDuration": "65",
            }
            body, headers = senders.twilio(HOOK, params, twilio.auth_token)
            assert (await http.post(doomed.url + HOOK, content=body, headers=headers)).status_code == 200
            deadline = time.monotonic() + 30
            while twilio.media_started == 0:  # the job is downloading
                assert time.monotonic() < deadline, "the archive job never started"
                await asyncio.sleep(0.05)
            doomed.kill()
        twilio.media_abandoned_up_to = twilio.media_started  # the dead process's download fails
        twilio.media_gate.set()
        assert await archived_key(runtime) is None

        with service_process(env, tmp_path, "restarted") as service:
            deadline = time.monotonic() + 60
            while await archived_key(runtime) is None:
                assert time.monotonic() < deadline, f"not archived after restart:\n{service.output()}"
                await asyncio.sleep(0.1)
            assert twilio.media_served[recording.sid] == 1

            twilio.plan.add("503", times=1000)  # Twilio down...
            twilio.revoke_credentials()  # ...and our credentials no longer valid there
            media_asked = twilio.plan.count(".mp3")
            async with runtime.sessions() as session:
                call_id = (await session.scalars(select(Call.id))).one()
            read = await http.get(f"{service.url}/api/calls/{call_id}/recording", headers=auth(ORG))
            assert read.status_code == 200, read.text
            assert base64.b64decode(read.json()["audioData"].split(",", 1)[1]) == AUDIO
            playback = httpx.URL(read.json()["playbackUrl"])  # on the public URL the webhooks were signed for
            late = await http.get(
                f"{service.url}{playback.raw_path.decode()}", headers={"Range": "bytes=60000-60999"}
            )
            assert (late.status_code, late.content) == (206, AUDIO[60000:61000])
            assert twilio.plan.count(".mp3") == media_asked  # not one media request since archiving


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_separate_worker_archives_and_serves_its_metrics(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, twilio: TwilioFake, tmp_path: Path
) -> None:
    # The API here is the test's app with its in-process worker off, as on replicas with separate workers.
    config = twilio.credentials_config()
    assert (
        await client.post("/api/calls/providers/config", json=config, headers=superadmin(ORG))
    ).status_code == 200
    recording = twilio.add_recording(call_sid := sid("CA"), AUDIO)
    params = {"AccountSid": twilio.account_sid, "CallSid": call_sid, "RecordingSid": recording.sid}
    body, headers = senders.twilio(HOOK, {**params, "RecordingStatus": "completed"}, twilio.auth_token)
    assert (await client.post(HOOK, content=body, headers=headers)).status_code == 200

    env = service_env(settings.database_url, settings.data_dir, twilio_api_base_url=twilio.base_url)
    port = free_port()
    with worker_process(env, tmp_path, args=("--metrics-port", str(port))):
        deadline = time.monotonic() + 30
        while await archived_key(runtime) is None:
            assert time.monotonic() < deadline, "the worker did not archive the recording"
            await asyncio.sleep(0.1)
        async with httpx.AsyncClient(timeout=10) as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    assert 'tether_job_duration_seconds_count{job="archive-recording",outcome="done"} 1.0' in text
    assert "tether_job_queue_depth " in text
