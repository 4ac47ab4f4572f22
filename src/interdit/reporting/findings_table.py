"""`findings-table`: one row per finding for a terminal (plain text, 100 columns unless told the terminal's
width). Each row says which device (`source:id`, then its name) and who holds it (owner, then model); a cell
too long for its column folds onto the next line, so an id a person must copy is never cut."""

from __future__ import annotations

from interdit.model import Finding
from interdit.reporting._text import WIDTH, folded_columns
from interdit.reporting.base import ReportData, family_name, formats, is_overdue, who
from interdit.reporting.i18n import Translator


def _what(f: Finding, data: ReportData) -> list[str]:
    """The family's name, then the app's id (a line of its own: it folds whole, never cut)."""
    return [x for x in (family_name(data, f.family), str(f.app) if f.app else "") if x]


@formats.register
class FindingsTable:
    name = "findings-table"
    extension = "txt"
    media_type = "text/plain; charset=utf-8"

    def __init__(self, width: int = WIDTH) -> None:
        self.width = max(width, 40)

    def render(self, data: ReportData, lang: str) -> str:
        t = Translator(lang)
        if not data.findings:
            return t("findings.none") + "\n"
        rows = []
        for f in data.findings:
            holder = who(data, f)
            rows.append([
                [t(f"state_short.{f.state.value}")],
                [f"{f.source}:{f.device_id}", *([holder["device_name"]] if holder["device_name"] else [])],
                [x for x in (holder["owner"], holder["model"]) if x],
                _what(f, data), [f.org_unit or ""], [f.deadline.isoformat() if f.deadline else "",
                                                *([t("findings.overdue_mark")] if is_overdue(f, data.as_of) else [])]])
        lines = folded_columns([t("col.state"), t("col.device_name"), t("col.owner"), t("col.family_app"),
                                t("col.org_unit"), t("col.deadline")], rows, width=self.width, whole=(0, 1, 5))
        lines.append("")
        lines.append(t.n("findings.count", len(data.findings)))
        return "\n".join(lines) + "\n"
