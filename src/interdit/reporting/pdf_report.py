"""`pdf`: the management report (the `html` format's very page) laid out for print by WeasyPrint.

A4 by default, US Letter with `paper = "letter"` (`interdit report --format pdf --paper letter`). Every page
carries a running header (the organisation on the left, the report's date on the right) and "page X of Y"
("page X de Y") at the foot. A table row is never split across two pages, a table's header row is repeated on
each page it spans, and a heading (or a table's caption) never ends a page without what follows it.

The print layout is a stylesheet added here, on top of the page's own `@media print` rules: the HTML file is
unchanged. The document's metadata (title, creation date) come from the report, never from the clock, so the
same data gives the same file.
"""

from __future__ import annotations

import logging

from interdit import i18n
from interdit.errors import ConfigError
from interdit.reporting.base import ReportData, formats
from interdit.reporting.html_report import HtmlReport
from interdit.reporting.i18n import Translator

PAPERS = {"a4": "A4", "letter": "letter"}


def css_string(text: str) -> str:
    """`text` as a CSS string literal: quotes, backslashes and line breaks escaped."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ").replace("\r", "")
    return f'"{escaped}"'


def page_number(lang: str) -> str:
    """The CSS `content` of the page number: "page " counter(page) " of " counter(pages)."""
    before, rest = i18n.text(lang, "pdf.page").split("{x}")
    middle, after = rest.split("{y}")
    parts = [css_string(before), "counter(page)", css_string(middle), "counter(pages)"]
    if after:
        parts.append(css_string(after))
    return " ".join(parts)


def print_css(data: ReportData, lang: str, paper: str) -> str:
    t = Translator(lang)
    size = PAPERS[paper]
    organisation = " ".join(data.organisation.split())
    return f"""
@page {{
  size: {size} !important;
  margin: 22mm 14mm 20mm 14mm !important;
  @top-left {{ content: {css_string(organisation)}; font: 8.5pt "DejaVu Sans", sans-serif; color: #3a4a5c;
               vertical-align: bottom; padding-bottom: 3mm; border-bottom: 0.5pt solid #c5cfdb; }}
  @top-right {{ content: {css_string(t.date(data.as_of.date()))}; font: 8.5pt "DejaVu Sans", sans-serif;
                color: #3a4a5c; vertical-align: bottom; padding-bottom: 3mm; border-bottom: 0.5pt solid #c5cfdb; }}
  @bottom-right {{ content: {page_number(lang)}; font: 8.5pt "DejaVu Sans", sans-serif; color: #3a4a5c; }}
}}
body {{ font-size: 10pt; padding: 0; margin: 0; max-width: none; }}
h1 {{ font-size: 19pt; }}
h2 {{ font-size: 13.5pt; break-after: avoid; page-break-after: avoid; margin-top: 16pt; }}
caption, .note + table, h2 + p {{ break-after: avoid; page-break-after: avoid; }}
table {{ font-size: 9pt; }}
thead {{ display: table-header-group; }}
tr, th, td {{ break-inside: avoid; page-break-inside: avoid; }}
figure, .cards, .lead, .card {{ break-inside: avoid; page-break-inside: avoid; }}
figure svg {{ max-width: 100%; }}
.cards {{ grid-template-columns: repeat(4, minmax(0, 1fr)); }}
.card {{ padding: 6px 8px; }}
.card .value {{ font-size: 15pt; }}
footer {{ break-inside: avoid; }}
"""


@formats.register("pdf")
class PdfReport:
    name = "pdf"
    media_type = "application/pdf"
    extension = "pdf"
    paper = "a4"

    def render(self, data: ReportData, lang: str) -> bytes:
        paper = self.paper.strip().lower()
        if paper not in PAPERS:
            raise ConfigError(f"unknown paper size {self.paper!r}", where="--paper", fix="use a4 or letter")
        try:
            from weasyprint import CSS, HTML
        except ImportError:
            raise ConfigError("the PDF cannot be made: WeasyPrint is not installed",
                              fix="pip install weasyprint (it comes with interdit's dependencies)") from None
        except OSError as e:  # a system library WeasyPrint needs (Pango) is missing
            raise ConfigError(f"the PDF cannot be made: {e}",
                              fix="install Pango (scripts/system-deps.sh installs it on Debian)") from None
        html = HtmlReport().render(data, lang)
        logging.getLogger("fontTools").setLevel(logging.WARNING)  # font subsetting notes are not for the reader
        logging.getLogger("weasyprint").setLevel(logging.ERROR)  # the screen-only @media rules it skips
        document = HTML(string=html).render(stylesheets=[CSS(string=print_css(data, lang, paper))])
        document.metadata.created = data.generated_at.isoformat(timespec="seconds")
        document.metadata.modified = data.generated_at.isoformat(timespec="seconds")
        pdf: bytes = document.write_pdf()
        return pdf
