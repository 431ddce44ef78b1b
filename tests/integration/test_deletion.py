"""Deleting a recording: our stored copy, the provider fake's copy (Twilio Recording, ElevenLabs
conversation), the receipt, RECORDING_DELETED afterwards, who may delete, and the retention sweep
(dry run, then for real) through the CLI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from bench.service import environment
from sqlalchemy import func, select

from tests.conftest import auth, superadmin
from tests.factories import AUDIO, make_call
from tests.fakes.elevenlabs import ElevenLabsFake
from tests.fakes.twilio import TwilioFake
from tests.integration.test_elevenlabs_and_sinch import ORG as VOICE_ORG
from tests.integration.test_elevenlabs_and_sinch import configure_elevenlabs
from tests.integration.test_twilio import ORG, known_call
from tests.processes import service_env
from tether_relay.calls.models import Recording, RecordingDeletion
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings
from tether_relay.storage.buckets import RECORDINGS


async def delete(
    client: httpx.AsyncClient, call_id: str, organization: str, role: str | None = "ADMIN"
) -> httpx.Response:
    return await client.delete(f"/api/calls/{call_id}/recording", headers=auth(organization, role))


async def recordings_of(runtime: Runtime, call_id: str) -> int:
    async with runtime.sessions() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Recording).where(Recording.call_id == call_id)
            )
            or 0
        )


async def test_deleting_a_stored_recording(client: httpx.AsyncClient, runtime: Runtime) -> None:
    call = await make_call(runtime, ORG)
    async with runtime.sessions() as session:
        key = (await session.scalars(select(Recording.storage_key).where(Recording.call_id == call.id))).one()
    assert key is not None
    store = runtime.buckets.get(RECORDINGS)
    assert await store.get(key) == AUDIO

    response = await delete(client, call.id, ORG)

    assert response.status_code == 200, response.text
    receipt = response.json()
    assert receipt["success"] is True
    assert receipt["callId"] == call.id
    assert receipt["deletedBy"] == "user-1"
    assert receipt["reason"] == "request"
    assert (receipt["storedCopy"], receipt["providerCopy"]) == ("deleted", "none")
    assert datetime.fromisoformat(receipt["deletedAt"]) > datetime.now(UTC) - timedelta(minutes=1)
    assert await store.get(key) is None
    assert await recordings_of(runtime, call.id) == 0
    for path in ("recording", "recording/audio"):
        later = await client.get(f"/api/calls/{call.id}/{path}", headers=auth(ORG))
        assert later.status_code == 404
        assert later.json()["code"] == "RECORDING_DELETED"
    document = await client.get(f"/api/calls/{call.id}", headers=auth(ORG))
    assert document.status_code == 200  # the call itself stays; its recording is gone

    again = await delete(client, call.id, ORG)
    assert again.json() == receipt  # the same receipt, nothing deleted twice
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RecordingDeletion)) == 1


async def test_deleting_a_twilio_recording_deletes_twilios_copy(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call, recording = await known_call(client, runtime, twilio)

    response = await delete(client, call.id, ORG)

    assert response.status_code == 200, response.text
    assert (response.json()["storedCopy"], response.json()["providerCopy"]) == ("none", "deleted")
    assert response.json()["recordingIds"] == [recording.sid]
    assert recording.sid not in twilio.recordings
    assert twilio.plan.count(f"/Recordings/{recording.sid}.json") == 1


async def test_a_twilio_copy_that_could_not_be_deleted_is_retried_by_deleting_again(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call, recording = await known_call(client, runtime, twilio)
    twilio.plan.add("503", times=10, path_contains=f"/Recordings/{recording.sid}.json")

    first = await delete(client, call.id, ORG)
    twilio.plan.reset()
    second = await delete(client, call.id, ORG)

    assert first.json()["providerCopy"] == "failed"
    assert (await client.get(f"/api/calls/{call.id}/recording", headers=auth(ORG))).json()[
        "code"
    ] == "RECORDING_DELETED"
    assert second.json()["providerCopy"] == "deleted"
    assert second.json()["deletedAt"] == first.json()["deletedAt"]
    assert recording.sid not in twilio.recordings


async def test_deleting_an_elevenlabs_recording_deletes_the_conversation(
    client: httpx.AsyncClient, runtime: Runtime, elevenlabs: ElevenLabsFake
) -> None:
    await configure_elevenlabs(client, elevenlabs)
    elevenlabs.add("conv_delete_me", audio=AUDIO)
    call = await make_call(runtime, VOICE_ORG, provider="elevenlabs", provider_call_id="conv_delete_me")

    response = await delete(client, call.id, VOICE_ORG, "SUPERADMIN")

    assert response.status_code == 200, response.text
    assert (response.json()["storedCopy"], response.json()["providerCopy"]) == ("deleted", "deleted")
    assert "conv_delete_me" not in elevenlabs.conversations
    assert "conv_delete_me" not in elevenlabs.audio


@pytest.mark.parametrize("role", [None, "AGENT"])
async def test_only_admins_may_delete(client: httpx.AsyncClient, runtime: Runtime, role: str | None) -> None:
    call = await make_call(runtime, ORG)

    response = await delete(client, call.id, ORG, role)

    assert response.status_code == 403
    assert await recordings_of(runtime, call.id) == 1
    assert (await client.get(f"/api/calls/{call.id}/recording", headers=auth(ORG))).status_code == 200


def cli(settings: Settings, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = service_env(settings.database_url, settings.data_dir)
    return subprocess.run(
        [sys.executable, "-m", "tether_relay.cli", "retention", *args],
        env=environment(env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_retention_sweep_lists_then_deletes_only_what_has_expired(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    old = await make_call(runtime, ORG, start_time=now - timedelta(days=40))
    recent = await make_call(runtime, ORG, start_time=now - timedelta(days=5))
    elsewhere = await make_call(runtime, "org-keeps-all", start_time=now - timedelta(days=400))
    assert cli(settings, tmp_path, "set", ORG, "30").returncode == 0

    listed = cli(settings, tmp_path, "sweep", "--dry-run")

    assert listed.returncode == 0, listed.stderr
    assert old.id in listed.stdout
    assert recent.id not in listed.stdout
    assert elsewhere.id not in listed.stdout
    assert await recordings_of(runtime, old.id) == 1  # a dry run deletes nothing

    swept = cli(settings, tmp_path, "sweep")

    assert swept.returncode == 0, swept.stderr
    assert "deleted 1 recording(s); 0 failed" in swept.stdout
    assert await recordings_of(runtime, old.id) == 0
    assert await recordings_of(runtime, recent.id) == 1
    assert await recordings_of(runtime, elsewhere.id) == 1
    gone = await client.get(f"/api/calls/{old.id}/recording", headers=auth(ORG))
    assert gone.json()["code"] == "RECORDING_DELETED"
    async with runtime.sessions() as session:
        row = await session.get(RecordingDeletion, old.id)
    assert row is not None
    assert (row.deleted_by, row.reason) == ("retention", "retention")
    assert "deleted 0 recording(s)" in cli(settings, tmp_path, "sweep").stdout  # nothing left to do


async def test_another_organisation_cannot_delete(client: httpx.AsyncClient, runtime: Runtime) -> None:
    call = await make_call(runtime, ORG)

    response = await client.delete(f"/api/calls/{call.id}/recording", headers=superadmin("org-other"))

    assert response.status_code == 404
    assert await recordings_of(runtime, call.id) == 1


async def test_concurrent_deletions_of_one_call_give_one_receipt(
    client: httpx.AsyncClient, runtime: Runtime, twilio: TwilioFake
) -> None:
    call, recording = await known_call(client, runtime, twilio)

    answers = await asyncio.gather(*(delete(client, call.id, ORG) for _ in range(5)))

    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["deletedAt"] for a in answers}) == 1
    assert recording.sid not in twilio.recordings
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(RecordingDeletion)) == 1
