"""One organisation across MDMs: the org-unit mapping, group-scoped exceptions, and no device silently out of
scope (docs/policy.md, "Org units across sources")."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from builders.policy import TIKTOK, TIKTOK_IOS, app, catalogue, state, when
from builders.policy import device as _device
from interdit.errors import PolicyError
from interdit.model import (
    Device,
    FindingState,
    Management,
    OrgUnitMap,
    OutOfScope,
    Ownership,
    Platform,
    Policy,
    PolicyException,
    Rule,
    Scope,
)
from interdit.policy import evaluate, parse_policy
from interdit.policy.orgmap import OrgUnits, source_type

CAT = catalogue()
MCN_RULE = Rule("tiktok", ("tiktok",), date(2023, 2, 28), directive="ca-tbs-2023-tiktok",
                scope=Scope(ownership=(Ownership.CORPORATE,), groups=("/MCN",)))
AS_OF = when("2023-03-15T06:00")

POLICY_YAML = """\
organisation: MCN
adopt:
  - directive: ca-tbs-2023-tiktok
    scope: {org_units: [/MCN]}
org_units:
  - source: intune
    category: "Direction des ressources humaines"
    org_unit: /MCN/DRH
  - source: jamf
    site: "Québec"
    department: "Comms"
    org_unit: /MCN/Communications
  - source: amapi
    enrollment_data: "dept=finance"
    org_unit: /MCN/Finances
  - source: amapi
    match: glob
    policy: "policy-comms-*"
    org_unit: /MCN/Communications
