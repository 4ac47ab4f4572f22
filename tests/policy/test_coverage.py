"""Coverage in evaluation: only a device whose every app is listed can be compliant (docs/policy.md, "When
interdit says not evaluable, and why"); and no rate without a device in scope."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from builders.policy import TIKTOK, TIKTOK_IOS, app, catalogue, device, state, when
from interdit.model import (
    AppState,
    CoverageReason,
    FindingState,
    Management,
    Ownership,
    Platform,
    Policy,
    Rule,
    Scope,
)
from interdit.policy import evaluate
from interdit.policy.coverage import reason_sentence
from interdit.policy.evaluate import Evaluation

CAT = catalogue()
RULE = Rule("tiktok", ("tiktok",), date(2023, 2, 28), scope=Scope(ownership=(Ownership.CORPORATE,)),
            directive="ca-tbs-2023-tiktok")


def run(states: list, lang: str = "en", *rules: Rule) -> Evaluation:  # type: ignore[type-arg]
    return evaluate(Policy("Org", rules or (RULE,), language=lang), CAT, states, when("2023-03-15T06:00"))


@pytest.mark.parametrize("reason", [r for r in CoverageReason if r.value not in (
    "work_profile", "user_enrolment", "unmanaged", "management_unknown")])
def test_a_fully_managed_device_with_a_coverage_gap_is_not_evaluable_never_compliant(reason: CoverageReason) -> None:
    d = replace(device(), coverage_gap=reason)
    result = run([state(d)])
    assert [f.state for f in result.findings] == [FindingState.NOT_EVALUABLE]
    f = result.findings[0]
    assert f.evidence[0] == reason_sentence(reason, "en") and f"({reason.value})" in f.evidence[1]
    s = result.summary
    assert (s.devices_in_scope, s.compliant, s.rate) == (1, 0, 0.0)
    assert s.not_evaluable_by_reason == {reason.value: 1}
    assert s.by_source["mdm"].not_evaluable_by_reason == {reason.value: 1}
    coverage = "partial" if reason is CoverageReason.DISPLAY_NAMES_ONLY else "none"
    assert s.by_coverage == {coverage: 1} == s.by_source["mdm"].by_coverage


def test_every_reason_has_an_actionable_sentence_in_english_and_french() -> None:
    REASONS = {lang: {r: reason_sentence(r, lang) for r in CoverageReason} for lang in ("en", "fr")}
    for lang in ("en", "fr"):
        assert all(" — " in text or ": " in text or "\u00a0: " in text for text in REASONS[lang].values())
    assert "statusReportingSettings.applicationReportsEnabled" in REASONS["en"][CoverageReason.APP_REPORTS_DISABLED]
    assert "statusReportingSettings.applicationReportsEnabled" in REASONS["fr"][CoverageReason.APP_REPORTS_DISABLED]
    assert "display name only" in REASONS["en"][CoverageReason.DISPLAY_NAMES_ONLY]
    assert "last known apps are kept" in REASONS["en"][CoverageReason.UNREADABLE]


def test_french_evidence_gives_the_reason_in_french() -> None:
    d = replace(device(), coverage_gap=CoverageReason.APP_REPORTS_DISABLED)
    f = run([state(d)], "fr").findings[0]
    assert f.evidence[0].startswith("les rapports d'applications sont désactivés")
    assert "couverture «\u00a0none\u00a0»" in f.evidence[1]


def test_management_comes_first_then_the_source_s_gap() -> None:
    d = replace(device(management=Management.WORK_PROFILE), coverage_gap=CoverageReason.DISPLAY_NAMES_ONLY)
    s = run([state(d)]).summary
    assert s.not_evaluable_by_reason == {"work_profile": 1}


def test_a_partial_device_with_a_violation_counts_as_a_violation_not_as_not_evaluable() -> None:
    seen = device("WP1", management=Management.WORK_PROFILE)
    clean = device("WP2", management=Management.WORK_PROFILE)
    blocked = device("UE1", platform=Platform.IOS, management=Management.USER_ENROLMENT)
    result = run([state(seen, app(seen, TIKTOK)), state(clean),
                  state(blocked, app(blocked, TIKTOK_IOS, state=AppState.BLOCKED))])
    by_device = {(f.device_id, f.state) for f in result.findings}
    # the not-evaluable findings are still there (what the source cannot see stays unknown) ...
    assert ("WP1", FindingState.NOT_EVALUABLE) in by_device and ("WP1", FindingState.VIOLATION) in by_device
    s = result.summary
    # ... but the device is counted once, as what was seen on it
    assert s.by_state == {"violation": 1, "not_evaluable": 1, "blocked_present": 1}
    assert s.not_evaluable_by_reason == {"work_profile": 1}
    assert s.by_coverage == {"partial": 3}
    src = s.by_source["mdm"]
    assert (src.violations, src.not_evaluable, src.compliant) == (1, 1, 0)
    r = s.by_rule["tiktok"]
    assert (r.violations, r.blocked_present, r.not_evaluable, r.compliant) == (1, 1, 1, 0)


def test_coverage_by_source_and_reason_says_why_devices_are_not_evaluable() -> None:
    fleet = [state(device(f"A{i}", source="amapi", management=Management.WORK_PROFILE)) for i in range(3)]
    fleet += [state(replace(device(f"R{i}", source="amapi"), coverage_gap=CoverageReason.APP_REPORTS_DISABLED))
              for i in range(2)]
    fleet += [state(device(f"U{i}", source="intune", platform=Platform.IOS, management=Management.USER_ENROLMENT))
              for i in range(2)]
    fleet += [state(device("F1", source="intune")), state(device("P1", source="intune",
                                                                  ownership=Ownership.PERSONAL))]
    s = run(fleet).summary
    assert s.not_evaluable_by_reason == {"work_profile": 3, "app_reports_disabled": 2, "user_enrolment": 2}
    assert list(s.not_evaluable_by_reason) == ["work_profile", "app_reports_disabled", "user_enrolment"]
    assert s.by_coverage == {"full": 1, "partial": 5, "none": 2}
    assert s.by_source["amapi"].not_evaluable_by_reason == {"work_profile": 3, "app_reports_disabled": 2}
    assert s.by_source["intune"].by_coverage == {"full": 1, "partial": 2}  # the personal phone is out of scope
    assert s.by_state["not_evaluable"] == 7 and s.compliant == 1


def test_coverage_is_per_rule_in_scope_only() -> None:
    """A device no rule covers has no coverage finding and is counted nowhere."""
    personal = replace(device(ownership=Ownership.PERSONAL), coverage_gap=CoverageReason.NOT_REPORTED)
    result = run([state(personal)])
    assert result.findings == () and result.summary.by_coverage == {} and result.summary.not_evaluable_by_reason == {}


# -- no rate without a denominator ----------------------------------------------------------------------


def test_an_empty_fleet_has_no_rate() -> None:
    s = run([]).summary
    assert (s.devices_total, s.devices_in_scope, s.compliant) == (0, 0, 0)
    assert s.rate is None


def test_nothing_in_scope_has_no_rate_anywhere() -> None:
    personal = device(ownership=Ownership.PERSONAL)
    s = run([state(personal, app(personal, TIKTOK))]).summary
    assert s.devices_total == 1 and s.devices_in_scope == 0
    assert s.rate is None and s.by_source["mdm"].rate is None and s.by_rule["tiktok"].rate is None


def test_a_rule_covering_nothing_has_no_rate_while_another_has_one() -> None:
    ios_only = Rule("ios", ("tiktok",), date(2023, 2, 28), scope=Scope(platforms=(Platform.IOS,)))
    s = run([state(device())], "en", RULE, ios_only).summary
    assert s.by_rule["tiktok"].rate == 1.0 and s.by_rule["ios"].rate is None and s.rate == 1.0
