"""`csv`: one row per finding, English column names, values untranslated, safe to open in a spreadsheet.

A cell that a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
return) is prefixed with an apostrophe, so a hostile device name or app id cannot run anything (CSV injection).
"""

from __future__ import annotations

import csv
import io

from interdit.model import Finding
from interdit.reporting.base import ReportData, formats, is_overdue
from interdit.reporting.i18n import check_lang

COLUMNS = ("id", "kind", "state", "source", "device_id", "org_unit", "rule", "directive", "family", "app",
           "first_seen", "last_seen", "deadline", "overdue", "resolved_at", "exception", "evidence")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def row(f: Finding, data: ReportData) -> list[str]:
    values = [
        f.id, f.kind.value, f.state.value, f.source, f.device_id, f.org_unit or "", f.rule, f.directive or "",
        f.family or "", str(f.app) if f.app else "", f.first_seen.isoformat(), f.last_seen.isoformat(),
        f.deadline.isoformat() if f.deadline else "", "true" if is_overdue(f, data.as_of) else "false",
        f.resolved_at.isoformat() if f.resolved_at else "", f.exception or "", " | ".join(f.evidence),
    ]
    return [safe_cell(v) for v in values]


@formats.register("csv")
class FindingsCsv:
    name = "csv"
    media_type = "text/csv; charset=utf-8"

    def render(self, data: ReportData, lang: str) -> str:
        check_lang(lang)
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; also quotes cells holding \r or \n
        writer.writerow(COLUMNS)
        for f in data.findings:
            writer.writerow(row(f, data))
        return buf.getvalue()
