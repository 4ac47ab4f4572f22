"""What is due for review, and which app ids storage must load for the rules to see them."""

from __future__ import annotations

from datetime import date

from builders.policy import TIKTOK, catalogue, when
from interdit.model import AppId, Platform, Policy, PolicyException, Rule
from interdit.policy import candidate_patterns, due_for_review, parse_policy

CAT = catalogue()


def _policy(lang: str = "en") -> Policy:
    rules = (
        Rule("permanent", ("tiktok",), date(2023, 2, 28)),
        Rule("interim", ("capcut",), date(2023, 3, 1), interim=True, review_by=date(2023, 6, 30)),
        Rule("later", ("lemon8",), date(2023, 3, 1), review_by=date(2024, 1, 1)),
    )
    exceptions = (
        PolicyException("EXC-1", ("tiktok",), "DM", "comms", date(2023, 9, 1), groups=("/Comms",),
                        review_by=date(2023, 8, 1)),
        PolicyException("EXC-0", ("tiktok",), "DM", "old", date(2023, 5, 1), users=("a",)),
    )
    return Policy("Org", rules, exceptions, language=lang)


def test_within_the_window_and_past_due_sorted_by_date() -> None:
    items = due_for_review(_policy(), when("2023-07-15T12:00"), 30)
    assert [(k, i, d) for k, i, d, _ in items] == [
        ("exception", "EXC-0", date(2023, 5, 1)),  # expired: past due
        ("rule", "interim", date(2023, 6, 30)),  # past due
        ("exception", "EXC-1", date(2023, 8, 1)),  # review within 30 days
    ]
    assert "expired" in items[0][3] and "interim" in items[1][3] and "DM" in items[2][3]


def test_window_edges_and_expiry_ahead() -> None:
    items = due_for_review(_policy(), when("2023-08-02T00:00"), 30)
    assert ("exception", "EXC-1", date(2023, 9, 1)) in [(k, i, d) for k, i, d, _ in items]
    assert "expires on 2023-09-01" in items[-1][3]
    # exactly `within_days` ahead is included, one day more is not
    assert any(i == "later" for _, i, _, _ in due_for_review(_policy(), when("2023-12-02T08:00"), 30))
    assert not any(i == "later" for _, i, _, _ in due_for_review(_policy(), when("2023-12-01T08:00"), 30))


def test_reasons_follow_the_policy_language() -> None:
    items = due_for_review(_policy("fr"), when("2023-07-15T12:00"), 30)
    assert "provisoire" in items[1][3] and "expiré" in items[0][3]
    assert "interim" in due_for_review(_policy("fr"), when("2023-07-15T12:00"), 30, lang="en")[1][3]


def test_candidate_patterns_cover_families_own_identifiers_and_prefixes() -> None:
    policy = parse_policy("organisation: T\nadopt:\n  - directive: ca-tbs-2023-wechat-kaspersky\nrules:\n"
                          "  - id: own\n    identifiers: [ios:com.example.App]\n    prefixes: [android:com.example.v]\n"
                          "    families: [tiktok]\n    effective: 2023-01-01\n", CAT)
    exact, prefixes = candidate_patterns(policy, CAT)
    assert TIKTOK in exact and AppId(Platform.ANDROID, "com.tencent.mm") in exact
    assert AppId(Platform.IOS, "com.example.App") in exact
    assert prefixes == tuple(sorted(prefixes))
    assert set(prefixes) == {AppId(Platform.ANDROID, p) for p in ("com.kaspersky", "com.kms", "com.example.v")}
    analysed = AppId(Platform.ANDROID, "com.analysed")
    assert analysed not in candidate_patterns(policy, CAT, evidence=[analysed])[0]  # no evidence rule


def test_candidate_patterns_include_analysed_apps_for_evidence_rules() -> None:
    policy = Policy("Org", (Rule("ev", (), date(2023, 1, 1), sdk_vendors=("bytedance",)),))
    analysed = AppId(Platform.ANDROID, "com.analysed")
    exact, prefixes = candidate_patterns(policy, CAT, evidence=[analysed])
    assert exact == {analysed} and prefixes == ()
