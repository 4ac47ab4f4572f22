"""The summary by rule (directive): per rule in force, the devices it covers and those that comply with it."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings

from interdit.model import DeviceState, FindingState, OutOfScope, Rule, Scope
from interdit.policy.evaluate import BAD_STATES, evaluate
from policy.test_evaluate import CAT, TIKTOK_RULE, _days, _fleets, policy


@settings(max_examples=60, deadline=None)
@given(_fleets, _days)
def test_by_rule_agrees_with_the_findings_for_any_fleet(fleet: tuple[DeviceState, ...], as_of: object) -> None:
    k = Rule("k", ("kaspersky", "wechat"), date(2023, 3, 1), grace_days=3,
             scope=Scope(ownership=(), groups=("/TBS",)))
    pol = policy(TIKTOK_RULE, k)
    result = evaluate(pol, CAT, list(fleet), as_of)  # type: ignore[arg-type]
    s = result.summary
    in_force = [r for r in pol.rules if r.effective <= s.at.date()]
    assert list(s.by_rule) == [r.id for r in in_force]
    all_ok = {st_.device.key: True for st_ in fleet}
    placed_unknown: set[tuple[str, str]] = set()
    for rule in in_force:
        v = s.by_rule[rule.id]
        assert (v.directive, v.effective, v.deadline) == (rule.directive, rule.effective, rule.deadline)
        # the devices it covers, and those it may cover (scope unknown) that hold one of its apps: never compliant
        unplaced = [st_.device for st_ in fleet if rule.scope.place(st_.device) is OutOfScope.SCOPE_UNKNOWN
                    and any(f.rule == rule.id and (f.source, f.device_id) == st_.device.key for f in result.findings)]
        for d in unplaced:
            mine = {f.state for f in result.findings if f.rule == rule.id and (f.source, f.device_id) == d.key}
            assert FindingState.VIOLATION not in mine and FindingState.BLOCKED_PRESENT not in mine
        covered = [st_.device for st_ in fleet if rule.scope.covers(st_.device)] + unplaced
        placed_unknown |= {d.key for d in unplaced}
        assert v.in_scope == len(covered) <= s.devices_in_scope
        states = [{f.state for f in result.findings if f.rule == rule.id and (f.source, f.device_id) == d.key}
                  for d in covered]
        assert v.compliant == sum(not (x & BAD_STATES) for x in states)
        assert v.violations == sum(FindingState.VIOLATION in x for x in states)
        assert v.blocked_present == sum(FindingState.BLOCKED_PRESENT in x for x in states)
        holding = {FindingState.VIOLATION, FindingState.BLOCKED_PRESENT}
        assert v.not_evaluable == sum(FindingState.NOT_EVALUABLE in x and not (x & holding) for x in states)
        assert v.stale == sum(FindingState.STALE in x for x in states)
        assert v.rate is None if not v.in_scope else 0 <= v.rate <= 1
        for d, x in zip(covered, states, strict=True):
            all_ok[d.key] = all_ok[d.key] and not (x & BAD_STATES)
    in_scope = {st_.device.key for st_ in fleet if any(r.scope.covers(st_.device) for r in in_force)}
    in_scope |= placed_unknown
    assert s.devices_in_scope == len(in_scope)
    assert s.compliant == sum(all_ok[key] for key in in_scope), "compliant overall = compliant with every rule"