"""


def device(device_id: str, *, org_labels: tuple[tuple[str, str], ...] = (), **kw: object) -> Device:
    return replace(_device(device_id, **kw), org_labels=org_labels)  # type: ignore[arg-type]


def _placed(pol: Policy, d: Device, types: dict[str, str] | None = None) -> str | None:
    return OrgUnits(pol.org_units, types).place(d).org_unit


def test_each_vendor_s_own_labels_land_in_one_tree() -> None:
    pol = parse_policy(POLICY_YAML, CAT)
    intune = device("I1", source="ministry-phones", org_unit=None,
                    org_labels=(("category", "Direction des ressources humaines"),))
    jamf = device("J1", source="jamf", org_unit=None, org_labels=(("site", "Québec"), ("department", "Comms")))
    jamf_other_site = replace(jamf, device_id="J2", org_labels=(("site", "Montréal"), ("department", "Comms")))
    amapi = device("A1", source="amapi", org_unit=None, org_labels=(("enrollment_data", "dept=finance"),))
    amapi_policy = device("A2", source="amapi", org_unit=None, org_labels=(("policy", "policy-comms-2023"),))
    csv_path = device("C1", source="csv", org_unit="/MCN/DRH")
    types = {"ministry-phones": "intune"}
    assert _placed(pol, intune, types) == "/MCN/DRH"  # by the source's type
    assert _placed(pol, intune) is None  # a name that is not `intune` and no type known: not placed
    assert _placed(pol, jamf) == "/MCN/Communications"
    assert _placed(pol, jamf_other_site) is None  # every label of the entry must match
    assert _placed(pol, amapi) == "/MCN/Finances"
    assert _placed(pol, amapi_policy) == "/MCN/Communications"  # glob
    assert _placed(pol, csv_path) == "/MCN/DRH"  # a path the source gave is kept


def test_a_reported_unit_that_is_not_a_path_is_kept_as_a_label_not_as_a_unit() -> None:
    pol = parse_policy(POLICY_YAML, CAT)
    placed = OrgUnits(pol.org_units).place(device("A3", source="amapi", org_unit="Communications"))
    assert placed.org_unit is None and placed.org_labels == (("unit", "Communications"),)
    mapped = OrgUnits((*pol.org_units, OrgUnitMap("amapi", (("unit", "Communications"),), "/MCN/Communications")))
    assert mapped.place(device("A3", source="amapi", org_unit="Communications")).org_unit == "/MCN/Communications"


def test_the_most_specific_entry_wins_then_exact_values_then_the_policy_s_order() -> None:
    maps = (OrgUnitMap("jamf", (("site", "Québec"),), "/MCN/Québec"),
            OrgUnitMap("jamf", (("site", "Québec"), ("department", "Comms")), "/MCN/Communications"),
            OrgUnitMap("jamf", (("department", "C*"),), "/MCN/C", how="glob"),
            OrgUnitMap("jamf", (("department", "Comms"),), "/MCN/Comms"))
    units = OrgUnits(maps)
    both = device("J1", source="jamf", org_unit=None, org_labels=(("site", "Québec"), ("department", "Comms")))
    assert units.place(both).org_unit == "/MCN/Communications"
    assert units.place(replace(both, org_labels=(("department", "Comms"),))).org_unit == "/MCN/Comms"
    assert units.place(replace(both, org_labels=(("department", "Cx"),))).org_unit == "/MCN/C"


@given(st.lists(st.sampled_from(["Québec", "Comms", "RH", "x", ""]), max_size=3))
def test_placing_is_deterministic_and_cached_per_distinct_labels(values: list[str]) -> None:
    pol = parse_policy(POLICY_YAML, CAT)
    d = device("J1", source="jamf", org_unit=None,
               org_labels=tuple(("site" if i % 2 else "department", v) for i, v in enumerate(values)))
    first, second = OrgUnits(pol.org_units), OrgUnits(pol.org_units)
    assert first.place(d) == second.place(d)
    assert first.place(replace(d, device_id="other")).org_unit == first.place(d).org_unit
    assert len(first.cache) == 1


def test_source_types_from_import_formats() -> None:
    assert [source_type(f) for f in ("intune-graph", "api:intune", "workspace-one", "api:google-workspace",
                                     "jamf-classic", "csv")] == [
        "intune", "intune", "workspace_one", "google_workspace", "jamf", "csv"]


# -- policy check --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("entry", "line", "words"), [
    ("  - source: intune\n    category: Unknown\n    org_unit: /MCN/X\n", 21, "default category 'Unknown'"),
    ("  - source: intune\n    category: ''\n    org_unit: /MCN/X\n", 20, "names no label"),
    ("  - source: intune\n    categorie: RH\n    org_unit: /MCN/X\n", 21, "did you mean 'category'"),
    ("  - source: jamf\n    category: RH\n    org_unit: /MCN/X\n", 21, "gives no 'category' label"),
    ("  - source: intune\n    category: RH\n    org_unit: /MCN//X\n", 22, "not a clean path"),
    ("  - source: intune\n    category: RH\n    org_unit: MCN\n", 22, "must be a path"),
    ("  - source: amapi\n    match: regex\n    policy: '(a'\n    org_unit: /MCN\n", 22, "regular expression"),
    ("  - source: amapi\n    match: fuzzy\n    policy: a\n    org_unit: /MCN\n", 21, "use one of: exact, glob"),
    ("  - source: intune\n    category: Direction des ressources humaines\n    org_unit: /MCN/RH\n", 20,
     "line 6 sends them to '/MCN/DRH'"),
    ("  - source: intune\n    category: Direction des ressources humaines\n    org_unit: /MCN/DRH\n", 20,
     "repeats the one at line 6"),
])
def test_policy_check_names_the_line_and_the_fix(entry: str, line: int, words: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(POLICY_YAML + entry, CAT, name="policy.yaml")
    problems = err.value.problems or [err.value]
    assert any(p.where == f"policy.yaml:{line}" and words in f"{p} {p.fix}" for p in problems), \
        [(p.where, str(p), p.fix) for p in problems]
    assert all(p.fix for p in problems)


def test_policy_check_speaks_french() -> None:
    text = POLICY_YAML.replace("organisation: MCN", "organisation: MCN\nlanguage: fr")
    with pytest.raises(PolicyError) as err:
        parse_policy(text + "  - source: intune\n    category: Unknown\n    org_unit: /MCN/X\n", CAT)
    assert "catégorie par défaut" in str((err.value.problems or [err.value])[0])


# -- no device silently out of scope -------------------------------------------------------------------


def _corporate_android(device_id: str, source: str, org_unit: str | None) -> Device:
    return device(device_id, source=source, org_unit=org_unit, platform=Platform.ANDROID,
                  ownership=Ownership.CORPORATE, management=Management.FULLY_MANAGED)


def test_phones_that_cannot_be_placed_are_not_evaluable_and_named_never_out_of_scope() -> None:
    """A rule scoped to /MCN; one phone in /MCN, one whose org unit is `Communications`, one with none: all
    three hold TikTok. Before, two were silently out of scope ("0 compliant of 1 device in scope")."""
    pol = Policy("MCN", (MCN_RULE,))
    placed = _corporate_android("P1", "amapi", "/MCN/Finances")
    comms = _corporate_android("P2", "intune", "Communications")
    nothing = _corporate_android("P3", "csv", None)
    clean = _corporate_android("P4", "csv", None)  # no TikTok: outside, counted with its reason
    personal = replace(_corporate_android("P5", "amapi", "/MCN"), ownership=Ownership.PERSONAL)
    states = [state(d, app(d, TIKTOK)) for d in (placed, comms, nothing, personal)] + [state(clean)]
    states = [replace(s, device=OrgUnits(()).place(s.device)) for s in states]
    result = evaluate(pol, CAT, states, AS_OF)
    by_device = {f.device_id: f for f in result.findings}
    assert by_device["P1"].state is FindingState.VIOLATION
    for d in ("P2", "P3"):
        assert by_device[d].state is FindingState.NOT_EVALUABLE
        assert "scope unknown" in by_device[d].evidence[-1] and "policy.yaml" in by_device[d].evidence[-1]
    assert "unit `Communications`" in by_device["P2"].evidence[-1]
    assert "P4" not in by_device and "P5" not in by_device
    sm = result.summary
    assert (sm.devices_in_scope, sm.compliant) == (3, 0)
    assert sm.by_rule["tiktok"].not_evaluable == 2 and sm.by_rule["tiktok"].violations == 1
    assert {(u.family, u.source, u.labels, u.devices) for u in sm.scope_unknown} == {
        ("tiktok", "intune", (("unit", "Communications"),), 1), ("tiktok", "csv", (), 1)}
    assert sm.out_of_scope == {OutOfScope.SCOPE_UNKNOWN.value: 1, OutOfScope.PERSONAL.value: 1}
    assert sm.devices_total == sm.devices_in_scope + sum(sm.out_of_scope.values())


def test_out_of_scope_reasons_cover_every_device_outside_every_rule() -> None:
    rule = replace(MCN_RULE, scope=Scope(ownership=(Ownership.CORPORATE,), platforms=(Platform.ANDROID,),
                                         groups=("/MCN",), exclude_groups=("/MCN/Labs",)))
    fleet = [
        _corporate_android("A", "x", "/Other"),
        _corporate_android("B", "x", "/MCN/Labs"),
        replace(_corporate_android("C", "x", "/MCN"), platform=Platform.IOS),
        replace(_corporate_android("D", "x", "/MCN"), ownership=Ownership.UNKNOWN),
        _corporate_android("E", "x", "/MCN/DRH"),
    ]
    sm = evaluate(Policy("MCN", (rule,)), CAT, [state(d) for d in fleet], AS_OF).summary
    assert sm.out_of_scope == {"other_org_unit": 1, "excluded_group": 1, "platform": 1, "ownership_unknown": 1}
    assert sm.devices_in_scope == sm.compliant == 1
    early = evaluate(Policy("MCN", (rule,)), CAT, [state(d) for d in fleet], when("2023-01-01")).summary
    assert early.out_of_scope == {"no_rule_in_force": 5}


def test_a_group_scoped_rule_cannot_place_a_device_whose_source_gave_no_groups() -> None:
    rule = replace(MCN_RULE, scope=Scope(groups=("Social media team",)))
    in_group = replace(_corporate_android("G1", "intune", "/MCN"), groups=("Social media team",))
    other = replace(_corporate_android("G2", "intune", "/MCN"), groups=("Finance team",))
    unknown = _corporate_android("G3", "amapi", "/MCN")
    states = [state(d, app(d, TIKTOK)) for d in (in_group, other, unknown)]
    result = evaluate(Policy("MCN", (rule,)), CAT, states, AS_OF)
    assert {f.device_id: f.state for f in result.findings} == {
        "G1": FindingState.VIOLATION, "G3": FindingState.NOT_EVALUABLE}
    assert result.summary.out_of_scope == {"other_org_unit": 1}


def test_a_group_scoped_exception_reaches_an_intune_device_through_its_entra_group() -> None:
    exc = PolicyException("EXC-1", ("tiktok",), "DM", "official account", date(2023, 9, 1),
                          groups=("Équipe médias sociaux",))
    d = replace(device("I1", source="intune", org_unit="/MCN/Communications", platform=Platform.IOS),
                groups=("Tous les employés", "Équipe médias sociaux"))
    result = evaluate(Policy("MCN", (MCN_RULE,), (exc,)), CAT, [state(d, app(d, TIKTOK_IOS))], AS_OF)
    assert [(f.state, f.exception) for f in result.findings] == [(FindingState.EXCEPTED, "EXC-1")]


def test_a_device_stored_without_its_labels_is_placed_by_the_org_unit_its_source_reported() -> None:
    """Inventories imported before labels were kept have the source's own name in the org unit only."""
    pol = parse_policy(POLICY_YAML + "  - source: jamf\n    department: Finances\n    org_unit: /MCN/Finances\n", CAT)
    units = OrgUnits(pol.org_units, {"ministry": "intune"})
    old_intune = device("I9", source="ministry", org_unit="Direction des ressources humaines")
    old_jamf = device("J9", source="jamf", org_unit="Finances")
    assert units.place(old_intune).org_unit == "/MCN/DRH" and units.place(old_jamf).org_unit == "/MCN/Finances"
    # an AMAPI device's org unit is never taken for a Jamf department or an Intune category
    assert units.place(device("A9", source="amapi", org_unit="Finances")).org_unit is None


