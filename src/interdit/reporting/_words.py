"""Sentences the human-facing formats share (review reasons and timings), in the reader's language."""

from __future__ import annotations

from datetime import date

from interdit.reporting.base import ReportData
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
