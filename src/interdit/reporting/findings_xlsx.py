"""`xlsx`: the findings as a spreadsheet a manager can sort and filter (openpyxl).

Two sheets: the findings (one row per finding) and the summary (the headline figures, per source, per family).
Columns are typed: dates are dates, times are times (UTC), counts and days are numbers, the rate a percentage;
the header row is frozen, every column has a filter and a width fitted to its content. Headers and states are in
the report's language; ids, app ids and org units are as the sources wrote them.

`overdue` is the number of days past the rule's deadline for a device that still holds the app (blank when it
is not overdue). A text cell a spreadsheet would read as a formula is stored as text, never as a formula.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from interdit import i18n
from interdit.model import Finding
from interdit.reporting.base import ReportData, family_name, figures, formats, is_overdue, who
from interdit.reporting.i18n import Translator

DATE_FORMAT = "yyyy-mm-dd"
TIME_FORMAT = "yyyy-mm-dd hh:mm"
MAX_WIDTH = 60  # characters: a wider column would push the others off the screen

# (key, kind): the header is the message "xlsx.col.<key>"; kind: text, date, time or number
COLUMNS: tuple[tuple[str, str], ...] = (
    ("device_name", "text"), ("owner", "text"), ("model", "text"), ("os_version", "text"), ("org_unit", "text"),
    ("state", "text"), ("family", "text"), ("app", "text"), ("rule", "text"), ("directive", "text"),
    ("deadline", "date"), ("overdue", "number"), ("first_seen", "time"), ("last_seen", "time"),
    ("resolved_at", "time"), ("exception", "text"), ("source", "text"), ("device_id", "text"), ("kind", "text"),
    ("id", "text"), ("evidence", "text"),
)


def naive(t: datetime | None) -> datetime | None:
    """A UTC time as a spreadsheet keeps it (no zone)."""
    if t is None:
        return None
    return t.astimezone(UTC).replace(tzinfo=None) if t.tzinfo is not None else t


def days_overdue(f: Finding, as_of: datetime) -> int | None:
    """Whole days since the deadline for a device that still holds the app; None when not overdue."""
    if f.deadline is None or not is_overdue(f, as_of):
        return None
    return (as_of.date() - f.deadline).days


def values(f: Finding, data: ReportData, t: Translator) -> dict[str, Any]:
    holder = who(data, f)
    return {
        **holder, "org_unit": f.org_unit, "state": t.state(f.state.value),
        "family": family_name(data, f.family) or None,
        "app": str(f.app) if f.app else None, "rule": f.rule, "directive": f.directive, "deadline": f.deadline,
        "overdue": days_overdue(f, data.as_of), "first_seen": naive(f.first_seen), "last_seen": naive(f.last_seen),
        "resolved_at": naive(f.resolved_at), "exception": f.exception, "source": f.source,
        "device_id": f.device_id, "kind": f.kind.value, "id": f.id, "evidence": " | ".join(f.evidence) or None,
    }


def _put(ws: Any, row: int, col: int, value: Any, kind: str = "text") -> None:
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    elif kind == "date" and isinstance(value, date):
        cell.number_format = DATE_FORMAT
    elif kind == "time" and isinstance(value, datetime):
        cell.number_format = TIME_FORMAT


def _header(ws: Any, titles: Iterable[str]) -> None:
    from openpyxl.styles import Font, PatternFill

    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE3EA")
    for col, title in enumerate(titles, start=1):
        cell = ws.cell(row=1, column=col, value=title)
        cell.font, cell.fill = bold, fill


def _fit(ws: Any, widths: dict[int, int]) -> None:
    from openpyxl.utils import get_column_letter

    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = min(max(width, 8) + 2, MAX_WIDTH)


def _shown_width(value: Any, kind: str) -> int:
    if value is None:
        return 0
    if kind == "date":
        return 10
    if kind == "time":
        return 16
    return max((len(line) for line in str(value).splitlines()), default=0)


@formats.register("xlsx")
class FindingsXlsx:
    name = "xlsx"
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    extension = "xlsx"

    def render(self, data: ReportData, lang: str) -> bytes:
        from openpyxl import Workbook

        t = Translator(lang)
        words = i18n.section(lang, "xlsx")
        book = Workbook()
        ws = book.active
        ws.title = words["findings"]
        headers = [words[f"col.{key}"] for key, _ in COLUMNS]
        _header(ws, headers)
        widths = {i: len(h) for i, h in enumerate(headers, start=1)}
        for r, f in enumerate(data.findings, start=2):
            row = values(f, data, t)
            for c, (key, kind) in enumerate(COLUMNS, start=1):
                _put(ws, r, c, row[key], kind)
                widths[c] = max(widths[c], _shown_width(row[key], kind))
        _fit(ws, widths)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
        self._summary(book.create_sheet(words["summary"]), data, t, words)
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()

    def _summary(self, ws: Any, data: ReportData, t: Translator, words: dict[str, str]) -> None:
        fig = figures(data)
        sm = data.summary
        _header(ws, [words["figure"], words["value"]])
        rows: list[tuple[str, Any, str]] = [
            (words["organisation"], data.organisation, "text"),
            (words["as_of"], naive(data.as_of), "time"),
            (words["generated"], naive(data.generated_at), "time"),
            (words["devices"], sm.devices_total, "number"),
            (words["in_scope"], sm.devices_in_scope, "number"),
            (words["compliant"], sm.compliant, "number"),
            (words["rate"], sm.rate, "rate"),
            (words["holding"], fig.holding, "number"),
            (words["overdue"], fig.holding_overdue, "number"),
            (words["violations"], fig.violation_devices, "number"),
            (words["not_evaluable"], fig.by_state.get("not_evaluable", 0), "number"),
            (words["stale"], fig.by_state.get("stale", 0), "number"),
            (words["excepted"], fig.by_state.get("excepted", 0), "number"),
            (words["findings_n"], len(data.findings), "number"),
        ]
        r = 2
        for label, value, kind in rows:
            _put(ws, r, 1, label)
            _put(ws, r, 2, value, kind)
            if kind == "rate" and value is not None:
                ws.cell(row=r, column=2).number_format = "0.0%"
            r += 1
        r += 1  # a blank row, then the figures per source
        per_source = [words["source"], words["devices"], words["in_scope"], words["compliant"], words["rate"],
                      words["violations"], words["not_evaluable"], words["stale"]]
        for c, title in enumerate(per_source, start=1):
            _put(ws, r, c, title)
        for name, s in fig.sources:
            r += 1
            for c, value in enumerate((name, s.devices, s.in_scope, s.compliant, s.rate, s.violations,
                                       s.not_evaluable, s.stale), start=1):
                _put(ws, r, c, value)
            if s.rate is not None:
                ws.cell(row=r, column=5).number_format = "0.0%"
        r += 2
        _put(ws, r, 1, words["family"])
        _put(ws, r, 2, words["devices_violation"])
        for fam, n in fig.by_family:
            r += 1
            _put(ws, r, 1, family_name(data, fam))
            _put(ws, r, 2, n)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:B{len(rows) + 1}"
        _fit(ws, {1: max(len(label) for label, _, _ in rows), 2: max(18, len(data.organisation))})
        for c in range(3, len(per_source) + 1):
            _fit(ws, {c: len(per_source[c - 1])})
