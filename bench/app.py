"""The service as the benchmark runs it: the product app, plus two routes that exist only here.

- `/bench/ceiling`: the same JSON a recording read answers, with no work: what the framework and server
  can do at best.
- `/bench/typical/{callId}`: the same recording read written the way most services would: an ORM session
  per request, botocore's presigner, a pydantic response model. Kept small; it is a yardstick, not a
  second implementation.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tether_relay.api.schemas import CallsRecordingResponse
from tether_relay.app import create_app
from tether_relay.auth.tokens import bearer_token, verify_token
from tether_relay.calls.models import Call
from tether_relay.db import create_engine, session_factory
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

CEILING_BODY: dict[str, Any] = {}  # filled by the runner with a real answer, so the bytes match


def add_ceiling(app: FastAPI) -> None:
    """The no-work route: the same JSON a recording read answers (set once by the runner)."""

    @app.get("/bench/ceiling", include_in_schema=False)
    async def ceiling() -> JSONResponse:
        return JSONResponse(CEILING_BODY)

    @app.post("/bench/ceiling", include_in_schema=False)
    async def set_ceiling(body: dict[str, Any]) -> dict[str, bool]:
        CEILING_BODY.clear()
        CEILING_BODY.update(body)
        return {"ok": True}


def create_bench_app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    add_ceiling(app)
    sessions = session_factory(create_engine(settings.database_url))

    @cache
    def s3() -> Any:
        r2 = settings.r2
        assert r2 is not None
        return boto3.client(
            "s3",
            endpoint_url=r2.endpoint_url,
            aws_access_key_id=r2.access_key_id,
            aws_secret_access_key=r2.secret_access_key.get_secret_value(),
            region_name="auto",
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    @app.get("/bench/typical/{call_id}", include_in_schema=False)
    async def typical(call_id: str, authorization: str = Header()) -> dict[str, Any]:
        runtime: Runtime = app.state.runtime
        principal = verify_token(bearer_token(authorization), runtime.keys.jwt_secret)
        async with sessions() as session:
            call = (
                await session.scalars(
                    select(Call)
                    .where(Call.id == call_id, Call.organization_id == principal.organization_id)
                    .options(selectinload(Call.recordings))
                )
            ).one()
        recording = call.recordings[-1]
        url = s3().generate_presigned_url(
            "get_object",
            ExpiresIn=settings.signed_url_ttl_seconds,
            Params={"Bucket": settings.r2_bucket, "Key": recording.storage_key},
        )
        response = CallsRecordingResponse.model_validate(
            {
                "success": True,
                "audioUrl": url,
                "duration": recording.duration,
                "recordingId": recording.id,
                "transcriptionText": call.transcription_text,
                "transcriptionData": call.transcription_data,
                "direction": call.direction,
                "from": call.from_number,
                "to": call.to_number,
            }
        )
        return response.model_dump(by_alias=True, exclude_none=True)

    return app
