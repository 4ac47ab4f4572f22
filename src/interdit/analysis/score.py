"""An explainable score: which rules fired, their weights, their evidence, and the verdict they add up to.

The rules live in `rules.yaml` beside this module (or in a file the caller passes); each names one of the
checks below. A rule file that names an unknown check or lacks a field is refused with its place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interdit.analysis.report import AppReport, RuleHit, Score
from interdit.errors import AnalysisError

DEFAULT_RULES = Path(__file__).with_name("rules.yaml")
Check = Callable[[AppReport, Mapping[str, Any]], list[str]]


@dataclass(frozen=True, slots=True)
class ScoreRules:
    needs_review: int
    unacceptable: int
    rules: tuple[Mapping[str, Any], ...]
    path: str = ""


def _is(wanted: Any, *names: str) -> bool:
    """A rule names a vendor by catalogue id (`bytedance`) or by name (`ByteDance`), in any case."""
    low = str(wanted).lower()
    return any(n and n.lower() == low for n in names)


def _sdk_vendor(bundled: bool) -> Check:
    def check(report: AppReport, rule: Mapping[str, Any]) -> list[str]:
        out = []
        for s in report.sdks:
            if _is(rule["vendor"], s.vendor_id, s.vendor) and bool(s.bundled) == bundled:
                classes = s.bundled or s.referenced
                out.append(f"{s.name}: {', '.join(classes[:3])}")
        return out
    return check


def _endpoint_owner(report: AppReport, rule: Mapping[str, Any]) -> list[str]:
    return [f"{e.value} ({e.where})" for e in report.endpoints
            if _is(rule["owner"], e.owner_id, e.owner, *e.owner_chain)][:20]


def _sdk_category(report: AppReport, rule: Mapping[str, Any]) -> list[str]:
    wanted = set(rule["categories"])
    return [f"{s.name}: {', '.join(s.bundled[:3])}" for s in report.sdks if s.bundled and wanted & set(s.categories)]


def _permission_groups(report: AppReport, rule: Mapping[str, Any]) -> list[str]:
    groups: dict[str, list[str]] = {}
    for p in report.permissions:
        if p.group in rule["groups"] and p.protection in ("dangerous", "special"):
            groups.setdefault(p.group, []).append(p.name.rsplit(".", 1)[-1])
    return [f"{g}: {', '.join(names)}" for g, names in sorted(groups.items())]


def _permission(report: AppReport, rule: Mapping[str, Any]) -> list[str]:
    return [f"{p.name} ({p.where})" for p in report.permissions if p.name in rule["names"]]


def _weakness(report: AppReport, rule: Mapping[str, Any]) -> list[str]:
    return [f"{w.where}: {w.evidence or w.message}" for w in report.weaknesses if w.id == rule["weakness"]]


def _weakness_prefix(report: AppReport, rule: Mapping[str, Any]) -> list[str]:
    return [f"{w.where}: {w.evidence or w.message}" for w in report.weaknesses if w.id.startswith(rule["prefix"])]


def _problem(report: AppReport, rule: Mapping[str, Any]) -> list[str]:
    return [f"{p.code}: {p.message} [{p.where}]" for p in report.problems if p.code in rule["codes"]]


CHECKS: dict[str, tuple[Check, tuple[str, ...]]] = {
    "sdk_vendor_bundled": (_sdk_vendor(True), ("vendor",)),
    "sdk_vendor_referenced": (_sdk_vendor(False), ("vendor",)),
    "endpoint_owner": (_endpoint_owner, ("owner",)),
    "sdk_category": (_sdk_category, ("categories",)),
    "permission_groups": (_permission_groups, ("groups",)),
    "permission": (_permission, ("names",)),
    "weakness": (_weakness, ("weakness",)),
    "weakness_prefix": (_weakness_prefix, ("prefix",)),
    "problem": (_problem, ("codes",)),
    "problem_severity": (lambda r, rule: [], ("severity",)),  # evaluated in `score`, see below
}


def load_rules(path: Path | None = None) -> ScoreRules:
    from interdit.analysis.yaml_cache import load_yaml

    path = path or DEFAULT_RULES
    try:
        data = load_yaml(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise AnalysisError(f"cannot read the score rules: {exc}", where=str(path),
                            fix="pass a readable YAML rule file") from exc
    if not isinstance(data, dict) or data.get("schema_version") != 1:
        raise AnalysisError("not a score rule file (schema_version 1 expected)", where=str(path),
                            fix="start from the shipped analysis/rules.yaml")
    try:
        thresholds = data["thresholds"]
        needs, unacceptable = int(thresholds["needs_review"]), int(thresholds["unacceptable"])
        rules = tuple(data["rules"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AnalysisError(f"missing or bad thresholds/rules: {exc}", where=str(path),
                            fix="give thresholds.needs_review, thresholds.unacceptable and a rules list") from exc
    seen: set[str] = set()
    for i, rule in enumerate(rules):
        place = f"{path}: rules[{i}]"
        if not isinstance(rule, dict) or "id" not in rule or "check" not in rule or "weight" not in rule:
            raise AnalysisError("a rule needs id, check and weight", where=place)
        if rule["check"] not in CHECKS:
            raise AnalysisError(f"unknown check {rule['check']!r}", where=place,
                                fix=f"use one of: {', '.join(sorted(CHECKS))}")
        missing = [f for f in CHECKS[rule["check"]][1] if f not in rule]
        if missing:
            raise AnalysisError(f"rule {rule['id']} lacks {', '.join(missing)}", where=place)
        if rule["id"] in seen:
            raise AnalysisError(f"rule id {rule['id']} appears twice", where=place)
        seen.add(rule["id"])
    return ScoreRules(needs, unacceptable, rules, str(path))


def score(report: AppReport, rules: ScoreRules, lang: str = "en") -> Score:
    hits: list[RuleHit] = []
    counted_codes = {c for r in rules.rules if r["check"] == "problem" for c in r["codes"]}
    for rule in rules.rules:
        if rule["check"] == "problem_severity":
            evidence = [f"{p.code}: {p.message} [{p.where}]" for p in report.problems
                        if p.severity == rule["severity"] and p.code not in counted_codes]
        else:
            evidence = CHECKS[rule["check"]][0](report, rule)
        if not evidence:
            continue
        weight = int(rule["weight"])
        if rule.get("per_item"):
            weight = min(weight * len(evidence), int(rule.get("cap", weight * len(evidence))))
        desc = rule.get("description") or {}
        texts = {str(k): str(v) for k, v in desc.items()} if isinstance(desc, dict) else {"en": str(desc)}
        text = texts.get(lang) or texts.get("en") or str(rule["id"])
        hits.append(RuleHit(str(rule["id"]), weight, text, tuple(evidence), texts))
    total = sum(h.weight for h in hits)
    verdict = ("unacceptable" if total >= rules.unacceptable
               else "needs_review" if total >= rules.needs_review else "acceptable")
    return Score(total, verdict, tuple(hits), (rules.needs_review, rules.unacceptable))
