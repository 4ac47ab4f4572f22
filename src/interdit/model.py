"""The nouns of interdit: immutable values, no I/O.

Every stage speaks in these types. Times are timezone-aware UTC `datetime`s; calendar facts
(effective dates, expiries) are `date`s, read as "from 00:00 UTC that day".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum


class Platform(StrEnum):
    ANDROID = "android"
    IOS = "ios"
    MACOS = "macos"
    WINDOWS = "windows"
    WEB = "web"


class Ownership(StrEnum):
    CORPORATE = "corporate"
    PERSONAL = "personal"
    UNKNOWN = "unknown"


class Management(StrEnum):
    """How much of the device the management source can see and control."""

    FULLY_MANAGED = "fully_managed"  # the whole device: every app is visible
    WORK_PROFILE = "work_profile"  # Android work profile: only work-side apps are visible
    USER_ENROLMENT = "user_enrolment"  # Apple user enrolment: only managed apps are visible
    UNMANAGED = "unmanaged"  # known (e.g. from a directory) but not enrolled: nothing is visible
    UNKNOWN = "unknown"

    @property
    def sees_all_apps(self) -> bool:
        return self is Management.FULLY_MANAGED


class Coverage(StrEnum):
    """How much of a device's app list interdit has seen. Only `full` devices can be compliant."""

    FULL = "full"  # the source lists every app on the device
    PARTIAL = "partial"  # some apps are visible (work profile, user enrolment, display names only)
    NONE = "none"  # no app list at all (not reported, reports switched off, unreadable row)


class CoverageReason(StrEnum):
    """Why a device's coverage is not `full`: each value has a sentence (EN/FR) a person can act on."""

    WORK_PROFILE = "work_profile"  # Android work profile: only work-side apps are visible
    USER_ENROLMENT = "user_enrolment"  # Apple user enrolment: only managed apps are visible
    UNMANAGED = "unmanaged"  # known but not enrolled
    MANAGEMENT_UNKNOWN = "management_unknown"  # the source did not say how the device is managed
    DISPLAY_NAMES_ONLY = "display_names_only"  # apps listed by display name, no package or bundle id
    APP_REPORTS_DISABLED = "app_reports_disabled"  # the source's app report is switched off for this device
    NOT_REPORTED = "not_reported"  # the source gave no app list for this device (e.g. still provisioning)
    NO_APPS_REPORTED = "no_apps_reported"  # every device of the source came with no app: a suspicious export
    UNREADABLE = "unreadable"  # the device's record was rejected in the latest snapshot; last state kept


_GAP_COVERAGE = {
    CoverageReason.DISPLAY_NAMES_ONLY: "partial",
    CoverageReason.WORK_PROFILE: "partial",
    CoverageReason.USER_ENROLMENT: "partial",
}


class AppState(StrEnum):
    """What the source says about an installed copy."""

    INSTALLED = "installed"
    BLOCKED = "blocked"  # hidden or blocked from launch by the MDM, but still on the device


class FindingKind(StrEnum):
    INSTALLED = "installed"
    USED = "used"
    RISKY_APP = "risky-app"


class FindingState(StrEnum):
    VIOLATION = "violation"
    BLOCKED_PRESENT = "blocked_present"
    EXCEPTED = "excepted"
    NOT_EVALUABLE = "not_evaluable"
    STALE = "stale"
    RESOLVED = "resolved"


