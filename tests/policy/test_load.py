"""The policy loader: every problem is reported with its file:line and a fix, all at once, never a traceback."""

from __future__ import annotations

import re
from datetime import date
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from builders.policy import catalogue
from interdit.errors import PolicyError
from interdit.model import AppId, Management, Ownership, Platform
from interdit.policy import load_policy, parse_policy, starter_policy

CAT = catalogue()
DEMO = files("interdit").joinpath("data/demo-policy.yaml").read_text("utf-8")


def problems(text: str) -> list[PolicyError]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, CAT, name="policy.yaml")
    assert info.value.problems, "a PolicyError from the loader always lists its problems"
    return info.value.problems


def only(text: str) -> PolicyError:
    found = problems(text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def at(found: list[PolicyError], line: int) -> list[PolicyError]:
    return [p for p in found if p.where == f"policy.yaml:{line}"]


HEAD = "organisation: Test\n"
ADOPT = HEAD + "adopt:\n  - directive: ca-tbs-2023-tiktok\n"


# -- files that load ----------------------------------------------------------------------------------


def test_demo_policy_loads_as_written(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(DEMO, "utf-8")
    policy = load_policy(path, CAT)
    assert policy.path == str(path)
    adopted, own = policy.rules
    assert adopted.id == adopted.directive == "ca-tbs-2023-tiktok"
    assert adopted.families == ("tiktok",)
    assert adopted.effective == date(2023, 2, 28) and adopted.deadline == date(2023, 3, 14)
    assert adopted.scope.ownership == (Ownership.CORPORATE, Ownership.UNKNOWN)
    assert own.interim and own.review_by == date(2023, 6, 30) and own.families == ("douyin", "capcut")
    (exc,) = policy.exceptions
    assert exc.groups == ("/TBS/Communications/Social Media",) and exc.expires == date(2023, 9, 1)
    assert len(exc.safeguards) == 4
    assert policy.stale_after_days == 8 and policy.language == "en"


def test_starter_policy_loads_and_adopts_the_canadian_directive() -> None:
    policy = parse_policy(starter_policy(), CAT)
    (rule,) = policy.rules
    assert rule.directive == "ca-tbs-2023-tiktok" and rule.effective == date(2023, 2, 28)


def _uncomment_examples(text: str) -> str:
    """Turn the starter's commented `rules:` and `exceptions:` blocks into live YAML."""
    out, inside = [], False
    for line in text.splitlines():
        if re.match(r"^# (rules|exceptions):", line):
            inside = True
        elif inside and not (line.startswith("#  ") or line == "#"):
            inside = False
        out.append(line[2:] if inside else line)
    return "\n".join(out) + "\n"


def test_every_commented_example_in_the_starter_policy_is_valid() -> None:
    live = _uncomment_examples(starter_policy())
    assert live != starter_policy()
    policy = parse_policy(live, CAT)
    interim, evidence = policy.rules[1:]
    assert interim.interim and interim.review_by == date(2023, 6, 30)
    assert interim.scope.groups == ("Field Staff", "/Finance") and interim.scope.exclude_groups == ("/Finance/Labs",)
    assert interim.identifiers == (AppId(Platform.ANDROID, "com.example.bytedance.tool"),)
    assert evidence.sdk_vendors == ("bytedance",) and evidence.endpoint_vendors == ("bytedance",)
    (exc,) = policy.exceptions
    assert exc.safeguards and exc.review_by == date(2023, 8, 1)


def test_real_catalogue_loads_demo_and_starter() -> None:
    try:
        from interdit.catalogue import load_catalogue
    except ImportError:
        pytest.skip("interdit.catalogue.load_catalogue is not available in this tree")
    cat = load_catalogue()
    assert parse_policy(DEMO, cat).rules[0].families
    assert parse_policy(starter_policy(), cat).rules[0].directive == "ca-tbs-2023-tiktok"
    assert parse_policy(_uncomment_examples(starter_policy()), cat).exceptions


def test_adoption_takes_the_directive_vendors_and_subsidiaries() -> None:
    policy = parse_policy(HEAD + "adopt:\n  - directive: us-omb-2023-bytedance\n    id: us-bytedance\n", CAT)
    (rule,) = policy.rules
    assert rule.id == "us-bytedance" and rule.directive == "us-omb-2023-bytedance"
    # every ByteDance family, and the family of its subsidiary Pangle
    assert set(rule.families) == {"tiktok", "douyin", "capcut", "lemon8", "pangle-demo"}
    assert rule.scope.ownership == (Ownership.CORPORATE, Ownership.UNKNOWN)  # the directive's own scope
    assert rule.effective == date(2023, 3, 29)


def test_adoption_overrides_effective_scope_and_grace() -> None:
    text = ADOPT + ("    effective: 2023-03-10\n    grace_days: 7\n    scope:\n      management: [fully_managed]\n"
                    "      org_units: [/Finance]\n      groups: [Field Staff]\n")
    (rule,) = parse_policy(text, CAT).rules
    assert rule.effective == date(2023, 3, 10) and rule.deadline == date(2023, 3, 17)
    assert rule.scope.ownership == (Ownership.CORPORATE,)  # not given: the directive's
    assert rule.scope.management == (Management.FULLY_MANAGED,)
    assert rule.scope.groups == ("Field Staff", "/Finance")


def test_rule_with_vendor_prefix_identifiers_and_evidence() -> None:
    text = HEAD + ("rules:\n  - id: own\n    vendors: [tencent]\n    prefixes: [android:com.example.vendor]\n"
                   "    identifiers: [ios:com.example.App]\n    evidence: {bundles_sdk_of: [bytedance]}\n"
                   "    effective: 2024-01-01\n")
    (rule,) = parse_policy(text, CAT).rules
    assert rule.families == ("wechat",)
    assert rule.prefixes == (AppId(Platform.ANDROID, "com.example.vendor"),)
    assert rule.identifiers == (AppId(Platform.IOS, "com.example.App"),)
    assert rule.sdk_vendors == ("bytedance",) and rule.endpoint_vendors == ()
    assert rule.scope.ownership == (Ownership.CORPORATE,)


# -- every problem, with its line and its fix -----------------------------------------------------------


def test_unknown_directive_suggests_the_closest_id() -> None:
    p = only(HEAD + "adopt:\n  - directive: ca-tbs-2023-tiktk\n")
    assert p.where == "policy.yaml:3"
    assert p.message == "unknown directive 'ca-tbs-2023-tiktk'; did you mean 'ca-tbs-2023-tiktok'?"
    assert p.fix is not None and "directive: ca-tbs-2023-tiktok" in p.fix
    assert str(p).startswith("policy.yaml:3: unknown directive") and "\n  fix: " in str(p)


def test_unknown_directive_without_a_close_match_points_to_the_list() -> None:
    p = only(HEAD + "adopt:\n  - directive: zz-nothing-like-it\n")
    assert p.where == "policy.yaml:3" and "did you mean" not in p.message
    assert p.fix is not None and "interdit catalogue list" in p.fix


def test_unknown_family_and_vendor_name_the_list_item_line() -> None:
    found = problems(HEAD + "rules:\n  - id: r\n    families:\n      - capcut\n      - tiktk\n"
                            "    vendors: [bytedanse]\n    effective: 2023-03-01\n")
    (fam,) = at(found, 6)
    assert fam.message == "unknown family 'tiktk'; did you mean 'tiktok'?" and "'tiktok'" in (fam.fix or "")
    (ven,) = at(found, 7)
    assert ven.message == "unknown vendor 'bytedanse'; did you mean 'bytedance'?"
    assert "interdit catalogue search" in (ven.fix or "")


def test_unknown_evidence_vendor() -> None:
    p = only(HEAD + "rules:\n  - id: r\n    evidence:\n      endpoints_of: [tencnt]\n    effective: 2023-03-01\n")
    assert p.where == "policy.yaml:5" and "did you mean 'tencent'" in p.message


def test_unknown_key_typo_suggests_the_right_key() -> None:
    p = only(ADOPT + "    grace_day: 14\n")
    assert p.where == "policy.yaml:4"
    assert p.message == "unknown key 'grace_day' in this adoption"
    assert p.fix is not None and p.fix.startswith("did you mean 'grace_days'?")


def test_unknown_top_level_key() -> None:
    p = only(ADOPT + "stale_after: 3\n")
    assert p.where == "policy.yaml:4" and "did you mean 'stale_after_days'" in (p.fix or "")


def test_negative_grace() -> None:
    p = only(ADOPT + "    grace_days: -3\n")
    assert p.where == "policy.yaml:4" and "negative" in p.message
    assert "use 0 for no grace period" in (p.fix or "")


def test_wrong_type_says_the_expected_form() -> None:
    p = only(ADOPT + "    grace_days: two weeks\n")
    assert p.where == "policy.yaml:4" and p.message == "'grace_days' must be a whole number, not text"
    assert "grace_days: 14" in (p.fix or "")


def test_bad_enum_value_suggests() -> None:
    p = only(ADOPT + "    scope:\n      ownership: [corporate, persnal]\n")
    assert p.where == "policy.yaml:5" and "'persnal'" in p.message and "did you mean 'personal'" in (p.fix or "")


def test_date_written_wrong_and_date_that_does_not_exist() -> None:
    found = problems(ADOPT + "    effective: 28/02/2023\n    review_by: 2023-02-30\n")
    (form,) = at(found, 4)
    assert "YYYY-MM-DD" in form.message and "effective: 2023-02-28" in (form.fix or "")
    (day,) = at(found, 5)
    assert day.message == "'review_by' is not a real day: 2023-02-30" and "month" in (day.fix or "")


def test_a_time_is_not_a_date() -> None:
    p = only(ADOPT + "    effective: 2023-02-28T10:00:00Z\n")
    assert p.where == "policy.yaml:4" and "must be a date written YYYY-MM-DD" in p.message


def test_missing_required_keys_of_an_exception() -> None:
    found = problems(ADOPT + "exceptions:\n  - id: EXC-1\n    families: [tiktok]\n    users: [a@b.c]\n")
    assert {p.message for p in at(found, 5)} == {
        "'approver' is missing from this exception", "'reason' is missing from this exception",
        "'expires' is missing from this exception"}
    assert all(p.fix and p.fix.startswith("add ") for p in found)


def test_exception_expiring_before_it_was_granted() -> None:
    p = only(ADOPT + "exceptions:\n  - id: EXC-1\n    families: [tiktok]\n    users: [a@b.c]\n    approver: CIO\n"
                     "    reason: r\n    granted: 2023-03-01\n    expires: 2023-02-01\n")
    assert p.where == "policy.yaml:11"
    assert "expires (2023-02-01) on or before the day it was granted (2023-03-01)" in p.message
    assert "first day it no longer applies" in (p.fix or "")


def test_exception_for_a_family_no_rule_prohibits() -> None:
    p = only(ADOPT + "exceptions:\n  - id: EXC-1\n    families: [tiktok, wechat]\n    users: [a@b.c]\n"
                     "    approver: CIO\n    reason: r\n    expires: 2024-01-01\n")
    assert p.where == "policy.yaml:6" and "'wechat', which no rule prohibits" in p.message
    assert "remove 'wechat'" in (p.fix or "")


def test_exception_that_covers_nobody() -> None:
    p = only(ADOPT + "exceptions:\n  - id: EXC-1\n    families: [tiktok]\n    approver: CIO\n    reason: r\n"
                     "    expires: 2024-01-01\n")
    assert p.where == "policy.yaml:5" and "covers no device, user or group" in p.message
    assert "'devices', 'users' or 'groups'" in (p.fix or "")


def test_duplicate_rule_and_exception_ids() -> None:
    exc = ("  - id: EXC-1\n    families: [tiktok]\n    users: [a]\n    approver: x\n    reason: y\n"
           "    expires: 2024-01-01\n")
    found = problems(ADOPT + "  - directive: ca-tbs-2023-tiktok\nrules:\n  - id: ca-tbs-2023-tiktok\n"
                     "    families: [capcut]\n    effective: 2023-03-01\nexceptions:\n" + exc + exc)
    (second,) = at(found, 4)
    assert second.message == "duplicate rule id 'ca-tbs-2023-tiktok' (first used on line 3)"
    assert "give the second adoption an 'id:'" in (second.fix or "")
    (third,) = at(found, 6)
    assert "first used on line 3" in third.message
    (dup_exc,) = at(found, 16)
    assert dup_exc.message == "duplicate exception id 'EXC-1' (first used on line 10)"


def test_interim_rule_needs_a_review_date() -> None:
    p = only(HEAD + "rules:\n  - id: r\n    families: [capcut]\n    effective: 2023-03-01\n    interim: true\n")
    assert p.where == "policy.yaml:3" and p.message == "rule 'r' is interim but has no review date"
    assert "review_by: YYYY-MM-DD" in (p.fix or "")


def test_adopting_an_interim_directive_needs_a_review_date() -> None:
    p = only(HEAD + "adopt:\n  - directive: xx-interim-deepseek\n")
    assert p.where == "policy.yaml:3" and "interim" in p.message


def test_rule_that_prohibits_nothing_and_too_broad_prefix() -> None:
    found = problems(HEAD + "rules:\n  - id: r\n    effective: 2023-03-01\n  - id: s\n    prefixes: [android:com]\n"
                     "    effective: 2023-03-01\n")
    (empty,) = at(found, 3)
    assert "prohibits nothing" in empty.message and "'families'" in (empty.fix or "")
    (broad,) = at(found, 6)
    assert "too broad" in broad.message and "android:com.example" in (broad.fix or "")


def test_bad_app_identifier() -> None:
    p = only(HEAD + "rules:\n  - id: r\n    identifiers: [com.example.app]\n    effective: 2023-03-01\n")
    assert p.where == "policy.yaml:4" and "not an app identifier" in p.message
    assert "android:com.example.app" in (p.fix or "")


def test_policy_that_prohibits_nothing() -> None:
    p = only(HEAD)
    assert p.where == "policy.yaml:1" and "prohibits nothing" in p.message and "adopt" in (p.fix or "")


def test_missing_organisation_and_bad_language() -> None:
    found = problems("language: de\nadopt:\n  - directive: ca-tbs-2023-tiktok\n")
    assert {p.where for p in found} == {"policy.yaml:1"}
    assert any("'organisation' is missing" in p.message for p in found)
    assert any("'de' is not a valid value for 'language'" in p.message for p in found)


def test_yaml_syntax_error_has_its_line() -> None:
    p = only(HEAD + "adopt:\n  - directive: [ca-tbs-2023-tiktok\nrules: []\n")
    assert p.where in ("policy.yaml:3", "policy.yaml:4") and p.message.startswith("YAML syntax:")
    assert "indentation" in (p.fix or "")


def test_duplicate_yaml_key_is_a_problem_with_its_line() -> None:
    p = only(ADOPT + "organisation: Again\n")
    assert p.where == "policy.yaml:4" and "duplicate key" in p.message


def test_empty_file_and_non_mapping() -> None:
    assert "empty" in only("# nothing but a comment\n").message
    assert "not a list" in only("- organisation: x\n").message
    assert "not text" in only("just words\n").message


def test_every_problem_is_collected_not_only_the_first() -> None:
    found = problems("organisation: T\nadopt:\n  - directive: ca-tbs-2023-tiktk\n    grace_day: 1\n"
                     "rules:\n  - id: r\n    families: [capcutt]\n    effective: 2023-13-01\n")
    lines = [p.where or "" for p in found]
    assert lines == sorted(lines, key=lambda w: int(w.split(":")[1]))
    assert len(found) == 4


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "missing.yaml", CAT)
    assert "cannot read" in info.value.message and info.value.fix
    binary = tmp_path / "policy.yaml"
    binary.write_bytes(b"organisation: x\n\xff\xfe\n")
    with pytest.raises(PolicyError) as info:
        load_policy(binary, CAT)
    assert info.value.where == f"{binary}:2" and "UTF-8" in info.value.message


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    p = only("\n".join(lines) + "\norganisation: x\n")
    assert "more than" in p.message


def test_error_text_lists_every_problem_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(HEAD + "adopt:\n  - directive: ca-tbs-2023-tiktk\n    grace_day: 1\n", "utf-8")
    with pytest.raises(PolicyError) as info:
        load_policy(path, CAT)
    text = str(info.value)
    assert f"{path}:3: unknown directive" in text and f"{path}:4: unknown key 'grace_day'" in text
    assert text.count("fix: ") == 2


# -- hostile input: nothing but PolicyError ---------------------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12),
                     st.sampled_from(["2023-02-28", "2023-02-30", "tiktok", "ca-tbs-2023-tiktok", "corporate",
                                      "android:com.x", "/A/B", "-1"]))
