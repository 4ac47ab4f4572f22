"""No rate without a denominator: with no device in scope, every report says so ("—", "no device in scope",
JSON null), never "100 %"; and coverage is told in words, per reason and source."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import jsonschema
import pytest

from interdit.model import RuleSummary, SourceSummary, Summary
from interdit.reporting.base import ReportData, formats, json_schema
from interdit.reporting.html_report import chart
from interdit.reporting.i18n import Translator
from interdit.testing.reports import AS_OF, report_data

LANGS = ["en", "fr"]
NO_SCOPE = {"en": "no device in scope", "fr": "aucun appareil visé"}


def render(name: str, data: ReportData, lang: str) -> str:
    return formats.get(name)().render(data, lang)


def nothing_in_scope(devices_total: int = 0) -> ReportData:
    """An empty fleet (or one whose every device is out of scope), with a history whose first point had devices."""
    data = report_data()
    rule = dataclasses.replace(data.summary.by_rule["tiktok-ban"], in_scope=0, compliant=0, violations=0,
                               blocked_present=0, not_evaluable=0, stale=0)
    sources = {"mdm": SourceSummary(devices=devices_total, in_scope=0, compliant=0, violations=0, not_evaluable=0,
                                    stale=0, last_observed=AS_OF)} if devices_total else {}
    summary = Summary(at=AS_OF, devices_total=devices_total, devices_in_scope=0, compliant=0, by_state={},
                      by_family={}, by_org_unit={}, by_source=sources, by_rule={"tiktok-ban": rule})
    before = Summary(at=datetime(2023, 3, 8, tzinfo=UTC), devices_total=10, devices_in_scope=8, compliant=6,
                     by_state={}, by_family={}, by_org_unit={})
    return dataclasses.replace(data, summary=summary, history=(before,), findings=(), sightings=())


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("total", [0, 12])
def test_status_table_shows_a_dash_and_says_why(lang: str, total: int) -> None:
    text = render("table", nothing_in_scope(total), lang)
    line = next(x for x in text.splitlines() if x.startswith(("Compliance", "Conformité")))
    assert "—" in line and NO_SCOPE[lang] in line
    assert "100" not in text.split("\n\n")[0] and "0.0%" not in text and "0,0" not in text
    rule_row = next(x for x in text.splitlines() if x.strip().startswith("tiktok-ban"))
    assert rule_row.split()[-2] == "—"  # the rule's rate column


@pytest.mark.parametrize("lang", LANGS)
def test_status_json_rate_is_null_and_valid(lang: str) -> None:
    doc = json.loads(render("json", nothing_in_scope(12), lang))
    jsonschema.validate(doc, json_schema("status"), format_checker=jsonschema.FormatChecker())
    assert doc["summary"]["rate"] is None
    assert doc["summary"]["by_source"]["mdm"]["rate"] is None
    assert doc["summary"]["by_rule"]["tiktok-ban"]["rate"] is None
    assert doc["history"][-1]["rate"] is None and doc["history"][0]["rate"] == 0.75


@pytest.mark.parametrize("lang", LANGS)
def test_html_card_shows_a_dash_and_says_why(lang: str) -> None:
    html = render("html", nothing_in_scope(), lang)
    card = html[html.index('<ul class="cards">'):html.index("</ul>", html.index('<ul class="cards">'))]
    first = card[:card.index("</li>")]
    assert '<span class="value">—</span>' in first and NO_SCOPE[lang] in first
    assert "100.0%" not in html and "100,0" not in html


def test_the_chart_leaves_a_date_without_rate_unplotted() -> None:
    t = Translator("en")
    points = [Summary(at=datetime(2023, 3, d, tzinfo=UTC), devices_total=n, devices_in_scope=n, compliant=c,
                      by_state={}, by_family={}, by_org_unit={}) for d, n, c in ((1, 10, 5), (8, 0, 0), (15, 10, 9),
                                                                                  (22, 10, 10))]
    c = chart(t, points)
    assert [p.label for p in c.points] == ["50.0%", "—", "90.0%", "100.0%"]
    assert c.points[1].y is None and all(p.y is not None for p in c.points if p.label != "—")
    assert len(c.paths) == 1 and c.paths[0].count(",") == 2  # the line joins only the two last dated rates
    assert chart(t, points[1:2]).paths == ()


def test_rule_and_source_rates_are_none_without_devices() -> None:
    assert SourceSummary(3, 0, 0, 0, 0, 0).rate is None
    assert RuleSummary(None, AS_OF.date(), AS_OF.date(), 0, 0, 0, 0, 0, 0).rate is None
    assert Summary(AS_OF, 0, 0, 0, {}, {}, {}).rate is None


# -- coverage in words ---------------------------------------------------------------------------------


def with_coverage() -> ReportData:
    data = report_data()
    reasons = {"work_profile": 163, "user_enrolment": 115, "app_reports_disabled": 19}
    sources = {"amapi": SourceSummary(400, 380, 190, 2, 182, 0, AS_OF, by_coverage={"full": 198, "partial": 163,
                                                                                     "none": 19},
                                      not_evaluable_by_reason={"work_profile": 163, "app_reports_disabled": 19}),
               "intune": SourceSummary(300, 300, 185, 0, 115, 0, AS_OF, by_coverage={"full": 185, "partial": 115},
                                       not_evaluable_by_reason={"user_enrolment": 115})}
    summary = dataclasses.replace(data.summary, by_source=sources, not_evaluable_by_reason=reasons,
                                  by_coverage={"full": 383, "partial": 278, "none": 19})
    return dataclasses.replace(data, summary=summary)


@pytest.mark.parametrize(("lang", "line"), [
    ("en", "297 devices not evaluable: 163 Android work profiles, 115 Apple user enrolments, 19 with app reports "
           "switched off"),
    ("fr", "297 appareils non évaluables : 163 profils professionnels Android, 115 inscriptions d'utilisateur "
           "Apple, 19 aux rapports d'applications désactivés"),
])
def test_status_and_report_say_why_devices_are_not_evaluable(lang: str, line: str) -> None:
    data = with_coverage()
    table = render("table", data, lang)
    assert line.replace("\u00a0", " ") in " ".join(table.replace("\u00a0", " ").split())
    assert "amapi" in table and ("intune: 115 Apple user enrolments" in table or "intune\u00a0: 115" in table)
    html = render("html", data, lang).replace("&#39;", "'")
    assert line.replace("\u00a0", " ") in html.replace("\u00a0", " ")
    assert "statusReportingSettings.applicationReportsEnabled" in html
    doc = json.loads(render("json", data, lang))
    assert doc["summary"]["not_evaluable_by_reason"] == {"work_profile": 163, "user_enrolment": 115,
                                                         "app_reports_disabled": 19}
    assert doc["summary"]["by_source"]["intune"]["by_coverage"] == {"full": 185, "partial": 115}


def test_a_device_holding_an_app_is_not_listed_among_the_unseen() -> None:
    from interdit.model import FindingState
    from interdit.reporting.base import figures
    from interdit.testing.reports import finding

    data = report_data()
    seen_on_partial = finding(FindingState.NOT_EVALUABLE, "D-0001", "tiktok-ban", "tiktok", None, "/Finance",
                              deadline=None, first=AS_OF)
    fig = figures(dataclasses.replace(data, findings=(*data.findings, seen_on_partial)))
    assert "D-0001" not in {f.device_id for f in fig.unseen}  # it holds TikTok: a violation, not unseen
    assert "D-0008" in {f.device_id for f in fig.unseen}
