"""The user's API key, the credential of POST /api/calls/ingest."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tether_relay.api.deps import ApiKeyServiceDep, CurrentPrincipal
from tether_relay.api.errors import error_responses
from tether_relay.apikeys.service import ShownKey

router = APIRouter(tags=["Users"])


class ApiKeyData(BaseModel):
    apiKey: str = Field(
        description="In full only when it was just created; masked (`tk_live_****1234`) after."
    )
    masked: bool
    createdAt: datetime


class ApiKeyResponse(BaseModel):
    success: Literal[True]
    message: str
    data: ApiKeyData


def _response(shown: ShownKey, message: str) -> ApiKeyResponse:
    data = ApiKeyData(apiKey=shown.api_key, masked=not shown.created, createdAt=shown.created_at)
    return ApiKeyResponse(success=True, message=message, data=data)


@router.get(
    "/api/user/api-key",
    response_model=ApiKeyResponse,
    responses=error_responses(401, 409),
    summary="Get the user's API key (created on first call)",
)
async def get_api_key(principal: CurrentPrincipal, keys: ApiKeyServiceDep) -> ApiKeyResponse:
    """Creates the key on the first call and shows it in full that once; later calls show it masked."""
    shown = await keys.show_or_create(principal)
    return _response(shown, "API key created" if shown.created else "API key exists")


@router.post(
    "/api/user/api-key/regenerate",
    response_model=ApiKeyResponse,
    responses=error_responses(401, 409),
    summary="Regenerate the user's API key",
)
async def regenerate_api_key(principal: CurrentPrincipal, keys: ApiKeyServiceDep) -> ApiKeyResponse:
    """Revokes the current key at once and returns a new one, in full."""
    return _response(await keys.regenerate(principal), "API key regenerated")
