"""How long the event loop is held while a request does much work: `/healthz` polled every 10 ms while a
key holder ingests a 20,000-utterance transcript (the largest ingest accepts), against the service as
`tether-relay serve` starts it. `python -m bench.loop_stall`; prints the worst probe of each round."""

from __future__ import annotations

import base64
import functools
import http.client
import json
import secrets
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.service import SERVE, environment, free_port, running
from tether_relay.auth.tokens import mint_token

UTTERANCES = 20_000
ROUNDS = 3


def worst_probe_during(port: int, work: threading.Thread) -> float:
    worst = 0.0
    work.start()
    while work.is_alive():
        started = time.monotonic()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        connection.close()
        worst = max(worst, time.monotonic() - started)
        time.sleep(0.01)
    return worst


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    jwt_secret = secrets.token_urlsafe(40)
    port = free_port()
    env = environment(
        {
            "TETHER_DATABASE_URL": f"sqlite:///{folder}/bench.db",
            "TETHER_DATA_DIR": str(folder),
            "TETHER_JWT_SECRET": jwt_secret,
            "TETHER_SECRET_KEY": secrets.token_urlsafe(40),
            "TETHER_PORT": str(port),
        }
    )
    with running(SERVE, env, port=port, cwd=folder, log=folder / "service.log") as service:
        token = mint_token(jwt_secret, user_id="bench", organization_id="bench-org", role="ADMIN")
        answer = httpx.get(f"{service.url}/api/user/api-key", headers={"Authorization": f"Bearer {token}"})
        key = answer.json()["data"]["apiKey"]
        transcript = [{"role": "agent", "message": "x" * 10, "timestamp": i * 0.1} for i in range(UTTERANCES)]
        for round_ in range(ROUNDS):
            body = {
                "direction": "outbound",
                "fromNumber": "+14165550100",
                "toNumber": "+14165550199",
                "duration": 10,
                "status": "completed",
                "transcript": transcript,
                "summary": "s",
                "recording": base64.b64encode(b"ID3" + bytes(1000)).decode(),
                "externalCallId": f"stall-{round_}",
            }
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

            post = functools.partial(
                httpx.post, f"{service.url}/api/calls/ingest", content=json.dumps(body).encode(), timeout=60
            )
            worst = worst_probe_during(port, threading.Thread(target=post, kwargs={"headers": headers}))
            print(f"ingest of {UTTERANCES:,} utterances: worst /healthz {worst * 1000:.0f} ms")


if __name__ == "__main__":
    main()
