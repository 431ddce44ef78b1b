"""The PostgreSQL worker: pgqueuer's QueueManager on a connection of its own. pgqueuer claims each job for
one worker at a time across every process, heartbeats it while it runs and hands a job whose worker died
(no heartbeat for `heartbeat_timeout`) to another; a failure is re-queued with our backoff."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg
import orjson
from pgqueuer.db import AsyncpgDriver
from pgqueuer.errors import RetryRequested
from pgqueuer.executors import EntrypointExecutor, EntrypointExecutorParameters
from pgqueuer.models import Context, Job
from pgqueuer.qm import QueueManager
from pgqueuer.queries import Queries

from tether_relay import metrics
from tether_relay.jobs.handlers import Handler, Handlers, JobPolicy, Permanent

log = logging.getLogger("tether_relay.jobs")


@dataclasses.dataclass
class _Executor(EntrypointExecutor):
    name: str = ""
    policy: JobPolicy = dataclasses.field(default_factory=JobPolicy)

    async def execute(self, job: Job, context: Context) -> None:
        started = time.perf_counter()
        run = job.attempts + 1  # pgqueuer counts the retries before this run
        try:
            await super().execute(job, context)
        except Exception as error:
            final = isinstance(error, Permanent) or run >= self.policy.max_attempts
            log.warning(
                "job failed",
                extra={"job": self.name, "attempts": run, "final": final, "error": type(error).__name__},
            )
            metrics.JOB_FAILURES.labels(self.name, "final" if final else "retried").inc()
            metrics.JOB_SECONDS.labels(self.name, "failed").observe(time.perf_counter() - started)
            if final:
                raise  # held by pgqueuer as failed (on_failure="hold"), for the operator
            raise RetryRequested(delay=self.policy.delay(run), reason=type(error).__name__) from error
        metrics.JOB_SECONDS.labels(self.name, "done").observe(time.perf_counter() - started)


def _entrypoint(handler: Handler) -> Callable[[Job], Awaitable[None]]:
    async def run(job: Job) -> None:
        await handler(orjson.loads(job.payload or b"{}"))

    return run


async def run_pg_worker(
    dsn: str,
    handlers: Handlers,
    policy: JobPolicy,
    stop: asyncio.Event,
    *,
    concurrency: int = 4,
) -> None:
    """Until `stop` is set; jobs under way are finished first."""
    connection = await asyncpg.connect(dsn)
    try:
        manager = QueueManager(Queries(AsyncpgDriver(connection)))
        for name, handler in handlers.items():

            def executor(parameters: EntrypointExecutorParameters, name: str = name) -> _Executor:
                return _Executor(parameters, name=name, policy=policy)

            manager.entrypoint(name, on_failure="hold", executor_factory=executor)(_entrypoint(handler))
        running = asyncio.create_task(
            manager.run(
                batch_size=concurrency,
                max_concurrent_tasks=2 * concurrency,
                dequeue_timeout=timedelta(seconds=5),
                heartbeat_timeout=timedelta(seconds=policy.heartbeat_timeout_seconds),
            )
        )
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        manager.shutdown.set()
        stopping.cancel()
        await running
    finally:
        await connection.close()


async def queue_depth(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        sizes = await Queries(AsyncpgDriver(connection)).queue_size()
    finally:
        await connection.close()
    return sum(s.count for s in sizes if s.status == "queued")
