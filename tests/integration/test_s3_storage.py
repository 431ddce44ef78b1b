"""Recordings in S3-compatible buckets (R2 for external/ElevenLabs, S3 for Sinch) through a real server."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from tests.conftest import auth
from tests.factories import AUDIO, make_call
from tests.fakes.s3 import ACCESS_KEY_ID, SECRET_ACCESS_KEY, S3Server
from tether_relay.runtime import Runtime
from tether_relay.settings import BucketSettings
from tether_relay.storage.s3 import S3Store


@pytest.mark.parametrize(
    ("provider", "region"), [("external", "auto"), ("elevenlabs", "auto"), ("sinch", "eu-central-1")]
)
async def test_signed_url_downloads_the_recording_from_the_bucket(
    s3_app: FastAPI, provider: str, region: str
) -> None:
    runtime: Runtime = s3_app.state.runtime
    call = await make_call(runtime, "org-a", provider=provider)
    transport = httpx.ASGITransport(app=s3_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        body = (await client.get(f"/api/calls/{call.id}/recording", headers=auth("org-a"))).json()

    url = httpx.URL(body["audioUrl"])
    assert url.params["X-Amz-Expires"] == "600"
    assert url.params["X-Amz-Credential"].split("/")[2:4] == [region, "s3"]
    assert url.params["X-Amz-SignedHeaders"] == "host"
    async with httpx.AsyncClient() as plain:  # a browser: no credentials of ours, just the URL
        download = await plain.get(str(url))
    assert download.status_code == 200
    assert download.content == AUDIO


async def test_put_and_delete_reach_the_server(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    store = S3Store(
        "recordings",
        BucketSettings(s3_server.endpoint_url, bucket, ACCESS_KEY_ID, SecretStr(SECRET_ACCESS_KEY), "auto"),
    )
    await store.put("org/call/rec.mp3", b"bytes", "audio/mpeg")
    assert s3_server.get(bucket, "org/call/rec.mp3") == b"bytes"

    await store.delete("org/call/rec.mp3")
    assert s3_server.client().list_objects_v2(Bucket=bucket).get("KeyCount") == 0