def utc(value: datetime) -> datetime:
    """Return `value` as aware UTC; naive values are refused (they are a bug, not a guess)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} has no timezone")
    return value.astimezone(UTC)


def day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


# --------------------------------------------------------------------------------------------------
# Catalogue


@dataclass(frozen=True, slots=True)
class Source:
    """Where a catalogue fact comes from, and the day it was read there."""

    url: str
    note: str = ""
    retrieved: date | None = None
    kind: str = ""  # primary (the issuer's own publication), official-copy, secondary; "" when not said
    title: str = ""
    publisher: str = ""


NAME_PREFIX = "name:"  # package names and bundle ids never hold a colon, so no real identifier starts so


@dataclass(frozen=True, slots=True, order=True)
class AppId:
    """An app on one platform: its package name or bundle id, or, when the source gives nothing else, its
    display name (`AppId.named`, identifier `name:<display name>`), matched against the stores' names."""

    platform: Platform
    identifier: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.identifier}"

    def __hash__(self) -> int:
        # equal AppIds have equal identifiers, and a str caches its hash: the generated hash of the
        # (platform, identifier) tuple calls the enum's Python-level __hash__ for every set or dict lookup
        return hash(self.identifier)

    @classmethod
    def named(cls, platform: Platform, display_name: str) -> AppId:
        """An app known only by the name its store or the device shows (e.g. Intune `detectedApps` on iOS)."""
        return cls(platform, NAME_PREFIX + display_name)

    @property
    def by_name(self) -> bool:
        return self.identifier.startswith(NAME_PREFIX)

    @property
    def display_name(self) -> str | None:
        return self.identifier[len(NAME_PREFIX):] if self.by_name else None


@dataclass(frozen=True, slots=True)
class StoreName:
    """A name an app store shows for a family's app on one platform, in one language (for name-only lists)."""

    platform: Platform
    name: str
    lang: str = "en"


@dataclass(frozen=True, slots=True)
class Vendor:
    id: str
    name: str
    country: str  # ISO 3166-1 alpha-2
    parent: str | None = None  # vendor id
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True)
class AppFamily:
    """One product across platforms, e.g. TikTok on Android and iOS, its regional and Lite builds."""

    id: str
    name: str
    vendor: str  # vendor id
    identifiers: tuple[AppId, ...] = ()  # matched exactly
    prefixes: tuple[AppId, ...] = ()  # matched as `prefix` or `prefix.*` (e.g. com.kaspersky)
    domains: tuple[str, ...] = ()  # registrable names safe to block with every subdomain
    store_names: tuple[StoreName, ...] = ()  # what the stores show, to match display-name-only inventories
    category: str = ""
    confidence: str = "corroborated"
    sources: tuple[Source, ...] = ()
    description: str = ""  # what the family holds, and what blocking it does beyond the app

    def matches(self, app: AppId) -> bool:
        if app in self.identifiers:
            return True
        for p in self.prefixes:
            if p.platform == app.platform and (
                app.identifier == p.identifier or app.identifier.startswith(p.identifier + ".")
            ):
                return True
        return False


class VersionChange(StrEnum):
    """What a dated version of a directive did to the one before it."""

    ORIGINAL = "original"
    AMENDED = "amended"  # the wording or scope changed, the apps did not
    EXTENDED = "extended"  # kept in force for longer (an interim measure renewed)
    EXPANDED = "expanded"  # more apps, families or vendors
    NARROWED = "narrowed"  # fewer apps
    LIFTED = "lifted"  # no longer in force: nothing is prohibited from `since`


@dataclass(frozen=True, slots=True)
class DirectiveVersion:
    """The directive as it stood from `since` until the next version: what it prohibited and why it changed."""

    since: date
    families: tuple[str, ...]
    vendors: tuple[str, ...] = ()
    change: VersionChange = VersionChange.ORIGINAL
    note: str = ""
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True)
class Directive:
    id: str  # stable, e.g. ca-tbs-2023-tiktok
    issuer: str
    jurisdiction: str
    title: Mapping[str, str]  # language -> title ("en", "fr")
    announced: date | None
    effective: date
    families: tuple[str, ...]  # family ids it prohibits
    vendors: tuple[str, ...] = ()  # vendor ids whose every app it prohibits
    device_scope: str = ""
    ownership: tuple[Ownership, ...] = (Ownership.CORPORATE,)
    exceptions_allowed: str = ""
    requires_network_block: bool = False
    actions: tuple[str, ...] = ()
    rationale: str = ""
    interim: bool = False
    confidence: str = "corroborated"
    sources: tuple[Source, ...] = ()
    # whether the issuer's own text is cited: cited, copy (a faithful third-party copy), not-reached (published
    # but no copy could be read) or none (an internal measure, never published); "" when not said; and why
    primary_source: str = ""
    primary_source_note: str = ""
    # every dated version, oldest first; the first starts on `effective`. `families` and `vendors` above are
    # those of the latest version (what the directive prohibits today); `as_of` gives it as it stood on a day
    versions: tuple[DirectiveVersion, ...] = ()

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("en") or self.id

    def version_at(self, day: date) -> DirectiveVersion | None:
        """The version in force on `day` (the first one before it began); None for a directive without versions."""
        current = self.versions[0] if self.versions else None
        for v in self.versions:
            if v.since <= day:
                current = v
        return current

    def as_of(self, day: date) -> Directive:
        """The directive as it stood on `day`: that version's families and vendors (nothing once lifted)."""
        v = self.version_at(day)
        if v is None or (v.families == self.families and v.vendors == self.vendors):
            return self
        return replace(self, families=v.families, vendors=v.vendors)

    def amended_on(self, day: date) -> date | None:
        """The date of the amendment in force on `day`, or None when the original text applies."""
        v = self.version_at(day)
        return v.since if v is not None and v is not self.versions[0] else None

    def lifted_on(self, day: date) -> date | None:
        """The day the directive was lifted, when it was lifted on or before `day`."""
        v = self.version_at(day)
        return v.since if v is not None and v.change is VersionChange.LIFTED and v.since <= day else None


