"""Soak: a steady mixed load on the real service, on loopback, for a bounded time.

    uv run python -m bench.soak --seconds 300 --concurrency 16

Starts the service (uvicorn, uvloop, httptools; SQLite and local storage in a temporary folder), seeds
calls through the ingest API, then keeps `concurrency` clients busy with a mix of recording reads (with
the audio download behind them), call reads and history pages. Prints requests, errors, p50/p99 latency
and the service's resident memory once warm and at the end, as a table and as JSON on the last line.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt

from bench.service import SERVE, environment, free_port, running

MP3 = b"ID3\x04\x00\x00" + bytes(range(256)) * 256  # 64 KiB


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else 0.0


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def seed(http: httpx.AsyncClient, bearer: dict[str, str], calls: int) -> list[str]:
    key = (await http.get("/api/user/api-key", headers=bearer)).json()["data"]["apiKey"]
    recording = base64.b64encode(MP3).decode()
    ids = []
    for i in range(calls):
        body = {
            "direction": "outbound",
            "fromNumber": "+14165550100",
            "toNumber": "+14165550199",
            "duration": 60,
            "status": "completed",
            "summary": "soak",
            "recording": recording,
            "externalCallId": f"soak-{i}",
            "transcript": [{"role": "agent", "message": f"Hello {i}", "timestamp": 0.5}],
        }
        response = await http.post("/api/calls/ingest", json=body, headers={"Authorization": f"Bearer {key}"})
        response.raise_for_status()
        ids.append(response.json()["callId"])
    return ids


async def one(
    http: httpx.AsyncClient, bearer: dict[str, str], call_ids: list[str], stats: Stats, rng: random.Random
) -> None:
    roll, call_id = rng.random(), rng.choice(call_ids)
    started = time.perf_counter()
    try:
        if roll < 0.6:
            kind = "recording+audio"
            response = await http.get(f"/api/calls/{call_id}/recording", headers=bearer)
            ok = response.status_code == 200
            if ok:
                audio = await http.get(response.json()["audioUrl"])
                ok = audio.status_code == 200 and len(audio.content) == len(MP3)
        elif roll < 0.85:
            kind = "call"
            ok = (await http.get(f"/api/calls/{call_id}", headers=bearer)).status_code == 200
        else:
            kind = "history"
            ok = (await http.get("/api/calls/history?limit=20", headers=bearer)).status_code == 200
    except httpx.HTTPError:
        kind, ok = "transport", False
    stats.latencies.append(time.perf_counter() - started)
    stats.by_kind[kind] = stats.by_kind.get(kind, 0) + 1
    stats.errors += 0 if ok else 1


async def drive(
    base_url: str, bearer: dict[str, str], call_ids: list[str], seconds: float, concurrency: int
) -> Stats:
    stats, deadline = Stats(), time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:

        async def worker(seed_value: int) -> None:
            rng = random.Random(seed_value)
            while time.monotonic() < deadline:
                await one(http, bearer, call_ids, stats, rng)

        await asyncio.gather(*(worker(i) for i in range(concurrency)))
    return stats


async def soak(seconds: float, concurrency: int, calls: int, warmup: float) -> dict[str, Any]:
    jwt_secret = secrets.token_urlsafe(40)
    token = jwt.encode(
        {
            "id": "soak",
            "organizationId": "org-soak",
            "accessRole": "ADMIN",
            "exp": int(time.time()) + 3600 + int(seconds),
        },
        jwt_secret,
        algorithm="HS256",
    )
    bearer = {"Authorization": f"Bearer {token}"}
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = environment(
            {
                "TETHER_PORT": str(port),
                "TETHER_DATA_DIR": folder,
                "TETHER_LOG_LEVEL": "warning",
                "TETHER_DATABASE_URL": f"sqlite:///{folder}/soak.db",
                "TETHER_JWT_SECRET": jwt_secret,
                "TETHER_SECRET_KEY": secrets.token_urlsafe(32),
                "TETHER_INGEST_RATE_LIMIT_PER_MINUTE": "100000",
            }
        )
        with running(SERVE, env, port=port, cwd=Path(folder)) as service:
            async with httpx.AsyncClient(base_url=service.url, timeout=30) as http:
                call_ids = await seed(http, bearer, calls)
            await drive(service.url, bearer, call_ids, warmup, concurrency)  # warm: caches, pools, allocator
            rss_start = rss_kib(service.process.pid)
            stats = await drive(service.url, bearer, call_ids, seconds, concurrency)
            rss_end = rss_kib(service.process.pid)
    requests = len(stats.latencies)
    return {
        "seconds": seconds,
        "concurrency": concurrency,
        "cores": os.cpu_count(),
        "requests": requests,
        "requests_per_second": round(requests / seconds, 1),
        "errors": stats.errors,
        "p50_ms": round(stats.percentile(0.50), 2),
        "p99_ms": round(stats.percentile(0.99), 2),
        "rss_start_mib": round(rss_start / 1024, 1),
        "rss_end_mib": round(rss_end / 1024, 1),
        "rss_growth_percent": round(100 * (rss_end - rss_start) / rss_start, 2) if rss_start else None,
        "mix": stats.by_kind,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=10.0)
    args = parser.parse_args()
    result = asyncio.run(soak(args.seconds, args.concurrency, args.calls, args.warmup))
    for name, value in result.items():
        print(f"{name:>22}  {value}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
