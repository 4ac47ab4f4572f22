"""The overview's date picker in a real browser (Debian's Chromium driven by Playwright): pick a day with the
keyboard-fillable date field, see the page say "as of" that day with that day's rate, and come back to today."""

from __future__ import annotations

import re

from api.fixtures import PASSWORD, Workspace, running_server
from web.test_browser import ARGS, CHROMIUM, _need_chromium, _rate


def test_pick_a_day_see_it_as_of_then_and_come_back(ws: Workspace) -> None:
    _need_chromium()
    from playwright.sync_api import expect, sync_playwright

    with running_server(ws) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(locale="en-CA", extra_http_headers={"Accept-Language": "en-CA,en;q=0.9"})
            page.goto(base + "/")
            page.get_by_label("User name").fill("analyst")
            page.get_by_label("Password").fill(PASSWORD)
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
            today = _rate(page.locator("#rate").inner_text())
            expect(page.locator("#as-of-banner")).to_have_count(0)

            page.get_by_label("Figures as of").fill("2023-03-01")
            page.get_by_role("button", name="Show").click()
            expect(page).to_have_url(re.compile(r"as_of=2023-03-01"))
            expect(page.locator("#as-of-banner")).to_contain_text("as of 2023-03-01")
            expect(page.get_by_label("Figures as of")).to_have_value("2023-03-01")
            then = _rate(page.locator("#rate").inner_text())
            assert then < today, "the demo fleet improves between its two imports"
            assert page.locator("#trend-chart rect").count() == 1, "the trend stops on the picked day"

            page.get_by_role("link", name="Back to today").click()
            expect(page.locator("#as-of-banner")).to_have_count(0)
            assert _rate(page.locator("#rate").inner_text()) == today
        finally:
            browser.close()
