"""`html`: one self-contained page (no script, no style sheet or image from elsewhere), with a sign-off table."""

from __future__ import annotations

from collections.abc import Sequence

from interdit.analysis.output import outputs
from interdit.analysis.render import render_html
from interdit.analysis.report import AppReport


@outputs.register
class Html:
    name = "html"
    extension = "html"
    media_type = "text/html; charset=utf-8"

    def render(self, reports: Sequence[AppReport], lang: str) -> str:
        return render_html(reports, lang)
