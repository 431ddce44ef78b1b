"""POST /api/calls/ingest end to end: validation, audio (base64 or URL) into R2, idempotency, caps, the
rate limit, and the ingested call read back through GET /api/calls/{callId}/recording."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import auth
from tests.fakes.vendor import VendorFake
from tether_relay.settings import Settings

INF, NAN = float("inf"), float("nan")
MP3 = b"ID3\x04\x00\x00" + bytes(range(256)) * 20
TRANSCRIPT = [
    {"role": "agent", "message": "Hi, this is Alex from Example Corp.", "timestamp": 0.5},
    {"role": "user", "message": "Hey Alex.", "timestamp": 2.8},
]


def payload(**overrides: Any) -> dict[str, Any]:
    return {
        "direction": "outbound",
        "fromNumber": "+14165550100",
        "toNumber": "+14165550199",
        "duration": 154,
        "status": "completed",
        "transcript": TRANSCRIPT,
        "summary": "Confirmed appointment for Friday.",
        "recording": base64.b64encode(MP3).decode(),
        "externalCallId": "vendor-call-abc123",
        "agentName": "Alex (Example Agent)",
        "callStartTime": "2026-05-15T09:10:00.000Z",
        **overrides,
    }


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ingest_allow_private_urls": True, "ingest_rate_limit_per_minute": 5, "max_body_bytes": 200_000}


@pytest.fixture
async def key(client: httpx.AsyncClient) -> dict[str, str]:
    api_key = (await client.get("/api/user/api-key", headers=auth("org-a"))).json()["data"]["apiKey"]
    return {"Authorization": f"Bearer {api_key}"}


async def ingest(client: httpx.AsyncClient, key: dict[str, str], **overrides: Any) -> httpx.Response:
    # json.dumps as Python clients send it: NaN and Infinity as bare words, lone surrogates escaped.
    headers = {**key, "Content-Type": "application/json"}
    return await client.post("/api/calls/ingest", content=json.dumps(payload(**overrides)), headers=headers)


async def test_ingested_call_is_served_like_the_contract_says(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    response = await ingest(client, key)

    assert response.status_code == 200
    body = response.json()
    assert body == {"success": True, "callId": body["callId"], "deduplicated": False}
    recording = (await client.get(f"/api/calls/{body['callId']}/recording", headers=auth("org-a"))).json()
    # Ends left out are the next utterance's start, then the call's duration.
    assert recording["transcriptionData"] == [{**TRANSCRIPT[0], "end": 2.8}, {**TRANSCRIPT[1], "end": 154.0}]
    assert recording["transcriptionText"] == "Agent: Hi, this is Alex from Example Corp.\nUser: Hey Alex."
    assert (recording["duration"], recording["direction"], recording["from"]) == (
        154,
        "outbound",
        "+14165550100",
    )
    assert (await client.get(recording["audioUrl"])).content == MP3
    call = (await client.get(f"/api/calls/{body['callId']}", headers=auth("org-a"))).json()["call"]
    assert call["provider"] == "external"
    assert call["providerCallId"] == "vendor-call-abc123"
    assert call["startTime"] == "2026-05-15T09:10:00Z"


async def test_data_uri_prefix_is_accepted(client: httpx.AsyncClient, key: dict[str, str]) -> None:
    response = await ingest(client, key, recording="data:audio/mpeg;base64," + base64.b64encode(MP3).decode())

    assert response.status_code == 200


async def test_recording_url_is_downloaded(
    client: httpx.AsyncClient, key: dict[str, str], vendor: VendorFake
) -> None:
    url = vendor.serve("call.mp3", MP3)

    body = (await ingest(client, key, recording=url, externalCallId="by-url")).json()

    recording = (await client.get(f"/api/calls/{body['callId']}/recording", headers=auth("org-a"))).json()
    assert (await client.get(recording["audioUrl"])).content == MP3


async def test_repeats_are_deduplicated(client: httpx.AsyncClient, key: dict[str, str]) -> None:
    first = (await ingest(client, key)).json()
    second = (await ingest(client, key)).json()

    assert second == {"success": True, "callId": first["callId"], "deduplicated": True}
    history = (await client.get("/api/calls/history", headers=auth("org-a"))).json()
    assert history["total"] == 1


async def test_identical_requests_racing_make_one_call(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    responses = await asyncio.gather(*(ingest(client, key, externalCallId="raced") for _ in range(4)))

    bodies = [r.json() for r in responses]
    assert {r.status_code for r in responses} == {200}
    assert len({b["callId"] for b in bodies}) == 1
    assert sorted(b["deduplicated"] for b in bodies) == [False, True, True, True]
    assert (await client.get("/api/calls/history", headers=auth("org-a"))).json()["total"] == 1


async def test_without_external_id_every_ingest_is_a_new_call(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    first = (await ingest(client, key, externalCallId=None)).json()
    second = (await ingest(client, key, externalCallId=None)).json()

    assert first["callId"] != second["callId"]
    call = (await client.get(f"/api/calls/{first['callId']}", headers=auth("org-a"))).json()["call"]
    assert call["providerCallId"] == first["callId"]


async def test_unanswered_calls_need_no_recording(client: httpx.AsyncClient, key: dict[str, str]) -> None:
    body = (
        await ingest(client, key, status="no-answer", transcript=None, summary=None, recording=None)
    ).json()

    recording = await client.get(f"/api/calls/{body['callId']}/recording", headers=auth("org-a"))
    assert recording.status_code == 404
    assert recording.json()["code"] == "RECORDING_NOT_FOUND"


def _said(message: str, start: float, end: float, words: list[tuple[str, float, float]]) -> dict[str, Any]:
    return {
        "role": "user",
        "message": message,
        "timestamp": start,
        "end": end,
        "words": [{"word": w, "start": a, "end": b} for w, a, b in words],
    }


INVALID = {
    "bad E.164": {"fromNumber": "4165550100"},
    "negative duration": {"duration": -1},
    "unknown status": {"status": "ringing"},
    "plain-text transcript": {"transcript": "Agent: hi"},
    "transcript role": {"transcript": [{"role": "bot", "message": "x", "timestamp": 0}]},
    "transcript without timestamp": {"transcript": [{"role": "agent", "message": "x"}]},
    "completed without transcript": {"transcript": None},
    "completed without summary": {"summary": None},
    "completed without recording": {"recording": None},
    "recording not base64": {"recording": "not base64 at all!"},
    "recording not an mp3": {"recording": base64.b64encode(b"RIFF....WAVE").decode()},
    "recording over another scheme": {"recording": "ftp://vendor.example/a.mp3"},
    "start time without zone": {"callStartTime": "2026-05-15T09:10:00"},
    "unknown field": {"colour": "blue"},
    "direction": {"direction": "sideways"},
    # What storage or the code below cannot take is refused at the edge, never a 500.
    "start time in year 9999": {"callStartTime": "9999-12-31T23:59:59Z"},
    "start time before 1970": {"callStartTime": "0001-01-01T00:00:00+01:00"},
    "transcript timestamp Infinity": {"transcript": [{"role": "agent", "message": "x", "timestamp": INF}]},
    "transcript timestamp NaN": {"transcript": [{"role": "agent", "message": "x", "timestamp": NAN}]},
    "duration NaN": {"duration": NAN},
    "NUL in the summary": {"summary": "Confirmed\x00"},
    "NUL in a transcript message": {"transcript": [{"role": "agent", "message": "a\x00", "timestamp": 0}]},
    "lone surrogate in the agent name": {"agentName": "Alex \ud800"},
    "callerName over its column": {"callerName": "x" * 201},
    "NaN in metadata": {"metadata": {"score": NAN}},
    "NUL in a metadata key": {"metadata": {"a\x00": 1}},
    "metadata nested 100 deep": {"metadata": json.loads('{"a":' * 100 + "{}" + "}" * 100)},
    "NUL in a metadata value": {"metadata": {"a": "x\x00"}},
    # PostgreSQL gives JSON numbers back as numeric: 1e20 as an integer beyond 64 bits, a 500 to render
    "metadata number 1e20": {"metadata": {"n": 1e20}},
    "metadata integer beyond 2^53": {"metadata": {"n": 2**70}},
    "transcript timestamp 1e20": {"transcript": [{"role": "agent", "message": "x", "timestamp": 1e20}]},
    "non-ASCII external id": {"externalCallId": "caf\u00e9"},
    "E.164 in other digits": {"fromNumber": "+1\u0664\u0661\u0666\u0665\u0665\u0665\u0660\u0661"},
    "NUL in the recording URL": {"recording": "https://vendor.example/a\x00.mp3"},
    "utterance ending before it starts": {
        "transcript": [{"role": "agent", "message": "x", "timestamp": 2, "end": 1}]
    },
    "word ending before it starts": {"transcript": [_said("x", 1, 3, [("x", 2, 1.5)])]},
    "word before its utterance": {"transcript": [_said("x", 1, 3, [("x", 0.5, 1.5)])]},
    "word after its utterance's end": {"transcript": [_said("x", 1, 3, [("x", 2, 3.5)])]},
    "word without text": {"transcript": [_said("x", 1, 3, [("", 1, 2)])]},
    "word time NaN": {"transcript": [_said("x", 1, 3, [("x", NAN, 2)])]},
    "word with an unknown field": {
        "transcript": [
            {**_said("x", 1, 3, [("x", 1, 2)]), "words": [{"word": "x", "start": 1, "end": 2, "p": 1}]}
        ]
    },
}


async def test_ends_and_timed_words_are_kept_and_served(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    said = _said("four one", 1.0, 2.5, [("four", 1.0, 1.6), ("one", 1.7, 2.4)])

    response = await ingest(
        client, key, transcript=[said, {"role": "agent", "message": "ok", "timestamp": 3}]
    )

    assert response.status_code == 200, response.text
    call_id = response.json()["callId"]
    recording = (await client.get(f"/api/calls/{call_id}/recording", headers=auth("org-a"))).json()
    assert recording["transcriptionData"] == [
        said,
        {"role": "agent", "message": "ok", "timestamp": 3, "end": 154},
    ]


def stored_objects(settings: Settings) -> list[Path]:
    return [path for path in (settings.data_dir / "storage").rglob("*") if path.is_file()]


@pytest.mark.parametrize("overrides", INVALID.values(), ids=INVALID.keys())
async def test_invalid_ingest_is_400_and_stores_nothing(
    client: httpx.AsyncClient, key: dict[str, str], settings: Settings, overrides: dict[str, Any]
) -> None:
    response = await ingest(client, key, **overrides)

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == body["error"]["code"] == "VALIDATION_ERROR"
    assert body["error"]["details"]
    assert (await client.get("/api/calls/history", headers=auth("org-a"))).json()["total"] == 0
    assert stored_objects(settings) == []


_FAIL_RECORDING_INSERTS = """
CREATE FUNCTION test_disk_full() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$ LANGUAGE plpgsql;
CREATE TRIGGER test_disk_full BEFORE INSERT ON recordings FOR EACH ROW EXECUTE FUNCTION test_disk_full();
"""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_an_insert_failing_for_any_reason_leaves_no_audio_behind(
    app: FastAPI, database_url: str, key: dict[str, str], settings: Settings
) -> None:
    connection = await asyncpg.connect(database_url)
    await connection.execute(_FAIL_RECORDING_INSERTS)  # the database refuses the row, not as a conflict
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await ingest(client, key)
    finally:
        await connection.execute("DROP FUNCTION test_disk_full() CASCADE")
        await connection.close()

    assert response.status_code == 500
    assert stored_objects(settings) == []


@pytest.mark.parametrize(
    ("served", "reason"),
    [
        ({"body": MP3, "content_type": "text/html"}, "audio"),
        ({"body": MP3, "content_type": "audio/" + "x" * 100}, "audio"),  # over the column's 64
        ({"body": b"x" * 200_001}, "too large"),
    ],
)
async def test_what_the_url_serves_is_checked(
    client: httpx.AsyncClient, key: dict[str, str], vendor: VendorFake, served: dict[str, Any], reason: str
) -> None:
    url = vendor.serve("bad", **served)

    response = await ingest(client, key, recording=url)

    assert response.status_code == 400
    assert reason in response.json()["error"]["message"]


NON_GLOBAL_URLS = {
    "NAT64 of 127.0.0.1": "https://[64:ff9b::7f00:1]/a.mp3",
    "NAT64 of the metadata address": "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
    "6to4 of 10.0.0.1": "https://[2002:a00:1::1]/a.mp3",
    "IPv4-compatible loopback": "https://[::7f00:1]/a.mp3",
    "site-local": "https://[fec0::1]/a.mp3",
    "IPv4-mapped metadata": "https://[::ffff:169.254.169.254]/a.mp3",
}


@pytest.mark.parametrize("settings_overrides", [{"ingest_allow_private_urls": False}])
@pytest.mark.parametrize("url", NON_GLOBAL_URLS.values(), ids=NON_GLOBAL_URLS.keys())
async def test_a_url_to_a_non_global_address_is_400_and_stores_nothing(
    client: httpx.AsyncClient, key: dict[str, str], url: str
) -> None:
    response = await ingest(client, key, recording=url)

    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == body["error"]["code"] == "VALIDATION_ERROR"
    assert "not a public address" in body["error"]["message"]
    assert (await client.get("/api/calls/history", headers=auth("org-a"))).json()["total"] == 0


async def test_a_body_over_the_cap_is_413_without_reading_it_whole(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    huge = await ingest(client, key, recording="A" * 300_000)

    async def endless() -> Any:
        for _ in range(10_000):  # 640 MB if it were read whole; the cap stops it at 200 kB
            yield b"x" * 65_536

    streamed = await client.post(
        "/api/calls/ingest", content=endless(), headers={**key, "Content-Type": "application/json"}
    )

    for response in (huge, streamed):
        assert response.status_code == 413
        assert response.json() == {
            "success": False,
            "error": "Request body too large",
            "code": "PAYLOAD_TOO_LARGE",
        }


async def test_other_json_endpoints_have_the_small_cap(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/calls/voice-ai/config",
        headers=auth("org-a", "SUPERADMIN"),
        content=b'{"elevenlabsApiKey": "' + b"k" * 2_000_000 + b'"}',
    )

    assert response.status_code == 413


async def test_rate_limit_per_key_per_rolling_minute(client: httpx.AsyncClient, key: dict[str, str]) -> None:
    accepted = [await ingest(client, key, externalCallId=f"c{i}") for i in range(5)]
    refused = await ingest(client, key, externalCallId="c6")

    assert {r.status_code for r in accepted} == {200}
    assert refused.status_code == 429
    assert refused.json()["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    other_user = (await client.get("/api/user/api-key", headers=auth("org-b"))).json()["data"]["apiKey"]
    assert (await ingest(client, {"Authorization": f"Bearer {other_user}"})).status_code == 200


@pytest.mark.parametrize("settings_overrides", [{"ingest_rate_limit_per_minute": 50}])
async def test_a_burst_of_200_concurrent_ingests_gets_exactly_the_budget(
    client: httpx.AsyncClient, key: dict[str, str]
) -> None:
    burst = [
        ingest(
            client,
            key,
            externalCallId=f"burst-{i}",
            status="busy",
            transcript=None,
            summary=None,
            recording=None,
        )
        for i in range(200)
    ]

    statuses = [r.status_code for r in await asyncio.gather(*burst)]

    assert statuses.count(200) == 50
    assert statuses.count(429) == 150
    assert (await client.get("/api/calls/history?limit=200", headers=auth("org-a"))).json()["total"] == 50
