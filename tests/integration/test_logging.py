"""The running service's own output: JSON lines, and no token, API key or URL signature in any of them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.conftest import JWT_SECRET, SECRET_KEY, token_for
from tests.processes import service_env, service_process


def test_service_logs_are_json_and_carry_no_secrets(tmp_path: Path) -> None:
    env = service_env(f"sqlite:///{tmp_path}/var/t.db", tmp_path / "var", log_level="info")
    token = token_for("org-logs")
    with service_process(env, tmp_path) as service:
        bearer = {"Authorization": f"Bearer {token}"}
        key = httpx.get(f"{service.url}/api/user/api-key", headers=bearer).json()["data"]["apiKey"]
        ingest = {
            "direction": "inbound",
            "fromNumber": "+14165550100",
            "toNumber": "+14165550199",
            "duration": 3,
            "status": "completed",
            "summary": "s",
            "transcript": [{"role": "user", "message": "hi", "timestamp": 0}],
            "recording": "SUQzBAAAAAAA",
        }
        call_id = httpx.post(
            f"{service.url}/api/calls/ingest", json=ingest, headers={"Authorization": f"Bearer {key}"}
        ).json()["callId"]
        audio_url = httpx.get(f"{service.url}/api/calls/{call_id}/recording", headers=bearer).json()[
            "audioUrl"
        ]
        assert httpx.get(audio_url).status_code == 200
        assert httpx.get(audio_url.replace("signature=", "signature=x")).status_code == 403
        httpx.get(f"{service.url}/api/calls/nope", headers={"Authorization": "Bearer garbage.token.here"})
    output = service.output()  # after SIGTERM: the lines still queued at shutdown are written too

    signature = httpx.URL(audio_url).params["signature"]
    for secret in (token, key, signature, JWT_SECRET, SECRET_KEY):
        assert secret not in output
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "tether_relay.access"]
    # One access line per request, written by the service (uvicorn's own is off), with the route's
    # template rather than its path and query: a signed URL's signature is never in it to redact.
    assert len(access) == 6
    assert [line for line in lines if line["logger"] == "uvicorn.access"] == []
    assert {(line["method"], line["route"], line["status"]) for line in access} >= {
        ("GET", "/media/{bucket}/{key:path}", 200),
        ("GET", "/media/{bucket}/{key:path}", 403),
        ("POST", "/api/calls/ingest", 200),
    }
    assert all(len(line["request_id"]) >= 8 and line["ms"] >= 0 for line in access)
