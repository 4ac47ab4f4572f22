"""The evaluation, state by state and edge by edge: what an auditor relies on (docs/policy.md)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builders.policy import CAPCUT, OUTLOOK, TIKTOK, WECHAT, app, catalogue, device, state, when
from interdit.model import (
    AppEvidence,
    AppId,
    AppState,
    DeviceState,
    Finding,
    FindingKind,
    FindingState,
    Management,
    Ownership,
    Platform,
    Policy,
    PolicyException,
    Rule,
    Scope,
    Sighting,
    SourceSummary,
)
from interdit.policy import evaluate
from interdit.policy.evaluate import Evaluation

CAT = catalogue()
SCOPE = Scope(ownership=(Ownership.CORPORATE, Ownership.UNKNOWN))
TIKTOK_RULE = Rule("ca-tbs-2023-tiktok", ("tiktok",), date(2023, 2, 28), grace_days=14, scope=SCOPE,
                   directive="ca-tbs-2023-tiktok")
COMMS = "/TBS/Communications/Social Media"
EXC = PolicyException("EXC-2023-001", ("tiktok",), "Deputy Minister", "official account", date(2023, 9, 1),
                      groups=(COMMS,), granted=date(2023, 3, 1), safeguards=("dedicated device",))


def policy(*rules: Rule, exceptions: tuple[PolicyException, ...] = (EXC,), **kw: object) -> Policy:
    return Policy("Org", rules or (TIKTOK_RULE,), exceptions, **kw)  # type: ignore[arg-type]


def run(states: list[DeviceState], as_of: str = "2023-03-15T06:00", pol: Policy | None = None,
        **kw: object) -> Evaluation:
    return evaluate(pol or policy(), CAT, states, when(as_of), **kw)  # type: ignore[arg-type]


def one(result: Evaluation) -> Finding:
    assert len(result.findings) == 1, result.findings
    return result.findings[0]


# -- installed apps -------------------------------------------------------------------------------------


def test_violation_with_evidence_deadline_and_stable_id() -> None:
    d = device()
    f = one(run([state(d, app(d, TIKTOK), app(d, OUTLOOK))]))
    assert (f.kind, f.state, f.family, f.rule, f.directive) == (
        FindingKind.INSTALLED, FindingState.VIOLATION, "tiktok", "ca-tbs-2023-tiktok", "ca-tbs-2023-tiktok")
    assert f.evidence[0] == "android:com.zhiliaoapp.musically 34.1.2 reported by source 'mdm' at 2023-03-15T06:00Z"
    assert "matches family 'tiktok' (TikTok)" in f.evidence
    assert f.deadline == date(2023, 3, 14) and f.app == TIKTOK and f.org_unit == "/TBS/Finance"
    assert f.id == Finding.make_id(FindingKind.INSTALLED, "mdm", "D1", "ca-tbs-2023-tiktok", "tiktok", TIKTOK,
                                   when("2023-03-01T06:00"))


def test_grace_deadline_makes_a_violation_overdue_at_midnight() -> None:
    d = device()
    f = one(run([state(d, app(d, TIKTOK))], "2023-03-10T00:00"))
    assert f.state is FindingState.VIOLATION and f.deadline == date(2023, 3, 14)
    assert not f.overdue(when("2023-03-13T23:59:59")) and f.overdue(when("2023-03-14T00:00"))


def test_blocked_but_still_installed() -> None:
    d = device(platform=Platform.IOS)
    f = one(run([state(d, app(d, AppId(Platform.IOS, "com.zhiliaoapp.musically"), state=AppState.BLOCKED))]))
    assert f.state is FindingState.BLOCKED_PRESENT
    assert any("blocked or hidden" in e for e in f.evidence)


def test_before_the_effective_date_nothing_is_found_and_nothing_is_in_scope() -> None:
    d = device()
    result = run([state(d, app(d, TIKTOK, first="2023-02-01T00:00"))], "2023-02-27T23:59:59")
    assert result.findings == () and result.summary.devices_in_scope == 0
    assert one(run([state(d, app(d, TIKTOK, first="2023-02-01T00:00"))], "2023-02-28T00:00")).state \
        is FindingState.VIOLATION


def test_an_app_installed_after_as_of_is_not_there_yet() -> None:
    d = device()
    assert run([state(d, app(d, TIKTOK, first="2023-03-20T00:00", last="2023-03-20T00:00"))]).findings == ()


def test_removed_then_reinstalled_gives_resolved_then_violation_with_stable_ids() -> None:
    d = device()
    first = app(d, TIKTOK, first="2023-03-01T06:00", last="2023-03-04T06:00", removed="2023-03-05T06:00")
    again = app(d, TIKTOK, first="2023-03-10T06:00", last="2023-03-15T06:00")
    before = one(run([state(d, first)], "2023-03-03T00:00"))
    assert before.state is FindingState.VIOLATION
    result = run([state(d, first, again)])
    resolved, current = result.findings
    assert resolved.state is FindingState.RESOLVED and resolved.resolved_at == when("2023-03-05T06:00")
    assert resolved.id == before.id, "the id does not depend on the state"
    assert current.state is FindingState.VIOLATION and current.id != resolved.id
    assert result.summary.compliant == 0
    # with only the resolved interval the device is compliant: resolved does not count against
    assert run([state(d, first)]).summary.compliant == 1


def test_removed_before_the_rule_took_effect_is_not_reported() -> None:
    d = device()
    gone = app(d, TIKTOK, first="2023-01-01T00:00", last="2023-02-20T00:00", removed="2023-02-27T00:00")
    assert run([state(d, gone)]).findings == ()


def test_removed_exactly_at_as_of_is_resolved() -> None:
    d = device()
    f = one(run([state(d, app(d, TIKTOK, removed="2023-03-15T06:00"))]))
    assert f.state is FindingState.RESOLVED


# -- exceptions -----------------------------------------------------------------------------------------


def test_exception_covers_a_sub_unit_and_stops_at_midnight_on_expiry() -> None:
    d = device(org_unit=COMMS + "/Video", observed="2023-08-31T06:00")
    s = state(d, app(d, TIKTOK, last="2023-08-31T06:00"))
    f = one(run([s], "2023-08-31T23:59:59"))
    assert f.state is FindingState.EXCEPTED and f.exception == "EXC-2023-001"
    assert any("EXC-2023-001" in e and "Deputy Minister" in e for e in f.evidence)
    expired = one(run([s], "2023-09-01T00:00"))
    assert expired.state is FindingState.VIOLATION and expired.exception is None and expired.id == f.id


def test_exception_does_not_count_before_it_was_granted_nor_for_a_sibling_unit() -> None:
    d = device(org_unit=COMMS, observed="2023-02-28T06:00")
    early = app(d, TIKTOK, first="2023-02-01T06:00", last="2023-02-28T06:00")
    assert one(run([state(d, early)], "2023-02-28T12:00")).state is FindingState.VIOLATION
    assert one(run([state(d, early)], "2023-03-01T00:00")).state is FindingState.EXCEPTED
    other = device(org_unit="/TBS/Communications/Social")  # a prefix of the name, not a sub-unit
    assert one(run([state(other, app(other, TIKTOK))])).state is FindingState.VIOLATION


def test_exception_by_device_and_by_user() -> None:
    by_device = replace(EXC, groups=(), devices=("mdm:D1",))
    by_user = replace(EXC, id="EXC-2", groups=(), users=("ana@x",))
    d1, d2 = device("D1"), device("D2", user="ana@x")
    result = run([state(d1, app(d1, TIKTOK)), state(d2, app(d2, TIKTOK))], pol=policy(
        exceptions=(by_device, by_user)))
    assert [(f.device_id, f.exception) for f in result.findings] == [("D1", "EXC-2023-001"), ("D2", "EXC-2")]
    assert result.summary.compliant == 2 and result.summary.by_state == {"excepted": 2}


# -- what cannot be seen ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [Management.WORK_PROFILE, Management.USER_ENROLMENT, Management.UNMANAGED,
                                  Management.UNKNOWN])
def test_not_evaluable_is_never_compliant(mode: Management) -> None:
    d = device(management=mode)
    result = run([state(d)])
    f = one(result)
    assert f.state is FindingState.NOT_EVALUABLE and f.family == "tiktok" and f.app is None
    assert mode.value in f.evidence[1] and "coverage" in f.evidence[1]
    assert result.summary.devices_in_scope == 1 and result.summary.compliant == 0
    assert result.summary.by_state == {"not_evaluable": 1}


def test_a_work_profile_that_reports_a_banned_app_is_still_in_violation() -> None:
    d = device(management=Management.WORK_PROFILE)
    result = run([state(d, app(d, TIKTOK))])
    assert sorted(f.state.value for f in result.findings) == ["not_evaluable", "violation"]
    assert result.summary.by_family == {"tiktok": 1}


def test_stale_after_more_than_the_allowed_days() -> None:
    fresh = device("D1", observed="2023-03-07T06:00")  # exactly 8 days before as_of
    old = device("D2", observed="2023-03-07T05:59:59")
    result = run([state(fresh), state(old)])
    f = one(result)
    assert (f.device_id, f.state) == ("D2", FindingState.STALE)
    assert "2023-03-07T05:59Z" in f.evidence[0] and "(the policy allows 8)" in f.evidence[0]
    assert result.summary.compliant == 1 and result.summary.by_state == {"stale": 1}
    shorter = run([state(fresh)], pol=policy(stale_after_days=3))
    assert one(shorter).state is FindingState.STALE


def test_a_stale_device_still_reports_its_last_known_violation() -> None:
    d = device(observed="2023-03-01T06:00")
    states = sorted(f.state.value for f in run([state(d, app(d, TIKTOK, last="2023-03-01T06:00"))]).findings)
    assert states == ["stale", "violation"]


# -- scope ------------------------------------------------------------------------------------------------


def test_scope_ownership_platform_and_org_units() -> None:
    rule = replace(TIKTOK_RULE, scope=Scope(ownership=(Ownership.CORPORATE,), platforms=(Platform.ANDROID,),
                                            groups=("/TBS",), exclude_groups=("/TBS/Finance/Labs",)))
    devices = [device("in", org_unit="/TBS/Finance"), device("personal", ownership=Ownership.PERSONAL),
               device("ios", platform=Platform.IOS), device("other", org_unit="/GAC/Trade"),
               device("excluded", org_unit="/TBS/Finance/Labs/X"), device("group", org_unit=None, groups=("/TBS",))]
    result = run([state(d, app(d, TIKTOK)) for d in devices], pol=policy(rule))
    assert sorted(f.device_id for f in result.findings) == ["group", "in"]
    s = result.summary
    assert (s.devices_total, s.devices_in_scope, s.compliant) == (6, 2, 0)
    assert s.by_org_unit == {"": (1, 0), "/TBS/Finance": (1, 0)}


def test_own_identifiers_and_prefixes() -> None:
    rule = Rule("own", (), date(2023, 1, 1), identifiers=(OUTLOOK,),
                prefixes=(AppId(Platform.ANDROID, "com.tencent"),))
    d = device()
    result = run([state(d, app(d, OUTLOOK), app(d, WECHAT), app(d, AppId(Platform.ANDROID, "com.tencentx")))],
                 pol=policy(rule, exceptions=()))
    assert [(str(f.app), f.family) for f in result.findings] == [
        ("android:com.microsoft.office.outlook", None), ("android:com.tencent.mm", None)]
    assert "own prefix android:com.tencent" in result.findings[1].evidence[-1]


def test_vendor_prefix_family() -> None:
    rule = Rule("k", ("kaspersky",), date(2023, 1, 1))
    d = device()
    result = run([state(d, app(d, AppId(Platform.ANDROID, "com.kms.free")),
                        app(d, AppId(Platform.ANDROID, "com.kaspersky")),
                        app(d, AppId(Platform.ANDROID, "com.kmsx")))], pol=policy(rule, exceptions=()))
    assert sorted(str(f.app) for f in result.findings) == ["android:com.kaspersky", "android:com.kms.free"]


# -- use seen on the network --------------------------------------------------------------------------------


def _sighting(day: str, *, client: str = "10.0.0.1", device_id: str | None = "D1", count: int = 3,
              family: str = "tiktok") -> Sighting:
    start = when(day + "T09:00")
    return Sighting(family, start.date(), client, start, start + timedelta(hours=2), count, "dnsmasq",
                    "api.tiktokv.com", "mdm" if device_id else None, device_id)


def test_sightings_become_used_findings() -> None:
    d = device()
    sightings = [_sighting("2023-03-10"), _sighting("2023-03-10", client="10.0.0.2", count=2),
                 _sighting("2023-02-27"),  # before the rule
                 _sighting("2023-03-16"),  # after as_of
                 _sighting("2023-03-11", device_id=None),  # unattributed: the network report's
                 _sighting("2023-03-11", family="wechat")]  # no rule for it
    result = run([state(d)], sightings=sightings)
    f = one(result)
    assert (f.kind, f.state, f.family) == (FindingKind.USED, FindingState.VIOLATION, "tiktok")
    assert f.evidence[0].startswith("5 look-ups of api.tiktokv.com from 10.0.0.1, 10.0.0.2 in dnsmasq logs")
    assert f.first_seen == when("2023-03-10T09:00") and f.app is None
    assert result.summary.compliant == 0 and result.summary.by_family == {"tiktok": 1}


def test_sighting_under_an_active_exception_is_excepted() -> None:
    d = device(org_unit=COMMS)
    f = one(run([state(d)], sightings=[_sighting("2023-03-10")]))
    assert f.state is FindingState.EXCEPTED and f.exception == "EXC-2023-001"


# -- rules by evidence ------------------------------------------------------------------------------------


def test_evidence_rule_matches_a_subsidiary_sdk_and_skips_apps_already_matched() -> None:
    rule = Rule("no-bytedance-sdks", (), date(2023, 1, 1), sdk_vendors=("bytedance",),
                endpoint_vendors=("tencent",))
    game = AppId(Platform.ANDROID, "com.example.game")
    clean = AppId(Platform.ANDROID, "com.example.clean")
    evidence = {
        game: AppEvidence(game, "ab" * 32, "2.0", "unacceptable", sdk_vendors=("pangle",),
                          endpoint_vendors=("tencent", "acme")),
        clean: AppEvidence(clean, "cd" * 32, "1.0", "acceptable", sdk_vendors=("acme",)),
        TIKTOK: AppEvidence(TIKTOK, "ef" * 32, "34", "unacceptable", sdk_vendors=("bytedance",)),
    }
    d = device()
    result = run([state(d, app(d, game), app(d, clean), app(d, TIKTOK))], pol=policy(TIKTOK_RULE, rule),
                 evidence=evidence)
    kinds = sorted((f.kind.value, str(f.app)) for f in result.findings)
    assert kinds == [("installed", str(TIKTOK)), ("risky-app", str(game))]
    risky = next(f for f in result.findings if f.kind is FindingKind.RISKY_APP)
    assert risky.state is FindingState.VIOLATION and risky.family is None
    assert any("bundles an SDK of Pangle (pangle), part of ByteDance" in e for e in risky.evidence)
    assert any("contacts endpoints of Tencent (tencent)" in e for e in risky.evidence)
    assert not any("Acme" in e for e in risky.evidence)


# -- the whole: summary, order, ids ------------------------------------------------------------------------


def _fleet() -> list[DeviceState]:
    out = []
    for i in range(60):
        d = device(f"D{i:03d}", ownership=(Ownership.CORPORATE, Ownership.PERSONAL, Ownership.UNKNOWN)[i % 3],
                   management=Management.WORK_PROFILE if i % 7 == 0 else Management.FULLY_MANAGED,
                   org_unit=("/A", "/A/B", COMMS, None)[i % 4], observed="2023-03-01T00:00" if i % 11 == 0
                   else "2023-03-14T00:00")
        apps = [app(d, TIKTOK)] if i % 2 == 0 else []
        if i % 5 == 0:
            apps.append(app(d, CAPCUT, removed="2023-03-05T00:00"))
        out.append(state(d, *apps))
    return out


def test_summary_counts_devices_not_findings() -> None:
    capcut = Rule("capcut", ("capcut",), date(2023, 3, 1), scope=SCOPE)
    result = run(_fleet(), pol=policy(TIKTOK_RULE, capcut))
    s = result.summary
    by_device: dict[str, set[FindingState]] = {}
    for f in result.findings:
        by_device.setdefault(f.device_id, set()).add(f.state)
    bad = {FindingState.VIOLATION, FindingState.BLOCKED_PRESENT, FindingState.NOT_EVALUABLE, FindingState.STALE}
    assert s.devices_total == 60 and s.devices_in_scope == 40  # personal devices are out of scope
    assert s.compliant == s.devices_in_scope - sum(1 for st in by_device.values() if st & bad)
    holding = {FindingState.VIOLATION, FindingState.BLOCKED_PRESENT}
    for name, count in s.by_state.items():
        if name == "not_evaluable":  # a device with a prohibited app seen counts as a violation
            assert count == sum(1 for st in by_device.values() if FindingState(name) in st and not st & holding)
        else:
            assert count == sum(1 for st in by_device.values() if FindingState(name) in st)
    assert sum(v[0] for v in s.by_org_unit.values()) == 40 and sum(v[1] for v in s.by_org_unit.values()) == s.compliant
    assert s.at == when("2023-03-15T06:00") and s.rate is not None and 0 <= s.rate <= 1


def test_summary_by_source_counts_each_source_s_devices_in_each_state() -> None:
    """Three MDMs side by side: what each one sees, cannot see, or has not reported lately."""
    newest_intune = "2023-03-15T05:30"
    i1 = device("I1", source="intune", observed="2023-03-14T06:00")
    i2 = device("I2", source="intune", observed=newest_intune)
    i3 = device("I3", source="intune", ownership=Ownership.PERSONAL, observed="2023-03-15T06:00")  # out of scope
    a1 = device("A1", source="android", management=Management.WORK_PROFILE)
    a2 = device("A2", source="android", observed="2023-03-01T06:00")
    a3 = device("A3", source="android")
    a4 = device("A4", source="android", management=Management.WORK_PROFILE, observed="2023-03-02T06:00")
    j1, j2, j3 = device("J1", source="jamf-gac"), device("J2", source="jamf-gac", org_unit=COMMS), \
        device("J3", source="jamf-gac", observed="2023-03-13T00:00")
    states = [state(i1, app(i1, TIKTOK)), state(i2), state(i3, app(i3, TIKTOK)), state(a1), state(a2),
              state(a3), state(a4), state(j1, app(j1, TIKTOK, state=AppState.BLOCKED)),
              state(j2, app(j2, TIKTOK)), state(j3)]
    start = when("2023-03-10T09:00")
    used = Sighting("tiktok", start.date(), "10.2.0.3", start, start, 4, "squid", "www.tiktok.com", "jamf-gac", "J3")
    s = run(states, sightings=[used]).summary
    assert list(s.by_source) == ["android", "intune", "jamf-gac"]
    assert s.by_source["intune"] == SourceSummary(devices=3, in_scope=2, compliant=1, violations=1,
                                                  not_evaluable=0, stale=0, last_observed=when("2023-03-15T06:00"),
                                                  by_coverage={"full": 2})
    assert s.by_source["android"] == SourceSummary(devices=4, in_scope=4, compliant=1, violations=0,
                                                   not_evaluable=2, stale=2, last_observed=when("2023-03-15T06:00"),
                                                   by_coverage={"full": 2, "partial": 2},
                                                   not_evaluable_by_reason={"work_profile": 2})
    # blocked but present is not a violation, yet not compliant; the excepted device is compliant
    assert s.by_source["jamf-gac"] == SourceSummary(devices=3, in_scope=3, compliant=1, violations=1,
                                                    not_evaluable=0, stale=0,
                                                    last_observed=when("2023-03-15T06:00"), by_coverage={"full": 3})
    assert s.by_source["android"].rate == 0.25 and s.by_source["intune"].rate == 0.5
    assert sum(v.devices for v in s.by_source.values()) == s.devices_total == 10
    assert sum(v.compliant for v in s.by_source.values()) == s.compliant == 3


def test_last_observed_is_the_newest_inventory_of_the_source_even_out_of_scope() -> None:
    seen = device("I1", source="intune", observed="2023-03-10T00:00")
    personal = device("I2", source="intune", ownership=Ownership.PERSONAL, observed="2023-03-12T08:00")
    s = run([state(seen), state(personal)]).summary
    assert s.by_source["intune"].last_observed == when("2023-03-12T08:00")
    assert s.by_source["intune"].devices == 2 and s.by_source["intune"].in_scope == 1
    assert run([]).summary.by_source == {}


def test_order_and_ids_do_not_depend_on_input_order_or_on_later_evaluations() -> None:
    fleet = _fleet()
    first = run(fleet)
    shuffled = fleet[:]
    random.Random(4).shuffle(shuffled)
    assert run(shuffled).findings == first.findings
    later = run(fleet, "2023-03-20T06:00")
    ids_then = {f.id: f for f in first.findings if f.kind is FindingKind.INSTALLED and f.app}
    ids_later = {f.id: f for f in later.findings if f.kind is FindingKind.INSTALLED and f.app}
    assert ids_then.keys() == ids_later.keys()


def test_french_evidence() -> None:
    d = device(management=Management.WORK_PROFILE)
    result = run([state(d, app(d, TIKTOK))], pol=policy(language="fr"))
    assert any("signalée par la source «\u00a0mdm\u00a0»" in e for f in result.findings for e in f.evidence)
    assert any("profil professionnel" in e for f in result.findings for e in f.evidence)


def test_states_may_be_a_one_shot_iterator() -> None:
    d = device()
    assert run(iter([state(d, app(d, TIKTOK))])).summary.devices_total == 1  # type: ignore[arg-type]


# -- invariants over arbitrary fleets -------------------------------------------------------------------------

_apps = st.sampled_from([TIKTOK, CAPCUT, WECHAT, OUTLOOK, AppId(Platform.ANDROID, "com.kms.free")])
_days = st.integers(0, 40).map(lambda n: when("2023-02-20T00:00") + timedelta(days=n))


def _after(first: datetime) -> st.SearchStrategy[datetime]:
    return st.integers(1, 20).map(lambda n: first + timedelta(days=n))


@st.composite
def _device_state(draw: st.DrawFn, index: int) -> DeviceState:
    d = device(f"D{index}", source=draw(st.sampled_from(["intune", "android", "jamf-gac"])),
               ownership=draw(st.sampled_from(list(Ownership))),
               management=draw(st.sampled_from(list(Management))), org_unit=draw(st.sampled_from(
                   [None, "/TBS", COMMS, COMMS + "/Video", "/GAC"])))
    d = replace(d, observed_at=draw(_days))
    intervals = {}
    for _ in range(draw(st.integers(0, 3))):
        first = draw(_days)
        removed = draw(st.none() | _after(first))
        which = draw(_apps)  # stored history holds one interval per app and first-seen time
        intervals[(which, first)] = replace(app(d, which, state=draw(st.sampled_from(list(AppState)))),
                                            first_seen=first, last_seen=removed or first, removed_at=removed)
    return state(d, *intervals.values())


_fleets = st.integers(0, 12).flatmap(lambda n: st.tuples(*[_device_state(i) for i in range(n)]))


@settings(max_examples=60, deadline=None)
@given(_fleets, _days)
def test_summary_invariants_hold_for_any_fleet(fleet: tuple[DeviceState, ...], as_of: object) -> None:
    k = Rule("k", ("kaspersky", "wechat"), date(2023, 3, 1), grace_days=3,
             scope=Scope(ownership=(), groups=("/TBS",)))
    pol = policy(TIKTOK_RULE, k)
    result = evaluate(pol, CAT, list(fleet), as_of)  # type: ignore[arg-type]
    s = result.summary
    assert 0 <= s.compliant <= s.devices_in_scope <= s.devices_total == len(fleet)
    assert sum(v[0] for v in s.by_org_unit.values()) == s.devices_in_scope
    assert sum(v[1] for v in s.by_org_unit.values()) == s.compliant
    assert sum(v.devices for v in s.by_source.values()) == s.devices_total
    assert sum(v.in_scope for v in s.by_source.values()) == s.devices_in_scope
    assert sum(v.compliant for v in s.by_source.values()) == s.compliant
    for name, v in s.by_source.items():
        mine = [st_.device for st_ in fleet if st_.device.source == name]
        assert v.devices == len(mine) and v.last_observed == max(d.observed_at for d in mine)
        assert v.in_scope - v.compliant >= max(v.violations, v.not_evaluable, v.stale)
        states_of = [{f.state for f in result.findings if (f.source, f.device_id) == d.key} for d in mine]
        holding = {FindingState.VIOLATION, FindingState.BLOCKED_PRESENT}
        assert v.not_evaluable == sum(FindingState.NOT_EVALUABLE in x and not (x & holding) for x in states_of)
        assert v.not_evaluable == sum(v.not_evaluable_by_reason.values())
        assert sum(v.by_coverage.values()) == v.in_scope
        assert v.stale == sum(FindingState.STALE in x for x in states_of)
        assert v.violations == sum(FindingState.VIOLATION in x for x in states_of)
    assert len({f.id for f in result.findings}) == len(result.findings), "ids are unique"
    assert list(result.findings) == sorted(result.findings, key=lambda f: (f.source, f.device_id, f.rule,
                                                                           f.kind.value))
    by_device = {st_.device.device_id: st_.device for st_ in fleet}
    for f in result.findings:
        d = by_device[f.device_id]
        if not d.management.sees_all_apps:
            assert any(g.device_id == f.device_id and g.state is FindingState.NOT_EVALUABLE
                       for g in result.findings)
        if f.state is FindingState.RESOLVED:
            assert f.resolved_at is not None and f.resolved_at <= as_of  # type: ignore[operator]
    assert evaluate(pol, CAT, list(reversed(fleet)), as_of).findings == result.findings  # type: ignore[arg-type]
