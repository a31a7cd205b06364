"""The memory inspector in the viewer drawer, in a real headless Chromium against a real
DashboardServer and a real MemoryStore: profile, facts, memories with score parts, episodes and
graph neighbours are shown; edit, pin, forget and "pin a fact" change the store."""
import time

import pytest

from dashboards import DashboardServer
from memory_store import MemoryConfig, MemoryStore
from test_dashboard_api import FakeEngine
from test_dashboard_browser import ARGS, CHROMIUM, wait_for
from tests.memory_fakes import HashEmbed, event

XSS = '<img src=x onerror="window.__xss=1"> my cat is called Mochi'
pytestmark = [
    pytest.mark.browser, pytest.mark.timeout(120),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]


async def _count(locator, n):
    return await locator.count() == n


async def test_inspector_in_chromium(tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api")
    engine = FakeEngine(tmp_path / "engine")
    now = time.time()
    store = engine.memory = MemoryStore(tmp_path / "mem", embed=HashEmbed(), clock=lambda: now,
                                        config=MemoryConfig(episode_gap_s=5))
    lines = [XSS, "I love cozy games like Stardew Valley", "I could eat ramen every single day",
             "i could eat RAMEN every single day!!", "@bob want to play Stardew Valley later"]
    for i, t in enumerate(lines):  # one message per batch, as a slow chat arrives
        store.remember([event(t, user="alice", ts=now - 100 + i, mid=f"a{i}", importance=0.6)])
    store.remember([event("sure, after dinner", user="bob", ts=now - 50, mid="b1", reply_to_user="alice")])
    store.close_episodes()
    server = DashboardServer(engine, port=0, push_interval_s=0.3)
    await server.start()
    errors: list[str] = []
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1400})
            page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            await page.goto(f"http://127.0.0.1:{server.port}/")
            feed = page.locator("#feed li", has_text="hello again chat")
            for i in range(50):  # the live feed shows records published while the page listens
                await engine.feed([event("hello again chat", user="alice", ts=now, mid=f"feed{i}")])
                if await feed.count():
                    break
                await page.wait_for_timeout(200)
            await page.locator("#feed li", has_text="hello again chat").first.locator("button.user").click()
            insp = page.locator("#inspector")
            mems = insp.locator(".inspector-memories li.memory")
            await wait_for(lambda: _count(mems, 4), what="four memories (the ramen repeat merged)")
            assert await insp.locator(".inspector-profile dd").first.text_content()
            fact = insp.locator(".inspector-facts li.fact[data-key=pet_cat] .fact-value")
            assert await fact.text_content() == "Mochi"
            xss = mems.filter(has_text="onerror")
            assert await xss.locator(".memory-text").text_content() == XSS  # shown as text
            assert await page.locator("#inspector img").count() == 0
            assert "fact pet_cat" in await xss.locator(".memory-meta").text_content()
            ramen = mems.filter(has_text="ramen")
            assert "said 2×" in await ramen.locator(".memory-meta").text_content()
            assert await ramen.locator(".part[data-part=recency]").count() == 1
            assert await insp.locator(".inspector-episodes li.episode", has_text="alice").count() >= 1
            assert await insp.locator(".inspector-graph li.neighbour", has_text="bob").count() >= 1

            # Ranking for a question shows the hybrid score parts.
            await insp.locator(".inspector-q").fill("what cozy games does alice like")
            await insp.locator(".inspector-search button").click()
            await wait_for(lambda: _count(insp.locator("h3", has_text="Memories for"), 1), what="ranked")
            top = insp.locator(".inspector-memories li.memory").first
            assert "Stardew" in await top.locator(".memory-text").text_content()
            for part in ("relevance", "lexical", "dense", "graph", "fusion"):
                assert await top.locator(f".part[data-part={part}]").count() == 1

            # Edit, pin, forget: each changes the store.
            await insp.locator(".inspector-q").fill("")
            await insp.locator(".inspector-search button").click()  # an empty question lists them all
            await wait_for(lambda: _count(insp.locator("h3", has_text="Memories for"), 0), what="listed")
            await wait_for(lambda: _count(mems, 4), what="reloaded")
            row = mems.filter(has_text="cozy games")
            mid = int(await row.get_attribute("data-id"))
            row = insp.locator(f"li.memory[data-id='{mid}']")
            await row.locator("button.edit").click()
            await row.locator("input.memory-edit").fill("I love cozy farming games like Stardew Valley")
            await row.locator("button.save").click()
            await wait_for(lambda: _count(mems.filter(has_text="cozy farming"), 1), what="edited")
            assert store.memory(mid).text == "I love cozy farming games like Stardew Valley"
            await mems.filter(has_text="cozy farming").locator("button.pin").click()
            await wait_for(lambda: _count(insp.locator("li.memory.pinned", has_text="cozy farming"), 1), what="pinned")
            assert store.memory(mid).pinned and store.memory(mid).tier == "core"
            await mems.filter(has_text="ramen").locator("button.forget").click()
            await wait_for(lambda: _count(mems, 3), what="forgotten")
            assert not any("ramen" in m["text"] for m in store.viewer_memories("twitch:alice"))
            # Pin a fact (a correction of pet_cat).
            await insp.locator(".fact-key-input").fill("pet_cat")
            await insp.locator(".fact-value-input").fill("Moshi")
            await insp.locator(".fact-form button").click()
            await wait_for(lambda: _count(insp.locator("li.fact[data-key=pet_cat]", has_text="Moshi"), 1),
                           what="fact pinned")
            assert store.facts("twitch:alice")["pet_cat"] == "Moshi"
            assert await page.evaluate("window.__xss") is None
            assert errors == [], errors
        finally:
            await browser.close()
            await server.stop()
            engine.analytics.close()
            store.close()
