"""`findings-table`: one line per finding for a terminal (plain text, at most 100 columns)."""

from __future__ import annotations

from interdit.model import Finding
from interdit.reporting._text import columns
from interdit.reporting.base import ReportData, family_name, formats, is_overdue
from interdit.reporting.i18n import Translator


def _what(f: Finding, data: ReportData) -> str:
    name = family_name(data, f.family)
    if f.app is None:
        return name
    return f"{name} ({f.app})" if name else str(f.app)


@formats.register("findings-table")
class FindingsTable:
    name = "findings-table"
    media_type = "text/plain; charset=utf-8"

    def render(self, data: ReportData, lang: str) -> str:
        t = Translator(lang)
        if not data.findings:
            return t("findings.none") + "\n"
        rows = [[t(f"state_short.{f.state.value}"), f"{f.source}:{f.device_id}", _what(f, data), f.org_unit or "",
                 f.deadline.isoformat() if f.deadline else "",
                 t("findings.overdue_mark") if is_overdue(f, data.as_of) else ""]
                for f in data.findings]
        lines = columns([t("col.state"), t("col.device"), t("col.family_app"), t("col.org_unit"),
                         t("col.deadline"), t("col.overdue")], rows, caps=(16, 30, 48, 28, 10, 12), indent=0)
        lines.append("")
        lines.append(t.n("findings.count", len(data.findings)))
        return "\n".join(lines) + "\n"
