"""Reporting: compliance as a person or a program reads it, one module per format, in English and French.

What a format module may use (see docs/guides/add-a-report-format.md):

    formats                          the registry: `@formats.register` on a class with `name`, `extension`,
                                     `media_type` and `render(data, lang) -> str`
    ReportFormat                     what a format is
    ReportData                       everything a report shows, computed before rendering (no I/O, no clock)
    figures(data) -> Figures         the figures every human-facing format shows, computed once
    who(data, finding), family_name(data, family), is_overdue(finding, as_of), STATES
    Translator, check_lang           the report's words in "en" or "fr" (the catalogues, docs/i18n.md)
"""

from interdit.reporting.base import (
    STATES,
    Figures,
    ReportData,
    ReportFormat,
    family_name,
    figures,
    formats,
    is_overdue,
    who,
)
from interdit.reporting.i18n import Translator, check_lang

__all__ = [
    "STATES",
    "Figures",
    "ReportData",
    "ReportFormat",
    "Translator",
    "check_lang",
    "family_name",
    "figures",
    "formats",
    "is_overdue",
    "who",
]
