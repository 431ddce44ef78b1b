from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tether_relay.api.deps import RuntimeDep
from tether_relay.api.errors import error_responses
from tether_relay.db import answers
from tether_relay.errors import ServiceUnavailable

router = APIRouter(tags=["Operations"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the database answers",
    responses=error_responses(503, d503="The database does not answer"),
)
async def readyz(runtime: RuntimeDep) -> dict[str, str]:
    if not await answers(runtime.engine):
        raise ServiceUnavailable("The database does not answer")
    return {"status": "ok", "database": "ok"}


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus metrics of this replica (see metrics.py). Expose it to the scraper's network only."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
