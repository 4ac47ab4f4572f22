"""The dashboard in a real browser (Debian's Chromium driven by Playwright) against a real server.

Sign in, see the demo fleet's violations, grant an exception, see the rate change, switch to French.
Screenshots go to test-artifacts/ (kept out of version control).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from api.fixtures import PASSWORD, Workspace, running_server

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]

MISSING = "Debian's chromium is not installed (scripts/system-deps.sh installs it)"


def _need_chromium() -> None:
    """Skip without Chromium on a workstation; in CI (the CI variable is set) a missing Chromium fails."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{MISSING}; CI must run the browser test")
    pytest.skip(MISSING)


def _rate(text: str) -> float:
    m = re.search(r"([\d.,]+)\s*%", text)
    assert m is not None, text
    return float(m.group(1).replace(",", "."))


def test_sign_in_grant_an_exception_and_switch_to_french(ws: Workspace) -> None:
    _need_chromium()
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    console_errors: list[str] = []
    with running_server(ws) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            page = browser.new_page(locale="en-CA", extra_http_headers={"Accept-Language": "en-CA,en;q=0.9"})
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.goto(base + "/violations")
            expect(page).to_have_url(re.compile(r"/login\?next="))
            page.get_by_label("User name").fill("admin")
            page.get_by_label("Password").fill(PASSWORD)
            page.keyboard.press("Enter")  # keyboard only
            expect(page.get_by_role("heading", name="Violations", level=1)).to_be_visible()
            page.screenshot(path=str(ARTIFACTS / "server-violations.png"), full_page=True)

            # the filter works through htmx: choose TikTok, the table swaps without a page load
            page.get_by_label("App family").select_option("tiktok")
            expect(page).to_have_url(re.compile(r"family=tiktok"))
            links = page.locator("#results a[href^='/devices/']")
            expect(links.first).to_be_visible()
            device = links.first.inner_text().strip()
            count_before = links.count()
            assert count_before >= 1

            page.goto(base + "/")
            page.keyboard.press("Tab")  # the first stop is the skip link, and it leads to the content
            focused = page.evaluate("document.activeElement.textContent")
            assert focused.strip() == "Skip to content"
            page.keyboard.press("Enter")
            assert page.evaluate("document.activeElement.id") == "main"
            rate_before = _rate(page.locator("#rate").inner_text())
            page.screenshot(path=str(ARTIFACTS / "server-overview-before.png"), full_page=True)

            page.goto(base + "/exceptions")
            page.get_by_label("Exception id").fill("EXC-BROWSER-1")
            page.get_by_label("App families").fill("tiktok")
            page.get_by_label("Devices", exact=True).fill(f"mdm:{device}")
            page.get_by_label("Approver").fill("Chief Information Officer")
            page.get_by_label("Reason").fill("Evidence preservation for an investigation")
            page.get_by_label("Expires").fill("2023-06-30")
            page.get_by_label("Safeguards").fill("no contact sync, location off")
            page.get_by_role("button", name="Grant").click()
            expect(page.locator("#done")).to_contain_text("EXC-BROWSER-1")
            expect(page.locator("#exceptions")).to_contain_text("107")
            page.screenshot(path=str(ARTIFACTS / "server-exception-granted.png"), full_page=True)

            page.goto(base + "/")
            rate_after = _rate(page.locator("#rate").inner_text())
            assert rate_after > rate_before, (rate_before, rate_after)

            page.get_by_role("link", name="Français").click()
            expect(page.locator("html")).to_have_attribute("lang", "fr")
            expect(page.get_by_role("heading", name="Vue d'ensemble")).to_be_visible()
            assert _rate(page.locator("#rate").inner_text()) == rate_after
            page.screenshot(path=str(ARTIFACTS / "server-overview-fr.png"), full_page=True)
            page.get_by_role("link", name="Infractions").click()
            expect(page.get_by_role("heading", name="Infractions", level=1)).to_be_visible()
        finally:
            browser.close()
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors
    assert "EXC-BROWSER-1" in ws.policy.read_text()


def test_a_missing_chromium_fails_in_ci_and_skips_elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(globals(), "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        _need_chromium()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        _need_chromium()
