"""The recording player in real headless Chromium (Debian's chromium, driven by Playwright) against the
real service: the page loads, shows the transcript, plays through the playback URL, and clicking an
utterance seeks the audio there (answered with a 206) and highlights it.

Skipped when Chromium is not installed, except under CI=true, where .ci/run installs it and a missing
browser is a failure."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, Response, async_playwright

from tests.conftest import auth, token_for
from tests.factories import make_call
from tests.processes import service_env, service_process
from tether_relay.demo import demo_audio
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

# Starts service processes, browsers or long runs: `make test` skips it; CI and `make test-all` run it.
pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ORG = "org-player"
TRANSCRIPT = [
    {"role": "agent", "message": "Hi, this is Alex from Example Corp.", "timestamp": 0.5},
    {"role": "user", "message": "Hello Alex, I am calling about my order.", "timestamp": 3.0},
    {"role": "agent", "message": "It shipped this morning.", "timestamp": 6.5},
]
SCREENSHOT = os.environ.get("TETHER_PLAYER_SCREENSHOT")  # set to refresh docs/player.png

if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


async def eventually(page: Page, expression: str, seconds: float) -> bool:
    """Poll a page expression from here (Playwright's own polling evaluates strings, which the page's
    Content-Security-Policy rightly forbids)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await page.evaluate(expression):
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_player_plays_seeks_and_highlights(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    assert CHROMIUM is not None, "CI must install Chromium (.ci/run does)"
    call = await make_call(
        runtime,
        ORG,
        audio=demo_audio(seconds=10.0),
        recording={"content_type": "audio/wav", "duration": 10.0},
        transcription_data=TRANSCRIPT,
        duration=10.0,
    )
    env = service_env(settings.database_url, settings.data_dir)
    with service_process(env, tmp_path, "player") as service:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
            )
            try:
                page = await browser.new_page()
                audio_answers: list[Response] = []
                page.on(
                    "response", lambda r: audio_answers.append(r) if "/recording/audio" in r.url else None
                )

                await page.goto(f"{service.url}/player/{call.id}#token={token_for(ORG)}")
                utterances = page.locator("#transcript li")
                await utterances.first.wait_for()
                assert await utterances.count() == 3
                assert (
                    await utterances.nth(1).inner_text()
                    == "0:03\nUser\nHello Alex, I am calling about my order."
                )

                await page.evaluate("document.getElementById('audio').play()")
                await utterances.nth(2).click()

                # Within 2 s: playing from the start could not get there, only the seek can.
                assert await eventually(page, "document.getElementById('audio').currentTime >= 6.5", 2.0)
                position = await page.evaluate("document.getElementById('audio').currentTime")
                assert 6.5 <= position < 9.0
                assert await eventually(
                    page, "document.querySelectorAll('#transcript li')[2].classList.contains('active')", 5.0
                )
                assert "active" not in (await utterances.nth(0).get_attribute("class") or "")
                assert 206 in {answer.status for answer in audio_answers}
                if SCREENSHOT:
                    await page.evaluate("document.getElementById('audio').pause()")
                    await page.screenshot(path=SCREENSHOT, full_page=True)
            finally:
                await browser.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_non_admin_plays_the_redacted_copy(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    """The organisation redacts: a USER's player shows the redacted transcript and plays the redacted copy
    through its playback link (the first read asks for the copy; the page is opened again once made)."""
    assert CHROMIUM is not None, "CI must install Chromium (.ci/run does)"
    said = [*TRANSCRIPT[:1], {"role": "user", "message": "My social is 123-45-6789.", "timestamp": 3.0}]
    call = await make_call(
        runtime,
        ORG,
        audio=demo_audio(seconds=10.0),
        recording={"content_type": "audio/wav", "duration": 10.0},
        transcription_data=said,
        duration=10.0,
    )
    env = service_env(settings.database_url, settings.data_dir, job_retry_first_seconds="0.5")
    with service_process(env, tmp_path, "player-redacted") as service:
        async with httpx.AsyncClient(base_url=service.url) as http:
            policy = {"enabled": True}
            answer = await http.post("/api/calls/redaction/config", json=policy, headers=auth(ORG))
            assert answer.status_code == 200
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
            )
            try:
                page = await browser.new_page()
                played: list[str] = []
                page.on("response", lambda r: played.append(r.url) if "/recording/audio" in r.url else None)
                utterances = page.locator("#transcript li")
                deadline = time.monotonic() + 30
                await page.goto(f"{service.url}/player/{call.id}#token={token_for(ORG, 'USER')}")
                while not await eventually(
                    page, "document.querySelectorAll('#transcript li').length > 0", 2.0
                ):
                    assert time.monotonic() < deadline, "the redacted copy was never made"
                    await page.reload()  # the same address again: a goto would only move to the fragment
                transcript = await page.locator("#transcript").inner_text()
                assert "[US_SSN]" in transcript
                assert "6789" not in transcript
                assert await utterances.count() == 2

                await page.evaluate("document.getElementById('audio').play()")
                assert await eventually(page, "document.getElementById('audio').currentTime > 0.5", 10.0)
                assert played
                source = await page.evaluate("document.getElementById('audio').currentSrc")
                async with httpx.AsyncClient() as http:
                    heard = (await http.get(source)).content
                    original = (
                        await http.get(
                            f"{service.url}/api/calls/{call.id}/recording/audio", headers=auth(ORG)
                        )
                    ).content
                assert heard != original  # the copy, not the original
            finally:
                await browser.close()
