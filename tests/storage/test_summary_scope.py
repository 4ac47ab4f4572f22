"""A stored summary keeps the devices outside every rule and those that cannot be placed (read back by
`interdit status` and the report when the evaluation is reused)."""

from __future__ import annotations

from datetime import UTC, datetime

from interdit.model import ScopeUnknown, Summary
from interdit.storage.evaluations import dump_summary, load_summary


def test_out_of_scope_and_scope_unknown_survive_storage() -> None:
    summary = Summary(
        at=datetime(2025, 3, 1, tzinfo=UTC), devices_total=10, devices_in_scope=6, compliant=4, by_state={},
        by_family={}, by_org_unit={}, out_of_scope={"personal": 3, "scope_unknown": 1},
        scope_unknown=(ScopeUnknown("tiktok", "intune", (("category", "Communications"),), 1),
                       ScopeUnknown("tiktok", "csv", (), 2)))
    assert load_summary(dump_summary(summary)) == summary
