"""`make bench`: the recording read against its references, each measured in the same run on this
machine, printed as tables.

Sets up what it needs (wrk from Debian's packages if missing), starts the service as in production (one
uvicorn worker, uvloop + httptools) pinned to one core with the load generator on the other, seeds data,
drives load on 127.0.0.1 only for bounded times, and reports absolute figures and ratios:

1. the cached recording read (signed URL, transcript cached) against a no-work ceiling on the same app
   and against the typical implementation (bench/app.py), on SQLite (1,000 calls) and on PostgreSQL;
   and with 10,000 jobs pending in the queue;
2. the same read with a million calls in the table, against the run with a thousand;
3. a 10 MiB Twilio recording end to end against a plain download of the same file from the same
   provider fake; archived in our storage, against a plain download of it from that storage; the
   service's peak RSS growth under 8 concurrent reads, and how fast httpx and aiohttp download that file
   on the service's core (bench/clients.py);
4. 100 concurrent first reads of one call (transcript not fetched yet) against a single first read.

Figures are only comparable within one run; the ratios are the point.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import secrets
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import httpx
from botocore.config import Config
from sqlalchemy import insert, text
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from tests.fakes.elevenlabs import ElevenLabsFake
from tests.fakes.loopback import running as serving
from tests.fakes.twilio import FakeRecording, TwilioFake, sid

from bench.load import Load, ensure_wrk, pinned, two_cores, wrk
from bench.seed import ORG, seed_calls, seed_one
from bench.service import ServiceProcess, environment, free_port, running
from tether_relay.auth.tokens import mint_token
from tether_relay.db import create_engine
from tether_relay.jobs.models import LocalJob
from tether_relay.storage.sigv4 import presign_get

REPOSITORY = Path(__file__).resolve().parents[1]  # uvicorn imports bench.app from here
R2 = {
    "endpoint": "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
    "bucket": "recordings",
    "key_id": "AKIDBENCH",
    "secret": "bench-secret-access-key",
}
JWT_SECRET = secrets.token_urlsafe(40)
SECRET_KEY = secrets.token_urlsafe(40)
TWILIO_AUDIO = b"ID3\x03" + os.urandom(10 * 1024 * 1024 - 4)  # 10 MiB
# ElevenLabs' conversation API answers in hundreds of milliseconds; the fake is made to take this long
# for the one transcript fetch, so the first-reads ratio compares waiting with fetching, not CPU only.
TRANSCRIPT_FETCH_SECONDS = 0.3
CEILING, OURS, TYPICAL = "ceiling (same JSON, no work)", "recording read (ours)", "typical (ORM + botocore)"
QUIET = "recording read, logs at warning"
BARE = "bare ceiling (no middleware of ours)"
TRACED = "recording read, tracing on (OTLP/HTTP)"
SAMPLED = "recording read, tracing on, 10 % sampled"
SAMPLE_TENTH = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.1"}
PENDING = "recording read, 10,000 jobs pending"
PENDING_JOBS = 10_000
PEAK_RSS_MIB: list[tuple[str, float]] = []  # each service's peak resident memory, read as it stops


def token(role: str = "ADMIN") -> str:
    return mint_token(JWT_SECRET, user_id="bench", organization_id=ORG, role=role, ttl_seconds=3600)


def bearer(role: str = "ADMIN") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role)}"}


@contextmanager
def service(
    database_url: str,
    folder: str,
    *,
    log_level: str | None = None,
    bare: bool = False,
    settings: dict[str, str] | None = None,
    otel: dict[str, str] | None = None,
    local_storage: bool = False,
    source: Path | None = None,
) -> Iterator[ServiceProcess]:
    """The service as `tether-relay serve` runs it (bench/serve.py: the same run_server, logging at info
    unless `log_level` says otherwise, its lines written to a file as a deployment's go to a pipe), with
    bench/app.py's reference routes; `bare`: the no-work route alone, without our middleware;
    `local_storage`: recordings in the local folder (`make serve`'s default) instead of R2; `source`: the
    service's code from this checkout (a baseline to compare with), not this one's. Migrated, pinned to
    core 0."""
    port = free_port()
    env = environment(
        {
            "TETHER_DATABASE_URL": database_url,
            "TETHER_DATA_DIR": folder,
            "TETHER_JWT_SECRET": JWT_SECRET,
            "TETHER_SECRET_KEY": SECRET_KEY,
            "TETHER_PORT": str(port),
            **(
                {}
                if local_storage
                else {
                    "TETHER_R2_ENDPOINT_URL": R2["endpoint"],
                    "TETHER_R2_BUCKET": R2["bucket"],
                    "TETHER_R2_ACCESS_KEY_ID": R2["key_id"],
                    "TETHER_R2_SECRET_ACCESS_KEY": R2["secret"],
                }
            ),
            **({"TETHER_LOG_LEVEL": log_level} if log_level else {}),
            **{f"TETHER_{name.upper()}": value for name, value in (settings or {}).items()},
            **(otel or {}),
            **({"PYTHONPATH": str(source / "src")} if source else {}),
        }
    )
    migrate = [sys.executable, "-m", "tether_relay.cli", "migrate"]
    subprocess.run(migrate, env=env, check=True, stdout=subprocess.DEVNULL)
    command = [sys.executable, "-m", "bench.serve", *(["--bare"] if bare else [])]
    log = Path(folder) / f"service-{port}.log"
    with running(pinned(0, command), env, port=port, cwd=REPOSITORY, log=log) as server:
        yield server
        kind = "bare" if bare else "tracing on" if otel else f"logs at {log_level or 'info'}"
        database = "PostgreSQL" if database_url.startswith("postgresql") else Path(database_url).name
        PEAK_RSS_MIB.append((f"{database}, {kind}", peak_rss_mib(server)))


@dataclass
class SpanSink:
    """A collector that takes every OTLP export and drops it (decoding would load the load generator's
    core); tests/fakes/otlp.py decodes them for the tests."""

    base_url: str = ""
    exports: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await Request(scope, receive).body()
        self.exports += 1
        await Response(b"", media_type="application/x-protobuf")(scope, receive, send)

    def asgi(self) -> ASGIApp:
        return self


def cached_reads(
    binary: str, server: ServiceProcess, call_id: str, database_url: str, args: argparse.Namespace
) -> dict[str, Load]:
    """The read and its references on the running (default) service, then the same read with logging at
    `warning` and the bare ceiling, each on a service of its own started the same way on the same data."""
    ours = f"{server.url}/api/calls/{call_id}/recording"
    answer = httpx.get(ours, headers=bearer()).json()
    routes = {
        CEILING: f"{server.url}/bench/ceiling",
        OURS: ours,
        TYPICAL: f"{server.url}/bench/typical/{call_id}",
    }
    table = measure(binary, routes, answer, server, args)
    asyncio.run(pend_jobs(database_url, PENDING_JOBS))  # the in-process worker polls a queue this deep
    table |= measure(binary, {PENDING: ours}, answer, server, args)
    asyncio.run(pend_jobs(database_url, 0))
    folder = args.folder
    with service(database_url, folder, log_level="warning") as quiet:
        table |= measure(binary, {QUIET: f"{quiet.url}/api/calls/{call_id}/recording"}, answer, quiet, args)
    with service(database_url, folder, bare=True) as bare:
        table |= measure(binary, {BARE: f"{bare.url}/bench/ceiling"}, answer, bare, args)
    with serving(SpanSink()) as sink:
        # Every request traced (the SDK's default sampler), then one in ten (the standard variables).
        for name, sampler in ((TRACED, {}), (SAMPLED, SAMPLE_TENTH)):
            otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": sink.base_url, **sampler}
            with service(database_url, folder, otel=otel) as traced:
                url = f"{traced.url}/api/calls/{call_id}/recording"
                table |= measure(binary, {name: url}, answer, traced, args)
        if not sink.exports:
            raise RuntimeError("tracing on, but no span reached the collector")
    return table


async def pend_jobs(database_url: str, count: int) -> None:
    """`count` jobs waiting in the queue (due tomorrow, so the worker keeps looking at them without running
    them); 0 removes them."""
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                await connection.execute(text("DELETE FROM pgqueuer WHERE entrypoint = 'bench-pending'"))
                if count:
                    await connection.execute(
                        text(
                            "INSERT INTO pgqueuer (priority, entrypoint, payload, status, execute_after) "
                            "SELECT 0, 'bench-pending', NULL, 'queued', now() + interval '1 day' "
                            "FROM generate_series(1, :count)"
                        ),
                        {"count": count},
                    )
                return
            await connection.execute(text("DELETE FROM local_jobs WHERE name = 'bench-pending'"))
            tomorrow = datetime.now(UTC) + timedelta(days=1)
            rows = [
                {
                    "name": "bench-pending",
                    "payload": {},
                    "status": "queued",
                    "attempts": 0,
                    "run_after": tomorrow,
                }
                for _ in range(count)
            ]
            if rows:
                await connection.execute(insert(LocalJob), rows)
    finally:
        await engine.dispose()


def archived_twilio(binary: str, twilio: TwilioFake, args: argparse.Namespace) -> dict[str, float]:
    """A 10 MiB Twilio recording archived in our storage (the local folder, as `make serve` keeps it),
    read through the recording endpoint, against a plain download of the same bytes from the same storage
    (its signed URL, served by the same process); and the requests Twilio saw meanwhile."""
    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite+aiosqlite:///{folder}/archive.db"
        with service(database_url, folder, local_storage=True) as server:
            httpx.post(
                f"{server.url}/api/calls/providers/config",
                json=twilio.credentials_config(),
                headers=bearer("SUPERADMIN"),
            ).raise_for_status()
            recording = twilio.add_recording(call_sid := sid("CA"), TWILIO_AUDIO)
            key = f"{ORG}/archived/{recording.sid}.mp3"
            path = Path(folder) / "storage" / "recordings" / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(TWILIO_AUDIO)
            stored = {"storage_key": key, "size_bytes": len(TWILIO_AUDIO)}
            archived_id = asyncio.run(
                seed_one(
                    database_url,
                    "twilio",
                    call_sid,
                    {**stored, "provider_recording_id": recording.sid, "duration": 600.0},
                    cached=True,
                )
            )
            plain_id = asyncio.run(
                seed_one(database_url, "external", f"plain-{call_sid}", stored, cached=True)
            )
            plain_url = httpx.get(f"{server.url}/api/calls/{plain_id}/recording", headers=bearer()).json()[
                "audioUrl"
            ]
            ours = f"{server.url}/api/calls/{archived_id}/recording"
            check = httpx.get(ours, headers=bearer(), timeout=60).json()["audioData"]
            assert base64.b64decode(check.split(",", 1)[1]) == TWILIO_AUDIO, "wrong audio"
            before = sum(twilio.plan.requests.values())
            plain = wrk(binary, plain_url, "X-Bench: plain", args.seconds, 4)
            through_us = wrk(binary, ours, f"Authorization: Bearer {token()}", args.seconds, 4)
            twilio_requests = sum(twilio.plan.requests.values()) - before
    return {
        "archived_rps": through_us.rps,
        "archived_non_2xx": float(through_us.non_2xx),
        "stored_plain_rps": plain.rps,
        "twilio_requests": float(twilio_requests),
    }


def measure(
    binary: str, routes: dict[str, str], answer: Any, server: ServiceProcess, args: argparse.Namespace
) -> dict[str, Load]:
    httpx.post(f"{server.url}/bench/ceiling", json=answer).raise_for_status()  # the same bytes as a read
    header = f"Authorization: Bearer {token()}"
    for url in routes.values():
        wrk(binary, url, header, 2, args.connections)  # warm up
    return {name: wrk(binary, url, header, args.seconds, args.connections) for name, url in routes.items()}


def twilio_10mib(
    binary: str, server: ServiceProcess, twilio: TwilioFake, folder: str, args: argparse.Namespace
) -> dict[str, float]:
    """A 10 MiB Twilio recording through us, against a plain download of it from the same fake."""
    httpx.post(
        f"{server.url}/api/calls/providers/config",
        json=twilio.credentials_config(),
        headers=bearer("SUPERADMIN"),
    ).raise_for_status()
    recording, call_id = twilio_call(twilio, args, TWILIO_AUDIO)
    ours = f"{server.url}/api/calls/{call_id}/recording"
    before = peak_rss_mib(server)  # before any Twilio read: the growth below is all of theirs
    asyncio.run(concurrent_reads(f"{ours}/audio", 1, rounds=1))  # warm: connections, first-use allocations
    warm = peak_rss_mib(server)
    asyncio.run(concurrent_reads(f"{ours}/audio", 8, rounds=3))  # the playback proxy streams the MP3 itself
    proxy = peak_rss_mib(server)
    # Four times the size, same concurrency: held whole, 8 of them would raise the peak by ~240 MiB more.
    _, large_id = twilio_call(twilio, args, TWILIO_AUDIO * 4)
    asyncio.run(concurrent_reads(f"{server.url}/api/calls/{large_id}/recording/audio", 8, rounds=1))
    proxy_large = peak_rss_mib(server)
    check = httpx.get(ours, headers=bearer(), timeout=60)
    prefix = "data:audio/mpeg;base64,"
    assert base64.b64decode(check.json()["audioData"][len(prefix) :]) == TWILIO_AUDIO, "wrong audio"
    media = f"{twilio.base_url}/2010-04-01/Accounts/{twilio.account_sid}/Recordings/{recording.sid}.mp3"
    basic = base64.b64encode(f"{twilio.account_sid}:{twilio.auth_token}".encode()).decode()
    plain = wrk(binary, media, f"Authorization: Basic {basic}", args.seconds, 4)
    through_us = wrk(binary, ours, f"Authorization: Bearer {token()}", args.seconds, 4)
    settled = peak_rss_mib(server)  # after wrk's 4 connections: the 8 concurrent reads are measured from here
    asyncio.run(concurrent_reads(ours, 8, rounds=3))
    after = peak_rss_mib(server)
    clients = [sys.executable, "-m", "bench.clients", media, f"Authorization: Basic {basic}", "20"]
    measured = subprocess.run(pinned(0, clients), check=True, capture_output=True, text=True, cwd=REPOSITORY)
    speeds: dict[str, list[float]] = {}
    for line in measured.stdout.split("\n"):
        if line:
            name, value = line.split()
            speeds.setdefault(name, []).append(float(value))
    return {
        "httpx_mib_s": max(speeds["httpx"]),
        "aiohttp_mib_s": max(speeds["aiohttp"]),
        "plain_rps": plain.rps,
        "ours_rps": through_us.rps,
        "ours_non_2xx": float(through_us.non_2xx),
        "rss_before_mib": before,
        "rss_warm_mib": warm,
        "rss_proxy_mib": proxy,
        "rss_proxy_large_mib": proxy_large,
        "rss_settled_mib": settled,
        "rss_after_mib": after,
    }


def twilio_call(twilio: TwilioFake, args: argparse.Namespace, audio: bytes) -> tuple[FakeRecording, str]:
    """A Twilio call whose recording the fake holds, its transcript already cached."""
    recording = twilio.add_recording(call_sid := sid("CA"), audio)
    call_id = asyncio.run(
        seed_one(
            args.database_url,
            "twilio",
            call_sid,
            {"storage_bucket": None, "provider_recording_id": recording.sid, "duration": 600.0},
            cached=True,
        )
    )
    return recording, call_id


def peak_rss_mib(server: ServiceProcess) -> float:
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


async def concurrent_reads(url: str, readers: int, rounds: int) -> list[float]:
    """Wall seconds of each round of `readers` reads started together (bodies read and dropped).

    aiohttp, not httpx: httpx's connection pool took 0.4-1.4 s to issue 100 concurrent GETs that aiohttp
    issued in 0.04 s against the same server (measured here), which would have hidden what is measured."""

    async def one(session: aiohttp.ClientSession) -> None:
        async with session.get(url, headers=bearer()) as response:
            assert response.status == 200, response.status
            async for _ in response.content.iter_chunked(256 * 1024):
                pass

    walls = []
    connector = aiohttp.TCPConnector(limit=readers)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=120)
    ) as session:
        for _ in range(rounds):
            started = time.perf_counter()
            await asyncio.gather(*(one(session) for _ in range(readers)))
            walls.append(time.perf_counter() - started)
    return walls


def first_reads(
    server: ServiceProcess, elevenlabs: ElevenLabsFake, args: argparse.Namespace
) -> dict[str, float]:
    """One first read of a call, then 100 concurrent first reads of another: wall times, fetch counts."""
    httpx.post(
        f"{server.url}/api/calls/voice-ai/config",
        json={"elevenlabsApiKey": elevenlabs.api_key},
        headers=bearer("SUPERADMIN"),
    ).raise_for_status()
    results: dict[str, float] = {}
    for name, readers in (("single", 1), ("hundred", 100)):
        conversation = f"conv_bench_{name}_{secrets.token_hex(3)}"
        elevenlabs.add(conversation)
        elevenlabs.plan.add("slow", times=1, path_contains=conversation, delay=TRANSCRIPT_FETCH_SECONDS)
        call_id = asyncio.run(
            seed_one(
                args.database_url,
                "elevenlabs",
                conversation,
                {"storage_key": f"{ORG}/{conversation}/rec.mp3"},
                cached=False,
            )
        )
        url = f"{server.url}/api/calls/{call_id}/recording"
        results[f"{name}_seconds"] = asyncio.run(concurrent_reads(url, readers, rounds=1))[0]
        results[f"{name}_fetches"] = float(elevenlabs.plan.count(conversation))
    return results


def signing_micros() -> tuple[float, float]:
    """µs per presigned URL: ours and botocore's (a reused client), same inputs."""
    client = boto3.client(
        "s3",
        endpoint_url=R2["endpoint"],
        aws_access_key_id=R2["key_id"],
        aws_secret_access_key=R2["secret"],
        region_name="auto",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    key = f"{ORG}/call/rec.mp3"

    def ours() -> str:
        return presign_get(
            endpoint_url=R2["endpoint"],
            bucket=R2["bucket"],
            key=key,
            access_key_id=R2["key_id"],
            secret_access_key=R2["secret"],
            region="auto",
            expires_in=600,
        )

    def theirs() -> str:
        url: str = client.generate_presigned_url(
            "get_object", Params={"Bucket": R2["bucket"], "Key": key}, ExpiresIn=600
        )
        return url

    return timeit.timeit(ours, number=20_000) / 20_000 * 1e6, timeit.timeit(
        theirs, number=2_000
    ) / 2_000 * 1e6


POSTGRES_CPU: dict[str, float] = {}


def postgres_cpu_seconds() -> float:
    """User and system CPU of every process named postgres on this machine (a backend that exits takes its
    share with it: the service's pools keep theirs open for the whole measurement)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, _, rest = text.partition(") ")
        if name.endswith("(postgres"):
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str | None]:
    """A scratch database on the given server, dropped afterwards; None if the server is not there."""
    name = f"tether_bench_{secrets.token_hex(4)}"

    async def run(statement: str) -> None:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    try:
        asyncio.run(run(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no server: the PostgreSQL rows are skipped, and said so
        print(f"PostgreSQL not reachable at {admin_url} ({type(exc).__name__}): its rows are skipped")
        yield None
        return
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10, help="per measured route")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--large-calls", type=int, default=1_000_000)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    binary = ensure_wrk()
    if two_cores():
        os.sched_setaffinity(0, {1})  # this process and the fakes share the load generator's core
    started = time.monotonic()
    tables: dict[str, dict[str, Load]] = {}
    with (
        tempfile.TemporaryDirectory() as folder,
        serving(TwilioFake()) as twilio,
        serving(ElevenLabsFake()) as elevenlabs,
    ):
        args.database_url, args.folder = f"sqlite+aiosqlite:///{folder}/small.db", folder
        fakes = {
            "twilio_api_base_url": twilio.base_url,
            "twilio_intelligence_base_url": twilio.base_url,
            "elevenlabs_api_base_url": elevenlabs.base_url,
        }
        with service(args.database_url, folder, settings=fakes) as server:
            call_id = asyncio.run(seed_calls(args.database_url, args.calls))
            tables[f"SQLite, {args.calls:,} calls"] = cached_reads(
                binary, server, call_id, args.database_url, args
            )
            twilio_figures = twilio_10mib(binary, server, twilio, folder, args)
            first = first_reads(server, elevenlabs, args)
        twilio_figures |= archived_twilio(binary, twilio, args)
        large_url = f"sqlite+aiosqlite:///{folder}/large.db"
        with service(large_url, folder) as server:
            print(f"seeding {args.large_calls:,} calls…", flush=True)
            call_id = asyncio.run(seed_calls(large_url, args.large_calls))
            ours = f"{server.url}/api/calls/{call_id}/recording"
            header = f"Authorization: Bearer {token()}"
            wrk(binary, ours, header, 2, args.connections)
            tables[f"SQLite, {args.large_calls:,} calls"] = {
                OURS: wrk(binary, ours, header, args.seconds, args.connections)
            }
        with postgres_database(args.postgres_url) as postgres_url:
            if postgres_url is not None:
                with service(postgres_url, folder) as server:
                    call_id = asyncio.run(seed_calls(postgres_url, args.calls))
                    cpu, wall = postgres_cpu_seconds(), time.monotonic()
                    tables[f"PostgreSQL, {args.calls:,} calls"] = cached_reads(
                        binary, server, call_id, postgres_url, args
                    )
                    POSTGRES_CPU["cpu_seconds"] = postgres_cpu_seconds() - cpu
                    POSTGRES_CPU["wall_seconds"] = time.monotonic() - wall
    ours_us, botocore_us = signing_micros()
    report(tables, twilio_figures, first, ours_us, botocore_us, args, time.monotonic() - started)


def report(
    tables: dict[str, dict[str, Load]],
    twilio: dict[str, float],
    first: dict[str, float],
    ours_us: float,
    botocore_us: float,
    args: argparse.Namespace,
    elapsed: float,
) -> None:
    print(
        f"\n{os.cpu_count()} cores; server on one, wrk -t1 on the other; {args.seconds} s per route; "
        f"whole run {elapsed:.0f} s\n"
    )
    print(f"Cached recording read (signed R2 URL, transcript cached), wrk -c{args.connections}:\n")
    print("| database | route | req/s | p50 ms | p99 ms | x bare | x ceiling | x typical | non-2xx |")
    print("|---|---|---|---|---|---|---|---|---|")
    small = next(iter(tables.values()))
    for database, table in tables.items():
        reference = table if CEILING in table else small
        for name in (BARE, CEILING, OURS, QUIET, PENDING, TRACED, SAMPLED, TYPICAL):
            if (load := table.get(name)) is None:
                continue
            print(
                f"| {database} | {name} | {load.rps:,.0f} | {load.p50_ms:.2f} | {load.p99_ms:.2f} "
                f"| {load.rps / reference[BARE].rps:.2f} | {load.rps / reference[CEILING].rps:.2f} "
                f"| {load.rps / reference[TYPICAL].rps:.2f} | {load.non_2xx} |"
            )
    for database, table in tables.items():
        if QUIET in table:
            print(
                f"{database}: logs at warning {table[QUIET].rps / table[OURS].rps:.2f}x the default's "
                f"throughput (the target: within 5 %)"
            )
    for database, table in tables.items():
        if PENDING in table:
            print(
                f"{database}: with {PENDING_JOBS:,} jobs pending, mean latency "
                f"{table[OURS].rps / table[PENDING].rps:.2f}x that with none (the target: within 1.10x)"
            )
    for database, table in tables.items():
        for name in (TRACED, SAMPLED) if TRACED in table else ():
            print(
                f"{database}: {name.removeprefix('recording read, ')}, mean latency "
                f"{table[OURS].rps / table[name].rps:.2f}x tracing off's, "
                f"p99 {table[name].p99_ms / table[OURS].p99_ms:.2f}x (the target: within 1.25x)"
            )
    if POSTGRES_CPU:
        cpu, wall = POSTGRES_CPU["cpu_seconds"], POSTGRES_CPU["wall_seconds"]
        print(
            f"PostgreSQL's own processes (unpinned, on the cores of the service and wrk) used {cpu:.1f} CPU "
            f"seconds in the {wall:.0f} s of its rows: {100 * cpu / wall:.0f} % of one core"
        )
    peak = max(PEAK_RSS_MIB, key=lambda entry: entry[1])
    print(
        f"\nPeak RSS of a service under this bench: {peak[1]:.1f} MiB ({peak[0]}); each: "
        + "; ".join(f"{name} {mib:.1f}" for name, mib in PEAK_RSS_MIB)
    )
    large = [t for name, t in tables.items() if f"{args.large_calls:,}" in name]
    if large:
        latency = (args.connections / large[0][OURS].rps) / (args.connections / small[OURS].rps)
        print(
            f"\nA million calls: mean latency {latency:.2f}x that with {args.calls:,} "
            f"(p50 {large[0][OURS].p50_ms / small[OURS].p50_ms:.2f}x)"
        )
    plain, ours, before, warm, proxy, proxy_40, settled, after = (
        twilio[k]
        for k in (
            "plain_rps",
            "ours_rps",
            "rss_before_mib",
            "rss_warm_mib",
            "rss_proxy_mib",
            "rss_proxy_large_mib",
            "rss_settled_mib",
            "rss_after_mib",
        )
    )
    print(
        f"\nTwilio 10 MiB recording, 4 connections: plain download from the fake {plain:.1f} req/s, "
        f"through us {ours:.1f} req/s: {plain / ours:.2f}x the plain download's time "
        f"(non-2xx {twilio['ours_non_2xx']:.0f}). Peak RSS: 3 rounds of 8 concurrent reads "
        f"+{after - settled:.1f} MiB ({settled:.1f} → {after:.1f}); all Twilio reads, wrk's 4 connections "
        f"for {args.seconds} s included, +{after - before:.1f} MiB ({before:.1f} → {after:.1f}). "
        f"The playback proxy, first: one read +{warm - before:.1f} MiB, then 3 rounds of 8 concurrent "
        f"reads +{proxy - warm:.1f} MiB; then 8 concurrent reads of a 40 MiB recording "
        f"+{proxy_40 - proxy:.1f} MiB"
    )
    print(
        f"Archived Twilio 10 MiB recording (our local storage), 4 connections: a plain download of the "
        f"same bytes from the same storage {twilio['stored_plain_rps']:.1f} req/s, the recording read "
        f"{twilio['archived_rps']:.1f} req/s: {twilio['stored_plain_rps'] / twilio['archived_rps']:.2f}x the "
        f"plain download's time (the target: within 1.5x; non-2xx {twilio['archived_non_2xx']:.0f}); "
        f"requests to Twilio meanwhile: {twilio['twilio_requests']:.0f}"
    )
    print(
        f"Download of the same file on the service's core: httpx {twilio['httpx_mib_s']:,.0f} MiB/s, "
        f"aiohttp {twilio['aiohttp_mib_s']:,.0f} MiB/s"
    )
    one, hundred = first["single_seconds"], first["hundred_seconds"]
    print(
        f"\nFirst reads (the fake takes {TRANSCRIPT_FETCH_SECONDS} s to answer the transcript fetch): one "
        f"read {one * 1000:.0f} ms ({first['single_fetches']:.0f} fetch); 100 concurrent reads "
        f"{hundred * 1000:.0f} ms ({first['hundred_fetches']:.0f} fetch): {hundred / one:.2f}x"
    )
    print(
        f"\nSigV4 presign: ours {ours_us:.1f} µs per URL, botocore {botocore_us:.1f} µs "
        f"({ours_us / botocore_us:.3f}x botocore's time)"
    )


if __name__ == "__main__":
    main()
