"""`geosim report` pages in Debian's Chromium: they render offline, every figure loads from the
page itself, nothing runs, and no request leaves the machine (blocked and recorded if tried)."""

from __future__ import annotations

import pytest

from browser import Watch, chromium, chromium_path
from test_report import make_outputs

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    chromium_path()  # skip (or fail in CI) before simulating anything
    folder = tmp_path_factory.mktemp("report_browser")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEOSIM_SCENARIOS", str(folder))
        yield make_outputs(folder)


@pytest.mark.parametrize("kind, title", [("run", "geosim run: short_pivot, seed 1"),
                                         ("comparison", "geosim comparison: short_pivot vs "
                                                        "short_base"),
                                         ("sweep", "geosim sweep: tiny")])
def test_report_renders_offline_with_its_figures(outputs, kind, title):
    watch = Watch()
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        watch.attach(context)
        page = context.new_page()
        page.goto(outputs[f"report_{kind}"].as_uri())
        page.wait_for_load_state("load")
        assert page.title() == title  # the escaped <script> in the description did not run
        images = page.locator("img")
        assert images.count() >= 1
        for i in range(images.count()):  # every figure decoded from the page itself
            assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0"), i
        for heading in ("What was run", "Headline", "Figures", "Decisions", "Caveats"):
            assert page.get_by_role("heading", name=heading).is_visible()
        assert page.get_by_text("short_pivot is hypothetical").is_visible()
        page.locator("details summary").first.click()  # the scenario or sweep file opens
        assert page.locator("details pre").first.is_visible()
        page.wait_for_timeout(300)
        context.close()
    assert watch.external == []
    assert watch.errors == [] and watch.failed == []
    assert all(url.startswith(("file:", "data:")) for url in watch.requests), watch.requests
