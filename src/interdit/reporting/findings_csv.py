"""`csv`: one row per finding, English column names, values untranslated, safe to open in a spreadsheet.

Two dialects: `csv` is RFC 4180 (`,`, CRLF, UTF-8 without a byte-order mark) for programs; `csv-excel` is for
a person opening the file in Excel in a locale whose decimal separator is a comma (French, French-Canadian):
UTF-8 with a byte-order mark (so accents survive) and `;` between cells (so the columns split).
Either takes another separator (`interdit findings --separator`): `,`, `;`, a tab or `|` (see `SEPARATORS`).

A cell that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
return) is prefixed with an apostrophe, so a hostile device name or app id cannot run anything (CSV injection).
"""

from __future__ import annotations

import csv
import io

from interdit.errors import ConfigError
from interdit.model import Finding
from interdit.reporting.base import ReportData, formats, is_overdue, who
from interdit.reporting.i18n import check_lang

COLUMNS = ("id", "kind", "state", "source", "device_id", "device_name", "owner", "model", "os_version", "org_unit",
           "rule", "directive", "family", "app",
           "first_seen", "last_seen", "deadline", "overdue", "resolved_at", "exception", "evidence")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# the separators a CSV may use between cells (a quote, a line break or a letter would make it unreadable)
SEPARATORS = (",", ";", "\t", "|")


def check_separator(separator: str) -> str:
    """`separator` when it is one of SEPARATORS (`tab` names the tab); ConfigError otherwise, with the fix."""
    chosen = "\t" if separator in ("tab", "\\t") else separator
    if chosen not in SEPARATORS:
        raise ConfigError(f"the CSV separator {separator!r} is not one a spreadsheet reads",
                          where="--separator", fix="use ',', ';', '|' or tab")
    return chosen


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def row(f: Finding, data: ReportData) -> list[str]:
    holder = who(data, f)
    values = [
        f.id, f.kind.value, f.state.value, f.source, f.device_id, holder["device_name"] or "",
        holder["owner"] or "", holder["model"] or "", holder["os_version"] or "", f.org_unit or "", f.rule,
        f.directive or "", f.family or "", str(f.app) if f.app else "", f.first_seen.isoformat(),
        f.last_seen.isoformat(),
        f.deadline.isoformat() if f.deadline else "", "true" if is_overdue(f, data.as_of) else "false",
        f.resolved_at.isoformat() if f.resolved_at else "", f.exception or "", " | ".join(f.evidence),
    ]
    return [safe_cell(v) for v in values]


@formats.register
class FindingsCsv:
    name = "csv"
    extension = "csv"
    media_type = "text/csv; charset=utf-8"

    separator = ","
    bom = ""

    def render(self, data: ReportData, lang: str) -> str:
        check_lang(lang)
        separator = check_separator(self.separator)
        buf = io.StringIO()
        # RFC 4180; also quotes cells holding \r, \n or the separator
        writer = csv.writer(buf, delimiter=separator, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for f in data.findings:
            writer.writerow(row(f, data))
        return self.bom + buf.getvalue()


@formats.register
class FindingsCsvExcel(FindingsCsv):
    name = "csv-excel"
    extension = "csv"
    media_type = "text/csv; charset=utf-8"
    separator = ";"
    bom = "\ufeff"
