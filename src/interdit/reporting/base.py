"""The reporting interface: what every report format is given (`ReportData`) and the `formats` registry.

A format is one module that registers a class; its `name` is the registry key:

    @formats.register
    class StatusTable:
        name = "table"
        extension = "txt"          # of a file holding the report (golden files, downloads)
        media_type = "text/plain"
        def render(self, data: ReportData, lang: str) -> str: ...

A format that writes a file rather than text (`pdf`, `xlsx`) returns bytes from `render`.
`lang` is "en" or "fr"; any other value is a `ConfigError` (see `i18n.check_lang`).
The figures every human-facing format shows are computed once, here, by `figures(data)`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib.resources import files
from typing import Any, Protocol

from interdit.model import (
    Catalogue,
    Device,
    Directive,
    Finding,
    FindingKind,
    FindingState,
    PolicyException,
    Rule,
    RuleSummary,
    Sighting,
    SourceSummary,
    Summary,
)
from interdit.registry import Registry

# the states a device can be counted in, worst first (resolved findings are history, not a state)
STATES: tuple[str, ...] = (
    FindingState.VIOLATION.value,
    FindingState.BLOCKED_PRESENT.value,
    FindingState.NOT_EVALUABLE.value,
    FindingState.STALE.value,
    FindingState.EXCEPTED.value,
)
# the states in which a prohibited app is still on the device
HOLDING: frozenset[FindingState] = frozenset({FindingState.VIOLATION, FindingState.BLOCKED_PRESENT})


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, computed before rendering (formats do no I/O and read no clock)."""

    generated_at: datetime
    as_of: datetime
    organisation: str
    summary: Summary
    history: tuple[Summary, ...]
    findings: tuple[Finding, ...]
    rules: tuple[Rule, ...]
    exceptions: tuple[PolicyException, ...]
    catalogue: Catalogue
    review: tuple[tuple[str, str, date, str], ...]  # (kind "rule"|"exception", id, date, why)
    catalogue_version: str
    sightings: tuple[Sighting, ...] = ()
    # the findings' devices as they were at `as_of`, by (source, device_id): who holds each one and what it is
    devices: Mapping[tuple[str, str], Device] = field(default_factory=dict)


class ReportFormat(Protocol):
    name: str
    extension: str  # of a file holding the report, without the dot: "html", "csv"
    media_type: str  # e.g. "text/html; charset=utf-8"

    def render(self, data: ReportData, lang: str) -> str | bytes:
        """Text for the text formats; the file's bytes for the others (PDF, XLSX), which also declare their
        file name's `extension`."""
        ...


formats: Registry[type[ReportFormat]] = Registry("reporting", builtins="interdit.reporting")

SCHEMAS = ("status", "findings")


def json_schema(name: str) -> dict[str, Any]:
    """The published JSON Schema of the `json` ("status") or `findings-json` ("findings") format."""
    if name not in SCHEMAS:
        raise ValueError(f"no schema {name!r}; there are: {', '.join(SCHEMAS)}")
    doc: dict[str, Any] = json.loads(files("interdit.reporting").joinpath(f"templates/{name}.schema.json")
                                     .read_text("utf-8"))
    return doc


# --------------------------------------------------------------------------------------------------
# Figures shared by the formats


@dataclass(frozen=True, slots=True)
class Deadline:
    rule: str
    directive: str | None
    families: tuple[str, ...]
    effective: date
    deadline: date
    passed: bool  # the deadline is on or before the as-of date
    holding: int  # devices still holding an app this rule prohibits
    overdue: int  # of those, devices past the deadline


@dataclass(frozen=True, slots=True)
class UnitRow:
    unit: str
    in_scope: int
    compliant: int
    violations: int  # devices with a violation finding in this unit

    @property
    def rate(self) -> float | None:
        return self.compliant / self.in_scope if self.in_scope else None


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    exception: PolicyException
    days_left: int
    devices: int  # devices whose findings this exception covers


