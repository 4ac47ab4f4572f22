"""`sarif`: SARIF 2.1.0, for code-scanning tools: one result per finding, located in the app's files."""

from __future__ import annotations

from collections.abc import Sequence

from interdit.analysis.output import outputs
from interdit.analysis.render import render_sarif
from interdit.analysis.report import AppReport


@outputs.register
class Sarif:
    name = "sarif"
    extension = "sarif.json"
    media_type = "application/sarif+json"

    def render(self, reports: Sequence[AppReport], lang: str) -> str:
        return render_sarif(reports, lang)
