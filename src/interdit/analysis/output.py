"""The analysis output interface: how an analysis report is written out, one module per output in `renderers/`.

    @outputs.register
    class Sarif:
        name = "sarif"               # the registry key, and `interdit analyze --output sarif`
        extension = "sarif.json"     # of a file holding the output (golden files, downloads)
        media_type = "application/sarif+json"

        def render(self, reports: Sequence[AppReport], lang: str) -> str: ...

`render` is given the reports in the order the files were named and a language, "en" or "fr"; it does no I/O
and reads no clock. Words a person reads come from `interdit.analysis.i18n` (`word`, `pick`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from interdit.analysis.report import AppReport
from interdit.registry import Registry


class AnalysisOutput(Protocol):
    name: str
    extension: str  # without the leading dot: "html", "sarif.json"
    media_type: str

    def render(self, reports: Sequence[AppReport], lang: str) -> str:
        ...


outputs: Registry[type[AnalysisOutput]] = Registry("analysis", builtins="interdit.analysis.renderers")