@dataclass(frozen=True, slots=True)
class AddressRow:
    """Use of a prohibited family's names from an address no inventory attributes to a device."""

    address: str
    family: str
    days: int  # distinct days with a sighting, up to the as-of date
    count: int  # look-ups or connections counted in the logs
    last: date


@dataclass(frozen=True, slots=True)
class Figures:
    holding: int  # devices with a violation or blocked_present finding
    holding_overdue: int  # of those, past the deadline
    violation_devices: int
    by_state: dict[str, int]  # every state in STATES, zero when absent
    by_family: list[tuple[str, int]]  # worst first
    units: list[UnitRow]  # worst first
    deadlines: list[Deadline]
    exceptions: list[ExceptionRow]  # in force at as_of, soonest expiry first
    directives: list[Directive]  # applied by the rules, in rule order
    unseen: list[Finding]  # not_evaluable and stale findings, one per device
    points: list[Summary]  # history and the current summary, by time, one per day (UTC), the last of each day
    sources: list[tuple[str, SourceSummary]]  # every inventory source, by name
    rules: list[tuple[str, RuleSummary]]  # every rule in force, in policy order: compliance per directive
    used_devices: int  # devices with a finding of kind `used` (seen on the network), excepted ones included
    used_by_family: list[tuple[str, int]]  # family -> devices with a `used` finding, most first
    unattributed: list[AddressRow]  # most look-ups first
    # devices in scope that could not be evaluated, by coverage reason, most first (Summary.not_evaluable_by_reason)
    not_evaluable_by_reason: list[tuple[str, int]] = field(default_factory=list)
    # (source, reason, devices) for every source with devices not evaluable, by source then most first
    not_evaluable_by_source: list[tuple[str, str, int]] = field(default_factory=list)


def is_overdue(f: Finding, as_of: datetime) -> bool:
    """The finding's device still holds the app after the rule's deadline (excepted, unseen and resolved
    findings are never overdue)."""
    return f.state in HOLDING and f.overdue(as_of)


def device_key(f: Finding) -> tuple[str, str]:
    return (f.source, f.device_id)