@dataclass(frozen=True, slots=True)
class SharedHost:
    """A name found in public block lists that must never be blocked whole (shared CDN, cloud)."""

    name: str
    owner: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Catalogue:
    schema_version: int
    version: str
    build_date: date
    vendors: Mapping[str, Vendor]
    families: Mapping[str, AppFamily]
    directives: Mapping[str, Directive]
    shared_hosts: tuple[SharedHost, ...] = ()


# --------------------------------------------------------------------------------------------------
# Inventory


@dataclass(frozen=True, slots=True)
class Device:
    source: str  # the configured source name, e.g. "intune-prod" or "csv"
    device_id: str  # identity within its source
    platform: Platform
    ownership: Ownership
    management: Management
    observed_at: datetime  # when the source last saw this device's inventory
    supervised: bool | None = None
    user: str | None = None
    name: str | None = None
    model: str | None = None
    os_version: str | None = None
    org_unit: str | None = None
    groups: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()  # IP or MAC addresses the source reports
    # why the source did not list every app of this device although its management would let it
    # (display names only, app reports switched off, no app list, unreadable record); None when it did
    coverage_gap: CoverageReason | None = None
    # the source's own organisational labels, as (kind, value): ("category", "Direction des RH"),
    # ("site", "Québec"), ("department", "Comms"), ("enrollment_data", "dept=finance"); mapped to org units
    # by the policy's org-unit mapping
    org_labels: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.device_id)

    @property
    def coverage(self) -> tuple[Coverage, CoverageReason | None]:
        """How much of the app list is seen, and why not all of it: management first, then the source's gap."""
        m = self.management
        if m is Management.WORK_PROFILE:
            return Coverage.PARTIAL, CoverageReason.WORK_PROFILE
        if m is Management.USER_ENROLMENT:
            return Coverage.PARTIAL, CoverageReason.USER_ENROLMENT
        if m is Management.UNMANAGED:
            return Coverage.NONE, CoverageReason.UNMANAGED
        if m is Management.UNKNOWN:
            return Coverage.NONE, CoverageReason.MANAGEMENT_UNKNOWN
        gap = self.coverage_gap
        if gap is None:
            return Coverage.FULL, None
        return Coverage(_GAP_COVERAGE.get(gap, "none")), gap


@dataclass(frozen=True, slots=True)
class InstalledApp:
    source: str
    device_id: str
    app: AppId
    observed_at: datetime
    name: str | None = None
    version: str | None = None
    managed: bool | None = None
    state: AppState = AppState.INSTALLED


