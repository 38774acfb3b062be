"""`geosim viz` in a real headless Chromium: offline load, Step, Play, levers + Reset, sessions.

One server (`geosim viz --scenario pivot` on a free 127.0.0.1 port) serves the whole module and
is stopped with Ctrl-C at the end; every test opens its own browser context (its own session).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from browser import Watch, chromium, chromium_path, viz_server

pytestmark = pytest.mark.browser
# The docs' screenshot is refreshed only on request (GEOSIM_UPDATE_SCREENSHOT=1), so a test run
# does not leave the tracked image modified; otherwise it goes to results/.
ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = (ROOT / "docs" / "img" / "viz.png" if os.environ.get("GEOSIM_UPDATE_SCREENSHOT")
              else ROOT / "results" / "viz.png")
LOAD_TIMEOUT_MS = 90_000
STEP_TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def server():
    chromium_path()  # skip (or fail in CI) before starting anything
    with viz_server("--scenario", "pivot") as running:
        yield running
    assert running.process.returncode == 0, running.output()
    assert "stopped" in running.output()


@pytest.fixture(scope="module")
def browser(server):
    with chromium() as b:
        yield b


def open_page(browser, server, watch: Watch | None = None):
    """A new session (browser context) on the page, waited for until the model is drawn."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1440, "height": 960})
    if watch is not None:
        watch.attach(context)
    page = context.new_page()
    page.goto(server.url)
    expect(year(page)).to_have_text("2023", timeout=LOAD_TIMEOUT_MS)
    expect(page.locator("img")).to_have_count(2, timeout=LOAD_TIMEOUT_MS)  # map and charts
    return page


def year(page):
    return page.locator(".geosim-year")


def outcome(page) -> str:
    return page.locator(".geosim-outcome").inner_text()


def step(page, to_year: int) -> float:
    """Click Step until the page shows `to_year`; return the seconds of the last click.

    The year is polled on every animation frame, so the time is that of click to new page.
    """
    elapsed = 0.0
    while int(year(page).inner_text()) < to_year:
        shown = int(year(page).inner_text())
        start = time.perf_counter()
        page.get_by_role("button", name="Step").click()
        page.wait_for_function(
            f"() => document.querySelector('.geosim-year').textContent === '{shown + 1}'",
            polling="raf", timeout=STEP_TIMEOUT_MS)
        elapsed = time.perf_counter() - start
    return elapsed


def test_page_loads_offline_without_console_errors(browser, server):
    watch = Watch()
    page = open_page(browser, server, watch)
    for control in ("Reset", "Step"):
        assert page.get_by_role("button", name=control).is_visible()
    assert page.get_by_role("slider", name="US-China tariff, ±pp").count() == 1
    assert "Latin America & Caribbean: China" in outcome(page)
    page.wait_for_timeout(500)  # late console errors
    assert watch.errors == []
    assert watch.failed == []
    assert watch.external == []  # nothing left 127.0.0.1 (blocked and recorded if tried)
    assert any("/_solara/cdn/" in url for url in watch.requests)  # assets served locally
    page.context.close()


def test_step_advances_the_year_shown_and_redraws(browser, server):
    from playwright.sync_api import expect

    page = open_page(browser, server)
    first_map = page.locator("img").first.get_attribute("src")
    step(page, 2024)
    # the new map follows the year within the same redraw (a separate widget message)
    expect(page.locator("img").first).not_to_have_attribute("src", first_map, timeout=5000)
    seconds = [step(page, y) for y in range(2025, 2029)]
    print(f"click Step to new year on the page: {sorted(seconds)[len(seconds) // 2]:.2f} s"
          f" (median of {len(seconds)})")
    page.context.close()


def test_play_runs_until_paused(browser, server):
    from playwright.sync_api import expect

    page = open_page(browser, server)
    page.get_by_role("button", name="▶").click()
    expect(year(page)).to_have_text(re.compile(r"202[6-9]|20[34]\d"), timeout=60_000)
    page.get_by_role("button", name="❚❚").click()
    page.wait_for_timeout(1500)
    paused = year(page).inner_text()
    page.wait_for_timeout(1500)
    assert year(page).inner_text() == paused
    page.context.close()


def test_a_lever_then_reset_changes_the_outcome(browser, server):
    from playwright.sync_api import expect

    page = open_page(browser, server)
    step(page, 2026)
    before = outcome(page)
    tariff = page.get_by_role("slider", name="US-China tariff, ±pp")
    tariff.focus()
    tariff.press("End")  # +100 pp both ways in 2025
    expect(tariff).to_have_attribute("aria-valuenow", "100")
    assert year(page).inner_text() == "2026"  # a lever alone does not touch the running model
    page.get_by_role("button", name="Reset").click()
    expect(year(page)).to_have_text("2023", timeout=STEP_TIMEOUT_MS)
    expect(page.locator(".geosim-levers")).to_contain_text("+100 pp")
    step(page, 2026)
    assert outcome(page) != before
    page.context.close()


def test_two_sessions_have_independent_models(browser, server):
    a = open_page(browser, server)
    b = open_page(browser, server)
    step(a, 2025)
    assert year(b).inner_text() == "2023"
    step(b, 2024)
    assert year(a).inner_text() == "2025"
    a.reload()  # a new session: a new model, from the start
    from playwright.sync_api import expect

    expect(year(a)).to_have_text("2023", timeout=LOAD_TIMEOUT_MS)
    assert year(b).inner_text() == "2024"
    a.context.close()
    b.context.close()


def test_screenshot_for_the_docs(browser, server):
    page = open_page(browser, server)
    page.set_viewport_size({"width": 1440, "height": 1120})  # down to the accession decisions
    step(page, 2030)
    page.wait_for_timeout(800)  # let the images paint
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 50_000
    page.context.close()
