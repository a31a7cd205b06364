"""The dashboard in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)."""
import asyncio
import time
from pathlib import Path

import pytest

from companion.analytics.synthetic import make_event, steady_stream
from dashboards import DashboardServer
from test_dashboard_api import FakeEngine

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
XSS = '<img src=x onerror="window.__xss=1">'
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium (make system-deps)"),
]


async def wait_for(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_dashboard_live_in_chromium(tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api")
    engine = FakeEngine(tmp_path)
    now = time.time()
    await engine.feed(list(steady_stream(now - 240, 240, 0.5, seed=1)))
    server = DashboardServer(engine, port=0, push_interval_s=0.3)
    await server.start()
    port = server.port
    errors: list[str] = []
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1100})
            page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
            await page.goto(f"http://127.0.0.1:{port}/")
            conn = page.locator("#conn")
            await wait_for(lambda: _text_is(conn, "live"), what="websocket open")
            await wait_for(lambda: _int(page, "#c-total", lambda n: n == 120), what="initial counter")
            assert int(await page.locator("#chart-rate").get_attribute("data-points") or 0) > 0
            assert await page.locator("#chart-rate canvas").count() == 1

            # Live updates: counters, feed, chart.
            points_before = int(await page.locator("#chart-rate").get_attribute("data-points"))
            t = time.time()
            live = [make_event(t + i * 0.01, f"fan{i}", f"great play number {i}", sentiment=0.7) for i in range(15)]
            live.append(make_event(t + 0.5, "mallory", XSS, sentiment=-0.6, toxic=True))
            await engine.feed(live)
            await wait_for(lambda: _int(page, "#c-total", lambda n: n == 136), what="counter update")
            feed_item = page.locator("#feed li", has_text="onerror")
            await wait_for(lambda: _count(feed_item, 1), what="xss message in feed")
            assert await feed_item.locator(".text").text_content() == XSS
            assert await page.locator("#feed img").count() == 0
            assert await page.evaluate("window.__xss") is None
            assert "toxic" in (await feed_item.get_attribute("class")) and await feed_item.locator(".flag").count() == 1
            assert "s-positive" in await page.locator("#feed li", has_text="great play number 3").get_attribute("class")
            await wait_for(lambda: _attr_int(page, "#chart-rate", "data-points", lambda n: n >= points_before),
                           what="chart redraw")

            # Alerts, recommendations and mood pushed over the bus.
            engine.bus.publish("alerts", {"ts": time.time(), "channel": "demo", "kind": "spam_wave", "label": "Spam wave",
                                          "reason": "8 near-duplicate messages <script>", "severity": "warning", "id": "a1"})
            engine.bus.publish("recommendations", {"id": "r1", "tone": "hyped", "created_at": time.time(),
                                                   "picks": [{"user": "fan3", "text": "great play number 3"}]})
            engine.bus.publish("mood", {
                "neurochemicals": {"dopamine": 0.8, "serotonin": 0.6, "cortisol": 0.1, "oxytocin": 0.5},
                "baseline": {"dopamine": 0.45, "serotonin": 0.55, "cortisol": 0.15, "oxytocin": 0.4},
                "pad": {"pleasure": 0.5, "arousal": 0.7, "dominance": 0.2}, "expression": "joy",
                "sampling": {"temperature": 0.9}, "conditioning": "<DA=0.80><SE=0.60>"})
            await wait_for(lambda: _count(page.locator("#alerts li", has_text="near-duplicate messages <script>"), 1),
                           what="alert")
            await wait_for(lambda: _count(page.locator("#recs li", has_text="hyped"), 1), what="recommendation")
            await wait_for(lambda: _count(page.locator("#mood meter"), 7), what="mood gauges")

            # Viewer drawer from the fake memory store.
            await page.locator("#feed li", has_text="great play number 3").locator("button.user").click()
            await wait_for(lambda: _count(page.locator("#drawer-memories li", has_text="likes cozy games"), 1),
                           what="viewer drawer")
            assert await page.locator("#drawer-neighbours li", has_text="cozy games").count() == 1
            await page.locator("#drawer-close").click()

            assert errors == [], errors
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

            # Restart the server on the same port: the page reconnects on its own.
            await server.stop()
            await wait_for(lambda: _text_is(conn, "reconnecting…"), what="disconnect noticed")
            server = DashboardServer(engine, port=port, push_interval_s=0.3)
            await server.start()
            await wait_for(lambda: _attr_int(page, "#conn", "data-opens", lambda n: n == 2), timeout=20,
                           what="websocket reconnect")
            await engine.feed([make_event(time.time(), "latecomer", "back after the restart")])
            await wait_for(lambda: _count(page.locator("#feed li", has_text="back after the restart"), 1),
                           what="feed after reconnect")
            assert await page.evaluate("window.__xss") is None
        finally:
            await browser.close()
            await server.stop()
            engine.analytics.close()


async def _text_is(locator, text):
    return (await locator.text_content()) == text


async def _count(locator, n):
    return await locator.count() == n


async def _int(page, selector, ok):
    txt = await page.locator(selector).text_content()
    return txt.isdigit() and ok(int(txt))


async def _attr_int(page, selector, attr, ok):
    v = await page.locator(selector).get_attribute(attr)
    return v is not None and v.isdigit() and ok(int(v))


CHART_IDS = ("chart-rate", "chart-sentiment", "chart-emotion")


async def _chart_x_ranges(page) -> dict[str, tuple[float, float]]:
    out = {}
    for cid in CHART_IDS:
        box = page.locator(f"#{cid}")
        lo, hi = await box.get_attribute("data-x-min"), await box.get_attribute("data-x-max")
        out[cid] = (float(lo), float(hi)) if lo not in (None, "null") and hi not in (None, "null") else None
    return out


@pytest.mark.parametrize("minutes", [1, 4])
async def test_every_chart_x_range_matches_the_replay_span(tmp_path, minutes):
    """Every chart's time axis covers the replayed chat (epoch seconds), not decades: with a single
    closed minute the emotion chart used to span 2027-2029."""
    playwright_api = pytest.importorskip("playwright.async_api")
    engine = FakeEngine(tmp_path)
    now = time.time()
    start = (now // 60) * 60 - 60 * minutes + 5  # `minutes` closed minute bins, the current one open
    await engine.feed(list(steady_stream(start, int(now - start), 0.5, seed=2)))
    server = DashboardServer(engine, port=0, push_interval_s=0.3)
    await server.start()
    try:
        async with playwright_api.async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 1100})
                await page.goto(f"http://127.0.0.1:{server.port}/")
                await wait_for(lambda: _attr_int(page, "#chart-rate", "data-points", lambda n: n > 0),
                               what="charts drawn")

                async def all_drawn():
                    return all(v is not None for v in (await _chart_x_ranges(page)).values())
                await wait_for(all_drawn, what="every chart's x range")
                horizon_s = engine.analytics.horizon_min * 60
                for cid, (lo, hi) in (await _chart_x_ranges(page)).items():
                    # the replay spans [start, now]; the axis may add a bin or the forecast horizon
                    assert start - 600 <= lo <= now, (cid, lo, start)
                    assert now - 120 <= hi <= now + horizon_s + 600, (cid, hi, now)
                    assert hi - lo <= (now - start) + horizon_s + 1200, (cid, hi - lo)
            finally:
                await browser.close()
    finally:
        await server.stop()
        engine.analytics.close()
