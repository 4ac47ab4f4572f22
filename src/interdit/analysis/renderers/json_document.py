"""`json`: the schema-versioned JSON document, one entry per app, every claim with its evidence."""

from __future__ import annotations

from collections.abc import Sequence

from interdit.analysis.output import outputs
from interdit.analysis.render import render_json
from interdit.analysis.report import AppReport


@outputs.register
class Json:
    name = "json"
    extension = "json"
    media_type = "application/json"

    def render(self, reports: Sequence[AppReport], lang: str) -> str:
        return render_json(reports, lang)
