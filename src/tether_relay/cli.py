"""`tether-relay`: serve, run jobs, migrate, mint tokens, enforce retention. Reuses the API's wiring
(runtime.py)."""

from __future__ import annotations

import asyncio
import gc
import signal
from datetime import timedelta
from typing import Annotated, Any

import prometheus_client
import typer
import uvicorn
import uvloop
from pydantic import ValidationError

from tether_relay.api.server import protocol_with
from tether_relay.app import create_app
from tether_relay.auth.tokens import mint_token
from tether_relay.calls.deletion_service import Expired
from tether_relay.calls.storage_sweep import DEFAULT_GRACE, StorageSweep
from tether_relay.demo import DemoCall, ensure_demo_call
from tether_relay.keys import load_keys
from tether_relay.logs import configure as configure_logging
from tether_relay.logs import stop as stop_logging
from tether_relay.migrate import upgrade
from tether_relay.organizations.repository import OrganizationRepository
from tether_relay.runtime import build_runtime
from tether_relay.settings import Settings

app = typer.Typer(
    help="Tether Relay: one API for every call's recording and transcript.",
    no_args_is_help=True,
    add_completion=False,
)


def load_settings(**overrides: Any) -> Settings:
    """The settings, or one line on stderr saying what is wrong with them and exit status 2: every command
    reads its configuration here, so a bad one (development mode off loopback, a short secret) stops it
    before anything is built or listened on."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        reasons = "; ".join(
            (f"TETHER_{'_'.join(map(str, error['loc'])).upper()}: " if error["loc"] else "")
            + error["msg"].removeprefix("Value error, ")
            for error in exc.errors()
        )
        typer.echo(f"tether-relay: refusing to start: {reasons}", err=True)
        raise typer.Exit(2) from None


@app.command()
def migrate() -> None:
    """Bring the database (TETHER_DATABASE_URL) to the newest schema."""
    upgrade(load_settings().database_url)
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides TETHER_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides TETHER_PORT.")] = None,
) -> None:
    """Migrate, then serve the API (uvloop + httptools). Without TETHER_JWT_SECRET: development mode."""
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = load_settings(**overrides)
    configure_logging(settings.log_level)
    upgrade(settings.database_url)
    if settings.development_mode:
        _announce(settings, asyncio.run(_seed(settings)))
    run_server(settings, create_app(settings))


@app.command()
def worker(
    metrics_port: Annotated[
        int, typer.Option(help="Serve this worker's /metrics (its jobs' counts) on TETHER_HOST:PORT.")
    ] = 0,
) -> None:
    """Run background jobs only, no API, until SIGTERM or SIGINT (jobs under way are finished). On
    PostgreSQL any number of workers and replicas share the jobs; see TETHER_JOBS_IN_PROCESS."""
    settings = load_settings()
    configure_logging(settings.log_level)
    upgrade(settings.database_url)
    if metrics_port:
        prometheus_client.start_http_server(metrics_port, addr=settings.host)
    try:
        uvloop.run(_work(settings))
    finally:
        stop_logging()


async def _work(settings: Settings) -> None:
    runtime = build_runtime(settings)
    stop = asyncio.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signal_number, stop.set)
    try:
        await runtime.run_jobs(stop)
    finally:
        await runtime.close()


def run_server(settings: Settings, app: Any) -> None:
    """Serve `app` as production does: `serve` and the benchmark (bench/serve.py) both start here, so
    what is measured is what runs. Logging is ours (logs.configure): uvicorn neither configures it nor
    writes its own access line (api/request_context.py writes one per request)."""
    configure_logging(settings.log_level)
    # What is alive now (modules, the app, its schemas: most of the process's objects) stays alive: keep
    # it out of the collector's full passes, which otherwise scan all of it on the event loop whenever a
    # request allocates much (an ingest of 20,000 utterances: /healthz waited 130 ms, 20 ms frozen).
    gc.collect()
    gc.freeze()
    try:
        uvicorn.run(
            app,
            log_config=None,
            access_log=False,
            host=settings.host,
            port=settings.port,
            loop="uvloop",
            http=protocol_with(settings.client_timeout_seconds),
            log_level=settings.log_level,
            timeout_graceful_shutdown=20,
        )
    finally:
        stop_logging()  # every queued line written before the process ends


async def _seed(settings: Settings) -> DemoCall:
    runtime = build_runtime(settings)
    try:
        return await ensure_demo_call(runtime)
    finally:
        await runtime.close()


def _announce(settings: Settings, demo: DemoCall) -> None:
    rule = "=" * 78
    typer.echo(
        f"\n{rule}\n DEVELOPMENT MODE: TETHER_JWT_SECRET is not set.\n"
        f" Secrets were generated into {settings.data_dir}/ and recordings live in "
        f"{settings.data_dir}/storage/.\n Never expose this instance; set TETHER_JWT_SECRET and "
        f"TETHER_SECRET_KEY in production.\n\n Fetch the demo call's recording:\n\n"
        f'curl -H "Authorization: Bearer {demo.token}" '
        f"{settings.base_url}/api/calls/{demo.call_id}/recording\n\n"
        # The token in the fragment, which the browser never sends: the console reads it and forgets it.
        f" Or open the console, signed in as the demo organisation:\n\n"
        f"{settings.base_url}/#token={demo.token}\n{rule}\n"
    )


@app.command()
def token(
    organization: Annotated[str, typer.Option("--org", help="organizationId claim")],
    role: Annotated[str, typer.Option(help="accessRole claim")] = "ADMIN",
    user: Annotated[str, typer.Option(help="id/sub claim")] = "operator",
    ttl: Annotated[int, typer.Option(help="lifetime in seconds")] = 3600,
) -> None:
    """Mint a bearer JWT for an organisation and role (operators and tests)."""
    keys = load_keys(load_settings())
    typer.echo(
        mint_token(keys.jwt_secret, user_id=user, organization_id=organization, role=role, ttl_seconds=ttl)
    )


retention = typer.Typer(help="Per-organisation retention of recordings.", no_args_is_help=True)
app.add_typer(retention, name="retention")


@retention.command("set")
def retention_set(
    organization: Annotated[str, typer.Argument(help="organizationId")],
    days: Annotated[
        int, typer.Argument(help="Keep recordings this many days; 0 keeps them for ever.", min=0, max=36_500)
    ],
) -> None:
    """Set how long an organisation's recordings are kept."""

    async def run() -> None:
        runtime = build_runtime(load_settings())
        try:
            async with runtime.sessions.begin() as session:
                await OrganizationRepository(session).set_retention(organization, days or None)
        finally:
            await runtime.close()

    asyncio.run(run())
    typer.echo(f"{organization}: " + (f"recordings kept {days} days" if days else "recordings kept for ever"))