_keys = st.sampled_from(["organisation", "adopt", "rules", "exceptions", "directive", "id", "families", "scope",
                         "effective", "expires", "granted", "grace_days", "ownership", "groups", "evidence",
                         "bundles_sdk_of", "interim", "review_by", "users", "language", "stale_after_days"])
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(_keys | st.text(max_size=5), inner,
                                                                         max_size=5)), max_leaves=25)


def _dump(value: object) -> str:
    import io

    out = io.StringIO()
    YAML(typ="safe", pure=True).dump(value, out)
    return out.getvalue()


def _attempt(text: str) -> None:
    try:
        parse_policy(text, CAT)
    except PolicyError as exc:
        assert exc.problems and all(p.where and p.where.startswith("policy.yaml:") and p.fix for p in exc.problems)
        str(exc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_values)
def test_arbitrary_yaml_documents_raise_only_policy_error(value: object) -> None:
    _attempt(_dump(value))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_policy_error(text: str) -> None:
    _attempt(text)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["delete", "duplicate", "indent", "dedent", "replace", "insert"]),
                          st.integers(0, 60), st.text(max_size=8)), min_size=1, max_size=4))
def test_mutated_demo_policies_raise_only_policy_error(edits: list[tuple[str, int, str]]) -> None:
    lines = DEMO.splitlines()
    for op, n, text in edits:
        i = n % len(lines)
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "indent":
            lines[i] = "  " + lines[i]
        elif op == "dedent":
            lines[i] = lines[i][2:]
        elif op == "replace" and lines[i]:
            j = n % len(lines[i])
            lines[i] = lines[i][:j] + text + lines[i][j + 1:]
        else:
            lines.insert(i, text)
    _attempt("\n".join(lines) + "\n")


