"""The pages a browser opens (the console at `/`, the player) and their scripts: served without
credentials, with a policy that allows only their own scripts, and nothing else under /assets/."""

from __future__ import annotations

import httpx
import pytest

PAGES = ["/", "/player/any-call-id"]
SCRIPTS = ["/assets/console.js", "/assets/player.js", "/assets/transcript.js"]


@pytest.mark.parametrize("path", PAGES + SCRIPTS)
async def test_pages_and_their_scripts_carry_a_strict_policy(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert response.headers["x-content-type-options"] == "nosniff"
    if path in SCRIPTS:
        assert response.headers["content-type"].startswith("text/javascript")
    else:
        assert "<script" in response.text
        assert "<script>" not in response.text  # no inline script: the policy would refuse it


@pytest.mark.parametrize(
    "path",
    ["/assets/other.js", "/assets/console.html", "/assets/..%2Froutes%2Fpages.py", "/assets/%2E%2E%2Fapp.py"],
)
async def test_nothing_else_is_served_from_assets(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
