"""The evaluation: a pure function from (policy, catalogue, devices, sightings, evidence, instant) to findings.

No clock, no I/O: the same inputs give the same findings, in the same order, with the same ids. The rules it
applies are written out for auditors in docs/policy.md ("How evaluation decides").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from interdit import i18n
from interdit.model import (
    NAME_PREFIX,
    OUT_OF_SCOPE_ORDER,
    AppEvidence,
    AppId,
    AppInterval,
    AppState,
    Catalogue,
    Coverage,
    CoverageReason,
    Device,
    DeviceState,
    Finding,
    FindingKind,
    FindingState,
    Management,
    OutOfScope,
    Policy,
    PolicyException,
    Rule,
    RuleSummary,
    ScopeUnknown,
    Sighting,
    SourceSummary,
    Summary,
    day_start,
    utc,
)
from interdit.policy import placement
from interdit.policy.coverage import CoverageOf
from interdit.policy.load import vendor_lineage
from interdit.policy.names import EXACT, NameIndex
from interdit.policy.orgmap import OrgUnits

BAD_STATES = frozenset({FindingState.VIOLATION, FindingState.BLOCKED_PRESENT, FindingState.NOT_EVALUABLE,
                        FindingState.STALE})
_IN_VIOLATION = (FindingState.VIOLATION, FindingState.BLOCKED_PRESENT)
# enum members bound once: looking them up on the class costs a descriptor call per finding
_INSTALLED = FindingKind.INSTALLED
_VIOLATION = FindingState.VIOLATION
_NOT_EVALUABLE = FindingState.NOT_EVALUABLE
_STALE = FindingState.STALE
_FULL = Coverage.FULL


@dataclass(frozen=True, slots=True)
class Evaluation:
    findings: tuple[Finding, ...]
    summary: Summary


def candidate_patterns(policy: Policy, cat: Catalogue, *,
                       evidence: Iterable[AppId] = ()) -> tuple[frozenset[AppId], tuple[AppId, ...]]:
    """The exact identifiers and the vendor prefixes any rule can match, so storage loads only those apps.

    Rules by evidence match apps through their stored analyses: pass the analysed apps as `evidence` and they
    are added to the exact identifiers when the policy has such a rule.

    Apps known only by display name (`AppId.named`) are matched by their store names, which no SQL condition can
    normalise: when a family of a rule has store names on a platform, the prefixes hold `AppId(platform, "name:")`
    (`NAME_PREFIX`), which storage reads as "every display-name-only app of that platform" (a prefix ending in
    ":" is taken as a plain string prefix, never as `prefix` or `prefix.*`).
    """
    exact: set[AppId] = set()
    prefixes: set[AppId] = set()
    for rule in policy.rules:
        for fid in rule.families:
            family = cat.families.get(fid)
            if family is not None:
                exact.update(family.identifiers)
                prefixes.update(family.prefixes)
                prefixes.update(AppId(sn.platform, NAME_PREFIX) for sn in family.store_names)
        exact.update(rule.identifiers)
        prefixes.update(rule.prefixes)
    if any(r.sdk_vendors or r.endpoint_vendors for r in policy.rules):
        exact.update(evidence)
    return frozenset(exact), tuple(sorted(prefixes))


def stamp(at: datetime) -> str:
    """2023-03-15T06:00Z: minutes are enough for a person, and the stored finding keeps the exact time."""
    return utc(at).strftime("%Y-%m-%dT%H:%MZ")


# (rule index, family or None, how it matched: "family" | "id" | "prefix" | "name" | "name-prefix", the
# identifier, prefix or store name matched)
_Hit = tuple[int, str | None, str, str]
_BY_NAME = {EXACT: "name"}  # NameIndex confidence -> how (anything else is a store-name prefix)


class _Matcher:
    """Which in-force rules an app id falls under; cached per app id (the same few apps recur on every device)."""

    def __init__(self, rules: list[Rule], cat: Catalogue) -> None:
        self.exact: dict[AppId, list[_Hit]] = defaultdict(list)
        self.prefixes: list[tuple[str, str, int, str | None, str]] = []
        for ri, rule in enumerate(rules):
            claimed: set[AppId] = set()
            for fid in rule.families:
                family = cat.families.get(fid)
                if family is None:
                    continue
                for app in family.identifiers:
                    if app not in claimed:
                        claimed.add(app)
                        self.exact[app].append((ri, fid, "family", str(app)))
                for p in family.prefixes:
                    self.prefixes.append((p.platform.value, p.identifier, ri, fid, "family"))
            for app in rule.identifiers:
                if app not in claimed:
                    claimed.add(app)
                    self.exact[app].append((ri, None, "id", str(app)))
            for p in rule.prefixes:
                self.prefixes.append((p.platform.value, p.identifier, ri, None, "prefix"))
        self.names = _name_index(rules, cat)
        self.cache: dict[AppId, tuple[_Hit, ...]] = {}

    def __call__(self, app: AppId) -> tuple[_Hit, ...]:
        found = self.cache.get(app)
        if found is not None:
            return found
        if app.by_name:
            result = self.by_name(app)
            self.cache[app] = result
            return result
        hits = list(self.exact.get(app, ()))
        seen = {h[0] for h in hits}
        ident = app.identifier
        for platform, prefix, ri, fid, how in self.prefixes:
            if ri in seen or platform != app.platform.value:
                continue
            if ident == prefix or ident.startswith(prefix + "."):
                seen.add(ri)
                hits.append((ri, fid, how, f"{platform}:{prefix}"))
        result = tuple(hits)
        self.cache[app] = result
        return result

    def by_name(self, app: AppId) -> tuple[_Hit, ...]:
        """An app known only by display name: the rules whose families have a matching store name."""
        if not self.names:
            return ()
        hits: list[_Hit] = []
        rules: set[int] = set()
        for value, store_name, confidence in self.names.lookup(app.platform, app.display_name or ""):
            ri, fid = value
            if ri not in rules:
                rules.add(ri)
                hits.append((ri, fid, _BY_NAME.get(confidence, "name-prefix"), store_name))
        return tuple(hits)


def _name_index(rules: list[Rule], cat: Catalogue) -> NameIndex[tuple[int, str]]:
    """Each rule's families' store names -> (rule index, family)."""
    index: NameIndex[tuple[int, str]] = NameIndex()
    for ri, rule in enumerate(rules):
        for fid in rule.families:
            family = cat.families.get(fid)
            if family is not None and family.store_names:
                index.add(family.store_names, (ri, fid))
    return index


def _exception_active(exc: PolicyException, at: datetime) -> bool:
    """Granted (if a grant date is given) and not yet expired: it stops counting at 00:00 UTC on `expires`."""
    return (exc.granted is None or at >= day_start(exc.granted)) and exc.active(at)


def evaluate(policy: Policy, cat: Catalogue, states: Iterable[DeviceState], as_of: datetime, *,
             sightings: Iterable[Sighting] = (), evidence: Mapping[AppId, AppEvidence] | None = None,
             source_types: Mapping[str, str] | None = None) -> Evaluation:
    """Findings and the summary of compliance at `as_of` (see docs/policy.md for exactly how they are decided).

    Each device is first placed in the organisation's tree by the policy's `org_units:` (`source_types` names
    each source's type, e.g. `intune-prod` -> `intune`, for entries that name a type)."""
    evaluator = _Evaluator(policy, cat, utc(as_of), sightings, evidence or {})
    evaluator.units = OrgUnits(policy.org_units, source_types)
    return evaluator.run(states)


class _Evaluator:
    def __init__(self, policy: Policy, cat: Catalogue, as_of: datetime, sightings: Iterable[Sighting],
                 evidence: Mapping[AppId, AppEvidence]) -> None:
        self.policy = policy
        self.cat = cat
        self.as_of = as_of
        self.lang = policy.language if policy.language in i18n.LANGS else "en"
        self.t = i18n.section(self.lang, "evidence")
        self.rules = [r for r in policy.rules if r.in_force(as_of)]
        self.starts = [day_start(r.effective) for r in self.rules]
        self.families = [frozenset(r.families) for r in self.rules]
        self.meta = [(r.id, r.families[0] if r.families else None, r.directive, r.deadline) for r in self.rules]
        self.coverage_of = CoverageOf(policy.language)
        self.match = _Matcher(self.rules, cat)
        self.stale_before = as_of - timedelta(days=policy.stale_after_days)  # older than this: stale
        self.as_of_text = stamp(as_of)
        self.excepting: dict[str, list[PolicyException]] = defaultdict(list)  # active at as_of, by family
        self.all_exceptions: dict[str, list[PolicyException]] = defaultdict(list)
        for exc in policy.exceptions:
            for fam in exc.families:
                self.all_exceptions[fam].append(exc)
                if _exception_active(exc, as_of):
                    self.excepting[fam].append(exc)
        self.evidence = evidence
        self.evidence_rules = [ri for ri, r in enumerate(self.rules) if r.sdk_vendors or r.endpoint_vendors]
        self.lineage: dict[str, tuple[str, ...]] = {}
        self.sightings: dict[tuple[str, str], list[Sighting]] = defaultdict(list)
        today = as_of.date()
        for s in sightings:
            if s.device_source is not None and s.device_id is not None and s.day <= today:
                self.sightings[(s.device_source, s.device_id)].append(s)
        self.cover_cache: dict[tuple[object, ...], tuple[int, ...]] = {}
        self.units = OrgUnits(policy.org_units)  # places each device in the organisation's tree (policy/orgmap.py)
        # per distinct device attributes: the rules whose scope is unknown, and why the device is outside every rule
        self.unknown_cache: dict[tuple[object, ...], tuple[int, ...]] = {}
        self.reason_cache: dict[tuple[object, ...], OutOfScope] = {}
        self.out_of_scope: dict[str, int] = defaultdict(int)
        self.unplaced: dict[tuple[str, str, tuple[tuple[str, str], ...]], int] = defaultdict(int)

    # -- the fleet

    def run(self, states: Iterable[DeviceState]) -> Evaluation:
        findings: list[Finding] = []
        total = in_scope = compliant = 0
        by_state: dict[str, int] = defaultdict(int)
        by_family: dict[str, int] = defaultdict(int)
        by_unit: dict[str, list[int]] = {}
        by_state_enum: dict[FindingState, int] = defaultdict(int)
        # source -> [devices, in scope, compliant, violations, not evaluable, stale]; newest inventory apart
        by_source: dict[str, list[int]] = {}
        newest: dict[str, datetime] = {}
        # rule index -> [in scope, compliant, violations, blocked present, not evaluable, stale]
        by_rule = [[0, 0, 0, 0, 0, 0] for _ in self.rules]
        rule_ids = [m[0] for m in self.meta]
        cache = self.cover_cache
        coverage_of = self.coverage_of
        coverage_get = coverage_of.cache.get
        partial = _CoverageCounts()
        for state in states:
            total += 1
            device = state.device
            src = by_source.get(device.source)
            if src is None:
                src = by_source[device.source] = [0, 0, 0, 0, 0, 0]
                newest[device.source] = device.observed_at
            elif device.observed_at > newest[device.source]:
                newest[device.source] = device.observed_at
            src[0] += 1
            unit = self.units.unit_of(device)
            if unit != device.org_unit and self.may_find(state):  # the findings name the placed device
                state = DeviceState(self.units.place(device, unit), state.apps)
            key = (device.ownership, device.platform, device.management, device.groups, unit)
            cover = cache.get(key)
            if cover is None:
                cover = self.covering(self.units.place(device, unit))
            unknown = self.unknown_cache[key]
            extra = self.holding_unknown(state, unknown) if unknown else ()
            if extra:
                cover = tuple(sorted((*cover, *extra)))
            if not cover:
                self.out_of_scope[self.reason_cache[key].value] += 1
                continue
            in_scope += 1
            src[1] += 1
            seen = coverage_get((device.management, device.coverage_gap))
            if seen is None:
                seen = coverage_of(device)
            mine = self.device(state, cover, seen)
            if extra:
                mine = self.not_placed(state.device, mine, extra)
            ok = True
            if not mine:
                for ri in cover:
                    counts = by_rule[ri]
                    counts[0] += 1
                    counts[1] += 1
            else:
                self.count_rules(mine, cover, by_rule, rule_ids)
                findings.extend(mine)
                states_seen = {f.state for f in mine}
                ok = not (states_seen & BAD_STATES)
                if _NOT_EVALUABLE in states_seen and not states_seen.isdisjoint(_IN_VIOLATION):
                    states_seen.discard(_NOT_EVALUABLE)  # a prohibited app seen: a violation, not "not evaluable"
                for s in states_seen:
                    by_state_enum[s] += 1
                src[3] += _VIOLATION in states_seen
                src[4] += _NOT_EVALUABLE in states_seen
                src[5] += _STALE in states_seen
                if seen[0] is not _FULL:
                    partial.add(device.source, seen[0], seen[1], _NOT_EVALUABLE in states_seen)
                elif extra and _NOT_EVALUABLE in states_seen:  # seen whole, but it cannot be placed
                    partial.reasons[(device.source, SCOPE_UNKNOWN)] += 1
                for fam in {f.family for f in mine if f.family is not None and f.state in _IN_VIOLATION}:
                    if fam is not None:
                        by_family[fam] += 1
            counts_unit = by_unit.get(unit or "")
            if counts_unit is None:
                counts_unit = by_unit[unit or ""] = [0, 0]
            counts_unit[0] += 1
            if ok:
                compliant += 1
                counts_unit[1] += 1
                src[2] += 1
        for st, n in by_state_enum.items():
            by_state[st.value] = n
        findings.sort(key=_order)
        summary = Summary(
            at=self.as_of, devices_total=total, devices_in_scope=in_scope, compliant=compliant,
            by_state=dict(sorted(by_state.items())), by_family=dict(sorted(by_family.items())),
            by_org_unit={k: (v[0], v[1]) for k, v in sorted(by_unit.items())},
            by_source={k: SourceSummary(devices=v[0], in_scope=v[1], compliant=v[2], violations=v[3],
                                        not_evaluable=v[4], stale=v[5], last_observed=newest[k],
                                        by_coverage=partial.by_coverage(k, v[1]),
                                        not_evaluable_by_reason=partial.by_reason(k))
                       for k, v in sorted(by_source.items())},
            by_rule={rule.id: RuleSummary(directive=rule.directive, effective=rule.effective, deadline=rule.deadline,
                                          in_scope=v[0], compliant=v[1], violations=v[2], blocked_present=v[3],
                                          not_evaluable=v[4], stale=v[5])
                     for rule, v in zip(self.rules, by_rule, strict=True)},
            by_coverage=partial.by_coverage(None, in_scope), not_evaluable_by_reason=partial.by_reason(None),
            out_of_scope=dict(sorted(self.out_of_scope.items())),
            scope_unknown=tuple(ScopeUnknown(family=f, source=src_, labels=labels, devices=n)
                                for (f, src_, labels), n in sorted(self.unplaced.items())),
        )
        return Evaluation(tuple(findings), summary)

    @staticmethod
    def count_rules(mine: list[Finding], cover: tuple[int, ...], by_rule: list[list[int]],
                    rule_ids: list[str]) -> None:
        """Count one in-scope device under each rule covering it: compliant with a rule when no finding under
        that rule is in a bad state."""
        seen: dict[str, set[FindingState]] = defaultdict(set)
        for f in mine:
            seen[f.rule].add(f.state)
        for ri in cover:
            counts = by_rule[ri]
            counts[0] += 1
            states = seen.get(rule_ids[ri])
            if not states or not (states & BAD_STATES):
                counts[1] += 1
                continue
            counts[2] += _VIOLATION in states
            counts[3] += FindingState.BLOCKED_PRESENT in states
            counts[4] += _NOT_EVALUABLE in states and states.isdisjoint(_IN_VIOLATION)
            counts[5] += _STALE in states

    def covering(self, device: Device) -> tuple[int, ...]:
        key = (device.ownership, device.platform, device.management, device.groups, device.org_unit)
        found = self.cover_cache.get(key)
        if found is None:
            places = [r.scope.place(device) for r in self.rules]
            found = tuple(ri for ri, why in enumerate(places) if why is None)
            self.cover_cache[key] = found
            self.unknown_cache[key] = tuple(ri for ri, why in enumerate(places) if why is OutOfScope.SCOPE_UNKNOWN)
            reasons = set(places)
            self.reason_cache[key] = next((r for r in OUT_OF_SCOPE_ORDER if r in reasons), OutOfScope.NO_RULE)
        return found

    # -- devices that cannot be placed in the organisation (policy/placement.py)

    def may_find(self, state: DeviceState) -> bool:
        """Whether the device can have a finding (candidate apps, a partial view, stale, or seen on the network):
        only then is a placed copy of it made (a fleet's other devices are only counted)."""
        d = state.device
        return bool(state.apps) or d.management is not Management.FULLY_MANAGED or d.coverage_gap is not None \
            or d.observed_at < self.stale_before or d.key in self.sightings

    def holding_unknown(self, state: DeviceState, unknown: tuple[int, ...]) -> tuple[int, ...]:
        return placement.holding(state, unknown, self.match, self.as_of)

    def not_placed(self, device: Device, mine: list[Finding], extra: tuple[int, ...]) -> list[Finding]:
        return placement.not_placed(device, mine, {self.meta[ri][0]: self.rules[ri] for ri in extra},
                                    self.policy.language, self.unplaced)

    # -- one device

    def device(self, state: DeviceState, cover: tuple[int, ...],
               seen: tuple[Coverage, CoverageReason | None, tuple[str, ...]]) -> list[Finding]:
        device = state.device
        out: list[Finding] = []
        if seen[0] is not _FULL:  # only a device whose every app is listed can be compliant
            for ri in cover:
                out.append(self.whole_device(device, ri, _NOT_EVALUABLE, seen[2]))
        if device.observed_at < self.stale_before:
            for ri in cover:
                out.append(self.whole_device(device, ri, _STALE))
        matched: set[AppId] = set()
        for interval in state.apps:
            hits = self.match(interval.app)
            for hit in hits:
                if hit[0] in cover:
                    matched.add(interval.app)
                    found = self.installed(device, interval, hit)
                    if found is not None:
                        out.append(found)
        if self.evidence_rules and self.evidence:
            for ri in self.evidence_rules:
                if ri in cover:
                    out.extend(self.risky(device, state.apps, ri, matched))
        if self.sightings:
            mine = self.sightings.get(device.key)
            if mine:
                out.extend(self.used(device, mine, cover))
        return out

    def whole_device(self, device: Device, ri: int, state: FindingState, unseen: tuple[str, ...] = ()) -> Finding:
        rule_id, family, directive, deadline = self.meta[ri]
        observed = device.observed_at
        if state is _NOT_EVALUABLE:
            evidence = unseen
            first = None
        else:
            days = (self.as_of - observed).days
            evidence = (self.t["stale"].format(at=stamp(observed), days=days, as_of=self.as_of_text,
                                               limit=self.policy.stale_after_days),)
            first = observed
        return Finding(
            id=Finding.make_id(_INSTALLED, device.source, device.device_id, rule_id, family, None, first),
            kind=_INSTALLED, state=state, source=device.source, device_id=device.device_id,
            rule=rule_id, family=family, directive=directive, first_seen=observed, last_seen=observed,
            deadline=deadline, org_unit=device.org_unit, evidence=evidence,
        )

    def installed(self, device: Device, interval: AppInterval, hit: _Hit) -> Finding | None:
        ri, family, how, what = hit
        rule = self.rules[ri]
        as_of = self.as_of
        removed = interval.removed_at
        present = interval.first_seen <= as_of and (removed is None or removed > as_of)
        resolved = not present and removed is not None and self.starts[ri] < removed <= as_of
        if not present and not resolved:
            return None
        t = self.t
        last = min(interval.last_seen, as_of) if present else min(interval.last_seen, removed or as_of)
        last = max(last, interval.first_seen)
        version = f" {interval.version}" if interval.version else ""
        evidence = [t["seen"].format(app=interval.app, version=version, source=interval.source, at=stamp(last))]
        if interval.first_seen < last:
            evidence.append(t["first"].format(at=stamp(interval.first_seen)))
        if how in ("family", "name", "name-prefix") and family is not None:
            fam = self.cat.families.get(family)
            evidence.append(t["family"].format(family=family, name=fam.name if fam else family))
            if how != "family":
                evidence.append(t["by-name"].format(store=what, platform=interval.app.platform.value,
                                                    confidence=t["exact" if how == "name" else "prefix"]))
        elif how == "id":
            evidence.append(t["own-id"].format(app=what))
        else:
            evidence.append(t["own-prefix"].format(prefix=what))
        exception: str | None = None
        resolved_at = None
        if resolved:
            state = FindingState.RESOLVED
            resolved_at = removed
            evidence.append(t["removed"].format(at=stamp(removed)))  # type: ignore[arg-type]
        else:
            state = FindingState.BLOCKED_PRESENT if interval.state is AppState.BLOCKED else FindingState.VIOLATION
            if interval.state is AppState.BLOCKED:
                evidence.append(t["blocked"])
            exc = self.exception_for(device, family, self.excepting)
            if exc is not None:
                state = FindingState.EXCEPTED
                exception = exc.id
                evidence.append(t["excepted"].format(exc=exc.id, approver=exc.approver, expires=exc.expires))
        return Finding(
            id=Finding.make_id(FindingKind.INSTALLED, device.source, device.device_id, rule.id, family,
                               interval.app, interval.first_seen),
            kind=FindingKind.INSTALLED, state=state, source=device.source, device_id=device.device_id,
            rule=rule.id, family=family, directive=rule.directive, first_seen=interval.first_seen, last_seen=last,
            deadline=rule.deadline, resolved_at=resolved_at, app=interval.app, org_unit=device.org_unit,
            exception=exception, evidence=tuple(evidence),
        )

    @staticmethod
    def exception_for(device: Device, family: str | None,
                      table: Mapping[str, list[PolicyException]]) -> PolicyException | None:
        if family is None:
            return None
        for exc in table.get(family, ()):
            if exc.covers(device, family):
                return exc
        return None

    # -- rules by evidence

    def lineage_of(self, vendor: str) -> tuple[str, ...]:
        found = self.lineage.get(vendor)
        if found is None:
            found = vendor_lineage(self.cat, vendor)
            self.lineage[vendor] = found
        return found

    def vendor_label(self, vendor: str, via: str) -> str:
        v = self.cat.vendors.get(vendor)
        name = v.name if v else vendor
        if via == vendor:
            return f"{name} ({vendor})"
        parent = self.cat.vendors.get(via)
        return self.t["part-of"].format(name=name, vid=vendor, parent=parent.name if parent else via)

    def risky(self, device: Device, apps: tuple[AppInterval, ...], ri: int, matched: set[AppId]) -> list[Finding]:
        rule = self.rules[ri]
        as_of = self.as_of
        sdk_wanted, endpoint_wanted = set(rule.sdk_vendors), set(rule.endpoint_vendors)
        out = []
        for interval in apps:
            if interval.app in matched:
                continue
            if not (interval.first_seen <= as_of and (interval.removed_at is None or interval.removed_at > as_of)):
                continue
            ev = self.evidence.get(interval.app)
            if ev is None:
                continue
            lines = []
            for vendors, wanted, key in ((ev.sdk_vendors, sdk_wanted, "sdk"),
                                         (ev.endpoint_vendors, endpoint_wanted, "endpoint")):
                for vendor in sorted(set(vendors)):
                    via = next((v for v in self.lineage_of(vendor) if v in wanted), None)
                    if via is not None:
                        lines.append(self.t[key].format(sha=ev.sha256[:16], version=ev.version or "?",
                                                             vendor=self.vendor_label(vendor, via)))
            if not lines:
                continue
            last = max(min(interval.last_seen, as_of), interval.first_seen)
            version = f" {interval.version}" if interval.version else ""
            seen = self.t["seen"].format(app=interval.app, version=version, source=interval.source,
                                              at=stamp(last))
            blocked = interval.state is AppState.BLOCKED
            out.append(Finding(
                id=Finding.make_id(FindingKind.RISKY_APP, device.source, device.device_id, rule.id, None,
                                   interval.app, interval.first_seen),
                kind=FindingKind.RISKY_APP,
                state=FindingState.BLOCKED_PRESENT if blocked else FindingState.VIOLATION,
                source=device.source, device_id=device.device_id, rule=rule.id, family=None,
                directive=rule.directive, first_seen=interval.first_seen, last_seen=last, deadline=rule.deadline,
                app=interval.app, org_unit=device.org_unit,
                evidence=(seen, *lines, *([self.t["blocked"]] if blocked else [])),
            ))
        return out

    # -- use seen on the network

    def used(self, device: Device, sightings: list[Sighting], cover: tuple[int, ...]) -> list[Finding]:
        groups: dict[tuple[int, str, date], list[Sighting]] = defaultdict(list)
        for s in sightings:
            for ri in cover:
                until = self.rules[ri].until
                if s.family in self.families[ri] and s.day >= self.rules[ri].effective and (
                        until is None or s.day < until):
                    groups[(ri, s.family, s.day)].append(s)
        out = []
        t = self.t
        for (ri, family, day), group in groups.items():
            rule = self.rules[ri]
            first = min(s.first for s in group)
            last = max(s.last for s in group)
            evidence = [i18n.plural(
                self.lang, "evidence.used", sum(s.count for s in group),
                name=", ".join(sorted({s.example_name for s in group})),
                clients=", ".join(sorted({s.client for s in group})),
                formats=", ".join(sorted({s.source_format for s in group})), first=stamp(first), last=stamp(last))]
            if all(s.weak for s in group):
                evidence.append(t["weak"])
            state = FindingState.VIOLATION
            exception = None
            for exc in self.all_exceptions.get(family, ()):
                if _exception_active(exc, last) and exc.covers(device, family):
                    state, exception = FindingState.EXCEPTED, exc.id
                    evidence.append(t["excepted"].format(exc=exc.id, approver=exc.approver,
                                                              expires=exc.expires))
                    break
            out.append(Finding(
                id=Finding.make_id(FindingKind.USED, device.source, device.device_id, rule.id, family, None,
                                   day_start(day)),
                kind=FindingKind.USED, state=state, source=device.source, device_id=device.device_id,
                rule=rule.id, family=family, directive=rule.directive, first_seen=first, last_seen=last,
                deadline=rule.deadline, org_unit=device.org_unit, exception=exception, evidence=tuple(evidence),
            ))
        return out


SCOPE_UNKNOWN = "scope_unknown"  # the not-evaluable reason of a device seen whole that cannot be placed


class _CoverageCounts:
    """The devices in scope whose coverage is not full, by source: by coverage, and, among those that could not
    be evaluated (no prohibited app seen on them), by reason. Full devices are the rest of those in scope, so
    the hot loop does nothing for them."""

    def __init__(self) -> None:
        self.coverage: dict[tuple[str, Coverage], int] = defaultdict(int)
        # reason: a CoverageReason, or SCOPE_UNKNOWN for a fully seen device that cannot be placed
        self.reasons: dict[tuple[str, str], int] = defaultdict(int)

    def add(self, source: str, coverage: Coverage, reason: CoverageReason | None, not_evaluable: bool) -> None:
        self.coverage[(source, coverage)] += 1
        if not_evaluable and reason is not None:
            self.reasons[(source, reason)] += 1

    def by_coverage(self, source: str | None, in_scope: int) -> dict[str, int]:
        """Coverage -> devices in scope (of `source`, or of every source), full first, zeros left out."""
        counts = {c: sum(n for (s, cov), n in self.coverage.items() if cov is c and source in (None, s))
                  for c in (Coverage.PARTIAL, Coverage.NONE)}
        full = in_scope - sum(counts.values())
        out = {Coverage.FULL.value: full} if full else {}
        out.update((c.value, n) for c, n in counts.items() if n)
        return out

    def by_reason(self, source: str | None) -> dict[str, int]:
        """Reason -> devices not evaluable (of `source`, or of every source), most first."""
        counts: dict[str, int] = defaultdict(int)
        for (s, reason), n in self.reasons.items():
            if source in (None, s):
                counts[reason] += n
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _order(f: Finding) -> tuple[str, str, str, str, str, str, datetime, str]:
    return (f.source, f.device_id, f.rule, f.kind, f.family or "", str(f.app) if f.app else "", f.first_seen, f.id)
