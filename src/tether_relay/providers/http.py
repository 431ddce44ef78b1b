"""The one HTTP client for provider APIs, and the one retry loop: timeouts always explicit, transient
failures retried with backoff, upstream errors translated into ours (like httpx's own
map_httpcore_exceptions) so nothing above this layer sees an httpx exception."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from tether_relay.providers.circuit import CircuitBreaker
from tether_relay.providers.errors import ProviderAuthFailed, ProviderResponseTooLarge, RecordingFetchFailed

P = TypeVar("P", bound=BaseModel)


def build_http_client(timeout_seconds: float) -> httpx.AsyncClient:
    # follow_redirects: Twilio media may redirect to signed storage; httpx drops the Authorization
    # header when a redirect leaves the origin, so our credentials never reach the storage host.
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
        follow_redirects=True,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        headers={"User-Agent": "tether-relay"},
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int
    backoff_seconds: float
    breaker: CircuitBreaker = field(default_factory=lambda: CircuitBreaker(5, 30.0))
    max_response_bytes: int = 256 * 1024 * 1024
    # httpx's timeouts are per read: a body that drips a byte at a time would never trip them. Each
    # attempt also gets this much in total.
    attempt_seconds: float = 120.0

    def delay(self, attempt: int) -> float:
        return float(self.backoff_seconds * 2**attempt)


async def send(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    provider: str,
    policy: RetryPolicy,
    retry_not_found: bool = False,
) -> httpx.Response:
    """Send with retries on transport errors, 5xx, 429 and (if asked) 404; the body is read in full.

    Returns the final response for 2xx and 4xx statuses; raises ProviderAuthFailed for 401/403 and
    RecordingFetchFailed when the provider stays unreachable or broken, or at once while its circuit is open.
    """
    if not policy.breaker.allows(provider):
        raise RecordingFetchFailed(provider, None, "circuit open")
    try:
        response = await _send_with_retries(
            http, request, provider=provider, policy=policy, retry_not_found=retry_not_found
        )
    except ProviderResponseTooLarge:
        raise  # an answer too large says nothing about the provider being down
    except RecordingFetchFailed:
        policy.breaker.failed(provider)
        raise
    policy.breaker.succeeded(provider)
    return response


async def _send_with_retries(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    provider: str,
    policy: RetryPolicy,
    retry_not_found: bool,
) -> httpx.Response:
    last_status: int | None = None
    for attempt in range(policy.attempts):
        if attempt:
            await asyncio.sleep(policy.delay(attempt - 1))
        try:
            async with asyncio.timeout(policy.attempt_seconds):
                response = await _read_capped(http, request, policy.max_response_bytes, provider)
        except (httpx.TransportError, httpx.DecodingError, TimeoutError):
            last_status = None  # timeout, reset, truncated body, refused connection
            continue
        last_status = response.status_code
        if response.status_code in (401, 403):
            raise ProviderAuthFailed(provider, response.status_code)
        if response.status_code >= 500 or response.status_code == 429:
            continue
        if response.status_code == 404 and retry_not_found and attempt + 1 < policy.attempts:
            continue
        return response
    raise RecordingFetchFailed(provider, last_status)


async def _read_capped(
    http: httpx.AsyncClient, request: httpx.Request, limit: int, provider: str
) -> httpx.Response:
    """The response with its body read; refused past `limit` (from Content-Length, or as it streams)."""
    response = await http.send(request, stream=True)
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ProviderResponseTooLarge(provider, response.status_code)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise ProviderResponseTooLarge(provider, response.status_code)
    finally:
        await response.aclose()
    return httpx.Response(
        response.status_code, headers=response.headers, content=bytes(body), request=request
    )


def body_or_none(response: httpx.Response, provider: str) -> bytes | None:
    """The body of a 200; None for a 404; anything else is the provider failing us."""
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise RecordingFetchFailed(provider, response.status_code)
    return response.content


def parsed_or_none(response: httpx.Response, model: type[P], provider: str) -> P | None:
    """`body_or_none`, parsed into the vendor's payload model; a body that does not parse is a failure."""
    body = body_or_none(response, provider)
    if body is None:
        return None
    try:
        return model.model_validate_json(body)
    except ValidationError:
        raise RecordingFetchFailed(provider, response.status_code) from None
