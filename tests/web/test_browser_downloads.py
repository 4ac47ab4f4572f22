"""The overview's download buttons and the jobs page in a real browser (Debian's Chromium driven by Playwright),
in French: pick a day, download the report as PDF and the findings as XLSX and CSV of that day, open the jobs
page from the menu."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from api.fixtures import PASSWORD, Workspace, running_server
from interdit import pipeline
from interdit.pipeline.schedule import parse_schedule, publish
from web.test_browser import ARGS, CHROMIUM, _need_chromium


def test_download_each_kind_as_of_the_picked_day_and_see_the_jobs(ws: Workspace, tmp_path: Path) -> None:
    _need_chromium()
    from openpyxl import load_workbook
    from playwright.sync_api import expect, sync_playwright
    from pypdf import PdfReader

    schedule = parse_schedule({"timezone": "America/Toronto",
                               "jobs": {"nightly-sync": {"kind": "evaluate", "cron": "30 1 * * *"}}},
                              tmp_path / "schedule.yaml")
    publish(pipeline.open_repository(ws.settings.database_url), schedule)
    with running_server(ws) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            context = browser.new_context(locale="fr-CA", accept_downloads=True,
                                          extra_http_headers={"Accept-Language": "fr-CA,fr;q=0.9"})
            page = context.new_page()
            page.goto(base + "/")
            page.get_by_label("Nom d'utilisateur").fill("auditor")
            page.get_by_label("Mot de passe").fill(PASSWORD)
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", name="Vue d'ensemble", level=1)).to_be_visible()
            expect(page.locator("#dl-report-pdf")).to_have_attribute("href", "/download/report.pdf")

            page.get_by_label("Chiffres au").fill("2023-03-01")
            page.get_by_role("button", name="Afficher").click()
            expect(page).to_have_url(re.compile(r"as_of=2023-03-01"))
            expect(page.locator("#downloads")).to_contain_text("Au 2023-03-01, en français.")

            saved: dict[str, bytes] = {}
            for name, link in (("pdf", "Rapport de gestion (PDF)"), ("xlsx", "Constats (classeur Excel)"),
                               ("csv", "Constats (CSV)")):
                with page.expect_download() as info:
                    page.get_by_role("link", name=link).click()
                download = info.value
                target = tmp_path / download.suggested_filename
                download.save_as(target)
                assert "2023-03-01" in download.suggested_filename, download.suggested_filename
                saved[name] = target.read_bytes()

            assert saved["pdf"].startswith(b"%PDF")
            text = "".join(pg.extract_text() for pg in PdfReader(io.BytesIO(saved["pdf"])).pages)
            assert "1 mars 2023" in text, "the French report of the picked day"
            sheet = load_workbook(io.BytesIO(saved["xlsx"])).worksheets[0]
            assert sheet.max_row > 1 and sheet.auto_filter.ref
            rows = list(csv.reader(io.StringIO(saved["csv"].decode("utf-8-sig")), delimiter=";"))
            assert len(rows) == sheet.max_row and len(rows[0]) > 3, "one row per finding in both"

            page.get_by_role("navigation").get_by_role("link", name="Tâches planifiées").click()
            expect(page.get_by_role("heading", name="Tâches planifiées", level=1)).to_be_visible()
            row = page.locator("#job-nightly-sync")
            expect(row).to_contain_text("30 1 * * *")
            expect(row).to_contain_text("America/Toronto")
            expect(row).to_contain_text("jamais")
        finally:
            browser.close()
