"""The one HTTP client for provider APIs, the one retry loop and the one place provider credentials are
attached. Timeouts are always explicit, transient failures retried with backoff, upstream errors translated
into ours (like httpx's own map_httpcore_exceptions) so nothing above this layer sees an httpx exception.

Time. httpx's timeouts are per read, so a provider dripping a byte at a time never trips them. Two rules
bound a read instead:
- the read budget (TETHER_PROVIDER_READ_BUDGET_SECONDS, 40 s): everything one logical read asks of its
  providers up to the first bytes of each answer (the headers and the first READ_AHEAD bytes: the whole of
  any JSON answer), every retry and backoff included, shares one deadline (providers/deadline.py). No
  attempt or backoff starts past it and none outlives it; then the read fails RECORDING_FETCH_FAILED.
- the progress rule, for the rest of a large body (a recording streamed on past its read-ahead): the
  body is cut when any window of TETHER_PROVIDER_PROGRESS_WINDOW_SECONDS (10 s) of waiting on the provider
  brings fewer than TETHER_PROVIDER_PROGRESS_MIN_BYTES (64 KiB). A drip is cut within a window or two; a
  large download at any useful speed is never cut by the clock (TETHER_PROVIDER_MAX_RESPONSE_BYTES caps it).
With the defaults, a provider that stalls or drips ends a read within 60 s of its arrival: by the budget
(40 s), or, a drip that starts past the read-ahead, by the progress rule within two windows (20 s) of its
start. Only a download making progress all along outlives that.

Credentials. A `Credential` names its header and the origins (scheme, host, port of the configured base
URLs) it belongs to; clients never set the header themselves. Redirects are followed here, by hand, so that
each hop is checked: the credential goes on a hop only while every hop so far, this one included, is on one
of its origins. Once a chain has left them it never carries the credential again, not even back on an
origin (the foreign host chose that URL). Other hosts (Twilio's signed storage) are still fetched, bare.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Literal, TypeVar

import httpx
from opentelemetry.trace import SpanKind
from pydantic import BaseModel, ValidationError

from tether_relay import tracing
from tether_relay.metrics import PROVIDER_ERRORS, PROVIDER_REQUESTS
from tether_relay.providers.circuit import CircuitBreaker
from tether_relay.providers.deadline import Deadline, current_deadline
from tether_relay.providers.errors import ProviderAuthFailed, ProviderResponseTooLarge, RecordingFetchFailed

P = TypeVar("P", bound=BaseModel)
READ_AHEAD = 1024 * 1024  # read under the budget before an answer is handed on
MAX_REDIRECTS = 5
Origin = tuple[str, str, int]
_TRANSIENT = (httpx.TransportError, httpx.DecodingError, TimeoutError)
_CLIENT = SpanKind.CLIENT


def origin(url: httpx.URL | str) -> Origin:
    url = httpx.URL(url)
    return (url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme, 0))


@dataclass(frozen=True, slots=True)
class Credential:
    """A provider credential: the header that carries it, and the origins it may be sent to."""

    header: str
    value: str = field(repr=False)
    origins: frozenset[Origin]

    @classmethod
    def api_key(cls, header: str, key: str, *base_urls: str) -> Credential:
        return cls(header, key, frozenset(origin(url) for url in base_urls))

    @classmethod
    def basic(cls, username: str, password: str, *base_urls: str) -> Credential:
        token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return cls.api_key("Authorization", f"Basic {token}", *base_urls)

    def belongs_to(self, url: httpx.URL) -> bool:
        return origin(url) in self.origins


def build_http_client(timeout_seconds: float) -> httpx.AsyncClient:
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
        follow_redirects=False,  # `_follow` does it, hop by hop, with the credential rule above
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        headers={"User-Agent": "tether-relay"},
    )
    # One client serves every organisation: a cookie a provider sets for one must never ride along on
    # another's requests, so the jar accepts none.
    http.cookies.jar.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return http


@dataclass(frozen=True, slots=True)
class Progress:
    """The rule for a body past its read-ahead: at least `min_bytes` in every `window_seconds` of waiting."""

    min_bytes: int = 64 * 1024
    window_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int
    backoff_seconds: float
    breaker: CircuitBreaker = field(default_factory=lambda: CircuitBreaker(5, 30.0))
    max_response_bytes: int = 256 * 1024 * 1024
    # The budget of a provider request made outside any read (a read opens its own: deadline.py).
    budget_seconds: float = 40.0
    progress: Progress = Progress()

    def delay(self, attempt: int) -> float:
        return float(self.backoff_seconds * 2**attempt)


async def send(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    provider: str,
    policy: RetryPolicy,
    credential: Credential,
    retry_not_found: bool = False,
) -> httpx.Response:
    """Send with retries on transport errors, 5xx, 429 and (if asked) 404; the body is read in full.

    Returns the final response for 2xx and 4xx statuses; raises ProviderAuthFailed for 401/403 and
    RecordingFetchFailed when the provider stays unreachable or broken, slower than the budget or the
    progress rule allow, or at once while its circuit is open.
    """
    body = await _opened(http, request, provider, policy, credential, retry_not_found)
    content = b"".join([chunk async for chunk in body.chunks()])
    # The body is decoded already: the headers that described its encoding no longer apply.
    headers = [
        (name, value)
        for name, value in body.response.headers.multi_items()
        if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
    ]
    return httpx.Response(body.status_code, headers=headers, content=content, request=request)


async def open_stream(
    http: httpx.AsyncClient,
    request: httpx.Request,
    *,
    provider: str,
    policy: RetryPolicy,
    credential: Credential,
    retry_not_found: bool = False,
) -> UpstreamBody | None:
    """Like `send`, for a body too large to hold: the 200 is handed on after its read-ahead, for the caller
    to stream. None for a 404; any other answer is a failure."""
    body = await _opened(http, request, provider, policy, credential, retry_not_found)
    if body.status_code == 200:
        return body
    await body.aclose()
    if body.status_code == 404:
        return None
    raise RecordingFetchFailed(provider, body.status_code)


class UpstreamBody:
    """A provider's answer, its first bytes read: stream the body once with `chunks`, or `aclose`.

    Past the read-ahead the body is held to `max_response_bytes` and the progress rule. A failure there
    raises RecordingFetchFailed and counts against the provider's circuit; a caller streaming the body on
    has started its answer by then, so it can only be cut short.
    """

    def __init__(
        self,
        response: httpx.Response,
        head: list[bytes],
        rest: AsyncIterator[bytes],
        provider: str,
        policy: RetryPolicy,
    ) -> None:
        self.response = response
        self.status_code = response.status_code
        self._head = head
        self._rest = rest
        self._provider = provider
        self._policy = policy
        declared = response.headers.get("content-length", "")
        self.size: int | None = int(declared) if declared.isdigit() else None

    def first_bytes(self, count: int) -> bytes:
        """The body's first `count` bytes (from the read-ahead): enough to tell what the body is."""
        return b"".join(self._head)[:count]

    async def chunks(self) -> AsyncIterator[bytes]:
        read = 0
        try:
            while self._head:  # handed over one by one, so none is held after it has been sent on
                chunk = self._head.pop(0)
                read += len(chunk)
                yield chunk
            async for chunk in _progressing(self._rest, self._policy.progress):
                read += len(chunk)
                if read > self._policy.max_response_bytes:
                    raise ProviderResponseTooLarge(self._provider, self.status_code)
                yield chunk
        except _TRANSIENT:
            PROVIDER_ERRORS.labels(self._provider, "body").inc()
            self._policy.breaker.failed(self._provider)
            raise RecordingFetchFailed(self._provider, self.status_code) from None
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        await self.response.aclose()


