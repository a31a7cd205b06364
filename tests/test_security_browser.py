"""Issue 13 in a real headless Chromium: a page from another origin on loopback can neither post a
chat line nor read the live feed, and a DNS-rebinding name reaches nothing (real engine, real
dashboard server, Debian's /usr/bin/chromium driven by Playwright)."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiohttp import web

from companion.engine import Engine, EngineConfig
from pipelines.noop_analyzer import NoopAnalyzer

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--host-resolver-rules=MAP rebind.test 127.0.0.1"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
]

EVIL_PAGE = """<!doctype html><html><body>
<form id="f" method="POST" enctype="text/plain" action="TARGET/api/messages" target="sink">
<input name='{"messages":[{"text":"form injected","x":"' value='"}]}'></form>
<iframe name="sink"></iframe>
<script>
window.results = {};
const target = "TARGET";
const body = JSON.stringify({messages: [{text: "injected by a web page", user: "mallory"}]});
async function attempt(name, fn) {
  try { window.results[name] = await fn(); } catch (e) { window.results[name] = "blocked"; }
}
(async () => {
  await attempt("plain", async () => (await fetch(target + "/api/messages",
      {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body})).type);
  await attempt("bare", async () => (await fetch(target + "/api/messages",
      {method: "POST", mode: "no-cors", body})).type);
  await attempt("json", async () => (await fetch(target + "/api/messages",
      {method: "POST", headers: {"Content-Type": "application/json"}, body})).status);
  await attempt("reply", async () => (await fetch(target + "/api/replies",
      {method: "POST", mode: "no-cors", body: JSON.stringify({channel: "c", text: "hi"})})).type);
  await attempt("state", async () => await (await fetch(target + "/api/state")).text());
  document.getElementById("f").submit();
  const ws = new WebSocket(target.replace("http", "ws") + "/ws");
  ws.onmessage = (ev) => { window.results.ws = "read: " + String(ev.data).slice(0, 40); };
  ws.onerror = () => { if (!window.results.ws) window.results.ws = "error"; };
  ws.onclose = () => { window.results.wsClosed = true; };
  setTimeout(() => { window.results.done = true; }, 1500);
})();
</script></body></html>"""


async def test_cross_origin_page_can_neither_post_nor_read(tmp_path: Path) -> None:
    playwright_api = pytest.importorskip("playwright.async_api")
    engine = Engine(EngineConfig(data_dir=tmp_path, port=0), analyzer=NoopAnalyzer())
    task = asyncio.create_task(engine.run([], serve=True, install_signals=False))
    for _ in range(500):
        if engine.dashboard is not None and engine.dashboard.port:
            break
        await asyncio.sleep(0.01)
    target = f"http://127.0.0.1:{engine.dashboard.port}"

    async def evil(_request: web.Request) -> web.Response:
        return web.Response(text=EVIL_PAGE.replace("TARGET", target), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", evil)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    evil_url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        async with playwright_api.async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            try:
                page = await browser.new_page()
                await page.goto(evil_url)
                deadline = time.monotonic() + 20
                while not await page.evaluate("window.results && window.results.done === true"):
                    assert time.monotonic() < deadline, "the attack page never finished"
                    await asyncio.sleep(0.1)
                results = await page.evaluate("window.results")
                assert not str(results.get("ws", "")).startswith("read"), results
                assert results["state"] == "blocked", results  # no CORS grant: nothing readable
                assert results["json"] == "blocked", results  # the preflight gets no CORS grant
                # Rebinding: the attacker's own name now points at 127.0.0.1.
                resp = await page.goto(f"http://rebind.test:{engine.dashboard.port}/api/state")
                assert resp.status == 421
                assert "uptime_s" not in await page.content()
            finally:
                await browser.close()
        await asyncio.sleep(0.3)
        assert engine.runtime.accepted == 0, "a cross-origin page injected chat"
    finally:
        await runner.cleanup()
        engine.stop()
        await asyncio.wait_for(task, 30)
