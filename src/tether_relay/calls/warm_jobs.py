"""Jobs that do ahead of time what a first read would otherwise do, so that read is as fast as every
other: a transcript the provider says is final is fetched and cached (Sinch's transcript file, an
ElevenLabs transcript its webhook could not deliver), and an ElevenLabs conversation's audio whose webhook
never came is fetched into our bucket. Both go through the read's own services (the transcript lease, the
guarded writes), so a read and a job at once still fetch once, and a deleted recording stays deleted."""

from __future__ import annotations

from datetime import timedelta

from tether_relay.calls.recording_service import RecordingService, release
from tether_relay.calls.snapshot import CallSnapshots
from tether_relay.calls.transcript_service import TranscriptService
from tether_relay.errors import CallNotFound, RecordingDeleted, RecordingNotFound
from tether_relay.jobs.handlers import Permanent
from tether_relay.jobs.queue import Job
from tether_relay.providers.registry import ProviderRegistry

WARM_TRANSCRIPT = "warm-transcript"
FETCH_AUDIO = "fetch-audio"
# The audio webhook follows the transcript's within seconds; the job is for when it never comes.
AUDIO_WEBHOOK_GRACE = timedelta(minutes=2)


def warm_transcript_job(organization_id: str, call_id: str) -> Job:
    return Job(
        WARM_TRANSCRIPT,
        {"organizationId": organization_id, "callId": call_id},
        dedupe_key=f"{WARM_TRANSCRIPT}:{call_id}",
    )


def fetch_audio_job(organization_id: str, call_id: str) -> Job:
    return Job(
        FETCH_AUDIO,
        {"organizationId": organization_id, "callId": call_id},
        dedupe_key=f"{FETCH_AUDIO}:{call_id}",
        delay=AUDIO_WEBHOOK_GRACE,
    )


class TranscriptNotFinal(Exception):
    """The provider is still processing it (or failed to answer): the job is retried with backoff."""


class Warmers:
    def __init__(
        self,
        snapshots: CallSnapshots,
        providers: ProviderRegistry,
        transcripts: TranscriptService,
        recordings: RecordingService,
    ) -> None:
        self._snapshots = snapshots
        self._providers = providers
        self._transcripts = transcripts
        self._recordings = recordings

    async def transcript(self, payload: dict[str, str]) -> None:
        call = await self._snapshots.visible(payload["organizationId"], payload["callId"])
        if call is None or call.recording_deleted_at is not None:
            return
        view = await self._transcripts.ensure(self._providers.get(call.provider), call, call.recording)
        if view.public_status in ("pending", "failed"):
            raise TranscriptNotFinal()

    async def audio(self, payload: dict[str, str]) -> None:
        try:
            _, _, fetched = await self._recordings.audio_of(payload["organizationId"], payload["callId"])
        except (CallNotFound, RecordingDeleted):
            return  # nothing left to keep
        except RecordingNotFound:
            raise Permanent("the provider has no audio for this conversation") from None
        await release(fetched)  # fetched and remembered (or already stored): nothing to send anywhere
