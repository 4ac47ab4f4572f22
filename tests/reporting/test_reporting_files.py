"""The formats that write a file: the PDF report (read back with pypdf), the findings spreadsheet (read back with
openpyxl), and the CSV's separator; and the downloads (bytes, media type, file name) a dashboard serves."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import datetime

import openpyxl
import pypdf
import pytest

from interdit.errors import ConfigError
from interdit.pipeline.reports import download, render_bytes
from interdit.reporting.base import ReportData, formats, is_overdue
from interdit.reporting.findings_csv import COLUMNS as CSV_COLUMNS
from interdit.testing.reports import AS_OF, report_data

LANGS = ["en", "fr"]


# -- PDF ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdfs() -> dict[tuple[str, str], bytes]:
    data = report_data()
    return {(lang, paper): render_bytes("pdf", data, lang, paper=paper) for lang in LANGS for paper in ("a4", "letter")}


def text_of(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.parametrize("lang", LANGS)
def test_pdf_opens_with_header_and_page_numbers_on_every_page(pdfs: dict[tuple[str, str], bytes], lang: str) -> None:
    pages = text_of(pdfs[(lang, "a4")])
    assert len(pages) >= 2
    day = "15 March 2023" if lang == "en" else "15 mars 2023"
    of = "of" if lang == "en" else "de"
    for i, page in enumerate(pages, start=1):
        assert "Department of Examples" in page
        assert day in page
        assert f"page {i} {of} {len(pages)}" in page
    assert "page 1" in pages[0]


def test_pdf_paper_sizes(pdfs: dict[tuple[str, str], bytes]) -> None:
    a4 = pypdf.PdfReader(io.BytesIO(pdfs[("en", "a4")])).pages[0].mediabox
    letter = pypdf.PdfReader(io.BytesIO(pdfs[("en", "letter")])).pages[0].mediabox
    assert (round(float(a4.width)), round(float(a4.height))) == (595, 842)  # 210 x 297 mm in points
    assert (round(float(letter.width)), round(float(letter.height))) == (612, 792)  # 8.5 x 11 in


def test_pdf_keeps_a_heading_with_what_follows(pdfs: dict[tuple[str, str], bytes]) -> None:
    """No page ends with a section heading: each heading's page also holds the text after it."""
    headings = ["Summary", "Compliance over time", "Deadlines"]
    for page in text_of(pdfs[("en", "a4")]):
        lines = [ln.strip() for ln in page.splitlines() if ln.strip()]
        body = [ln for ln in lines if not ln.startswith(("page ", "Department of Examples"))]
        assert body and body[-1] not in headings


def test_pdf_paper_unknown_is_refused() -> None:
    with pytest.raises(ConfigError, match="paper"):
        render_bytes("pdf", report_data(), "en", paper="a3")


def test_pdf_is_the_same_for_the_same_data() -> None:
    data = report_data()
    assert render_bytes("pdf", data, "en") == render_bytes("pdf", data, "en")


# -- XLSX --------------------------------------------------------------------------------------------


def book(data: ReportData, lang: str) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(render_bytes("xlsx", data, lang)))


@pytest.mark.parametrize("lang", LANGS)
def test_xlsx_is_a_real_spreadsheet(lang: str) -> None:
    data = report_data()
    wb = book(data, lang)
    findings, summary = wb.worksheets
    assert findings.title == ("Findings" if lang == "en" else "Constats")
    assert summary.title == ("Summary" if lang == "en" else "Sommaire")
    assert findings.freeze_panes == "A2"
    assert findings.auto_filter.ref == f"A1:U{len(data.findings) + 1}"
    header = [c.value for c in findings[1]]
    wanted = {"en": ["Device name", "Owner", "Model", "OS version", "Days overdue", "Deadline"],
              "fr": ["Nom de l’appareil", "Détenteur", "Modèle", "Version du système", "Jours de retard",
                     "Échéance"]}[lang]
    assert set(wanted) <= set(header)
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in findings.iter_rows(min_row=2)]
    assert len(rows) == len(data.findings)
    id_col = "Finding id" if lang == "en" else "Identifiant du constat"
    by_id = {r[id_col]: r for r in rows}
    overdue_col, deadline_col = wanted[4], wanted[5]
    for f in data.findings:
        row = by_id[f.id]
        if f.deadline is not None:
            assert isinstance(row[deadline_col], datetime) and row[deadline_col].date() == f.deadline
        if is_overdue(f, data.as_of):
            assert isinstance(row[overdue_col], int) and row[overdue_col] == (AS_OF.date() - f.deadline).days
        else:
            assert row[overdue_col] is None
    owner_col = wanted[1]
    assert "marie.tremblay@finances.example.gouv.qc.ca" in {r[owner_col] for r in rows}
    # the column widths are set, wider for the longer owner than for the model
    assert findings.column_dimensions["B"].width > findings.column_dimensions["C"].width >= 8
    figures = {row[0].value: row[1].value for row in summary.iter_rows(min_row=2, max_row=15)}
    assert figures["Devices in scope" if lang == "en" else "Appareils visés"] == data.summary.devices_in_scope
    rate = figures["Compliance rate" if lang == "en" else "Taux de conformité"]
    assert rate == pytest.approx(data.summary.rate)


def test_xlsx_never_stores_a_formula() -> None:
    data = report_data()
    evil = dataclasses.replace(data.findings[0], device_id="=HYPERLINK(\"http://x\")", org_unit="+1+1")
    wb = book(dataclasses.replace(data, findings=(evil,)), "en")
    cells = [c for row in wb.worksheets[0].iter_rows(min_row=2) for c in row]
    assert {c.value for c in cells} >= {"=HYPERLINK(\"http://x\")", "+1+1"}
    assert all(c.data_type != "f" for c in cells)


def test_xlsx_empty_findings() -> None:
    data = dataclasses.replace(report_data(), findings=())
    ws = book(data, "fr").worksheets[0]
    assert ws.max_row == 1 and ws.freeze_panes == "A2"


# -- CSV separator -----------------------------------------------------------------------------------


@pytest.mark.parametrize("separator", [",", ";", "\t", "|"])
def test_csv_separator(separator: str) -> None:
    data = report_data()
    text = render_bytes("csv", data, "fr", separator=separator).decode("utf-8")
    assert not text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text), delimiter=separator))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == len(data.findings) + 1
    excel = render_bytes("csv-excel", data, "fr", separator=separator).decode("utf-8")
    assert excel.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(excel[1:]), delimiter=separator)) == rows


def test_csv_separator_refused() -> None:
    with pytest.raises(ConfigError, match="separator"):
        render_bytes("csv", report_data(), "en", separator='"')


def test_option_a_format_does_not_take_is_refused() -> None:
    with pytest.raises(ConfigError, match="no paper option"):
        render_bytes("csv", report_data(), "en", paper="a4")


# -- downloads ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt,media,name", [
    ("pdf", "application/pdf", "report-2023-03-15.pdf"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "report-2023-03-15.xlsx"),
    ("html", "text/html; charset=utf-8", "report-2023-03-15.html"),
    ("csv-excel", "text/csv; charset=utf-8", "report-2023-03-15.csv"),
])
def test_download(fmt: str, media: str, name: str) -> None:
    content, media_type, file_name = download(fmt, report_data(), "fr")
    assert (media_type, file_name) == (media, name)
    assert content[:4] == {"pdf": b"%PDF", "xlsx": b"PK\x03\x04", "html": b"<!DO", "csv-excel": b"\xef\xbb\xbfi"}[fmt]


def test_binary_formats_are_registered() -> None:
    assert {"pdf", "xlsx"} <= set(formats.names())
