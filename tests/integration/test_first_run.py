"""`tether-relay serve` on an empty machine: development mode prints a curl line that works, and a link
to the console.

This starts the real command in a subprocess (uvicorn with uvloop and httptools), as `make serve` does.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.processes import service_process
from tether_relay.demo import demo_audio


def test_printed_curl_fetches_the_demo_recording(tmp_path: Path) -> None:
    env = {
        "TETHER_DATA_DIR": str(tmp_path / "var"),
        "TETHER_DATABASE_URL": f"sqlite:///{tmp_path}/var/tether.db",
        "TETHER_LOG_LEVEL": "info",
    }
    with service_process(env, tmp_path) as service:
        output = service.output()
        assert "DEVELOPMENT MODE" in output
        match = re.search(r'^curl -H "Authorization: Bearer (\S+)" (\S+)$', output, re.MULTILINE)
        assert match, output
        token, url = match.groups()
        assert url.startswith(service.url)
        # Beside it, the console signed in as the demo organisation: the token in the fragment only.
        assert f"\n{service.url}/#token={token}\n" in output
        page = httpx.get(f"{service.url}/")
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["content-security-policy"]

        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        body = response.json()
        assert body["transcriptionData"][0]["role"] == "agent"
        audio = httpx.get(body["audioUrl"])
        assert audio.status_code == 200
        assert audio.content == demo_audio()

        tampered = body["audioUrl"][:-1] + ("A" if body["audioUrl"][-1] != "A" else "B")
        assert httpx.get(tampered).status_code == 403
