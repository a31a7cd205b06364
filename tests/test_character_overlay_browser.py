"""GET /overlay (the OBS browser source) on the real engine, in headless Chromium: transparent
background, live expression, mood gauges, the current pick and the streamed reply."""
from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import aiohttp
import pytest

from tests.character_stack import ChatSink, post_messages, running_engine
from tests.llm_fake_server import FakeLLM

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
XSS = '<img src=x onerror="window.__xss=1">'

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")]


async def attr_is(page, selector: str, attr: str, ok, timeout: float = 15.0) -> None:
    """Poll an attribute (the page's CSP forbids the eval that wait_for_function needs)."""
    deadline = time.monotonic() + timeout
    while not ok(await page.locator(selector).get_attribute(attr)):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {selector}[{attr}]")
        await asyncio.sleep(0.1)


async def test_overlay_follows_the_live_engine(tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api")
    llm = await FakeLLM("Celeste, for sure! The music is amazing.").start()
    (tmp_path / "character").mkdir()
    (tmp_path / "character" / "character.json").write_text('{"reply": {"min_interval_s": 0, "viewer_cooldown_s": 0}}')
    try:
        async with running_engine(tmp_path, sources=[("chat", ChatSink())], analytics=False, memory=False,
                                  llm=f"openai:{llm.url}") as (engine, url):
            async with playwright_api.async_playwright() as p:
                browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
                try:
                    page = await browser.new_page(viewport={"width": 480, "height": 520})
                    errors: list[str] = []
                    page.on("pageerror", lambda e: errors.append(str(e)))
                    await page.goto(f"{url}/overlay")
                    await page.wait_for_selector('#overlay[data-connected="1"]', timeout=10000)
                    bg = await page.evaluate("getComputedStyle(document.body).backgroundColor")
                    html_bg = await page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
                    assert bg == "rgba(0, 0, 0, 0)" and html_bg == "rgba(0, 0, 0, 0)"
                    assert await page.locator(".gauge").count() == 4
                    await attr_is(page, '.gauge[data-name="dopamine"]', "data-value", lambda v: v is not None)

                    async with aiohttp.ClientSession() as http:
                        await post_messages(http, url, [{"platform": "twitch", "channel": "#aiko_live", "user": "alice_w",
                                                         "text": f"Aiko what is your favourite game? {XSS}",
                                                         "id": "a1", "ts": time.time()}])
                    await attr_is(page, "#pick", "data-message-id", lambda v: v == "a1")
                    assert await page.locator("#pick-user").text_content() == "alice_w"
                    assert XSS in await page.locator("#pick-text").text_content()
                    assert await page.locator("#pick img").count() == 0
                    await attr_is(page, "#reply", "data-status", lambda v: v == "draft")
                    assert (await page.locator("#reply").text_content()).startswith("Celeste, for sure!")

                    engine.character.expression.since -= 60  # past the current face's minimum dwell
                    engine.character.update_emotion("joy", 1.0)
                    await attr_is(page, "body", "data-expression", lambda v: v == "joy")
                    da = float(await page.locator('.gauge[data-name="dopamine"]').get_attribute("data-value"))
                    assert abs(da - engine.character.mood_state()["neurochemicals"]["dopamine"]) < 0.05
                    assert await page.evaluate("window.__xss") is None and errors == []
                    shot = Path(os.environ.get("COMPANION_ARTIFACTS", tmp_path)) / "overlay.png"
                    await page.screenshot(path=str(shot), omit_background=True)
                finally:
                    await browser.close()
    finally:
        await llm.stop()
