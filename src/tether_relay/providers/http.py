"""The one HTTP client for provider APIs, and the one retry loop: timeouts always explicit, transient
failures retried with backoff, upstream errors translated into ours (like httpx's own
map_httpcore_exceptions) so nothing above this layer sees an httpx exception."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from tether_relay.metrics import PROVIDER_ERRORS, PROVIDER_REQUESTS
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
    return await _guarded(
        provider,
        policy,
        lambda: _send_with_retries(http, request, provider, policy, retry_not_found, _read_capped),
    )


async def open_stream(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    provider: str,
    policy: RetryPolicy,
    retry_not_found: bool = False,
    read_ahead: int = 1024 * 1024,
) -> UpstreamBody | None:
    """Like `send`, for a body too large to hold. Each attempt reads the first `read_ahead` bytes, so a
    provider failing early is retried (and answered) as with `send`; the rest is left to the caller to
    stream. None for a 404."""

    async def fetch(
        http: httpx.AsyncClient, request: httpx.Request, limit: int, provider: str
    ) -> httpx.Response | _Opened:
        return await _open_if_ok(http, request, limit, provider, read_ahead)

    opened = await _guarded(
        provider, policy, lambda: _send_with_retries(http, request, provider, policy, retry_not_found, fetch)
    )
    if isinstance(opened, _Opened):
        return UpstreamBody(opened, provider, policy)
    body_or_none(opened, provider)  # read and closed: 404 → None; anything else raises
    return None


@dataclass(slots=True)
class _Opened:
    """A 200 whose body is read up to `head`; `rest` continues it."""

    response: httpx.Response
    head: list[bytes]
    rest: AsyncIterator[bytes]
    status_code: int = 200


class UpstreamBody:
    """A provider's 200 answer, its first bytes read: stream the body once with `chunks`, or `aclose`.

    The rest of the body is held to the same caps as a buffered one: `max_response_bytes`, and
    `attempt_seconds` in total so a drip cannot hold a reader for hours. A failure past the read-ahead
    raises RecordingFetchFailed and counts against the provider's circuit; the caller's answer has
    started by then, so it can only be cut short.
    """

    def __init__(self, opened: _Opened, provider: str, policy: RetryPolicy) -> None:
        self._opened = opened
        self._provider = provider
        self._policy = policy
        self._deadline = time.monotonic() + policy.attempt_seconds
        declared = opened.response.headers.get("content-length", "")
        self.size: int | None = int(declared) if declared.isdigit() else None

    def first_bytes(self, count: int) -> bytes:
        """The body's first `count` bytes (from the read-ahead): enough to tell what the body is."""
        return b"".join(self._opened.head)[:count]

    async def chunks(self) -> AsyncIterator[bytes]:
        read = 0
        try:
            head = self._opened.head
            while head:  # handed over one by one, so none is held after it has been sent on
                chunk = head.pop(0)
                read += len(chunk)
                yield chunk
            async for chunk in self._opened.rest:
                read += len(chunk)
                if read > self._policy.max_response_bytes:
                    raise ProviderResponseTooLarge(self._provider, 200)
                if time.monotonic() > self._deadline:
                    raise TimeoutError
                yield chunk
        except (httpx.TransportError, httpx.DecodingError, TimeoutError):
            PROVIDER_ERRORS.labels(self._provider, "body").inc()
            self._policy.breaker.failed(self._provider)
            raise RecordingFetchFailed(self._provider, 200) from None
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        await self._opened.response.aclose()


class _Answer(Protocol):
    status_code: int


A = TypeVar("A", bound=_Answer)


async def _guarded(provider: str, policy: RetryPolicy, attempt: Callable[[], Awaitable[A]]) -> A:
    """The circuit breaker around one logical request (all its retries)."""
    if not policy.breaker.allows(provider):
        raise RecordingFetchFailed(provider, None, "circuit open")
    try:
        response = await attempt()
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
    provider: str,
    policy: RetryPolicy,
    retry_not_found: bool,
    fetch: Callable[[httpx.AsyncClient, httpx.Request, int, str], Awaitable[A]],
) -> A:
    last_status: int | None = None
    for attempt in range(policy.attempts):
        if attempt:
            await asyncio.sleep(policy.delay(attempt - 1))
        PROVIDER_REQUESTS.labels(provider).inc()
        try:
            async with asyncio.timeout(policy.attempt_seconds):
                response = await fetch(http, request, policy.max_response_bytes, provider)
        except (httpx.TransportError, httpx.DecodingError, TimeoutError):
            PROVIDER_ERRORS.labels(provider, "transport").inc()
            last_status = None  # timeout, reset, truncated body, refused connection
            continue
        last_status = response.status_code
        if response.status_code in (401, 403):
            PROVIDER_ERRORS.labels(provider, "auth").inc()
            raise ProviderAuthFailed(provider, response.status_code)
        if response.status_code >= 500 or response.status_code == 429:
            PROVIDER_ERRORS.labels(provider, "5xx" if response.status_code >= 500 else "429").inc()
            continue
        if response.status_code == 404 and retry_not_found and attempt + 1 < policy.attempts:
            continue
        return response
    raise RecordingFetchFailed(provider, last_status)


async def _read_capped(
    http: httpx.AsyncClient, request: httpx.Request, limit: int, provider: str
) -> httpx.Response:
    """The response with its body read; refused past `limit` (from Content-Length, or as it streams)."""
    return await _buffered(await http.send(request, stream=True), request, limit, provider)


async def _buffered(
    response: httpx.Response, request: httpx.Request, limit: int, provider: str
) -> httpx.Response:
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


async def _open_if_ok(
    http: httpx.AsyncClient, request: httpx.Request, limit: int, provider: str, read_ahead: int
) -> httpx.Response | _Opened:
    """A 200 left open after its first `read_ahead` bytes; any other answer read (capped) and closed."""
    response = await http.send(request, stream=True)
    if response.status_code != 200:
        return await _buffered(response, request, limit, provider)
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ProviderResponseTooLarge(provider, 200)
        rest = response.aiter_bytes()
        head: list[bytes] = []
        read = 0
        async for chunk in rest:
            head.append(chunk)
            read += len(chunk)
            if read >= read_ahead:
                break
    except BaseException:
        await response.aclose()
        raise
    return _Opened(response, head, rest)


def deleted_or_gone(response: httpx.Response, provider: str) -> Literal["deleted", "already-gone"]:
    """The answer to a DELETE: any 2xx deleted it, a 404 says it was already gone; else a failure."""
    if response.status_code == 404:
        return "already-gone"
    if not 200 <= response.status_code < 300:
        raise RecordingFetchFailed(provider, response.status_code)
    return "deleted"


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