@dataclass(frozen=True, slots=True)
class AppInterval:
    """An installed app as stored history: from first_seen until removed_at (None while present)."""

    source: str
    device_id: str
    app: AppId
    first_seen: datetime
    last_seen: datetime
    removed_at: datetime | None = None
    name: str | None = None
    version: str | None = None
    managed: bool | None = None
    state: AppState = AppState.INSTALLED


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record an importer refused: where it was, why, and how to fix it."""

    place: str  # file:line, or source:record-id
    reason: str
    fix: str = ""
    # the device the record belonged to, when its id could still be read: a snapshot never takes a device
    # it could not read for one that left (its last state is kept and flagged `unreadable`)
    device_id: str | None = None
    kind: str = "device"  # "device" or "app": what the rejected record described; "record" when it is unknown


@dataclass(frozen=True, slots=True)
class ImportCounts:
    read: int
    accepted: int
    rejected: int

    def __post_init__(self) -> None:
        if self.read != self.accepted + self.rejected:
            raise ValueError(f"read {self.read} != accepted {self.accepted} + rejected {self.rejected}")


# what an inventory reader yields, and the counts it keeps while it streams (storage applies them as they are)
Record = Device | InstalledApp | Rejection

BAD_TEXT = re.compile("[\x00\ud800-\udfff]")  # a NUL, or half of a UTF-16 surrogate pair: not storable text


def _escaped(text: str) -> str:
    return BAD_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def storable(rejection: Rejection) -> Rejection:
    """`rejection` with any NUL or lone surrogate of its texts written as an escape (it names a bad value)."""
    texts = (rejection.place, rejection.reason, rejection.fix, rejection.device_id or "")
    if all(t.isascii() and "\x00" not in t for t in texts) or not any(BAD_TEXT.search(t) for t in texts):
        return rejection
    return Rejection(_escaped(rejection.place), _escaped(rejection.reason), _escaped(rejection.fix),
                     None if rejection.device_id is None or BAD_TEXT.search(rejection.device_id) else
                     rejection.device_id, rejection.kind)


@dataclass
class Tally:
    """Counts kept by a reader while it streams."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    keep: int = 1000  # keep the first N rejections in memory; count all of them
    # what a person should know about the read that is not a rejection: the encoding and separator a file
    # was read with, a value the vendor does not document (mapped to `unknown`); each said once, with a count
    notes: dict[str, int] = field(default_factory=dict)

    def accept(self) -> None:
        self.read += 1
        self.accepted += 1

    def reject(self, rejection: Rejection) -> Rejection:
        rejection = storable(rejection)
        self.read += 1
        self.rejected += 1
        if len(self.rejections) < self.keep:
            self.rejections.append(rejection)
        return rejection

    def note(self, text: str) -> None:
        """Say something once (repeats are counted, and at most 100 distinct notes are kept)."""
        if text in self.notes or len(self.notes) < 100:
            self.notes[text] = self.notes.get(text, 0) + 1

    def note_lines(self) -> list[str]:
        return [text if n == 1 else f"{text} ({n:,} records)" for text, n in self.notes.items()]

    def counts(self) -> ImportCounts:
        return ImportCounts(self.read, self.accepted, self.rejected)


# --------------------------------------------------------------------------------------------------
# Policy


class OutOfScope(StrEnum):
    """Why a device is outside a rule's scope; `scope_unknown` when interdit cannot tell."""

    PERSONAL = "personal"  # a personal device, and the rule covers corporate ones
    OWNERSHIP_UNKNOWN = "ownership_unknown"  # the source does not say who owns the device
    CORPORATE = "corporate"  # a corporate device, and the rule covers personal ones only
    PLATFORM = "platform"  # a platform the rule does not cover
    MANAGEMENT = "management"  # a management mode the rule does not cover
    EXCLUDED_GROUP = "excluded_group"  # in a group or org unit the rule excludes
    OTHER_ORG_UNIT = "other_org_unit"  # in another org unit, or in none of the rule's groups
    # the rule's scope depends on the device's org unit or groups, and they are unknown or not mapped
    SCOPE_UNKNOWN = "scope_unknown"
    NO_RULE = "no_rule_in_force"  # no rule is in force at the instant evaluated


