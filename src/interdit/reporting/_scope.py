"""What every status and report says about devices outside every rule, and about devices that hold a
prohibited app but cannot be placed in the organisation (their org unit or groups are unknown or not mapped)."""

from __future__ import annotations

from collections import defaultdict

from interdit.model import OUT_OF_SCOPE_ORDER, Catalogue, Summary
from interdit.reporting.i18n import Translator

_ORDER = {r.value: i for i, r in enumerate(OUT_OF_SCOPE_ORDER)}


def _word(t: Translator, prefix: str, key: str) -> str:
    return t(prefix + key)


def _family(cat: Catalogue, family: str) -> str:
    found = cat.families.get(family)
    return found.name if found is not None else family


def outside_line(t: Translator, sm: Summary) -> str:
    """"3 devices are outside every rule: personal device 2, platform not covered 1"."""
    total = sum(sm.out_of_scope.values())
    if not total:
        return t("status.outside_none")
    ordered = sorted(sm.out_of_scope.items(), key=lambda kv: (-kv[1], _ORDER.get(kv[0], 99), kv[0]))
    reasons = ", ".join(f"{_word(t, 'scope.reason.', r)} {t.num(n)}" for r, n in ordered)
    return t.n("status.outside", total, reasons=reasons)


def labels_text(t: Translator, labels: tuple[tuple[str, str], ...]) -> str:
    if not labels:
        return t("scope.none")
    return " + ".join(f"{_word(t, 'label_kind.', k)} `{v}`" for k, v in labels)


def unplaced_lines(t: Translator, summary: Summary, cat: Catalogue) -> list[str]:
    """One line per family: "2 devices holding TikTok cannot be placed in your organisation: org unit
    `Communications` (intune, 1), none (csv, 1) — map them in policy.yaml"."""
    by_family: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for u in summary.scope_unknown:
        by_family[u.family].append((f"{labels_text(t, u.labels)} ({u.source}, {t.num(u.devices)})", u.devices))
    lines = []
    for family, places in sorted(by_family.items(), key=lambda kv: (-sum(n for _, n in kv[1]), kv[0])):
        total = sum(n for _, n in places)
        where = ", ".join(text for text, _ in sorted(places, key=lambda p: -p[1]))
        lines.append(t.n("status.unplaced", total, family=_family(cat, family), where=where))
    return lines
