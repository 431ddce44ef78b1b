"""create_app(settings): the HTTP wiring. Nothing is built at import time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from tether_relay import tracing
from tether_relay.api import errors, openapi
from tether_relay.api.body_limit import BodyLimits
from tether_relay.api.request_context import RequestContext
from tether_relay.api.routes import (
    api_keys,
    calls,
    health,
    ingest,
    media,
    pages,
    playback,
    provider_config,
    recordings,
    redaction,
    search,
    transcripts,
    webhook_endpoints,
    webhooks,
)
from tether_relay.api.unverified_bodies import UnverifiedBodies
from tether_relay.runtime import Runtime, build_runtime
from tether_relay.settings import Settings

log = logging.getLogger("tether_relay.jobs")
# At shutdown, how long the in-process worker may take to finish the jobs under way (uvicorn gives 20 s).
JOBS_STOP_SECONDS = 15.0


def create_app(settings: Settings) -> FastAPI:
    if tracing.wanted():
        tracing.start()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime: Runtime = build_runtime(settings)
        app.state.runtime = runtime
        stop = asyncio.Event()
        jobs = asyncio.create_task(runtime.run_jobs(stop)) if settings.jobs_in_process else None
        try:
            yield
        finally:
            stop.set()
            if jobs is not None:  # a job under way is finished (or, past the wait, run again later)
                try:
                    await asyncio.wait_for(jobs, JOBS_STOP_SECONDS)
                except Exception:  # noqa: BLE001 - stopping anyway: a lapsed lease or heartbeat re-runs the job
                    log.warning("jobs did not stop cleanly")
            await runtime.close()

    app = FastAPI(
        title="Tether Relay",
        version="0.1.0",
        description="One API for the recording and transcript of every call, whatever provider carried it.",
        lifespan=lifespan,
        # Starlette would answer `/path/` with a redirect built from the client's Host header (an open
        # redirect for anyone who can forge it); a path is served as written or is a 404.
        redirect_slashes=False,
        # FastAPI's own telemetry off: traces, metrics and logs have their homes (tracing.py, metrics.py,
        # logs.py); its request spans cost twice ours, and its logs carry stack traces.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # Four bodies at the cap at once; each whole within six client windows (60 s by default).
    app.state.unverified_bodies = UnverifiedBodies(
        4 * settings.max_body_bytes, settings.max_body_bytes, 6 * settings.client_timeout_seconds
    )
    app.add_middleware(BodyLimits, large=settings.max_body_bytes, small=settings.max_json_body_bytes)
    if settings.cors_origin_list:
        # Browser players on these origins may call the API and read the range headers of the audio.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "HEAD", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Range", "If-None-Match", "Content-Type"],
            expose_headers=["Accept-Ranges", "Content-Range", "Content-Length", "ETag", "Retry-After"],
            max_age=600,
        )
    # Outermost: sees every request, CORS preflights included.
    app.add_middleware(RequestContext, provider_budget_seconds=settings.provider_read_budget_seconds)
    errors.install(app)
    openapi.install(app)
    for router in (
        redaction.router,
        recordings.router,
        transcripts.router,
        playback.router,
        search.router,  # before calls.router, whose /api/calls/{callId} would take "search" for an id
        calls.router,
        ingest.router,
        provider_config.router,
        api_keys.router,
        webhooks.router,
        webhook_endpoints.router,
        media.router,
        health.router,
        pages.router,
    ):
        app.include_router(router)
    return app
