"""A rule scoped by management mode covers the devices enrolled that way and no others (docs/policy.md, `scope`)."""

from __future__ import annotations

import pytest

from builders.policy import TIKTOK, app, catalogue, device, state, when
from interdit.model import DeviceState, FindingState, Management, Ownership
from interdit.policy import evaluate, parse_policy

CAT = catalogue()


def _policy(modes: str) -> str:
    return f"""organisation: Test
rules:
  - id: tiktok-by-mode
    families: [tiktok]
    effective: 2023-03-01
    scope:
      ownership: [corporate]
      management: {modes}
"""


def _fleet() -> list[DeviceState]:
    managed = device("FM1", management=Management.FULLY_MANAGED)
    profile = device("WP1", management=Management.WORK_PROFILE)
    return [state(managed, app(managed, TIKTOK)), state(profile, app(profile, TIKTOK))]


def _by_device(modes: str) -> dict[str, set[FindingState]]:
    policy = parse_policy(_policy(modes), CAT)
    result = evaluate(policy, CAT, _fleet(), when("2023-03-15T06:00"))
    out: dict[str, set[FindingState]] = {}
    for f in result.findings:
        out.setdefault(f.device_id, set()).add(f.state)
    return out


def test_the_yaml_key_loads_into_the_rule_scope() -> None:
    policy = parse_policy(_policy("[fully_managed]"), CAT)
    (rule,) = policy.rules
    assert rule.scope.management == (Management.FULLY_MANAGED,)
    assert rule.scope.ownership == (Ownership.CORPORATE,)


def test_fully_managed_only_counts_the_fully_managed_device_and_not_the_work_profile() -> None:
    found = _by_device("[fully_managed]")
    assert found == {"FM1": {FindingState.VIOLATION}}
    policy = parse_policy(_policy("[fully_managed]"), CAT)
    summary = evaluate(policy, CAT, _fleet(), when("2023-03-15T06:00")).summary
    assert summary.devices_total == 2
    assert summary.devices_in_scope == 1
    assert summary.by_state.get("violation") == 1
    assert summary.compliant == 0


def test_work_profile_only_counts_the_work_profile_device_and_not_the_fully_managed() -> None:
    found = _by_device("[work_profile]")
    # the work profile hides the personal side, so the covered device is also not evaluable
    assert set(found) == {"WP1"}
    assert FindingState.VIOLATION in found["WP1"]
    assert FindingState.NOT_EVALUABLE in found["WP1"]


@pytest.mark.parametrize("modes", ["[]", "[fully_managed, work_profile]"])
def test_no_mode_or_both_modes_count_both_devices(modes: str) -> None:
    found = _by_device(modes)
    assert set(found) == {"FM1", "WP1"}
    assert all(FindingState.VIOLATION in states for states in found.values())
