"""Redaction (ADMIN or SUPERADMIN of the organisation): the policy, and a call's manifest of what was
removed. What every other role reads when the policy is on: calls/redaction_service.py."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from tether_relay.api.deps import Admin, CurrentPrincipal, RuntimeDep, require_admin
from tether_relay.api.errors import error_responses
from tether_relay.api.late_body import documented_body, validated_body
from tether_relay.api.routes.recordings import CallIdPath
from tether_relay.errors import CallNotFound, RecordingDeleted, RedactionNotFound
from tether_relay.redaction.detect import ENTITIES, Entity, Kind
from tether_relay.redaction.policy import Mode, Policy

router = APIRouter(tags=["Redaction"])


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: StrictBool
    entities: Annotated[list[Entity], Field(min_length=1, max_length=len(ENTITIES))] = Field(
        default_factory=lambda: list(ENTITIES), description="What to find; every kind when left out."
    )
    audio: Mode = Field("silence", description="What replaces each span in the audio.")


class PolicyAnswer(BaseModel):
    success: Literal[True]
    enabled: StrictBool
    entities: list[Entity]
    audio: Mode


class SpanAnswer(BaseModel):
    start: float
    end: float
    entity: Kind
    utterance: int


class ManifestAnswer(BaseModel):
    success: Literal[True]
    status: Literal["pending", "ready", "failed"]
    spans: list[SpanAnswer]
    policy: dict[str, Any]


def _answer(policy: Policy) -> PolicyAnswer:
    return PolicyAnswer(
        success=True, enabled=policy.enabled, entities=list(policy.entities), audio=policy.audio
    )


@router.get(
    "/api/calls/redaction/config",
    response_model=PolicyAnswer,
    responses=error_responses(401, 403),
    summary="The organisation's redaction policy (admin)",
)
async def get_policy(admin: Admin, runtime: RuntimeDep) -> PolicyAnswer:
    return _answer(await runtime.redactions.policy_of(admin.organization_id))


@router.post(
    "/api/calls/redaction/config",
    response_model=PolicyAnswer,
    responses=error_responses(400, 401, 403),
    summary="Set the organisation's redaction policy (admin)",
    description=(
        "While `enabled`, every completed call gets a redacted copy of its audio and transcript (each "
        "card number, SSN, phone number or e-mail address found, written or spoken, becomes `[ENTITY]` in "
        "the text and silence or a beep in the audio), and every role but ADMIN and SUPERADMIN reads only "
        "that copy. Calls from before are redacted on first need."
    ),
    openapi_extra=documented_body(PolicyBody),
)
async def set_policy(request: Request, admin: Admin, runtime: RuntimeDep) -> PolicyAnswer:
    body = await validated_body(request, PolicyBody)
    entities = tuple(e for e in ENTITIES if e in body.entities)
    policy = await runtime.redactions.configure(
        admin.organization_id, Policy(body.enabled, entities, body.audio)
    )
    return _answer(policy)


@router.get(
    "/api/calls/{callId}/recording/redactions",
    response_model=ManifestAnswer,
    responses=error_responses(401, 403, 404, d404="Call not found, or no redaction asked for"),
    summary="What was removed from a call's recording and transcript (admin)",
    description=(
        "The redaction's status (`pending`, `ready`, `failed`), the spans removed (seconds of the audio, "
        "the kind found, the index of the utterance) and the policy it was made under."
    ),
)
async def get_manifest(
    call_id: CallIdPath, principal: CurrentPrincipal, runtime: RuntimeDep
) -> ManifestAnswer:
    call = await runtime.snapshots.visible(principal.organization_id, call_id)
    if call is None:
        raise CallNotFound()  # before the role check: another organisation's call stays a 404
    await require_admin(principal)
    if call.recording_deleted_at is not None:
        raise RecordingDeleted()
    manifest = await runtime.redactions.manifest(call)
    if manifest is None:
        raise RedactionNotFound()
    return ManifestAnswer(success=True, **manifest)
