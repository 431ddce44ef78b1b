"""Request-scoped dependencies: the runtime, the session (which owns the transaction), the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.auth.principal import Principal
from tether_relay.auth.tokens import verify_token
from tether_relay.calls.recording_service import RecordingService
from tether_relay.calls.repository import CallRepository
from tether_relay.errors import Unauthorized
from tether_relay.organizations.repository import OrganizationRepository
from tether_relay.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request: services flush, this commits once the route has returned."""
    async with runtime.sessions() as session:
        yield session
        await session.commit()


# scope="function": commit before the response is sent, so a failed commit is never a reported success.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = HTTPBearer(scheme_name="bearerAuth", bearerFormat="JWT", auto_error=False)


async def current_principal(
    runtime: RuntimeDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("Missing bearer token")
    principal = verify_token(credentials.credentials, runtime.keys.jwt_secret)
    if principal.organization_id not in runtime.known_organizations:
        await OrganizationRepository(session).ensure(principal.organization_id)
        runtime.known_organizations.add(principal.organization_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def get_recording_service(runtime: RuntimeDep, session: SessionDep) -> RecordingService:
    return RecordingService(CallRepository(session), runtime.providers)


RecordingServiceDep = Annotated[RecordingService, Depends(get_recording_service)]
