"""Nothing orphaned (issue 11, class 10): an object that no recording names, left by a crash between
an upload and its row's commit, is removed by `tether-relay storage sweep` once it is older than the
grace period; a named object is never touched, whatever its age; Sinch's bucket is never swept."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from bench.service import environment
from fastapi import FastAPI
from sqlalchemy import select

from tests.conftest import auth
from tests.factories import AUDIO, make_call
from tests.fakes.s3 import S3Server
from tests.processes import service_env
from tether_relay.calls.models import Recording
from tether_relay.calls.storage_sweep import StorageSweep
from tether_relay.db import utcnow
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings
from tether_relay.storage.buckets import RECORDINGS, SINCH, recording_key

DAY = 24 * 3600


def sweep_cli(settings: Settings, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tether_relay.cli", "storage", "sweep", *args],
        env=environment(service_env(settings.database_url, settings.data_dir)),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def age(runtime: Runtime, key: str, seconds: float) -> None:
    """Make a local object look `seconds` old."""
    store = runtime.buckets.local(RECORDINGS)
    assert store is not None
    then = time.time() - seconds
    os.utime(store.path_for(key), (then, then))


async def keys_of(runtime: Runtime, bucket: str = RECORDINGS) -> set[str]:
    return {o.key async for o in runtime.buckets.get(bucket).listing()}


async def stored_key(runtime: Runtime, call_id: str) -> str:
    async with runtime.sessions() as session:
        key = (await session.scalars(select(Recording.storage_key).where(Recording.call_id == call_id))).one()
    assert key is not None
    return key


async def test_the_sweep_lists_then_removes_only_old_unreferenced_objects(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    kept = await make_call(runtime, "org-a")
    kept_key = await stored_key(runtime, kept.id)
    orphan = recording_key("org-a", "call_crashed", "rec_crashed", "mp3")  # uploaded, then the kill
    fresh = recording_key("org-a", "call_uploading", "rec_uploading", "mp3")  # its commit is coming
    partial = "org-a/call_x/.rec_x.mp3.4242.partial"  # a local write killed before its rename
    store = runtime.buckets.get(RECORDINGS)
    for key in (orphan, fresh, partial):
        await store.put(key, AUDIO, "audio/mpeg")
    for key in (kept_key, orphan, partial):
        age(runtime, key, 3 * DAY)
    await runtime.buckets.get(SINCH).put("calls/unannounced.mp3", AUDIO, "audio/mpeg")  # Sinch's own

    listed = sweep_cli(settings, tmp_path, "--dry-run")

    assert listed.returncode == 0, listed.stderr
    assert {orphan, partial} == {line.split("\t")[2] for line in listed.stdout.splitlines()[:-1]}
    assert listed.stdout.splitlines()[-1] == "would delete 2 unreferenced object(s)"
    assert await keys_of(runtime) == {kept_key, orphan, fresh, partial}  # a dry run deletes nothing

    swept = sweep_cli(settings, tmp_path)

    assert swept.returncode == 0, swept.stderr
    assert swept.stdout.splitlines()[-1] == "deleted 2 unreferenced object(s)"
    assert await keys_of(runtime) == {kept_key, fresh}
    assert await keys_of(runtime, SINCH) == {"calls/unannounced.mp3"}
    answer = (await client.get(f"/api/calls/{kept.id}/recording", headers=auth("org-a"))).json()
    assert (await client.get(answer["audioUrl"])).content == AUDIO
    assert sweep_cli(settings, tmp_path).stdout.splitlines()[-1] == "deleted 0 unreferenced object(s)"


@pytest.mark.parametrize("seed", range(3))
async def test_a_referenced_object_is_never_swept_whatever_its_age(runtime: Runtime, seed: int) -> None:
    """Random mixes of referenced and unreferenced objects of random ages, swept at random moments."""
    rng = random.Random(seed)
    store = runtime.buckets.get(RECORDINGS)
    referenced, unreferenced = set(), {}
    for n in range(rng.randint(5, 25)):
        if rng.random() < 0.5:
            referenced.add(await stored_key(runtime, (await make_call(runtime, f"org-{n % 3}")).id))
        else:
            key = recording_key(f"org-{n % 3}", f"call_{seed}_{n}", f"rec_{n}", "mp3")
            await store.put(key, AUDIO, "audio/mpeg")
            unreferenced[key] = 0.0
    for key in [*referenced, *unreferenced]:
        seconds = rng.uniform(0, 4 * DAY)
        age(runtime, key, seconds)
        if key in unreferenced:
            unreferenced[key] = seconds
    grace = timedelta(seconds=rng.uniform(0, 3 * DAY))

    swept = await StorageSweep(runtime.sessions, runtime.buckets).sweep(grace=grace)

    expected = {key for key, seconds in unreferenced.items() if seconds > grace.total_seconds() + 1}
    assert {o.key for o in swept} >= expected
    assert {o.key for o in swept} <= set(unreferenced)
    assert referenced <= await keys_of(runtime)


async def test_the_sweep_reaches_a_real_s3_bucket(s3_app: FastAPI, s3_server: S3Server) -> None:
    runtime: Runtime = s3_app.state.runtime
    kept = await make_call(runtime, "org-s3")
    kept_key = await stored_key(runtime, kept.id)
    orphans = {recording_key("org-s3", f"call_{n}", f"rec_{n}", "mp3") for n in range(3)}
    for key in orphans:
        await runtime.buckets.get(RECORDINGS).put(key, AUDIO, "audio/mpeg")
    sweep = StorageSweep(runtime.sessions, runtime.buckets, clock=lambda: utcnow() + timedelta(days=2))

    assert {o.key for o in await sweep.sweep(dry_run=True)} == orphans
    assert {o.key for o in await sweep.sweep()} == orphans
    assert await keys_of(runtime) == {kept_key}
