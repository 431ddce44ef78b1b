"""Slow clients cost a bounded time: the real `serve` command (its HTTP protocol is ours, api/server.py),
driven over raw sockets. A client that connects and says nothing, sends its headers a byte at a time or
drips its body is cut after TETHER_CLIENT_TIMEOUT_SECONDS (1 s here); a slow but steady upload is not;
bytes that are not HTTP are answered in the contract's envelope."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import JWT_SECRET
from tests.processes import ServiceProcess, service_env, service_process
from tether_relay.auth.tokens import mint_token

# Starts service processes, browsers or long runs: `make test` skips it; CI and `make test-all` run it.
pytestmark = pytest.mark.slow

TIMEOUT = 1.0
# Cut within the deadline plus one window of slack (a body is checked once per window).
CUT_BY = 2 * TIMEOUT + 1.5


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    tmp = tmp_path_factory.mktemp("slow-clients")
    env = service_env(f"sqlite:///{tmp}/t.db", tmp / "data", client_timeout_seconds=str(TIMEOUT))
    with service_process(env, tmp) as running:
        yield running


@pytest.fixture(scope="module")
def api_key(service: ServiceProcess) -> str:
    token = mint_token(JWT_SECRET, user_id="u1", organization_id="org-slow", role="ADMIN")
    answer = httpx.get(f"{service.url}/api/user/api-key", headers={"Authorization": f"Bearer {token}"})
    key: str = answer.json()["data"]["apiKey"]
    return key


def connect(service: ServiceProcess) -> socket.socket:
    host, port = service.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def read_until_closed(sock: socket.socket, limit: float = 10) -> bytes:
    sock.settimeout(limit)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return received


def drip(sock: socket.socket, data: bytes, every: float, stop: threading.Event) -> None:
    """Sends `data` one byte at a time until it is sent, the server closes, or `stop`."""
    for i in range(len(data)):
        if stop.is_set():
            return
        try:
            sock.sendall(data[i : i + 1])
        except OSError:
            return
        time.sleep(every)


def dripping(sock: socket.socket, data: bytes, every: float) -> threading.Event:
    stop = threading.Event()
    threading.Thread(target=drip, args=(sock, data, every, stop), daemon=True).start()
    return stop


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.5)
    try:
        while sock.recv(65536):
            pass
    except TimeoutError:
        return False
    except OSError:
        pass
    return True


def envelope_of(response: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def test_a_connection_that_sends_nothing_is_closed(service: ServiceProcess) -> None:
    with connect(service) as sock:
        started = time.monotonic()
        assert read_until_closed(sock) == b""
        assert TIMEOUT * 0.9 <= time.monotonic() - started < CUT_BY


@pytest.mark.parametrize("keep_alive_first", [False, True], ids=["first request", "next on keep-alive"])
def test_headers_sent_a_byte_at_a_time_are_answered_408(
    service: ServiceProcess, keep_alive_first: bool
) -> None:
    with connect(service) as sock:
        if keep_alive_first:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        stop = dripping(sock, b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 10_000, 0.05)
        try:
            response = read_until_closed(sock)
        finally:
            stop.set()
        assert time.monotonic() - started < CUT_BY
    status, body = envelope_of(response)
    assert (status, body["code"], body["success"]) == (408, "REQUEST_TIMEOUT", False)


@pytest.mark.parametrize("authenticated", [False, True], ids=["stranger (answered early)", "key holder"])
def test_a_dripping_body_is_cut(service: ServiceProcess, api_key: str, authenticated: bool) -> None:
    """A stranger's 401 comes at once, and the drip after it is cut too; a key holder's route, waiting for
    the body, sees the client gone."""
    auth = f"Authorization: Bearer {api_key}\r\n".encode() if authenticated else b""
    head = (
        b"POST /api/calls/ingest HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        + auth
        + b"Content-Length: 100000\r\n\r\n"
    )
    with connect(service) as sock:
        sock.sendall(head)
        started = time.monotonic()
        stop = dripping(sock, b"{" + b" " * 99_999, 0.02)  # 50 bytes a second
        try:
            response = read_until_closed(sock)
        finally:
            stop.set()
        assert time.monotonic() - started < CUT_BY
    if authenticated:
        assert b"HTTP/1.1 201" not in response
    else:
        assert response.startswith(b"HTTP/1.1 401")


def test_an_endless_body_after_an_early_answer_is_cut(service: ServiceProcess) -> None:
    """A stranger streaming a chunked body as fast as loopback takes it is answered 401 from its headers;
    the connection then ends within the deadline, rather than the server parsing (and discarding) what it
    streams for as long as it likes."""
    chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
    with connect(service) as sock:
        sock.sendall(b"POST /api/calls/ingest HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        started, cut = time.monotonic(), None
        try:
            while time.monotonic() - started < 3 * CUT_BY:
                sock.sendall(chunk)
        except OSError:
            cut = time.monotonic() - started
    assert cut is not None, "the server went on reading the endless body"
    assert cut < CUT_BY


def test_a_client_still_sending_when_answered_early_gets_the_answer(service: ServiceProcess) -> None:
    """60 MiB sent at once to a route that refuses it from its headers: the sender finishes and reads
    its 401 (the connection is not reset under it)."""
    with connect(service) as sock:
        sock.sendall(b"POST /api/calls/ingest HTTP/1.1\r\nHost: t\r\nContent-Length: 62914560\r\n\r\n")
        sock.sendall(b"x" * 62_914_560)
        response = read_until_closed(sock, limit=5)
    assert response.startswith(b"HTTP/1.1 401"), response[:100]


@pytest.mark.parametrize("shape", ["one huge header", "many headers", "a huge request line"])
def test_headers_larger_than_any_client_sends_are_refused_431(service: ServiceProcess, shape: str) -> None:
    """httptools sets no limit: four strangers sending 200 MiB of headers each held 800 MiB. Past 64 KiB
    the answer is a 431 in the envelope and the connection ends, long before the sender is done."""
    if shape == "one huge header":
        head, line = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ", b"a" * 65536
    elif shape == "many headers":
        head, line = b"GET /healthz HTTP/1.1\r\nHost: t\r\n", b"X-A: b\r\n" * 8192
    else:
        head, line = b"GET /healthz?", b"q" * 65536
    sent = 0
    with connect(service) as sock:
        sock.sendall(head)
        try:
            while sent < 200 * 2**20:
                sock.sendall(line)
                sent += len(line)
        except OSError:
            pass
        response = read_until_closed(sock)
    assert sent < 16 * 2**20, f"the server read {sent} bytes of headers"
    status, body = envelope_of(response)
    assert (status, body["code"]) == (431, "HEADERS_TOO_LARGE")


def test_headers_under_the_limit_are_served(service: ServiceProcess) -> None:
    with connect(service) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 60_000 + b"\r\n\r\n")
        sock.settimeout(5)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")


def test_an_unverified_webhook_body_must_arrive_within_its_deadline(service: ServiceProcess) -> None:
    """A stranger's ElevenLabs body (fresh timestamp, made-up signature) fast enough for every window
    (32 KiB a second against 8 KiB) but slow overall: answered 408 at six windows, not read for an hour."""
    signature = f"t={int(time.time())},v0={'ab' * 32}"
    head = (
        f"POST /api/webhook/elevenlabs HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"ElevenLabs-Signature: {signature}\r\nContent-Length: {2**20}\r\n\r\n"
    ).encode()
    with connect(service) as sock:
        sock.sendall(head)
        started = time.monotonic()
        stop = threading.Event()

        def send() -> None:
            while not stop.is_set():
                try:
                    sock.sendall(b" " * 8192)
                except OSError:
                    return
                time.sleep(0.25)

        threading.Thread(target=send, daemon=True).start()
        try:
            sock.settimeout(20)
            response = sock.recv(65536)
            elapsed = time.monotonic() - started
            response += read_until_closed(sock, limit=10)
        finally:
            stop.set()
    status, body = envelope_of(response)
    assert (status, body["code"]) == (408, "REQUEST_TIMEOUT")
    assert 6 * TIMEOUT <= elapsed < 6 * TIMEOUT + 3


def test_a_slow_but_steady_upload_is_not_cut(service: ServiceProcess, api_key: str) -> None:
    """16 KiB every half second for four seconds: several windows, each well above the minimum."""
    call = {"externalCallId": "steady-1", "fromNumber": "+15550100", "toNumber": "+15550101"}
    body = json.dumps({**call, "summary": "s" * 100, "metadata": {"pad": "p" * 120_000}}).encode()
    head = (
        b"POST /api/calls/ingest HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {api_key}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    )
    with connect(service) as sock:
        sock.sendall(head)
        for i in range(0, len(body), 16_384):
            sock.sendall(body[i : i + 16_384])
            time.sleep(0.5)
        sock.settimeout(10)
        response = sock.recv(65536)
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    status, _ = envelope_of(response)
    assert status in (201, 400), response[:300]  # the service judged the body: it was not cut


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
        b"GET / HTTP/1.1\r\nHo\x00st: x\r\n\r\n",
        b"G\xffT",
    ],
)
def test_bytes_that_are_not_http_are_answered_in_the_envelope(
    service: ServiceProcess, garbage: bytes
) -> None:
    with connect(service) as sock:
        sock.sendall(garbage + (b"\r\n\r\n" if not garbage.endswith(b"\r\n\r\n") else b""))
        response = read_until_closed(sock)
    status, body = envelope_of(response)
    assert (status, body["code"], body["success"]) == (400, "VALIDATION_ERROR", False)


def test_the_service_answers_while_slow_clients_hold_connections(service: ServiceProcess) -> None:
    """Two hundred silent connections and twenty header drips: /healthz still answers at once, and every
    one of them is closed after the deadline."""
    silent = [connect(service) for _ in range(200)]
    drips = [connect(service) for _ in range(20)]
    stops = [dripping(sock, b"GET /healthz HTTP/1.1\r\nX-A: " + b"a" * 1000, 0.05) for sock in drips]
    try:
        with httpx.Client(base_url=service.url, timeout=5) as client:
            for _ in range(10):
                started = time.monotonic()
                assert client.get("/healthz").status_code == 200
                assert time.monotonic() - started < 0.5
                time.sleep(0.05)
        time.sleep(CUT_BY)
        still_open = [sock for sock in silent + drips if not closed_by_server(sock)]
        assert still_open == []
    finally:
        for stop in stops:
            stop.set()
        for sock in silent + drips:
            sock.close()
