"""Placing devices in the organisation's tree before they are evaluated, and what `interdit orgunits` shows.

The policy's `org_units:` maps each source's own labels (Intune categories, Jamf sites and departments, AMAPI
enrollment data, ...) to org unit paths (`policy/orgmap.py`). Sources are named in the mapping by their own name
or by their type, which the import history knows (`intune-graph` and `api:intune` are both `intune`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from interdit.model import Catalogue, DeviceState, Policy, Summary
from interdit.policy.orgmap import OrgUnits, is_path, labels_of, source_type
from interdit.storage.repo import Repository

SCHEMA_VERSION = 1


def source_types(repo: Repository) -> dict[str, str]:
    """Each source's type, from its latest successful import (`intune-prod` -> `intune`)."""
    types: dict[str, str] = {}
    for run in repo.import_runs(limit=1000):
        if run.status == "ok" and run.source not in types:
            types[run.source] = source_type(run.format)
    return types


def place_devices(policy: Policy, states: Iterable[DeviceState], types: dict[str, str]) -> Iterator[DeviceState]:
    """`states` with each device's org unit set from the policy's mapping (cached per distinct labels)."""
    units = OrgUnits(policy.org_units, types)
    for state in states:
        device = units.place(state.device)
        yield state if device is state.device else replace(state, device=device)


@dataclass
class OrgUnitTree:
    """The organisation's tree as the fleet fills it, and what no mapping places."""

    as_of: datetime
    units: dict[str, Counter[str]] = field(default_factory=dict)  # path -> source -> devices (own, not below)
    mapped: set[str] = field(default_factory=set)  # the paths the policy's mapping names
    unmapped: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # (source, kind, value) -> devices
    unplaced: Counter[str] = field(default_factory=Counter)  # source -> devices with no org unit at all

    def total(self, path: str) -> Counter[str]:
        """Devices per source in `path` and every unit below it."""
        out: Counter[str] = Counter()
        prefix = path.rstrip("/") + "/"
        for unit, counts in self.units.items():
            if unit == path or unit.startswith(prefix) or path == "/":
                out.update(counts)
        return out

    def paths(self) -> list[str]:
        """Every unit with devices or named by the mapping, and their parents, in tree order."""
        found: set[str] = set()
        for unit in (*self.units, *self.mapped):
            parts = [p for p in unit.split("/") if p]
            for i in range(1, len(parts) + 1):
                found.add("/" + "/".join(parts[:i]))
        return sorted(found, key=lambda p: [x for x in p.split("/") if x])

    def document(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "as_of": self.as_of.isoformat(),
            "units": [{"path": p, "depth": p.count("/"), "mapped": p in self.mapped,
                       "devices": dict(sorted(self.units.get(p, Counter()).items())),
                       "devices_below": dict(sorted(self.total(p).items()))} for p in self.paths()],
            "unmapped": [{"source": s, "kind": k, "value": v, "devices": n}
                         for (s, k, v), n in sorted(self.unmapped.items(), key=lambda kv: (-kv[1], kv[0]))],
            "no_org_unit": dict(sorted(self.unplaced.items())),
        }


def scope_notes(summary: Summary, cat: Catalogue, lang: str) -> list[str]:
    """What the status says about devices outside every rule and those that cannot be placed, in `lang`: one line
    per family of unplaced devices holding its apps, then the count outside every rule by reason."""
    from interdit.reporting._scope import outside_line, unplaced_lines
    from interdit.reporting.i18n import Translator

    t = Translator(lang)
    return [*unplaced_lines(t, summary, cat), outside_line(t, summary)]


def org_unit_tree(repo: Repository, policy: Policy, *, as_of: datetime) -> OrgUnitTree:
    """Every device present at `as_of` placed in the tree; the labels nothing maps, with their device counts."""
    types = source_types(repo)
    tree = OrgUnitTree(as_of=as_of, mapped={m.org_unit for m in policy.org_units})
    units: dict[str, Counter[str]] = defaultdict(Counter)
    for state in place_devices(policy, repo.device_states(as_of, (), ()), types):
        device = state.device
        if is_path(device.org_unit):
            units[device.org_unit or ""][device.source] += 1
            continue
        labels = labels_of(device)
        if not labels:
            tree.unplaced[device.source] += 1
        for kind, value in labels:
            tree.unmapped[(device.source, kind, value)] += 1
    tree.units = dict(units)
    return tree
