"""Sentences the human-facing formats share (review reasons and timings), in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from interdit.model import Summary
from interdit.reporting.base import ReportData, most_first
from interdit.reporting.i18n import Translator


def review_reason(t: Translator, data: ReportData, kind: str, item_id: str, when: date) -> str:
    """Why an item is on the review list (the policy's own words stay in the JSON `why` field)."""
    if kind == "exception":
        exc = next((e for e in data.exceptions if e.id == item_id), None)
        key = "review.exception_expires" if exc is not None and exc.expires == when else "review.exception_review"
    else:
        key = "review.rule_review"
    return t(key)


def review_timing(t: Translator, data: ReportData, when: date) -> str:
    days = (when - data.as_of.date()).days
    if days < 0:
        return t.n("review.overdue", -days)
    return t("review.today") if days == 0 else t.n("review.in_days", days)


def reasons_text(t: Translator, counts: Iterable[tuple[str, int]]) -> str:
    """"163 Android work profiles, 115 Apple user enrolments, 19 with app reports switched off"."""
    return ", ".join(t.n(f"reason.{reason}", n) for reason, n in counts)


def coverage_words(summary: Summary, lang: str) -> tuple[str, list[tuple[str, str, str]]]:
    """Why devices could not be evaluated, for the faces: the line ("297 devices not evaluable: 163 Android work
    profiles, ...", empty when none) and, per source, (source, its reason in words with its count, what to do)."""
    t = Translator(lang)
    rows = [(name, t.n(f"reason.{reason}", n), t(f"reason_fix.{reason}"))
            for name, v in sorted(summary.by_source.items()) for reason, n in most_first(v.not_evaluable_by_reason)]
    return coverage_line(t, most_first(summary.not_evaluable_by_reason)), rows


def coverage_line(t: Translator, counts: list[tuple[str, int]]) -> str:
    """"297 devices not evaluable: 163 Android work profiles, ..."; empty when every device could be evaluated."""
    total = sum(n for _, n in counts)
    return t.n("coverage.line", total, reasons=reasons_text(t, counts)) if total else ""