@retention.command("sweep")
def retention_sweep(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")
    ] = False,
) -> None:
    """Delete every recording older than its organisation's retention period (safe to run in many places
    at once: each deletion is recorded once). Prints one line per call, then a summary."""

    async def run() -> int:
        runtime = build_runtime(load_settings())
        try:
            if dry_run:
                expired = await runtime.deletions.expired()
                for call in expired:
                    typer.echo(f"would delete\t{_expired_line(call)}")
                typer.echo(f"would delete {len(expired)} recording(s); 0 failed")
                return 0
            swept = await runtime.deletions.sweep_expired()
        finally:
            await runtime.close()
        for done in swept:
            if done.receipt is None:
                typer.echo(f"failed\t{_expired_line(done.call)}\t{done.error_code}")
            else:
                receipt = done.receipt
                typer.echo(
                    f"deleted\t{_expired_line(done.call)}\tstored {receipt.stored_copy}, "
                    f"provider {receipt.provider_copy}"
                )
        failed = sum(1 for done in swept if done.receipt is None)
        typer.echo(f"deleted {len(swept) - failed} recording(s); {failed} failed")
        return failed

    if asyncio.run(run()):
        raise typer.Exit(1)


def _expired_line(call: Expired) -> str:
    return f"{call.organization_id}\t{call.call_id}\t{call.provider}\t{call.age_days} days"


storage = typer.Typer(help="Our recordings bucket.", no_args_is_help=True)
app.add_typer(storage, name="storage")


@storage.command("sweep")
def storage_sweep(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")
    ] = False,
    grace_hours: Annotated[
        float,
        typer.Option(
            help="Only objects older than this many hours (an upload in progress is younger).",
            min=0,
            max=100 * 365 * 24,
        ),
    ] = DEFAULT_GRACE.total_seconds() / 3600,
) -> None:
    """Delete the objects in our recordings bucket that no recording names (left by a crash between an
    upload and its row's commit). A named object is never touched. One line per object, then a summary."""

    async def run() -> None:
        runtime = build_runtime(load_settings())
        try:
            sweep = StorageSweep(runtime.sessions, runtime.buckets)
            orphans = await sweep.sweep(grace=timedelta(hours=grace_hours), dry_run=dry_run)
            verb = "would delete" if dry_run else "deleted"
            for orphan in orphans:
                typer.echo(f"{verb}\t{orphan.bucket}\t{orphan.key}\t{orphan.modified_at.isoformat()}")
            typer.echo(f"{verb} {len(orphans)} unreferenced object(s)")
        finally:
            await runtime.close()

    asyncio.run(run())


def main() -> None:
    app()


if __name__ == "__main__":
    main()
