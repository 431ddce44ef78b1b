"""Everything a running service holds, built from settings in one place and shared by the API and CLI."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tether_relay.apikeys.service import ApiKeyService
from tether_relay.auth.playback import PlaybackLinks, PlaybackTokens
from tether_relay.auth.tokens import TokenVerifier
from tether_relay.calls.archive_service import ARCHIVE_RECORDING, ArchiveService
from tether_relay.calls.deletion_service import RETENTION_SWEEP, DeletionService
from tether_relay.calls.ingest_service import IngestService
from tether_relay.calls.recording_service import RecordingService
from tether_relay.calls.redaction_requests import REDACT_CALL, REDACT_ORGANIZATION
from tether_relay.calls.redaction_service import RedactionService
from tether_relay.calls.snapshot import CallSnapshots
from tether_relay.calls.storage_sweep import STORAGE_SWEEP, StorageSweep
from tether_relay.calls.transcript_service import TranscriptService
from tether_relay.calls.warm_jobs import FETCH_AUDIO, WARM_TRANSCRIPT, Warmers
from tether_relay.db import create_engine, session_factory
from tether_relay.jobs.handlers import Handlers, JobPolicy
from tether_relay.jobs.schedules import Schedule
from tether_relay.jobs.worker import run_jobs
from tether_relay.keys import Keys, load_keys
from tether_relay.organizations.credentials import CredentialStore
from tether_relay.outbound.delivery import Deliverer, DeliveryPolicy
from tether_relay.outbound.endpoints import EndpointService
from tether_relay.outbound.events import DELIVER_WEBHOOK
from tether_relay.outbound.sender import Sender
from tether_relay.outbound.signing import Seals
from tether_relay.playback.service import PlaybackService
from tether_relay.providers.circuit import CircuitBreaker
from tether_relay.providers.download import SafeDownloader
from tether_relay.providers.elevenlabs.adapter import ElevenLabsProvider
from tether_relay.providers.elevenlabs.client import ElevenLabsClient
from tether_relay.providers.http import Progress, RetryPolicy, build_http_client
from tether_relay.providers.registry import ProviderRegistry
from tether_relay.providers.sinch.adapter import SinchProvider
from tether_relay.providers.stored import ExternalProvider, StoredAudio
from tether_relay.providers.twilio.adapter import TwilioProvider
from tether_relay.providers.twilio.client import TwilioClient
from tether_relay.settings import Settings
from tether_relay.storage.buckets import Buckets, build_buckets
from tether_relay.webhooks.registry import Webhooks, build_webhooks


@dataclass(slots=True)
class Runtime:
    settings: Settings
    keys: Keys
    tokens: TokenVerifier
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient
    buckets: Buckets
    credentials: CredentialStore
    providers: ProviderRegistry
    snapshots: CallSnapshots
    recordings: RecordingService
    playback: PlaybackService
    deletions: DeletionService
    redactions: RedactionService
    playback_tokens: PlaybackTokens
    api_keys: ApiKeyService
    ingest: IngestService
    downloads: httpx.AsyncClient
    webhooks: Webhooks
    archive: ArchiveService
    endpoints: EndpointService
    # Customers' webhook endpoints get a client of their own: never follows redirects, no cookies kept.
    outbound_http: httpx.AsyncClient
    # Every job's handler (jobs/): what `serve` and `tether-relay worker` run.
    jobs: Handlers
    job_policy: JobPolicy
    schedules: list[Schedule]
    # An optimisation only: organisations are never deleted, so "seen" can skip a query. Nothing
    # correct depends on it (another replica simply does its own first insert-or-ignore).
    known_organizations: set[str] = field(default_factory=set)

    async def run_jobs(self, stop: asyncio.Event) -> None:
        """Run background jobs until `stop` is set (`serve` in-process, or `tether-relay worker`)."""
        await run_jobs(
            self.engine,
            self.sessions,
            self.jobs,
            self.job_policy,
            stop,
            concurrency=self.settings.job_concurrency,
            schedules=self.schedules,
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.downloads.aclose()
        await self.outbound_http.aclose()
        await self.snapshots.close()
        await self.engine.dispose()


def build_runtime(settings: Settings) -> Runtime:
    keys = load_keys(settings)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    http = build_http_client(settings.provider_timeout_seconds)
    buckets = build_buckets(settings, keys)
    credentials = CredentialStore(sessions, keys.credentials_key)
    breaker = CircuitBreaker(settings.provider_circuit_failures, settings.provider_circuit_reset_seconds)
    policy = RetryPolicy(
        settings.provider_retry_attempts,
        settings.provider_retry_backoff_seconds,
        breaker,
        max_response_bytes=settings.provider_max_response_bytes,
        budget_seconds=settings.provider_read_budget_seconds,
        progress=Progress(settings.provider_progress_min_bytes, settings.provider_progress_window_seconds),
    )
    stored = StoredAudio(buckets, settings.signed_url_ttl_seconds)
    providers = ProviderRegistry(
        ExternalProvider(stored),
        SinchProvider(stored),
        ElevenLabsProvider(
            ElevenLabsClient(http, settings.elevenlabs_api_base_url, policy), credentials, stored
        ),
        TwilioProvider(
            TwilioClient(http, settings.twilio_api_base_url, settings.twilio_intelligence_base_url, policy),
            credentials,
            stored,
        ),
    )
    snapshots = CallSnapshots(engine)
    transcripts = TranscriptService(
        sessions,
        snapshots,
        retry_seconds=settings.transcript_retry_seconds,
        lease_seconds=settings.transcript_lease_seconds,
    )
    playback_tokens = PlaybackTokens(keys.playback_key, settings.signed_url_ttl_seconds)
    redactions = RedactionService(sessions, snapshots, providers, transcripts, buckets)
    recordings = RecordingService(
        sessions,
        snapshots,
        providers,
        transcripts,
        PlaybackLinks(playback_tokens, settings.base_url),
        buckets,
        stored,
        redactions,
    )
    # Ingest downloads go to URLs clients chose: a client of their own that never follows redirects itself.
    downloads = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.ingest_download_timeout_seconds), follow_redirects=False
    )
    downloader = SafeDownloader(
        downloads,
        allow_private=settings.ingest_allow_private_urls,
        max_bytes=settings.max_body_bytes,
        timeout_seconds=settings.ingest_download_timeout_seconds,
    )
    archive = ArchiveService(sessions, providers, buckets, settings.provider_max_response_bytes)
    deletions = DeletionService(sessions, snapshots, providers, buckets)
    warmers = Warmers(snapshots, providers, transcripts, recordings)
    seals = Seals(keys.webhook_secrets_key)
    outbound_http = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.webhook_timeout_seconds), follow_redirects=False
    )
    deliverer = Deliverer(
        sessions,
        Sender(
            outbound_http,
            timeout_seconds=settings.webhook_timeout_seconds,
            allow_private=settings.webhook_allow_private_urls,
        ),
        seals,
        DeliveryPolicy(
            settings.webhook_retry_schedule,
            timedelta(seconds=settings.webhook_disable_after_seconds),
            turn=timedelta(seconds=settings.webhook_timeout_seconds + 5),
            # Half the job workers at most for one organisation's attempts: its slow endpoints never
            # hold back another organisation's deliveries.
            organisation_turns=max(1, settings.job_concurrency // 2),
        ),
    )
    return Runtime(
        settings=settings,
        archive=archive,
        endpoints=EndpointService(sessions, seals, allow_private=settings.webhook_allow_private_urls),
        outbound_http=outbound_http,
        jobs={
            ARCHIVE_RECORDING: archive.archive,
            RETENTION_SWEEP: deletions.retention_job,
            STORAGE_SWEEP: StorageSweep(sessions, buckets).job,
            WARM_TRANSCRIPT: warmers.transcript,
            FETCH_AUDIO: warmers.audio,
            DELIVER_WEBHOOK: deliverer.deliver,
            REDACT_CALL: redactions.run,
            REDACT_ORGANIZATION: redactions.ask_for_organization,
        },
        schedules=[
            Schedule(RETENTION_SWEEP, settings.retention_sweep_seconds),
            Schedule(STORAGE_SWEEP, settings.storage_sweep_seconds),
        ],
        job_policy=JobPolicy(
            settings.job_max_attempts,
            settings.job_retry_first_seconds,
            heartbeat_timeout_seconds=settings.job_heartbeat_timeout_seconds,
        ),
        keys=keys,
        tokens=TokenVerifier(keys.jwt_secret),
        engine=engine,
        sessions=sessions,
        http=http,
        buckets=buckets,
        credentials=credentials,
        providers=providers,
        recordings=recordings,
        playback=PlaybackService(recordings, redactions, buckets),
        deletions=deletions,
        redactions=redactions,
        playback_tokens=playback_tokens,
        snapshots=snapshots,
        api_keys=ApiKeyService(sessions),
        ingest=IngestService(sessions, buckets, downloader),
        downloads=downloads,
        webhooks=build_webhooks(
            sessions,
            credentials,
            buckets,
            public_base_url=settings.base_url,
            max_body_bytes=settings.max_body_bytes,
        ),
    )