def test_yaml_corners_keep_their_meaning() -> None:
    text = ADOPT + "    grace_days: 14.0\n    interim: &no false\nstale_after_days: 3.0\n"
    policy = parse_policy(text, CAT)
    assert policy.rules[0].grace_days == 14 and policy.rules[0].interim is False and policy.stale_after_days == 3
    assert "whole number" in only(ADOPT + "    grace_days: 1.5\n").message


def test_problems_are_in_french_when_the_policy_is() -> None:
    found = problems("organisation: T\nlanguage: fr\nadopt:\n  - directive: ca-tbs-2023-tiktk\n    grace_day: 1\n"
                     "rules:\n  - id: r\n    families: [capcut]\n    effective: 2023-03-01\n    interim: true\n")
    texts = {p.where: p for p in found}
    assert texts["policy.yaml:4"].message == ("directive inconnue «\u00a0ca-tbs-2023-tiktk\u00a0»\u202f; vouliez-vous "
                                              "dire «\u00a0ca-tbs-2023-tiktok\u00a0»\u202f?")
    assert texts["policy.yaml:5"].message == "clé inconnue «\u00a0grace_day\u00a0» dans cette adoption"
    assert "vouliez-vous dire «\u00a0grace_days\u00a0»" in (texts["policy.yaml:5"].fix or "")
    assert "provisoire" in texts["policy.yaml:7"].message
    with pytest.raises(PolicyError) as info:
        parse_policy("language: fr\nadopt: [\n", CAT)
    assert info.value.problems[0].message.startswith("syntaxe YAML")


