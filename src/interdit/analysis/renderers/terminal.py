"""`table`: the analysis report for a terminal (rich tables, folded to the width)."""

from __future__ import annotations

from collections.abc import Sequence

from interdit.analysis.output import outputs
from interdit.analysis.render import render_table
from interdit.analysis.report import AppReport


@outputs.register
class Table:
    name = "table"
    extension = "txt"
    media_type = "text/plain; charset=utf-8"

    def render(self, reports: Sequence[AppReport], lang: str) -> str:
        return render_table(reports, lang)