async def _progressing(rest: AsyncIterator[bytes], rule: Progress) -> AsyncIterator[bytes]:
    """`rest`, cut with TimeoutError once a window of `rule.window_seconds` spent waiting on the provider
    brings fewer than `rule.min_bytes`. Only the waits count: a slow consumer downstream is not the
    provider's fault, and while it writes, the provider's bytes wait in the socket."""
    waited, window_end, in_window = 0.0, rule.window_seconds, 0
    while True:
        # A window already satisfied cannot fail: the next one is the first that can.
        cutoff = window_end if in_window < rule.min_bytes else window_end + rule.window_seconds
        started = time.monotonic()
        try:
            async with asyncio.timeout(cutoff - waited):
                chunk = await anext(rest)
        except StopAsyncIteration:
            return
        waited += time.monotonic() - started
        while waited >= window_end:
            if in_window < rule.min_bytes:
                raise TimeoutError
            in_window, window_end = 0, window_end + rule.window_seconds
        in_window += len(chunk)
        yield chunk


async def _opened(
    http: httpx.AsyncClient,
    request: httpx.Request,
    provider: str,
    policy: RetryPolicy,
    credential: Credential,
    retry_not_found: bool,
) -> UpstreamBody:
    """One logical request under the read's deadline and the provider's circuit breaker."""
    deadline = current_deadline(policy.budget_seconds)
    if deadline.remaining() <= 0:  # spent by earlier requests of this read: not this provider's failure
        raise RecordingFetchFailed(provider, None, "read budget spent")
    if not policy.breaker.allows(provider):
        raise RecordingFetchFailed(provider, None, "circuit open")
    try:
        body = await _with_retries(http, request, provider, policy, credential, retry_not_found, deadline)
    except ProviderResponseTooLarge:
        raise  # an answer too large says nothing about the provider being down
    except RecordingFetchFailed:
        policy.breaker.failed(provider)
        raise
    policy.breaker.succeeded(provider)
    return body


