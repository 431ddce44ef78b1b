"""One HTTP attempt of a delivery to a customer's endpoint. The URL is checked at every attempt as an
ingest URL is (providers/public_url.py: https, public addresses only, the connection pinned to the address
checked), redirects are not followed, and the whole attempt is bounded (15 s). What came back is
classified once here: delivered (2xx), gone (410), worth retrying (timeouts, connection errors, 429, 5xx,
a host that does not resolve), or not (any other answer, a private address)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from tether_relay.digits import parse_uint
from tether_relay.providers.public_url import UrlRefused, checked_address, pinned_request

USER_AGENT = "TetherRelay-Webhooks/1"
_READ_AT_MOST = 64 * 1024  # of an endpoint's answer: nobody reads it


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int
    retry: bool = False
    retry_after_seconds: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


class Sender:
    def __init__(self, http: httpx.AsyncClient, *, timeout_seconds: float, allow_private: bool) -> None:
        self._http = http  # never follows redirects
        self._timeout = timeout_seconds
        self._allow_private = allow_private

    async def send(self, url: str, message_id: str, at: datetime, body: str, signature: str) -> Outcome:
        started = time.monotonic()

        def took() -> int:
            return round((time.monotonic() - started) * 1000)

        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature,
        }
        try:
            async with asyncio.timeout(self._timeout):
                target = httpx.URL(url)
                address = await checked_address(target, allow_private=self._allow_private)
                request = pinned_request(
                    self._http, "POST", target, address, headers=headers, content=body.encode()
                )
                response = await self._http.send(request, stream=True)
                try:
                    await _drain(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            return Outcome(None, "timeout", took(), retry=True)
        except UrlRefused as refused:
            reason = str(refused)
            return Outcome(None, reason, took(), retry=reason == "the host does not resolve")
        except (httpx.InvalidURL, UnicodeError):
            return Outcome(None, "the URL is not valid", took())
        except httpx.HTTPError as error:
            return Outcome(None, _transport_error(error), took(), retry=True)
        status = response.status_code
        retry = status == 429 or status >= 500
        wait = _retry_after(response.headers.get("retry-after", "")) if retry else None
        return Outcome(status, None if status < 300 else f"HTTP {status}", took(), retry, wait)


async def _drain(response: httpx.Response) -> None:
    read = 0
    async for chunk in response.aiter_raw():
        read += len(chunk)
        if read >= _READ_AT_MOST:
            return


def _transport_error(error: httpx.HTTPError) -> str:
    """A short name for what failed; never the exception's text (it may quote addresses or URLs)."""
    names = {
        httpx.ConnectError: "connection failed",
        httpx.ConnectTimeout: "timeout",
        httpx.ReadTimeout: "timeout",
        httpx.WriteTimeout: "timeout",
        httpx.PoolTimeout: "timeout",
        httpx.RemoteProtocolError: "protocol error",
        httpx.ReadError: "connection broken",
        httpx.WriteError: "connection broken",
    }
    return next((name for kind, name in names.items() if isinstance(error, kind)), "request failed")


def _retry_after(value: str) -> float | None:
    """Retry-After's advice in seconds from now: delta-seconds or an HTTP-date; None if neither."""
    seconds = parse_uint(value.strip())
    if seconds is not None:
        return float(seconds)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())
