"""Prometheus metrics, served at /metrics. Each replica counts its own; Prometheus adds them up.

Labels are bounded: routes are templates (`/api/calls/{callId}/recording`), providers are our four names.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REQUEST_SECONDS = Histogram(
    "tether_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template and status.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
PROVIDER_REQUESTS = Counter(
    "tether_provider_requests_total",
    "HTTP requests sent to a provider's API, retries included.",
    ["provider"],
)
PROVIDER_ERRORS = Counter(
    "tether_provider_errors_total",
    "Provider requests that failed: transport (timeout, reset, refused), 5xx, 429, auth (401/403), body.",
    ["provider", "kind"],
)
TRANSCRIPT_CACHE = Counter(
    "tether_transcript_cache_total",
    "Recording reads by where the transcript came from: hit (stored on the Call) or miss (provider asked "
    "or waited for).",
    ["provider", "result"],
)
JOB_SECONDS = Histogram(
    "tether_job_duration_seconds",
    "Time a background job ran, by job name and outcome (done or failed).",
    ["job", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
JOB_FAILURES = Counter(
    "tether_job_failures_total",
    "Background job runs that failed: retried later, or final (held for the operator).",
    ["job", "kind"],
)
JOB_QUEUE_DEPTH = Gauge(
    "tether_job_queue_depth",
    "Jobs waiting to run (due or not), as last counted by this process's worker.",
)
WEBHOOK_ATTEMPTS = Counter(
    "tether_webhook_attempts_total",
    "Attempts to deliver an event to a customer's endpoint, by outcome: delivered, retried (another "
    "attempt is scheduled) or failed (given up).",
    ["outcome"],
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "tether_webhook_endpoints_disabled_total",
    "Customer endpoints disabled: gone (answered 410) or failing (every attempt failed for days).",
    ["reason"],
)