def figures(data: ReportData) -> Figures:
    as_of = data.as_of
    live = [f for f in data.findings if f.state is not FindingState.RESOLVED]
    holding = {device_key(f) for f in live if f.state in HOLDING}
    holding_overdue = {device_key(f) for f in live if is_overdue(f, as_of)}
    violating = {device_key(f) for f in live if f.state is FindingState.VIOLATION}

    by_state = {s: 0 for s in STATES}
    for s, n in data.summary.by_state.items():
        if s != FindingState.RESOLVED.value:
            by_state[s] = n
    by_family = sorted(data.summary.by_family.items(), key=lambda kv: (-kv[1], kv[0]))

    unit_violations: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for f in live:
        if f.state is FindingState.VIOLATION:
            unit_violations[f.org_unit or ""].add(device_key(f))
    units = [UnitRow(u, ins, comp, len(unit_violations.get(u, ()))) for u, (ins, comp)
             in data.summary.by_org_unit.items()]
    units.sort(key=lambda r: (-r.violations, 2.0 if r.rate is None else r.rate, -r.in_scope, r.unit))

    deadlines = []
    for rule in data.rules:
        mine = [f for f in live if f.rule == rule.id and f.state in HOLDING]
        deadlines.append(Deadline(
            rule=rule.id, directive=rule.directive, families=rule.families, effective=rule.effective,
            deadline=rule.deadline, passed=rule.deadline <= as_of.date(),
            holding=len({device_key(f) for f in mine}),
            overdue=len({device_key(f) for f in mine if is_overdue(f, as_of)}),
        ))
    deadlines.sort(key=lambda d: (d.deadline, d.rule))

    covered = Counter(f.exception for f in live if f.exception and f.state is FindingState.EXCEPTED)
    exceptions = [ExceptionRow(e, (e.expires - as_of.date()).days, covered.get(e.id, 0))
                  for e in data.exceptions if e.active(as_of)]
    exceptions.sort(key=lambda r: (r.exception.expires, r.exception.id))

    directives: list[Directive] = []
    for rule in data.rules:
        d = data.catalogue.directives.get(rule.directive) if rule.directive else None
        if d is not None and d.id not in {x.id for x in directives}:
            directives.append(d.as_of(as_of.date()))  # as it stood on the report's day

    seen: set[tuple[str, str]] = set()
    unseen = []
    for f in sorted(live, key=lambda f: (f.state.value, f.org_unit or "", f.source, f.device_id)):
        if f.state is FindingState.NOT_EVALUABLE and device_key(f) in holding:
            continue  # a prohibited app is seen on it: counted as holding one, not as unseen
        if f.state in (FindingState.NOT_EVALUABLE, FindingState.STALE) and device_key(f) not in seen:
            seen.add(device_key(f))
            unseen.append(f)

    # one point per day (UTC): the day's last summary, the current one for its own day
    points: dict[date, Summary] = {}
    for point in sorted((h for h in data.history if h.at <= data.summary.at), key=lambda h: h.at):
        points[point.at.astimezone(UTC).date()] = point
    points[data.summary.at.astimezone(UTC).date()] = data.summary

    used = [f for f in live if f.kind is FindingKind.USED]
    used_family: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for f in used:
        used_family[f.family or ""].add(device_key(f))
    used_by_family = sorted(((fam, len(devs)) for fam, devs in used_family.items()), key=lambda kv: (-kv[1], kv[0]))
    return Figures(
        holding=len(holding), holding_overdue=len(holding_overdue), violation_devices=len(violating),
        by_state=by_state, by_family=by_family, units=units, deadlines=deadlines, exceptions=exceptions,
        directives=directives, unseen=unseen, points=[points[d] for d in sorted(points)],
        sources=sorted(data.summary.by_source.items()), rules=list(data.summary.by_rule.items()),
        used_devices=len({device_key(f) for f in used}),
        used_by_family=used_by_family, unattributed=unattributed(data.sightings, as_of.date()),
        not_evaluable_by_reason=most_first(data.summary.not_evaluable_by_reason),
        not_evaluable_by_source=[(name, reason, n) for name, v in sorted(data.summary.by_source.items())
                                 for reason, n in most_first(v.not_evaluable_by_reason)],
    )


def most_first(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Counts above zero, largest first, then by name."""
    return sorted(((k, n) for k, n in counts.items() if n), key=lambda kv: (-kv[1], kv[0]))


def unattributed(sightings: tuple[Sighting, ...], until: date) -> list[AddressRow]:
    """Sightings no device could be matched to, by (address, family), up to `until`, most look-ups first."""
    days: dict[tuple[str, str], set[date]] = defaultdict(set)
    counts: Counter[tuple[str, str]] = Counter()
    for s in sightings:
        if s.device_id is None and s.day <= until:
            days[(s.client, s.family)].add(s.day)
            counts[(s.client, s.family)] += s.count
    rows = [AddressRow(addr, fam, len(days[(addr, fam)]), counts[(addr, fam)], max(days[(addr, fam)]))
            for addr, fam in days]
    rows.sort(key=lambda r: (-r.count, -r.days, r.address, r.family))
    return rows


def device_of(data: ReportData, f: Finding) -> Device | None:
    """The finding's device as it was at the report's date (None when the source told nothing of it)."""
    return data.devices.get((f.source, f.device_id))


# what every format shows of a finding's device beside its `source:id`, as the source gives it
WHO = ("device_name", "owner", "model", "os_version")


def who(data: ReportData, f: Finding) -> dict[str, str | None]:
    """The finding's device name, owner (user principal name, e-mail or display name: as the source gives it),
    model and OS version; None for what the source does not tell."""
    d = device_of(data, f)
    if d is None:
        return dict.fromkeys(WHO)
    return {"device_name": d.name or None, "owner": d.user or None, "model": d.model or None,
            "os_version": d.os_version or None}


def family_name(data: ReportData, family: str | None) -> str:
    if not family:
        return ""
    fam = data.catalogue.families.get(family)
    return fam.name if fam else family
