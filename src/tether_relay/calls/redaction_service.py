"""Redaction of a call's audio and transcript together, fail-closed.

When the organisation's policy is on, a job makes each completed call's redacted copy (requested at the
end of every write to a call, calls/announcements.py, or on the first read that needs it): the detector
runs on the cached transcript, the spans are muted in our stored copy of the audio (Twilio's from the
archive), and the copy, the redacted transcript and summary, and the spans land in one row. Readers who
may see only redacted content (every role but ADMIN and SUPERADMIN, and admins asking `?redacted=true`)
get that row or an error: pending is RECORDING_NOT_READY, failed is REDACTION_FAILED, never the original.
`copy_for` is that rule, and every route that carries audio or text asks it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tether_relay.calls.models import CALL_IN_PROGRESS
from tether_relay.calls.redaction_requests import ask, policy_in, redact_job, redact_organization_job
from tether_relay.calls.repository import CallRepository, RedactionRepository
from tether_relay.calls.snapshot import CallSnapshot, CallSnapshots, RedactionRef
from tether_relay.calls.transcript_service import TranscriptService
from tether_relay.db import utcnow
from tether_relay.errors import RecordingNotFound, RecordingNotReady, RedactionFailed
from tether_relay.jobs.handlers import Permanent
from tether_relay.jobs.queue import enqueue
from tether_relay.organizations.repository import OrganizationRepository
from tether_relay.providers.registry import ProviderRegistry
from tether_relay.redaction.detect import find
from tether_relay.redaction.plan import plan
from tether_relay.redaction.policy import Policy
from tether_relay.redaction.spans import muted
from tether_relay.redaction.text import redact_text
from tether_relay.storage.buckets import RECORDINGS, Buckets
from tether_relay.transcripts.model import Utterance, to_text, utterances_of

log = logging.getLogger("tether_relay.redaction")

# A request nobody finished in this long (its job held after its retries, or lost) is asked again by the
# next read that needs it.
# The organisation-wide job asks for this many calls' copies per run.
ORGANIZATION_BATCH = 200
STALE_REQUEST = timedelta(minutes=15)
RETRY_AFTER_SECONDS = 10
_EXTENSIONS = {"audio/mpeg": "mp3", "audio/wav": "wav"}


class NotYet(Exception):
    """What the copy is made from is not there yet (the transcript, the archived audio): retried."""


class RedactionService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        snapshots: CallSnapshots,
        providers: ProviderRegistry,
        transcripts: TranscriptService,
        buckets: Buckets,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._snapshots = snapshots
        self._providers = providers
        self._transcripts = transcripts
        self._buckets = buckets
        self._clock = clock

    # --- the policy -------------------------------------------------------------------------------

    async def policy_of(self, organization_id: str) -> Policy:
        async with self._sessions() as session:
            return await policy_in(session, organization_id)

    async def configure(self, organization_id: str, policy: Policy) -> Policy:
        async with self._sessions.begin() as session:
            await OrganizationRepository(session).set_redaction_policy(organization_id, policy.to_json())
            if policy.enabled:  # the calls from before it get their copies too
                await enqueue(session, redact_organization_job(organization_id, policy.key))
        return policy

    async def ask_for_organization(self, payload: dict[str, str]) -> None:
        """The `redact-organization` job: ask for a batch of the organisation's completed calls' copies
        under the policy (each with its own job; asking again does nothing), then for the next batch."""
        organization_id, policy_key = payload["organizationId"], payload["policyKey"]
        async with self._sessions.begin() as session:
            policy = await policy_in(session, organization_id)
            if not policy.enabled or policy.key != policy_key:
                return  # turned off or changed since: the new policy's own job does the asking
            batch = await CallRepository(session).completed_after(
                organization_id, payload["after"], ORGANIZATION_BATCH
            )
            now = self._clock()
            for call_id in batch:
                await ask(session, organization_id, call_id, policy, now)
            if len(batch) == ORGANIZATION_BATCH:
                await enqueue(session, redact_organization_job(organization_id, policy_key, batch[-1]))

    # --- the rule every read asks -----------------------------------------------------------------

    async def copy_for(self, call: CallSnapshot, redacted: bool) -> RedactionRef | None:
        """None: the reader gets the original (it may, or the organisation does not redact). Else the
        ready redacted copy; RecordingNotReady while it is being made, RedactionFailed if it cannot be."""
        if not redacted:
            return None
        policy = Policy.from_json(call.redaction_policy)
        if not policy.enabled:
            return None
        if call.recording is None:  # nothing to redact yet; never a look at the provider's original
            if call.status in CALL_IN_PROGRESS:
                raise RecordingNotReady(RETRY_AFTER_SECONDS)
            raise RecordingNotFound()
        copy = call.redaction
        if copy is None or copy.policy_key != policy.key:
            await self._request(call.organization_id, call.id, policy)  # a call from before the policy
            raise RecordingNotReady(RETRY_AFTER_SECONDS)
        if copy.status == "pending":
            if copy.requested_at < self._clock() - STALE_REQUEST:
                await self._renew(call, copy.policy_key)
            raise RecordingNotReady(RETRY_AFTER_SECONDS)
        if copy.status != "ready":
            raise RedactionFailed()
        return copy

    async def _request(self, organization_id: str, call_id: str, policy: Policy) -> None:
        async with self._sessions.begin() as session:
            await ask(session, organization_id, call_id, policy, self._clock())

    async def _renew(self, call: CallSnapshot, policy_key: str) -> None:
        now = self._clock()
        async with self._sessions.begin() as session:
            if await RedactionRepository(session).renew(call.id, policy_key, now - STALE_REQUEST, now):
                await enqueue(session, redact_job(call.organization_id, call.id, policy_key))

    async def manifest(self, call: CallSnapshot) -> dict[str, Any] | None:
        """`{status, spans, policy}` of the call's redaction under the current policy (asked for now if it
        was not: pending), or the last one made if the policy is off; None if there never was one."""
        policy = Policy.from_json(call.redaction_policy)
        if (
            policy.enabled
            and call.recording_deleted_at is None
            and (call.redaction is None or call.redaction.policy_key != policy.key)
        ):
            await self._request(call.organization_id, call.id, policy)
        async with self._sessions() as session:
            row = await RedactionRepository(session).get(call.id)
        if row is None:
            return None
        return {"status": row.status, "spans": row.spans or [], "policy": row.policy}

    # --- the job ----------------------------------------------------------------------------------

    async def run(self, payload: dict[str, str]) -> None:
        call = await self._snapshots.visible(payload["organizationId"], payload["callId"])
        if call is None or call.recording_deleted_at is not None or call.redaction is None:
            return  # gone, or deleted: nothing to make
        copy = call.redaction
        if copy.status != "pending":
            return
        policy = Policy.from_json(call.redaction_policy)
        if not policy.enabled or policy.key != copy.policy_key:
            return  # turned off, or asked again under another policy (that request has its own job)
        try:
            values = await self._make(call, policy)
        except Permanent as exc:
            await self._fail(call.id, copy.policy_key, str(exc))
            raise
        stored = values["storage_key"]
        async with self._sessions.begin() as session:
            wanted, replaced = await RedactionRepository(session).finish(call.id, copy.policy_key, values)
        if not wanted:  # deleted, or no longer wanted, while it was made
            await self._buckets.get(RECORDINGS).delete(stored)
        elif replaced is not None:
            await self._buckets.get(replaced.bucket).delete(replaced.key)

    async def _fail(self, call_id: str, policy_key: str, error: str) -> None:
        async with self._sessions.begin() as session:
            await RedactionRepository(session).fail(call_id, policy_key, error)

    async def _make(self, call: CallSnapshot, policy: Policy) -> dict[str, Any]:
        recording = call.recording
        if recording is None:
            raise Permanent("the call has no recording to redact")
        if recording.storage_bucket is None or recording.storage_key is None:
            raise NotYet("the recording is not in our storage yet (the archive job keeps it)")
        view = await self._transcripts.ensure(self._providers.get(call.provider), call, recording)
        if view.public_status in ("pending", "failed"):
            raise NotYet("the transcript is not final yet")
        if not view.text and utterances_of(view.data) is None:
            # Nothing says what was said: the audio cannot be checked, so no copy is served at all.
            raise Permanent("the call has no transcript to find what to remove")
        audio = await self._buckets.get(recording.storage_bucket).get(recording.storage_key)
        if audio is None:
            raise NotYet("the recording's object is missing")
        # PyAV and numpy are imported by the job alone: every process start (serve, worker, each CLI
        # command) would otherwise pay about half a second for them.
        from tether_relay.redaction.audio import AudioRedactionFailed

        try:
            made = await asyncio.to_thread(
                _redact, audio, recording.content_type, view.data, view.text, policy
            )
        except AudioRedactionFailed as exc:
            log.warning("redaction failed", extra={"call_id": call.id, "cause": str(exc)[:200]})
            raise Permanent("the audio could not be redacted") from None
        content, content_type, duration, utterances, text, spans = made
        key = f"redacted/{call.organization_id}/{call.id}/{policy.key}.{_EXTENSIONS.get(content_type, 'bin')}"
        await self._buckets.get(RECORDINGS).put(key, content, content_type)
        summary = await self._summary(call.id, policy)
        return {
            "storage_bucket": RECORDINGS,
            "storage_key": key,
            "content_type": content_type,
            "duration": duration,
            "recording_id": recording.recording_id,
            "transcription_text": text,
            "transcription_data": utterances,
            "summary": summary,
            "spans": spans,
        }

    async def _summary(self, call_id: str, policy: Policy) -> str | None:
        async with self._sessions() as session:
            call = await CallRepository(session).get(call_id)
        if call is None or not call.summary:
            return None
        return redact_text(call.summary, find(call.summary, policy.entities))


def _redact(
    audio: bytes, content_type: str, data: Any, text: str | None, policy: Policy
) -> tuple[bytes, str, float, Any, str | None, list[dict[str, Any]]]:
    """In a worker thread: (audio, its type, its duration, the redacted transcript's data and text, the
    spans). A transcript of text alone (no times) found to hold anything mutes the whole file."""
    from tether_relay.redaction.audio import duration_of, redact_audio

    duration = duration_of(audio)
    utterances = utterances_of(data)
    if utterances is None:  # text only, or none: one utterance over the whole file
        whole: list[Utterance] = [{"role": "user", "message": text or "", "timestamp": 0.0, "end": duration}]
        made = plan(whole, policy.entities, duration)
        spans = made.spans
        redacted_text = made.utterances[0]["message"] if text else None
        redacted_data: Any = None if data is None else data if not spans else None
    else:
        made = plan(utterances, policy.entities, duration)
        spans = made.spans
        redacted_data, redacted_text = made.utterances, to_text(made.utterances)
    if spans:
        result = redact_audio(audio, muted(spans), policy.audio)
        content, content_type, duration = result.content, result.content_type, result.duration
    else:
        content = audio
    manifest = [
        {"start": round(s.start, 3), "end": round(s.end, 3), "entity": s.entity, "utterance": s.utterance}
        for s in spans
    ]
    return content, content_type, duration, redacted_data, redacted_text, manifest
