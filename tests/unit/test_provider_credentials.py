"""The credential rule of providers/http.py over any redirect chain: the credential rides on a hop only
while every hop so far, this one included, is on one of the credential's origins (scheme, host and port:
an https to http downgrade or another port is another origin). The network is an httpx MockTransport that
records every request, so what each hop carried is seen exactly; the code under test runs unchanged."""

from __future__ import annotations

import asyncio

import httpx
from hypothesis import given, settings
from hypothesis import strategies as st

from tether_relay.providers.http import Credential, RetryPolicy, build_http_client, origin, send

HOME = "https://api.example.com"
SECOND_HOME = "https://intelligence.example.com"  # a provider may have two configured origins (Twilio)
ELSEWHERE = [
    "http://api.example.com",  # a downgrade to plain http
    "https://api.example.com:8443",
    "https://storage.example.net",
    "http://127.0.0.1:9000",
]
SECRET = "s3cr3t-" + "k" * 24
CREDENTIALS = {
    "basic": Credential.basic("AC" + "1" * 32, SECRET, HOME, SECOND_HOME),
    "xi-api-key": Credential.api_key("xi-api-key", SECRET, HOME, SECOND_HOME),
}


def run_chain(credential: Credential, chain: list[tuple[str, int]]) -> list[httpx.Request]:
    """Send one GET to HOME whose answers redirect along `chain` (origin, status); the requests made."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if len(seen) <= len(chain):
            target, status = chain[len(seen) - 1]
            return httpx.Response(status, headers={"Location": f"{target}/hop{len(seen)}"})
        return httpx.Response(200, content=b"{}")

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as http:
            request = http.build_request("GET", f"{HOME}/start")
            response = await send(
                http, request, provider="test", policy=RetryPolicy(1, 0.0), credential=credential
            )
            assert response.status_code == 200

    asyncio.run(go())
    return seen


hops = st.tuples(st.sampled_from([HOME, SECOND_HOME, *ELSEWHERE]), st.sampled_from([301, 302, 303, 307, 308]))


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(sorted(CREDENTIALS)), chain=st.lists(hops, max_size=5))
def test_the_credential_rides_only_on_hops_of_a_chain_that_never_left_its_origins(
    kind: str, chain: list[tuple[str, int]]
) -> None:
    credential = CREDENTIALS[kind]

    seen = run_chain(credential, chain)

    assert len(seen) == len(chain) + 1
    at_home = True
    for request, target in zip(seen, [HOME, *(hop for hop, _ in chain)], strict=True):
        at_home = at_home and target in (HOME, SECOND_HOME)  # by the test's own list, not by origin()
        carried = request.headers.get(credential.header) == credential.value
        assert carried == at_home, (request.url, chain)
        if not at_home:
            assert "authorization" not in request.headers
            assert "xi-api-key" not in request.headers
            assert not any(SECRET in value or credential.value in value for value in request.headers.values())


def test_origins_compare_scheme_host_and_default_port() -> None:
    assert origin("https://api.example.com") == origin("https://api.example.com:443/x?y=1")
    assert origin("http://api.example.com") == origin("http://api.example.com:80")
    assert origin("https://api.example.com") != origin("http://api.example.com")
    assert origin("https://api.example.com") != origin("https://api.example.com:8443")
    assert origin("https://api.example.com") != origin("https://API.example.com.evil.net")


def test_a_cookie_a_provider_sets_never_rides_on_a_later_request() -> None:
    """One client serves every organisation: a provider's session cookie, set while answering one, would
    otherwise go out on the next organisation's requests (and along redirects)."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"{}", headers={"Set-Cookie": "session=org-a; Path=/"})

    async def go() -> None:
        async with build_http_client(5.0) as http:
            http._transport = httpx.MockTransport(handle)  # the network only; the client is ours as built
            for _ in range(2):
                request = http.build_request("GET", f"{HOME}/x")
                await send(
                    http,
                    request,
                    provider="test",
                    policy=RetryPolicy(1, 0.0),
                    credential=CREDENTIALS["basic"],
                )

    asyncio.run(go())
    assert len(seen) == 2
    assert "cookie" not in seen[1].headers