def test_every_message_of_the_loader_reads_in_both_languages() -> None:
    from interdit import i18n
    from interdit.i18n.build import placeholders
    from interdit.policy import messages

    keys = {k.removesuffix(".fix") for k in i18n.section("en", "policy") if not k.startswith("word.")}
    assert {"empty", "summary", "unknown-key", "enum"} <= keys and len(keys) > 40
    for key in keys:
        texts = [i18n.text(lang, f"policy.{key}{end}", "") for lang in ("en", "fr") for end in ("", ".fix")]
        values = dict.fromkeys(set().union(*(placeholders(t) for t in texts)), "x")
        english, french = messages.say("en", key, **values), messages.say("fr", key, **values)
        assert any(english) and any(french) and english != french, key
    assert i18n.section("en", "policy.word").keys() == i18n.section("fr", "policy.word").keys()


# -- evidence: `prohibited`, the vendors of the families the policy prohibits -----------------------------


def test_evidence_prohibited_means_the_vendors_of_every_prohibited_family() -> None:
    assert "prohibited" not in CAT.vendors
    policy = parse_policy(ADOPT + "rules:\n  - id: r\n    families: [wechat]\n    evidence:\n"
                          "      bundles_sdk_of: [prohibited]\n      endpoints_of: [acme, prohibited]\n"
                          "    effective: 2023-03-01\n", CAT)
    rule = policy.rules[1]
    families = {f for r in policy.rules for f in r.families}
    vendors = {v for f in families for v in (CAT.families[f].vendor, CAT.vendors[CAT.families[f].vendor].parent) if v}
    assert {"bytedance", "tencent"} <= vendors
    assert set(rule.sdk_vendors) == vendors and "prohibited" not in rule.sdk_vendors
    assert set(rule.endpoint_vendors) == vendors | {"acme"} and rule.endpoint_vendors[0] == "acme"


