"""The org-unit mapping: each source's own organisational labels to the organisation's tree.

An Intune device category, a Jamf site and department, an AMAPI enrollment-token value, a Workspace ONE
organization group or a Google Workspace org-unit path become one org unit path of the policy's `org_units:`
(see docs/policy.md, "Org units across sources"). Pure and deterministic: the same device gives the same answer,
computed once per distinct (source, reported org unit, labels, groups).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from operator import attrgetter

from interdit.model import Device, OrgUnitMap

# Intune's built-in category for a device nobody categorised: it says nothing about where the device belongs
NO_CATEGORY = frozenset({"", "unknown"})

# the labels each source type gives (for `interdit policy check`: a Jamf entry cannot match a `category`)
SOURCE_KINDS: Mapping[str, frozenset[str]] = {
    "intune": frozenset({"category", "group", "unit"}),
    "jamf": frozenset({"site", "department", "building", "group", "unit"}),
    "amapi": frozenset({"enrollment_data", "policy", "group", "unit"}),
    "workspace_one": frozenset({"organization_group", "group", "unit"}),
    "google_workspace": frozenset({"org_unit_path", "group", "unit"}),
}


# the label a source type reports as its device's org unit
UNIT_KIND: Mapping[str, str] = {"intune": "category", "jamf": "department", "workspace_one": "organization_group"}


def source_type(fmt: str) -> str:
    """The source type of an import format or connector name: `intune-graph` -> `intune`, `api:workspace-one` ->
    `workspace_one`, `jsonl` -> `jsonl`."""
    base = fmt.removeprefix("api:").replace("-", "_")
    for kind in SOURCE_KINDS:
        if base == kind or base.startswith(kind + "_"):
            return kind
    return base.split("_", 1)[0]


def is_path(unit: str | None) -> bool:
    return bool(unit) and str(unit).startswith("/")


def labels_of(device: Device) -> tuple[tuple[str, str], ...]:
    """What the source said about where `device` belongs: its own labels, and its reported org unit when it
    is not a path and no label already says it (`unit`)."""
    unit = device.org_unit
    if unit and not is_path(unit) and all(v != unit for _, v in device.org_labels):
        return (*device.org_labels, ("unit", unit))
    return device.org_labels


def _matcher(how: str, pattern: str) -> Callable[[str], bool]:
    if how == "glob":
        return lambda value: fnmatch.fnmatchcase(value, pattern)
    if how == "regex":
        compiled = re.compile(pattern)
        return lambda value: compiled.fullmatch(value) is not None
    return lambda value: value == pattern


_MISSING = object()
_NAMES = tuple(f.name for f in fields(Device))
_FIELDS = attrgetter(*_NAMES)
_UNIT, _LABELS = _NAMES.index("org_unit"), _NAMES.index("org_labels")


@dataclass(frozen=True)
class _Entry:
    rank: tuple[int, int, int]  # more keys first, exact before patterns, then the policy's order
    sources: str
    tests: tuple[tuple[str, Callable[[str], bool]], ...]
    org_unit: str


class OrgUnits:
    """Places devices in the organisation's tree. `types` maps a source name to its type (`intune-prod` ->
    `intune`), so an entry may name either."""

    def __init__(self, maps: Iterable[OrgUnitMap], types: Mapping[str, str] | None = None) -> None:
        entries = []
        maps_list = list(maps)
        for i, m in enumerate(maps_list):
            tests = tuple((kind, _matcher(m.how, value)) for kind, value in m.match)
            entries.append(_Entry((-len(m.match), 0 if m.how == "exact" else 1, i), m.source, tests, m.org_unit))
        self.entries = tuple(sorted(entries, key=lambda e: e.rank))
        self.types = dict(types or {})
        self.by_group = any(kind == "group" for m in maps_list for kind, _ in m.match)
        self.cache: dict[tuple[object, ...], str | None] = {}

    def __bool__(self) -> bool:
        return bool(self.entries)

    def unit_of(self, device: Device) -> str | None:
        """The org unit path `device` belongs to: the best matching entry, else the path its source reported,
        else None (unknown, or a label nothing maps)."""
        if not self.entries:
            unit = device.org_unit
            return unit if unit and unit[0] == "/" else None
        key = (device.source, device.org_unit, device.org_labels, device.groups if self.by_group else ())
        found = self.cache.get(key, _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        found = self._find(device)
        if found is None and is_path(device.org_unit):
            found = device.org_unit
        self.cache[key] = found
        return found

    def _find(self, device: Device) -> str | None:
        source = device.source
        kind_of_source = self.types.get(source, source_type(source))
        labels = labels_of(device)
        unit = device.org_unit
        if unit and not is_path(unit):
            if ("unit", unit) not in labels:
                labels = (*labels, ("unit", unit))  # `unit` matches what the source reported, always
            if not device.org_labels and kind_of_source in UNIT_KIND:
                # a device stored without its labels (imported before they were kept): the org unit its source
                # reported is the label that source puts there (an Intune category, a Jamf department)
                labels = (*labels, (UNIT_KIND[kind_of_source], unit))
        for entry in self.entries:
            if entry.sources not in (source, kind_of_source, "*"):
                continue
            if all(self._has(labels, device.groups, kind, test) for kind, test in entry.tests):
                return entry.org_unit
        return None

    @staticmethod
    def _has(labels: tuple[tuple[str, str], ...], groups: tuple[str, ...], kind: str,
             test: Callable[[str], bool]) -> bool:
        if kind == "group":
            return any(test(g) for g in groups)
        return any(k == kind and test(v) for k, v in labels)

    def place(self, device: Device, unit: str | object | None = _MISSING) -> Device:
        """`device` with its org unit set from the mapping (`unit`, when already known); a reported org unit that
        is not a path and that nothing maps is kept among its labels (`unit`), so reports can name it."""
        if unit is _MISSING:
            unit = self.unit_of(device)
        if unit == device.org_unit:
            return device
        values = list(_FIELDS(device))  # dataclasses.replace, at half its cost: this runs once per placed device
        values[_UNIT], values[_LABELS] = unit, labels_of(device)
        return Device(*values)