# how strong a reason is when a device is outside every rule: the first that applies to any rule is given
OUT_OF_SCOPE_ORDER: tuple[OutOfScope, ...] = (
    OutOfScope.SCOPE_UNKNOWN, OutOfScope.OTHER_ORG_UNIT, OutOfScope.EXCLUDED_GROUP, OutOfScope.PLATFORM,
    OutOfScope.MANAGEMENT, OutOfScope.OWNERSHIP_UNKNOWN, OutOfScope.PERSONAL, OutOfScope.CORPORATE,
    OutOfScope.NO_RULE,
)
_OWNER_REASON = {Ownership.PERSONAL: OutOfScope.PERSONAL, Ownership.UNKNOWN: OutOfScope.OWNERSHIP_UNKNOWN,
                 Ownership.CORPORATE: OutOfScope.CORPORATE}


@dataclass(frozen=True, slots=True)
class Scope:
    """Which devices a rule covers. Empty tuples mean "any"."""

    ownership: tuple[Ownership, ...] = (Ownership.CORPORATE,)
    platforms: tuple[Platform, ...] = ()
    management: tuple[Management, ...] = ()
    groups: tuple[str, ...] = ()  # any of these groups or org units (an org unit covers its children)
    exclude_groups: tuple[str, ...] = ()

    def covers(self, device: Device) -> bool:
        return self.place(device) is None

    def place(self, device: Device) -> OutOfScope | None:
        """None when the rule covers `device`, else why not: `scope_unknown` when the rule names org units (paths)
        and the device's org unit is not a known path, or names groups and the source gave the device none."""
        if self.ownership and device.ownership not in self.ownership:
            return _OWNER_REASON[device.ownership]
        if self.platforms and device.platform not in self.platforms:
            return OutOfScope.PLATFORM
        if self.management and device.management not in self.management:
            return OutOfScope.MANAGEMENT
        memberships = _memberships(device)
        if self.groups and not any(_in_group(m, g) for m in memberships for g in self.groups):
            unit_unknown = not (device.org_unit or "").startswith("/")
            for g in self.groups:
                if (unit_unknown and g.startswith("/")) or (not device.groups and not g.startswith("/")):
                    return OutOfScope.SCOPE_UNKNOWN
            return OutOfScope.OTHER_ORG_UNIT
        if any(_in_group(m, g) for m in memberships for g in self.exclude_groups):
            return OutOfScope.EXCLUDED_GROUP
        return None


def _memberships(device: Device) -> tuple[str, ...]:
    return (*device.groups, device.org_unit) if device.org_unit else device.groups


def _in_group(membership: str, group: str) -> bool:
    """`membership` is `group` or below it (org units are paths such as `/Finance/Payroll`)."""
    if membership == group:
        return True
    return group.startswith("/") and membership.startswith(group.rstrip("/") + "/")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    families: tuple[str, ...]  # family ids (from directives or the organisation's own list)
    effective: date
    grace_days: int = 0
    scope: Scope = field(default_factory=Scope)
    directive: str | None = None  # the directive it comes from, if any
    identifiers: tuple[AppId, ...] = ()  # the organisation's own extra identifiers
    prefixes: tuple[AppId, ...] = ()
    interim: bool = False
    review_by: date | None = None
    description: str = ""
    # the rule stops applying on this day (00:00 UTC): a directive's families that a later version removed
    until: date | None = None
    # prohibition by evidence (from stored APK analyses): any app that bundles an SDK of one of these
    # vendors, or whose endpoints belong to one of these vendors, is a `risky-app` finding
    sdk_vendors: tuple[str, ...] = ()
    endpoint_vendors: tuple[str, ...] = ()

    @property
    def deadline(self) -> date:
        return self.effective + timedelta(days=self.grace_days)

    def in_force(self, at: datetime) -> bool:
        """True from `effective` until `until` (both at 00:00 UTC)."""
        return day_start(self.effective) <= at and (self.until is None or at < day_start(self.until))


