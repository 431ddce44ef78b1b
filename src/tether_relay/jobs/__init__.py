"""Background jobs: enqueued in the transaction of the change that calls for them, run by workers.

PostgreSQL: pgqueuer's tables and workers (any number of processes share them). SQLite: our own table,
run by the service process. Both retry with backoff and re-run a job whose worker died; handlers are
idempotent, so a job run twice does no harm.
"""
