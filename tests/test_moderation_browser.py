"""The review queue panel in a real headless Chromium: held messages are listed with category,
score and reason; clicking deny executes the action and the item disappears; new holds appear live."""
import time

import pytest

from companion.moderation import ModerationPolicy, ModerationService
from dashboards import DashboardServer
from test_dashboard_api import FakeEngine
from test_dashboard_browser import ARGS, CHROMIUM, wait_for
from tests.moderation_fakes import chat, tox_record
from tests.test_moderation_queue import RecordingBackend

XSS = '<img src=x onerror="window.__xss=1"> you idiot'
pytestmark = [
    pytest.mark.browser, pytest.mark.timeout(90),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


async def test_review_queue_deny_in_chromium(tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api")
    engine = FakeEngine(tmp_path, character=False)  # moderation needs no character
    service = engine.moderation = ModerationService(ModerationPolicy(levels={"insult": 1, "threat": 1}), tmp_path,
                                                    moderate=True)
    backend = RecordingBackend()
    service.register_backend("twitch", backend)
    service.suggest(chat(XSS, user="mallory", msg_id="m-xss"), tox_record(XSS, insult=0.94), ts=time.time())
    service.suggest(chat("i will find you", user="eve", msg_id="m-threat"), tox_record("i will find you", threat=0.91),
                    ts=time.time())
    server = DashboardServer(engine, port=0, push_interval_s=0.3)
    await server.start()
    errors: list[str] = []
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1100})
            page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            await page.goto(f"http://127.0.0.1:{server.port}/")
            items = page.locator("#review li.held")
            await wait_for(lambda: _count(items, 2), what="two held messages")
            xss = page.locator("#review li", has_text="onerror")
            assert await xss.locator(".text").text_content() == XSS
            assert await page.locator("#review img").count() == 0
            assert await xss.locator(".category").text_content() == "insult"
            assert await xss.locator(".score").text_content() == "0.94"
            assert "level 1" in await xss.locator(".level").text_content()
            assert "insult 0.94" in await xss.locator(".reason").text_content()

            await xss.locator("button.deny").click()
            await wait_for(lambda: _count(items, 1), what="denied item gone")
            await wait_for(lambda: _async(backend.calls == [("delete", "m-xss", "chan", None)]), what="delete executed")
            assert "executed" in await page.locator("#review-status").text_content()
            assert len(service.queue) == 1

            # A new hold shows up without a reload; approve leaves it in chat.
            service.suggest(chat("ur so bad", user="zed", msg_id="m-new"), tox_record("ur so bad", insult=0.95),
                            ts=time.time())
            await wait_for(lambda: _count(page.locator("#review li", has_text="ur so bad"), 1), what="live hold")
            await page.locator("#review li", has_text="ur so bad").locator("button.approve").click()
            await wait_for(lambda: _count(page.locator("#review li", has_text="ur so bad"), 0), what="approved gone")
            assert len(backend.calls) == 1
            assert await page.evaluate("window.__xss") is None
            assert errors == [], errors
        finally:
            await browser.close()
            await server.stop()
            engine.analytics.close()
            await service.close()


async def _count(locator, n):
    return await locator.count() == n


async def _async(value):
    return value