@dataclass(frozen=True, slots=True)
class PolicyException:
    """An approved exception. (Named so as not to shadow Python's `Exception`.)"""

    id: str
    families: tuple[str, ...]
    approver: str
    reason: str
    expires: date  # the exception stops counting on this day (00:00 UTC)
    devices: tuple[str, ...] = ()  # "source:device_id" or bare device ids
    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    safeguards: tuple[str, ...] = ()
    granted: date | None = None
    review_by: date | None = None

    def covers(self, device: Device, family: str) -> bool:
        if family not in self.families:
            return False
        if device.device_id in self.devices or f"{device.source}:{device.device_id}" in self.devices:
            return True
        if device.user and device.user in self.users:
            return True
        return any(_in_group(m, g) for m in _memberships(device) for g in self.groups)

    def active(self, now: datetime) -> bool:
        return now < day_start(self.expires)


@dataclass(frozen=True, slots=True)
class Policy:
    organisation: str
    rules: tuple[Rule, ...]
    exceptions: tuple[PolicyException, ...] = ()
    stale_after_days: int = 8
    language: str = "en"
    path: str | None = None  # where it was loaded from, for messages
    # how each source's own organisational labels map to the organisation's tree (first match by rank)
    org_units: tuple[OrgUnitMap, ...] = ()


ORG_LABEL_KINDS: tuple[str, ...] = ("category", "site", "department", "building", "enrollment_data", "policy",
                                    "organization_group", "org_unit_path", "unit", "group")


@dataclass(frozen=True, slots=True)
class OrgUnitMap:
    """One entry of the policy's `org_units:`: devices of `source` (a source name or a source type such as
    `intune`) whose labels match every (kind, value) of `match` belong to the org unit `org_unit` (a path).

    Kinds are those of `Device.org_labels`, plus `unit` (the org unit the source reported, when it is not a path)
    and `group` (any of the device's groups). `how` says how values compare: `exact`, `glob` (shell patterns,
    case-sensitive) or `regex` (Python regular expression, matching the whole value)."""

    source: str
    match: tuple[tuple[str, str], ...]
    org_unit: str
    how: str = "exact"
    line: int = 0


# --------------------------------------------------------------------------------------------------
# Findings


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    kind: FindingKind
    state: FindingState
    source: str
    device_id: str
    rule: str
    family: str | None
    directive: str | None
    first_seen: datetime
    last_seen: datetime
    deadline: date | None
    resolved_at: datetime | None = None
    app: AppId | None = None
    org_unit: str | None = None
    exception: str | None = None
    evidence: tuple[str, ...] = ()

    @staticmethod
    def make_id(kind: FindingKind, source: str, device_id: str, rule: str, family: str | None,
                app: AppId | None, first_seen: datetime | None) -> str:
        """A stable id: the same fact gives the same id on every evaluation."""
        parts = [kind.value, source, device_id, rule, family or "", str(app or ""),
                 first_seen.isoformat() if first_seen else ""]
        return "F-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]

    def overdue(self, now: datetime) -> bool:
        return self.deadline is not None and now >= day_start(self.deadline)


@dataclass(frozen=True, slots=True)
class DeviceState:
    """A device as evaluation sees it: its attributes and the candidate apps it holds or held."""

    device: Device
    apps: tuple[AppInterval, ...] = ()


def _rate(compliant: int, in_scope: int) -> float | None:
    """compliant / in scope; None when nothing is in scope (no denominator, no rate: never a 100 % of nothing)."""
    return compliant / in_scope if in_scope else None


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """Compliance of the devices one inventory source reports (an MDM, a department's export).

    `not_evaluable` and `stale` count devices in scope: the source cannot see the apps that matter on them,
    or has not reported them lately. A device on which a prohibited app is seen counts as a violation, not as
    not evaluable, whatever its coverage. `by_coverage` counts the devices in scope by coverage (full, partial,
    none); `not_evaluable_by_reason` splits `not_evaluable` by the reason the source could not see enough
    (a `CoverageReason` value). `last_observed` is the newest inventory time among its devices.
    """

    devices: int
    in_scope: int
    compliant: int
    violations: int  # devices in scope with a violation finding
    not_evaluable: int
    stale: int
    last_observed: datetime | None = None
    by_coverage: Mapping[str, int] = field(default_factory=dict)  # coverage -> devices in scope
    not_evaluable_by_reason: Mapping[str, int] = field(default_factory=dict)  # coverage reason -> devices

    @property
    def rate(self) -> float | None:
        """None when the source has no device in scope."""
        return _rate(self.compliant, self.in_scope)


