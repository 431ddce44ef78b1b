"""Asking for a call's redacted copy, and the rule of who reads only redacted content (shared by the
writes that complete a call, the redaction service, and the read routes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tether_relay.auth.principal import ADMIN, SUPERADMIN
from tether_relay.calls.repository import RedactionRepository
from tether_relay.db import utcnow
from tether_relay.jobs.queue import Job, enqueue
from tether_relay.organizations.repository import OrganizationRepository
from tether_relay.redaction.policy import Policy

REDACT_CALL = "redact-call"
REDACT_ORGANIZATION = "redact-organization"


def redact_job(organization_id: str, call_id: str, policy_key: str) -> Job:
    """One job per call and policy: a copy asked for under a new policy while the last one is being made
    is not folded into that job (which will find its policy gone and make nothing)."""
    return Job(
        REDACT_CALL,
        {"organizationId": organization_id, "callId": call_id},
        dedupe_key=f"{REDACT_CALL}:{call_id}:{policy_key}",
    )


def redact_organization_job(organization_id: str, policy_key: str, after: str = "") -> Job:
    """Ask for the copy of each of the organisation's completed calls under this policy, a batch at a time
    from `after` (a call id): the calls from before the policy, which no write will ask for, are read and
    found by non-admins as soon as their copies are made, not only once someone opens each."""
    return Job(
        REDACT_ORGANIZATION,
        {"organizationId": organization_id, "policyKey": policy_key, "after": after},
        dedupe_key=f"{REDACT_ORGANIZATION}:{organization_id}:{policy_key}:{after}",
    )


def wants_redacted(role: str | None, asked: bool = False) -> bool:
    """Whether a reader gets the redacted copy when the organisation redacts: every role but the admins',
    and admins who ask for it."""
    return asked or role not in (ADMIN, SUPERADMIN)


async def request_when_due(
    session: AsyncSession, organization_id: str, call_id: str, completed: bool
) -> None:
    """In the transaction of a write to a call: ask for its redacted copy once the call has completed and
    the organisation redacts (once per policy: asking again does nothing)."""
    if not completed:
        return
    policy = await policy_in(session, organization_id)
    if policy.enabled:
        await ask(session, organization_id, call_id, policy, utcnow())


async def policy_in(session: AsyncSession, organization_id: str) -> Policy:
    """The organisation's redaction policy (off when it never set one)."""
    return Policy.from_json(await OrganizationRepository(session).redaction_policy(organization_id))


async def ask(
    session: AsyncSession, organization_id: str, call_id: str, policy: Policy, now: datetime
) -> None:
    """Ask for the call's copy under `policy`, with its job, unless it was asked for under it already."""
    if await RedactionRepository(session).request(organization_id, call_id, policy, now):
        await enqueue(session, redact_job(organization_id, call_id, policy.key))


async def readable_summaries(
    session: AsyncSession, organization_id: str, redacted: bool, call_ids: Sequence[str]
) -> dict[str, str | None] | None:
    """For a reader of redacted content in an organisation that redacts: each call's redacted summary
    (None until its copy is ready: no summary rather than the original). None: summaries as they are."""
    if not redacted or not call_ids:
        return None
    policy = await policy_in(session, organization_id)
    if not policy.enabled:
        return None
    return await summaries_under(session, policy.key, call_ids)


async def summaries_under(
    session: AsyncSession, policy_key: str, call_ids: Sequence[str]
) -> dict[str, str | None]:
    """Each call's summary as a reader of redacted content under this policy sees it: its copy's, None
    until the copy is ready."""
    ready = await RedactionRepository(session).ready_summaries(list(call_ids), policy_key)
    return {call_id: ready.get(call_id) for call_id in call_ids}
