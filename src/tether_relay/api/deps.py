"""Request-scoped dependencies: the runtime, the session (which owns the transaction), the caller.

Every dependency is `async def`, even the trivial ones: FastAPI runs a plain `def` dependency in a worker
thread, and those hand-offs were the largest cost left in a cached recording read (docs/performance.md).
Each dependency FastAPI resolves also costs about 12 µs a request, so they read the runtime from the request
themselves rather than depending on a runtime dependency, and the caller is one dependency, not three.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.apikeys.service import ApiKeyService, KeyHolder
from tether_relay.auth.principal import ADMIN, SUPERADMIN, Principal
from tether_relay.auth.tokens import is_plain_id
from tether_relay.calls.ingest_service import IngestService
from tether_relay.errors import Forbidden, Unauthorized, ValidationFailed
from tether_relay.organizations.provider_config import ProviderConfigService
from tether_relay.organizations.repository import OrganizationRepository
from tether_relay.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: services flush, this commits once the route has returned."""
    async with runtime_of(request).sessions.begin() as session:
        yield session


# scope="function": commit before the response is sent, so a failed commit is never a reported success.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


class BearerPrincipal(HTTPBearer):
    """The caller of a JWT route, verified: the OpenAPI document's `bearerAuth` scheme and the check behind
    it in one dependency."""

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        credentials = await super().__call__(request)
        if credentials is None:
            raise Unauthorized("Missing bearer token")
        return await authenticate(runtime_of(request), credentials.credentials)


async def authenticate(runtime: Runtime, token: str) -> Principal:
    """The principal a JWT names, its organisation known to us."""
    principal = runtime.tokens.verify(token)
    if principal.organization_id not in runtime.known_organizations:
        # Its own short transaction: the request's session must not hold a write lock (SQLite) while
        # the read path takes transcript leases on other connections.
        async with runtime.sessions.begin() as session:
            await OrganizationRepository(session).ensure(principal.organization_id)
        runtime.known_organizations.add(principal.organization_id)
    return principal


# The same `bearerAuth` scheme: the credentials alone (the ingest API key, the playback route), or verified.
bearer_scheme = HTTPBearer(scheme_name="bearerAuth", bearerFormat="JWT", auto_error=False)
CurrentPrincipal = Annotated[
    Principal, Depends(BearerPrincipal(scheme_name="bearerAuth", bearerFormat="JWT", auto_error=False))
]


async def require_superadmin(principal: CurrentPrincipal) -> Principal:
    if principal.role != SUPERADMIN:
        raise Forbidden("This action needs the SUPERADMIN role")
    return principal


SuperAdmin = Annotated[Principal, Depends(require_superadmin)]


async def require_admin(principal: CurrentPrincipal) -> Principal:
    if principal.role not in (ADMIN, SUPERADMIN):
        raise Forbidden("This action needs the ADMIN or SUPERADMIN role")
    return principal


Admin = Annotated[Principal, Depends(require_admin)]


async def target_organization(
    principal: CurrentPrincipal,
    organization_id: Annotated[
        str | None, Query(alias="organizationId", description="Act on this organisation (SUPERADMIN only).")
    ] = None,
) -> str:
    """The caller's own organisation, or for a SUPERADMIN the one named by `?organizationId=`."""
    if organization_id is None or organization_id == principal.organization_id:
        return principal.organization_id
    if principal.role != SUPERADMIN:
        raise Forbidden("Only a SUPERADMIN may act on another organisation")
    if not is_plain_id(organization_id):
        raise ValidationFailed(
            "organizationId is malformed",
            details=[
                {"field": "organizationId", "message": "1-64 letters, digits or _.:@-", "type": "pattern"}
            ],
        )
    return organization_id


TargetOrganization = Annotated[str, Depends(target_organization)]


async def get_provider_config_service(request: Request) -> ProviderConfigService:
    return ProviderConfigService(runtime_of(request).credentials)


ProviderConfigDep = Annotated[ProviderConfigService, Depends(get_provider_config_service)]


async def get_api_key_service(request: Request) -> ApiKeyService:
    return runtime_of(request).api_keys


ApiKeyServiceDep = Annotated[ApiKeyService, Depends(get_api_key_service)]


async def ingest_key_holder(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> KeyHolder:
    """The API key of POST /api/calls/ingest (not a JWT), with one more ingest counted against it."""
    runtime = runtime_of(request)
    if credentials is None:
        raise Unauthorized("Missing API key")
    holder = await runtime.api_keys.authenticate(credentials.credentials)
    await runtime.api_keys.count_ingest(holder, runtime.settings.ingest_rate_limit_per_minute)
    return holder


IngestKeyHolder = Annotated[KeyHolder, Depends(ingest_key_holder)]


async def get_ingest_service(request: Request) -> IngestService:
    return runtime_of(request).ingest


IngestServiceDep = Annotated[IngestService, Depends(get_ingest_service)]
