"""Apps known only by display name are matched against the catalogue's store names (docs/policy.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from builders.policy import app, catalogue, device, state, when
from interdit.model import (
    NAME_PREFIX,
    AppId,
    CoverageReason,
    FindingState,
    Platform,
    Policy,
    Rule,
    StoreName,
)
from interdit.policy import candidate_patterns, evaluate
from interdit.policy.evaluate import Evaluation
from interdit.policy.names import name_key

A, I = Platform.ANDROID, Platform.IOS  # noqa: E741
_BASE = catalogue()
TIKTOK = replace(_BASE.families["tiktok"], store_names=(
    StoreName(I, "TikTok - Videos, Music & LIVE"), StoreName(I, "TikTok"), StoreName(I, "TikTok Lite"),
    StoreName(I, "TikTok – Vidéos, musique et LIVE", "fr"), StoreName(A, "TikTok"),
))
CAT = replace(_BASE, families={**_BASE.families, "tiktok": TIKTOK})
RULE = Rule("tiktok", ("tiktok",), date(2023, 2, 28), directive="ca-tbs-2023-tiktok")


def run(*names: str, platform: Platform = I, lang: str = "en") -> Evaluation:
    d = replace(device(platform=platform), coverage_gap=CoverageReason.DISPLAY_NAMES_ONLY)
    apps = [app(d, AppId.named(platform, n)) for n in names]
    return evaluate(Policy("Org", (RULE,), language=lang), CAT, [state(d, *apps)], when("2023-03-15T06:00"))


def violations(result: Evaluation) -> list[str]:
    return [f.app.display_name or "" for f in result.findings
            if f.state is FindingState.VIOLATION and f.app is not None]


@pytest.mark.parametrize("name", ["TikTok", "TIKTOK™", "TikTok®", "tík tók", "Tik Tok", "TikTok - Videos, Music & LIVE",
                                  "TikTok: Videos", "TikTok — Vidéos", "TikTok Lite", "ＴｉｋＴｏｋ"])
def test_names_that_are_tiktok(name: str) -> None:
    assert violations(run(name)) == [name]


@pytest.mark.parametrize("name", ["TikTokker Pro", "Not TikTok", "TikTok Studio", "Tok Tik", "Lite", "", "-",
                                  "Notes: TikTok", "TikTok-like Editor"])
def test_names_that_are_not(name: str) -> None:
    assert violations(run(name)) == []


def test_a_longer_name_matches_once_it_is_a_store_name_itself() -> None:
    studio = replace(TIKTOK, store_names=(*TIKTOK.store_names, StoreName(I, "TikTok Studio")))
    cat = replace(CAT, families={**CAT.families, "tiktok": studio})
    d = device(platform=I)
    result = evaluate(Policy("Org", (RULE,)), cat, [state(d, app(d, AppId.named(I, "TikTok Studio")))],
                      when("2023-03-15T06:00"))
    assert [f.state for f in result.findings] == [FindingState.VIOLATION]


def test_store_names_count_on_their_own_platform_only() -> None:
    assert violations(run("TikTok Lite", platform=A)) == []  # a store name on iOS only
    assert violations(run("TikTok", platform=A)) == ["TikTok"]


def test_the_evidence_says_by_display_name_and_how_sure() -> None:
    exact, prefix = run("TIKTOK™").findings, run("TikTok: Trends").findings
    f = next(f for f in exact if f.state is FindingState.VIOLATION)
    assert "matches family 'tiktok' (TikTok)" in f.evidence
    assert any(e.startswith("matched by display name: “TikTok” is a store name") and "(exact store name)" in e
               for e in f.evidence)
    g = next(f for f in prefix if f.state is FindingState.VIOLATION)
    assert any("by display name" in e and "store name prefix" in e for e in g.evidence)
    fr = next(f for f in run("TikTok - x", lang="fr").findings if f.state is FindingState.VIOLATION)
    assert any("reconnue par son nom affiché" in e and "préfixe" in e for e in fr.evidence)


def test_a_display_name_only_device_with_no_match_is_still_not_evaluable() -> None:
    result = run("Outlook", "Teams")
    assert [f.state for f in result.findings] == [FindingState.NOT_EVALUABLE]
    assert result.summary.compliant == 0 and result.summary.not_evaluable_by_reason == {"display_names_only": 1}


def test_a_name_found_on_a_name_only_device_is_a_violation_and_counted_so() -> None:
    s = run("TikTok").summary
    assert s.by_state == {"violation": 1} and s.not_evaluable_by_reason == {} and s.by_family == {"tiktok": 1}


def test_candidate_patterns_ask_storage_for_name_only_apps_where_store_names_exist() -> None:
    _, prefixes = candidate_patterns(Policy("Org", (RULE,)), CAT)
    assert AppId(I, NAME_PREFIX) in prefixes and AppId(A, NAME_PREFIX) in prefixes
    _, without = candidate_patterns(Policy("Org", (RULE,)), _BASE)
    assert not any(p.identifier == NAME_PREFIX for p in without)


@given(st.text(max_size=30))
def test_name_key_is_idempotent_and_case_and_accent_blind(text: str) -> None:
    key = name_key(text)
    assert name_key(key) == key
    assert name_key(text.upper()) == name_key(text.lower()) or not text.isascii()
    assert all(c.isalnum() for c in key)
