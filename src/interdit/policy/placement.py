"""Devices that cannot be placed in the organisation: part of the evaluation (`evaluate.py`).

A rule whose scope names org units or groups cannot say whether it covers a device whose org unit is unknown
or not mapped (or whose source gave no groups). Such a device is never silently out of scope: when it holds an
app the rule prohibits, it is counted under the rule as `not_evaluable`, with the reason and what the source
said about it, and the summary lists it (`Summary.scope_unknown`) so the mapping can be completed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import replace
from datetime import datetime

from interdit.model import AppId, Device, DeviceState, Finding, FindingState, Rule
from interdit.policy.orgmap import labels_of

_TEXT = {
    "en": {
        "scope-unknown": "scope unknown: the rule covers {scope}, but this device cannot be placed in the "
                         "organisation: {what} (source '{source}') maps to no org unit in the policy; it is not "
                         "evaluable until it does (map it under 'org_units:' in policy.yaml)",
        "no-labels": "the source gave no org unit and no group",
        "labels": "its {labels}",
    },
    "fr": {
        "scope-unknown": "portée inconnue : la règle vise {scope}, mais cet appareil ne peut être placé dans "
                         "l'organisation : {what} (source « {source} ») ne correspond à aucune unité de la politique ; "
                         "il n'est pas évaluable tant qu'elle n'existe pas (ajoutez-la sous 'org_units:' dans "
                         "policy.yaml)",
        "no-labels": "la source n'a donné ni unité ni groupe",
        "labels": "son étiquette {labels}",
    },
}

_KINDS = {
    "en": {"unit": "org unit", "enrollment_data": "enrolment data", "organization_group": "organization group",
           "org_unit_path": "org unit path"},
    "fr": {"unit": "unité", "category": "catégorie", "department": "service", "building": "bâtiment",
           "enrollment_data": "données d'inscription", "policy": "politique",
           "organization_group": "groupe d'organisation", "org_unit_path": "chemin d'unité", "group": "groupe"},
}
_BAD = (FindingState.VIOLATION, FindingState.BLOCKED_PRESENT)
UnplacedKey = tuple[str, str, tuple[tuple[str, str], ...]]  # family, source, labels


def holding(state: DeviceState, unknown: tuple[int, ...], match: Callable[[AppId], tuple[tuple[int, object, object,
            object], ...]], as_of: datetime) -> tuple[int, ...]:
    """The rule indexes in `unknown` whose prohibited apps the device holds at `as_of`."""
    found: set[int] = set()
    for interval in state.apps:
        if interval.first_seen > as_of or (interval.removed_at is not None and interval.removed_at <= as_of):
            continue
        for hit in match(interval.app):
            if hit[0] in unknown:
                found.add(hit[0])
    return tuple(sorted(found))


def describe(labels: tuple[tuple[str, str], ...], lang: str) -> str:
    t = _TEXT.get(lang, _TEXT["en"])
    if not labels:
        return t["no-labels"]
    words = _KINDS.get(lang, _KINDS["en"])
    return t["labels"].format(labels=", ".join(f"{words.get(k, k)} `{v}`" for k, v in labels))


def not_placed(device: Device, mine: list[Finding], rules: Mapping[str, Rule], lang: str,
               unplaced: MutableMapping[UnplacedKey, int]) -> list[Finding]:
    """`mine` with each violation under one of `rules` (by id; rules whose scope is unknown for the device)
    turned `not_evaluable`, its reason added; counts the device once per family in `unplaced`."""
    t = _TEXT.get(lang, _TEXT["en"])
    labels = labels_of(device)
    out = []
    families: set[str] = set()
    for f in mine:
        rule = rules.get(f.rule)
        if rule is not None and f.state in _BAD:
            scope = ", ".join(rule.scope.groups) or "?"
            reason = t["scope-unknown"].format(scope=scope, what=describe(labels, lang), source=device.source)
            f = replace(f, state=FindingState.NOT_EVALUABLE, evidence=(*f.evidence, reason))
            families.add(f.family or f.rule)
        out.append(f)
    for fam in families:
        unplaced[(fam, device.source, labels)] += 1
    return out
