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

from interdit import i18n
from interdit.model import AppId, Device, DeviceState, Finding, FindingState, Rule
from interdit.policy.orgmap import labels_of


def _lang(lang: str) -> str:
    return lang if lang in i18n.LANGS else "en"


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
    t = i18n.section(_lang(lang), "placement")
    if not labels:
        return t["no-labels"]
    words = i18n.section(_lang(lang), "placement.kind")
    return t["labels"].format(labels=", ".join(f"{words.get(k, k)} `{v}`" for k, v in labels))


def not_placed(device: Device, mine: list[Finding], rules: Mapping[str, Rule], lang: str,
               unplaced: MutableMapping[UnplacedKey, int]) -> list[Finding]:
    """`mine` with each violation under one of `rules` (by id; rules whose scope is unknown for the device)
    turned `not_evaluable`, its reason added; counts the device once per family in `unplaced`."""
    t = i18n.section(_lang(lang), "placement")
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
