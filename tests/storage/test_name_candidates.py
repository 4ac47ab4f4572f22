"""Apps known only by display name reach evaluation, and a summary's coverage survives storage (both databases)."""

from __future__ import annotations

from datetime import date

from storage_fixtures import DAY, T0, TIKTOK, app, dev, do_import

from interdit.model import NAME_PREFIX, AppId, Platform, RuleSummary, SourceSummary, Summary
from interdit.storage.repo import Repository

I = Platform.IOS  # noqa: E741


def test_a_name_prefix_loads_every_display_name_only_app_of_its_platform(repo: Repository) -> None:
    do_import(repo, [
        dev("P1", platform=I), app("P1", "name:TikTok - Videos, Music & LIVE", platform=I),
        app("P1", "name:Outlook", platform=I), app("P1", "com.example.notes", platform=I),
        dev("P2"), app("P2", "name:TikTok"), app("P2", TIKTOK.identifier), app("P2", "namespace.app"),
    ], T0)
    states = {s.device.device_id: s for s in repo.device_states(T0 + DAY, (TIKTOK,), (AppId(I, NAME_PREFIX),))}
    assert sorted(a.app.identifier for a in states["P1"].apps) == [
        "name:Outlook", "name:TikTok - Videos, Music & LIVE"]
    # the Android device's name-only app is not asked for (no Android store name), its exact id is
    assert [a.app.identifier for a in states["P2"].apps] == [TIKTOK.identifier]
    assert all(a.app.by_name for a in states["P1"].apps)


def test_coverage_figures_survive_a_stored_evaluation(repo: Repository) -> None:
    summary = Summary(T0, 10, 8, 5, {"not_evaluable": 3}, {}, {"/A": (8, 5)},
                      by_source={"amapi": SourceSummary(10, 8, 5, 0, 3, 0, T0, by_coverage={"full": 5, "partial": 3},
                                                        not_evaluable_by_reason={"work_profile": 3})},
                      by_rule={"r": RuleSummary(None, date(2023, 3, 1), date(2023, 3, 1), 8, 5, 0, 0, 3, 0)},
                      by_coverage={"full": 5, "partial": 3}, not_evaluable_by_reason={"work_profile": 3})
    repo.save_evaluation([], summary, policy_hash="p", as_of=T0)
    latest = repo.latest_evaluation()
    assert latest is not None and latest[3] == summary


def test_a_display_name_only_tiktok_is_found_from_storage_to_finding(repo: Repository) -> None:
    """The whole road: stored as `name:...`, asked for by candidate_patterns, matched by the family's store names."""
    from dataclasses import replace

    from interdit.catalogue import load_catalogue
    from interdit.model import FindingState, Policy, Rule, StoreName
    from interdit.policy import candidate_patterns, evaluate

    cat = load_catalogue()
    tiktok = replace(cat.families["tiktok"], store_names=(StoreName(I, "TikTok"),))
    cat = replace(cat, families={**cat.families, "tiktok": tiktok})
    policy = Policy("Org", (Rule("ban", ("tiktok",), date(2023, 2, 28)),))
    do_import(repo, [dev("P1", platform=I), app("P1", "name:TikTok - Videos, Music & LIVE", platform=I),
                     dev("P2", platform=I), app("P2", "name:Outlook", platform=I)], T0)
    exact, prefixes = candidate_patterns(policy, cat)
    result = evaluate(policy, cat, repo.device_states(T0 + DAY, exact, prefixes), T0 + DAY)
    found = {(f.device_id, f.state) for f in result.findings}
    assert ("P1", FindingState.VIOLATION) in found
    assert not any(f.device_id == "P2" for f in result.findings)  # fully managed, nothing prohibited seen
    hit = next(f for f in result.findings if f.device_id == "P1")
    assert any("matched by display name" in e and "store name prefix" in e for e in hit.evidence)