@dataclass(frozen=True, slots=True)
class RuleSummary:
    """Compliance of the devices one rule covers (a directive the organisation adopted, or its own rule).

    A device in the rule's scope is compliant with it when it has no finding under that rule in the states
    `violation`, `blocked_present`, `not_evaluable` or `stale`. Only rules in force at the summary's instant
    are counted; `effective` and `deadline` are the rule's own dates. `not_evaluable` leaves out the devices
    on which a prohibited app is seen under the rule (they count as violations or blocked).
    """

    directive: str | None
    effective: date
    deadline: date
    in_scope: int
    compliant: int
    violations: int  # devices in the rule's scope with a violation finding under it
    blocked_present: int
    not_evaluable: int
    stale: int

    @property
    def rate(self) -> float | None:
        """None when the rule covers no device."""
        return _rate(self.compliant, self.in_scope)


@dataclass(frozen=True, slots=True)
class Summary:
    """Compliance at one instant. Rate = compliant / in scope (not-evaluable and stale are not compliant); None
    when no device is in scope.

    `by_state` counts devices with at least one finding in each state, except `not_evaluable`, which counts the
    devices that could not be evaluated and on which no prohibited app is seen (those count as violations).
    `by_coverage` counts the devices in scope by coverage; `not_evaluable_by_reason` splits the not-evaluable
    devices by reason ("163 work_profile, 115 user_enrolment, 19 app_reports_disabled").
    """

    at: datetime
    devices_total: int
    devices_in_scope: int
    compliant: int
    by_state: Mapping[str, int]  # finding state -> number of devices with at least one such finding
    by_family: Mapping[str, int]  # family -> devices in violation
    by_org_unit: Mapping[str, tuple[int, int]]  # org unit -> (in scope, compliant)
    by_source: Mapping[str, SourceSummary] = field(default_factory=dict)  # inventory source -> its figures
    by_rule: Mapping[str, RuleSummary] = field(default_factory=dict)  # rule id (in force) -> its figures
    by_coverage: Mapping[str, int] = field(default_factory=dict)  # coverage -> devices in scope
    not_evaluable_by_reason: Mapping[str, int] = field(default_factory=dict)  # coverage reason -> devices
    # devices outside every rule in force, by reason (an `OutOfScope` value)
    out_of_scope: Mapping[str, int] = field(default_factory=dict)
    # devices holding a prohibited app that cannot be placed in the organisation, by family, source and labels
    scope_unknown: tuple[ScopeUnknown, ...] = ()

    @property
    def rate(self) -> float | None:
        """None when no device is in scope."""
        return _rate(self.compliant, self.devices_in_scope)


@dataclass(frozen=True, slots=True)
class ScopeUnknown:
    """Devices of one source that hold a family's app but cannot be placed in the organisation: their org unit or
    groups are unknown or not mapped while a rule's scope depends on them. `labels` are what the source said
    (kind, value), empty when it said nothing."""

    family: str
    source: str
    labels: tuple[tuple[str, str], ...]
    devices: int


@dataclass(frozen=True, slots=True)
class AppEvidence:
    """What a stored APK analysis proved about one app, as the evaluation needs it."""

    app: AppId
    sha256: str
    version: str | None
    verdict: str  # acceptable | needs_review | unacceptable
    sdk_vendors: tuple[str, ...] = ()  # vendor ids of SDKs the APK bundles (not merely references)
    endpoint_vendors: tuple[str, ...] = ()  # vendor ids owning endpoints found in the APK
    analyzed_at: datetime | None = None


# --------------------------------------------------------------------------------------------------
# Network


@dataclass(frozen=True, slots=True)
class Sighting:
    """Aggregated use of a prohibited family's names by a device (or an unattributed address), per day."""

    family: str
    day: date
    client: str  # the address seen in the log
    first: datetime
    last: datetime
    count: int
    source_format: str
    example_name: str
    device_source: str | None = None
    device_id: str | None = None
    weak: bool = False  # only an answer mentioned the name (e.g. a CNAME to a CDN)
