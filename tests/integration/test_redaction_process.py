"""Redaction on the service as users run it: one `tether-relay serve` process (SQLite, local storage, its
in-process job worker). An ingested call whose words spell a card number, an SSN and a phone number, in
digits and in words, on MP3 with a tone throughout: a non-admin reads nothing of them on any route and
hears silence where they were said, the tone elsewhere; the admin gets the original; the manifest lists
the spans."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.audio import rms
from tests.conftest import auth
from tests.integration.test_redaction import (
    AUDIO,
    assert_nothing_said,
    call_body,
    said_in,
    without_times,
)
from tests.processes import service_env, service_process
from tether_relay.settings import Settings

# Starts service processes, browsers or long runs: `make test` skips it; CI and `make test-all` run it.
pytestmark = pytest.mark.slow

ORG = "org-redaction-process"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_non_admin_of_a_redacting_organisation_never_reads_or_hears_the_numbers(
    settings: Settings, tmp_path: Path
) -> None:
    env = service_env(settings.database_url, settings.data_dir, job_retry_first_seconds="0.5")
    with service_process(env, tmp_path) as service:
        async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
            policy = {"enabled": True, "audio": "silence"}
            assert (
                await http.post("/api/calls/redaction/config", json=policy, headers=auth(ORG))
            ).status_code == 200
            key = (await http.get("/api/user/api-key", headers=auth(ORG))).json()["data"]["apiKey"]
            ingested = await http.post(
                "/api/calls/ingest", json=call_body(), headers={"Authorization": f"Bearer {key}"}
            )
            assert ingested.status_code == 200, ingested.text
            call_id = ingested.json()["callId"]
            user = auth(ORG, "USER")

            deadline = time.monotonic() + 60
            while (
                answer := await http.get(f"/api/calls/{call_id}/recording", headers=user)
            ).status_code != 200:
                assert (answer.status_code, answer.json()["code"]) == (404, "RECORDING_NOT_READY"), (
                    answer.text
                )
                assert answer.headers["retry-after"]
                assert time.monotonic() < deadline, service.output()
                await asyncio.sleep(0.2)
            body = answer.json()

            assert_nothing_said(body["transcriptionText"] + said_in(body["transcriptionData"]))
            for fmt in ("vtt", "srt", "txt"):
                export = await http.get(
                    f"/api/calls/{call_id}/transcript", params={"format": fmt}, headers=user
                )
                assert_nothing_said(without_times(export.text))
            assert_nothing_said(
                (await http.get(f"/api/calls/{call_id}", headers=user)).json()["call"]["summary"]
            )
            assert_nothing_said(
                str((await http.get("/api/calls/history", headers=user)).json()["calls"][0]["summary"])
            )
            heard = (await http.get(body["audioUrl"])).content
            assert (await http.get(body["playbackUrl"])).content == heard
            assert (await http.get(f"/api/calls/{call_id}/recording/audio", headers=user)).content == heard
            manifest = (
                await http.get(f"/api/calls/{call_id}/recording/redactions", headers=auth(ORG))
            ).json()
            assert manifest["status"] == "ready"
            assert {s["entity"] for s in manifest["spans"]} == {"CREDIT_CARD", "US_SSN", "PHONE_NUMBER"}
            for span in manifest["spans"]:
                assert rms(heard, span["start"] + 0.03, span["end"] - 0.03) < 0.002
            assert rms(heard, 0.0, 2.0) == pytest.approx(rms(AUDIO, 0.0, 2.0), rel=0.1)

            original = (await http.get(f"/api/calls/{call_id}/recording", headers=auth(ORG))).json()
            assert "4111 1111 1111 1111" in original["transcriptionText"]
            assert (await http.get(original["audioUrl"])).content == AUDIO