def test_evidence_prohibited_only_rule_is_not_empty() -> None:
    policy = parse_policy(ADOPT + "rules:\n  - id: r\n    evidence: {endpoints_of: [prohibited]}\n"
                          "    effective: 2023-03-01\n", CAT)
    assert "bytedance" in policy.rules[1].endpoint_vendors and policy.rules[1].families == ()


def test_evidence_prohibited_without_a_prohibited_family_is_an_error() -> None:
    p = only(HEAD + "rules:\n  - id: r\n    evidence:\n      endpoints_of: [prohibited]\n    effective: 2023-03-01\n")
    assert p.where == "policy.yaml:4" and "no rule prohibits a family" in p.message
    assert "adopt a directive" in (p.fix or "")


def test_evidence_prohibited_typo_suggests_it() -> None:
    p = only(ADOPT + "rules:\n  - id: r\n    evidence:\n      bundles_sdk_of: [prohibted]\n"
             "    effective: 2023-03-01\n")
    assert p.where == "policy.yaml:7" and "did you mean 'prohibited'" in p.message


def test_evidence_prohibited_in_french() -> None:
    p = only("organisation: Test\nlanguage: fr\nrules:\n  - id: r\n    evidence: {endpoints_of: [prohibited]}\n"
             "    effective: 2023-03-01\n")
    assert "aucune règle n'interdit de famille" in p.message
