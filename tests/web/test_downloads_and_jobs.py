"""The overview's downloads (the management report as HTML and PDF, the findings as XLSX and CSV, as of the day
shown and in the viewer's language) and the jobs page, without a browser."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from fastapi.testclient import TestClient

from api.fixtures import Workspace
from interdit import pipeline
from interdit.pipeline.schedule import parse_schedule, publish, run_now
from interdit.server.web import i18n
from web.test_pages import _sign_in

BAD = re.compile(r" [:;!?»]|« ")  # a breakable space where French typography needs a no-break one


def _text(html: str) -> str:
    main = html[html.index("<main"):html.index("</main>")]
    return re.sub(r"<[^>]+>", "", main)


def test_the_overview_offers_each_download_for_the_day_shown(client: TestClient) -> None:
    _sign_in(client, "auditor")
    r = client.get("/?as_of=2023-03-01")
    for href in ("/download/report.html", "/download/report.pdf", "/download/findings.xlsx",
                 "/download/findings.csv"):
        assert f'href="{href}?as_of=2023-03-01"' in r.text
    assert 'href="/download/report.pdf?as_of=2023-03-01&amp;paper=letter"' in r.text
    today = client.get("/").text
    assert 'href="/download/report.pdf"' in today and 'href="/download/report.pdf?paper=letter"' in today


def test_the_pdf_report_is_a_pdf_of_that_day(client: TestClient) -> None:
    from pypdf import PdfReader

    _sign_in(client, "auditor")
    r = client.get("/download/report.pdf?as_of=2023-03-01&paper=letter")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/pdf")
    assert r.headers["content-disposition"] == 'attachment; filename="report-2023-03-01.pdf"'
    assert r.content.startswith(b"%PDF")
    pdf = PdfReader(io.BytesIO(r.content))
    assert len(pdf.pages) >= 1 and "1 March 2023" in "".join(p.extract_text() for p in pdf.pages)
    assert round(float(pdf.pages[0].mediabox.width)) == 612, "US Letter is 8.5 in wide"


def test_the_html_report_follows_the_viewers_language(client: TestClient) -> None:
    _sign_in(client, "analyst", lang="fr")
    r = client.get("/download/report.html?as_of=2023-03-01", headers={"accept-language": "fr"})
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment;")
    assert 'lang="fr"' in r.text and r.headers["content-language"] == "fr"


def test_the_findings_as_a_spreadsheet_and_as_french_csv(client: TestClient) -> None:
    from openpyxl import load_workbook

    _sign_in(client, "auditor", lang="fr")
    x = client.get("/download/findings.xlsx", headers={"accept-language": "fr"})
    assert x.status_code == 200 and x.headers["content-disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(x.content)).worksheets[0]
    assert sheet.max_row > 1 and sheet.freeze_panes is not None
    c = client.get("/download/findings.csv?as_of=2023-03-01", headers={"accept-language": "fr"})
    assert c.status_code == 200 and c.headers["content-disposition"] == 'attachment; filename="findings-2023-03-01.csv"'
    text = c.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) > 1 and len(rows[0]) > 3 and all(len(row) == len(rows[0]) for row in rows)
    assert c.content.startswith(b"\xef\xbb\xbf"), "Excel needs the byte-order mark"


def test_downloads_need_a_session_and_a_known_kind(client: TestClient) -> None:
    r = client.get("/download/findings.csv", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fdownload%2Ffindings.csv")
    _sign_in(client, "auditor")
    assert client.get("/download/findings.exe").status_code == 404
    assert client.get("/download/report.pdf?paper=a3").status_code == 422
    assert client.get("/download/report.html?as_of=yesterday-ish").status_code == 422


def test_the_jobs_page_lists_a_published_job(client: TestClient, ws: Workspace, tmp_path: Path) -> None:
    _sign_in(client, "auditor")
    assert client.get("/jobs").status_code == 200
    schedule = parse_schedule({"timezone": "America/Toronto",
                               "jobs": {"nightly-evaluate": {"kind": "evaluate", "cron": "0 2 * * *"}}},
                              tmp_path / "schedule.yaml")
    publish(pipeline.open_repository(ws.settings.database_url), schedule)
    r = client.get("/jobs")
    row = re.search(r'<tr id="job-nightly-evaluate">(.*?)</tr>', r.text, re.S)
    assert row is not None, r.text
    assert "evaluate" in row.group(1) and "0 2 * * *" in row.group(1) and "America/Toronto" in row.group(1)
    assert "never" in row.group(1), "it has not run yet"
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", row.group(1)), "its next run"
    assert '<a href="/jobs" aria-current="page">Scheduled jobs</a>' in r.text
    fr = client.get("/jobs", headers={"accept-language": "fr"})
    assert "Tâches planifiées" in fr.text and "Prochaine exécution" in fr.text and "jamais" in fr.text


def test_the_french_words_of_these_pages_keep_french_typography(client: TestClient) -> None:
    _sign_in(client, "auditor")
    client.cookies.set("interdit_lang", "fr")
    jobs = _text(client.get("/jobs").text)
    assert "Tâches planifiées" in jobs and BAD.findall(jobs) == []
    french = i18n.translator("fr")
    for key in [k for k in i18n.words("en") if k.startswith(("dl.", "downloads", "job", "no_jobs"))]:
        assert BAD.findall(french(key, d="2023-03-01", t="2023-03-01", n=2)) == [], key
    overview = client.get("/?as_of=2023-03-01").text
    start = overview.index('<section aria-labelledby="h-dl"')
    section = _text("<main>" + overview[start:overview.index("</section>", start)] + "</main>")
    assert "Téléchargements" in section and "Au 2023-03-01, en français." in section
    assert BAD.findall(section) == []


def test_the_jobs_page_shows_a_failed_run(client: TestClient, ws: Workspace, tmp_path: Path) -> None:
    schedule = parse_schedule({"timezone": "America/Toronto",
                               "jobs": {"broken-evaluate": {"kind": "evaluate", "cron": "0 3 * * *"}}},
                              tmp_path / "schedule.yaml")
    repo = pipeline.open_repository(ws.settings.database_url)
    publish(repo, schedule)
    outcome = run_now(repo, schedule, "broken-evaluate", policy_path=tmp_path / "no-such-policy.yaml")
    assert outcome is not None and not outcome.ok
    _sign_in(client, "auditor")
    row = re.search(r'<tr id="job-broken-evaluate">(.*?)</tr>', client.get("/jobs").text, re.S)
    assert row is not None
    assert "(failed)" in row.group(1) and "no-such-policy.yaml" in row.group(1)
    assert '<span class="bad">1</span> <small>(1 in a row)</small>' in row.group(1)
    assert "never" in row.group(1), "it never succeeded"
    fr = client.get("/jobs", headers={"accept-language": "fr"}).text
    assert "(échouée)" in fr and "(1 d&#39;affilée)" in fr


def test_the_english_csv_separates_with_commas(client: TestClient) -> None:
    _sign_in(client, "auditor")
    c = client.get("/download/findings.csv", headers={"accept-language": "en"})
    rows = list(csv.reader(io.StringIO(c.content.decode("utf-8-sig"))))
    assert c.content.startswith(b"\xef\xbb\xbf") and rows[0][:3] == ["id", "kind", "state"]