def test_the_scope_unknown_reason_speaks_the_policy_s_language() -> None:
    d = _corporate_android("P2", "intune", "Communications")
    for lang, words in (("en", "scope unknown: the rule covers /MCN"),
                        ("fr", "portée inconnue\u00a0: la règle vise /MCN")):
        result = evaluate(Policy("MCN", (MCN_RULE,), language=lang), CAT, [state(d, app(d, TIKTOK))], AS_OF)
        (finding,) = result.findings
        assert finding.state is FindingState.NOT_EVALUABLE and finding.evidence[-1].startswith(words)
        assert ("unité `Communications`" if lang == "fr" else "org unit `Communications`") in finding.evidence[-1]


_TEXTS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(st.lists(st.fixed_dictionaries({}, optional={
    "source": _TEXTS, "org_unit": _TEXTS, "match": st.sampled_from(["exact", "glob", "regex", "fuzzy"]),
    "category": _TEXTS, "site": _TEXTS, "unit": _TEXTS, "policy": _TEXTS, "sitee": _TEXTS}), max_size=4))
def test_any_org_units_section_gives_a_policy_or_problems_with_lines(entries: list[dict[str, str]]) -> None:
    text = "organisation: MCN\nadopt:\n  - directive: ca-tbs-2023-tiktok\norg_units:\n" + "".join(
        "  - " + json.dumps(e or {"source": "x"}, ensure_ascii=False) + "\n" for e in entries) if entries else \
        "organisation: MCN\nadopt:\n  - directive: ca-tbs-2023-tiktok\norg_units: []\n"
    try:
        pol = parse_policy(text, CAT, name="p.yaml")
    except PolicyError as err:
        problems = err.problems or [err]
        assert all(p.where.startswith("p.yaml") and p.fix for p in problems)
        return
    for m in pol.org_units:
        assert m.org_unit.startswith("/") and m.match and m.how in ("exact", "glob", "regex")
    placed = OrgUnits(pol.org_units).place(device("D", source="x", org_unit="y", org_labels=(("site", "z"),)))
    assert placed.org_unit is None or placed.org_unit.startswith("/")