async def _with_retries(
    http: httpx.AsyncClient,
    request: httpx.Request,
    provider: str,
    policy: RetryPolicy,
    credential: Credential,
    retry_not_found: bool,
    deadline: Deadline,
) -> UpstreamBody:
    last_status: int | None = None
    for attempt in range(policy.attempts):
        if attempt:
            pause = policy.delay(attempt - 1)
            if pause >= deadline.remaining():
                break  # no retry starts past the budget
            await asyncio.sleep(pause)
        PROVIDER_REQUESTS.labels(provider).inc()
        try:
            with tracing.span(
                f"{provider} {request.method}", _span_attributes(request, provider), _CLIENT
            ) as span:
                async with asyncio.timeout(deadline.remaining()):
                    body = await _attempt(http, request, provider, policy, credential)
                if span is not None:
                    span.set_attribute("http.response.status_code", body.status_code)
        except _TRANSIENT:
            PROVIDER_ERRORS.labels(provider, "transport").inc()
            last_status = None  # timeout, reset, truncated body, refused connection
            continue
        except httpx.TooManyRedirects:
            raise RecordingFetchFailed(provider, None, "too many redirects") from None
        last_status = body.status_code
        if body.status_code in (401, 403):
            await body.aclose()
            PROVIDER_ERRORS.labels(provider, "auth").inc()
            raise ProviderAuthFailed(provider, body.status_code)
        if body.status_code >= 500 or body.status_code == 429:
            await body.aclose()
            PROVIDER_ERRORS.labels(provider, "5xx" if body.status_code >= 500 else "429").inc()
            continue
        if body.status_code == 404 and retry_not_found and attempt + 1 < policy.attempts:
            await body.aclose()
            continue
        return body
    raise RecordingFetchFailed(provider, last_status)


def _span_attributes(request: httpx.Request, provider: str) -> dict[str, Any]:
    """What a provider request's span says: the provider, method, host and path; never the query string or a
    header (signatures and credentials travel there)."""
    return {
        "tether.provider": provider,
        "http.request.method": request.method,
        "server.address": request.url.host,
        "url.path": request.url.path,
    }


async def _attempt(
    http: httpx.AsyncClient,
    request: httpx.Request,
    provider: str,
    policy: RetryPolicy,
    credential: Credential,
) -> UpstreamBody:
    """One attempt: the answer with its first bytes read (a 2xx up to READ_AHEAD, anything else whole),
    refused past `max_response_bytes` (from Content-Length, or as it streams)."""
    response = await _follow(http, request, credential)
    limit = policy.max_response_bytes
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ProviderResponseTooLarge(provider, response.status_code)
        ahead = READ_AHEAD if response.is_success else limit + 1
        rest = response.aiter_bytes()
        head: list[bytes] = []
        read = 0
        async for chunk in rest:
            head.append(chunk)
            read += len(chunk)
            if read > limit:
                raise ProviderResponseTooLarge(provider, response.status_code)
            if read >= ahead:
                break
    except BaseException:
        await response.aclose()
        raise
    return UpstreamBody(response, head, rest, provider, policy)


async def _follow(http: httpx.AsyncClient, request: httpx.Request, credential: Credential) -> httpx.Response:
    """Send `request`, following up to MAX_REDIRECTS redirects; the credential rides only on hops of a
    chain that has never left its origins (module docstring)."""
    trusted = True
    for _ in range(MAX_REDIRECTS + 1):
        trusted = trusted and credential.belongs_to(request.url)
        if trusted:
            request.headers[credential.header] = credential.value
        else:
            request.headers.pop(credential.header, None)
        response = await http.send(request, stream=True)
        if not response.has_redirect_location:
            return response
        await response.aclose()
        request = _next_hop(http, request, response)
    raise httpx.TooManyRedirects("provider redirected too often", request=request)


def _next_hop(http: httpx.AsyncClient, request: httpx.Request, response: httpx.Response) -> httpx.Request:
    """The request a redirect asks for, built afresh (no header of the last hop carries over); methods
    change as httpx and browsers change them (303, and 302, to GET; a POST's 301 to GET)."""
    try:
        url = request.url.join(response.headers["Location"])  # relative Locations too (RFC 9110)
    except httpx.InvalidURL:
        raise httpx.RemoteProtocolError("invalid redirect Location", request=request) from None
    to_get = {302: request.method != "HEAD", 303: request.method != "HEAD", 301: request.method == "POST"}
    return http.build_request("GET" if to_get.get(response.status_code) else request.method, url)


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
