"""The report's opening sentences say only what is true of the fleet: no "on 0 of them" clause when no device
has its prohibited app merely blocked."""

from __future__ import annotations

import dataclasses

import pytest

from interdit.reporting.base import figures
from interdit.reporting.html_report import executive_summary
from interdit.reporting.i18n import Translator
from interdit.testing.reports import report_data


@pytest.mark.parametrize(("lang", "clause"), [("en", "only blocked or hidden"), ("fr", "seulement bloquée")])
def test_the_blocked_clause_appears_only_when_a_device_is_blocked(lang: str, clause: str) -> None:
    data = report_data()
    t = Translator(lang)
    with_blocked = " ".join(executive_summary(t, data, figures(data)))
    assert clause in with_blocked
    by_state = {k: v for k, v in data.summary.by_state.items() if k != "blocked_present"}
    unblocked = dataclasses.replace(data, summary=dataclasses.replace(data.summary, by_state=by_state))
    text = " ".join(executive_summary(t, unblocked, figures(unblocked)))
    assert clause not in text and " 0 " not in text.replace("\u00a0", " ")
    assert ("prohibited app" if lang == "en" else "application interdite") in text
