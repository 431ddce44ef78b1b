"""The console at `/` in real headless Chromium (Debian's chromium, driven by Playwright) against the real
service: sign in, list, filter, search a phrase, open the hit (the audio seeks to the utterance that
matched), delete as an admin; a USER sees no delete button and is refused if it tries anyway; a link
carrying the token in its fragment signs in and leaves no token in the address bar; a phone's width.

Skipped when Chromium is not installed, except under CI=true (as tests/e2e/test_player.py)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.conftest import auth, token_for
from tests.e2e.test_player import CHROMIUM, eventually
from tests.factories import make_call
from tests.processes import service_env, service_process
from tether_relay.calls.models import Call
from tether_relay.demo import demo_audio
from tether_relay.runtime import Runtime
from tether_relay.settings import Settings

# Starts service processes, browsers or long runs: `make test` skips it; CI and `make test-all` run it.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

ORG, OTHER = "org-console", "org-elsewhere"
SCREENSHOTS = os.environ.get("TETHER_CONSOLE_SCREENSHOTS")  # a folder: refreshes docs/console*.png


def said(*messages: str) -> list[dict[str, object]]:
    return [
        {"role": "agent" if i % 2 == 0 else "user", "message": m, "timestamp": 3.0 * i, "end": 3.0 * i + 2.5}
        for i, m in enumerate(messages)
    ]


async def calls(runtime: Runtime) -> dict[str, Call]:
    async def make(organization: str, day: int, status: str, *messages: str) -> Call:
        return await make_call(
            runtime,
            organization,
            audio=demo_audio(seconds=12.0),
            recording={"content_type": "audio/wav", "duration": 12.0},
            transcription_data=said(*messages),
            duration=12.0,
            status=status,
            start_time=datetime(2026, 11, day, 9, 30, tzinfo=UTC),
            from_number=f"+1415555{day:04d}",
        )

    return {
        "cancel": await make(
            ORG,
            20,
            "completed",
            "Thanks for calling, how can I help?",
            "Hi, I have a question about billing.",
            "Sure, what is it?",
            "I would like to cancel my subscription, please.",
        ),
        "parcel": await make(ORG, 21, "completed", "Hello.", "Where is my parcel?", "It left today."),
        "failed": await make(ORG, 22, "failed", "Hello?"),
        "theirs": await make(OTHER, 23, "completed", "Please cancel my subscription."),
    }


async def sign_in(page: Page, url: str, role: str = "ADMIN") -> None:
    await page.goto(f"{url}/")
    await page.fill("#token", token_for(ORG, role))
    await page.click("#signin-form button[type=submit]")
    await page.locator("#results li").first.wait_for()


@dataclass
class Console:
    """The service (calls made, as `calls` makes them) and a browser to open its console in."""

    url: str
    browser: Browser
    made: dict[str, Call]


@pytest.fixture
async def console(runtime: Runtime, settings: Settings, tmp_path: Path) -> AsyncIterator[Console]:
    assert CHROMIUM is not None, "CI must install Chromium (.ci/run does)"
    made = await calls(runtime)
    env = service_env(settings.database_url, settings.data_dir)
    with service_process(env, tmp_path, "console") as service:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
            )
            try:
                yield Console(service.url, browser, made)
            finally:
                await browser.close()


async def test_an_admin_finds_plays_and_deletes_a_call(console: Console) -> None:
    page = await console.browser.new_page()
    await sign_in(page, console.url)
    rows = page.locator("#results li")

    # The history, newest first; the other organisation's call is not there.
    assert await rows.count() == 3
    listed = [await rows.nth(i).get_attribute("data-call-id") for i in range(3)]
    assert listed == [console.made["failed"].id, console.made["parcel"].id, console.made["cancel"].id]
    assert "3 of 3" in await page.inner_text("#summary")

    # A filter narrows it, and clearing it brings the rest back.
    await page.select_option("#status", "failed")
    assert await eventually(page, "document.querySelectorAll('#results li').length === 1", 5)
    await page.select_option("#status", "")
    assert await eventually(page, "document.querySelectorAll('#results li').length === 3", 5)

    # A phrase, typed and submitted from the keyboard.
    await page.focus("#q")
    await page.keyboard.type("cancel my subscription")
    await page.keyboard.press("Enter")
    assert await eventually(page, "document.querySelectorAll('#results li').length === 1", 5)
    assert await rows.first.get_attribute("data-call-id") == console.made["cancel"].id
    assert await page.inner_text("#results mark") == "cancel my subscription"
    if SCREENSHOTS:
        await page.screenshot(path=f"{SCREENSHOTS}/console.png", full_page=True)

    # Opening the hit (Enter on the focused match) seeks to the utterance that matched (9.0 s).
    await page.focus("#results .match")
    await page.keyboard.press("Enter")
    await page.locator("#transcript li").first.wait_for()
    assert await eventually(page, "document.getElementById('audio').currentTime >= 9.0", 5)
    assert await page.evaluate("document.getElementById('audio').currentTime") < 10.5
    assert await eventually(
        page, "document.querySelectorAll('#transcript li')[3].classList.contains('active')", 5
    )
    assert console.made["cancel"].id in await page.inner_text("#facts")
    if SCREENSHOTS:
        await page.screenshot(path=f"{SCREENSHOTS}/console-call.png", full_page=True)

    # Deleting asks first, then shows the receipt.
    await page.click("#delete")
    assert await page.is_visible("#confirm")
    await page.click("#confirm-delete")
    await page.locator("#receipt").wait_for()
    receipt = await page.inner_text("#receipt")
    assert "deleted" in receipt
    assert "user-1" in receipt
    assert await page.locator("#transcript li").count() == 0

    # Back in the list, the phrase finds nothing any more.
    await page.click("#back")
    await page.click("#search button[type=submit]")
    assert await eventually(page, "document.querySelectorAll('#results li').length === 0", 5)
    assert "Nothing found" in await page.inner_text("#summary")
    async with httpx.AsyncClient(base_url=console.url) as http:
        gone = await http.get(f"/api/calls/{console.made['cancel'].id}/recording", headers=auth(ORG))
        assert gone.json()["code"] == "RECORDING_DELETED"


async def test_a_user_gets_no_delete_button_and_is_refused_if_it_tries(console: Console) -> None:
    page = await console.browser.new_page()
    await sign_in(page, console.url, "USER")
    await page.click(f"#results li[data-call-id='{console.made['parcel'].id}'] .open")
    await page.locator("#transcript li").first.wait_for()
    assert not await page.is_visible("#delete")
    # Forced from the page itself, with the token it holds: the service refuses.
    status = await page.evaluate(
        """async ([id, token]) => (await fetch(`/api/calls/${id}/recording`,
            {method: "DELETE", headers: {Authorization: `Bearer ${token}`}})).status""",
        [console.made["parcel"].id, token_for(ORG, "USER")],
    )
    assert status == 403
    async with httpx.AsyncClient(base_url=console.url) as http:
        kept = await http.get(f"/api/calls/{console.made['parcel'].id}/recording", headers=auth(ORG))
        assert kept.status_code == 200


async def test_a_link_signs_in_without_leaving_its_token_and_a_phone_can_read_it(console: Console) -> None:
    phone = await console.browser.new_page(viewport={"width": 360, "height": 740})
    await phone.goto(f"{console.url}/#token={token_for(ORG)}")
    await phone.locator("#results li").first.wait_for()
    assert await phone.evaluate("location.href") == f"{console.url}/"
    assert await phone.evaluate("localStorage.length + sessionStorage.length") == 0
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await phone.click("#results li .open")
    await phone.locator("#transcript li").first.wait_for()
    assert await phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Signing out forgets the token and leaves nothing of the session for the next person.
    await phone.click("#back")
    await phone.fill("#q", "parcel")
    await phone.click("#signout")
    assert await phone.is_visible("#signin")
    assert await phone.evaluate("document.getElementById('q').value") == ""
    for shown in ("#results li", "#facts dt", "#transcript li"):
        assert await phone.locator(shown).count() == 0
