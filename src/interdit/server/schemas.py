"""The shapes the API answers with (they become the OpenAPI schemas), and conversions from the model."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from interdit.model import Device, Finding, PolicyException, Summary
from interdit.server.problems import ProblemModel


class FindingOut(BaseModel):
    id: str
    kind: str
    state: str
    source: str
    device_id: str
    device_name: str | None = Field(None, description="The device's name, as its source gives it.")
    owner: str | None = Field(None, description="Who holds the device: user principal name, e-mail or display "
                                                "name, as the source gives it.")
    model: str | None = None
    os_version: str | None = None
    rule: str
    family: str | None = None
    directive: str | None = None
    app: str | None = None
    org_unit: str | None = None
    exception: str | None = None
    first_seen: datetime
    last_seen: datetime
    deadline: date | None = None
    resolved_at: datetime | None = None
    evidence: list[str] = Field(default_factory=list)


class FindingPage(BaseModel):
    items: list[FindingOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null at the end.")
    evaluated_at: datetime = Field(description="When the evaluation these findings come from was made (during an "
                                               "import, the previous one answers until the new one is ready).")


_RATE = "compliant / in_scope; null when nothing is in scope (no denominator, no rate)."


class OrgUnitRate(BaseModel):
    org_unit: str
    in_scope: int
    compliant: int
    rate: float | None = Field(..., description=_RATE)


class RuleRate(BaseModel):
    """Compliance of the devices one rule in force covers: a directive the organisation adopted, or its own rule."""

    rule: str
    directive: str | None = Field(None, description="The directive the rule adopts; null for the organisation's "
                                                    "own rule.")
    effective: date
    deadline: date = Field(..., description="The effective date plus the rule's grace days.")
    in_scope: int = Field(..., description="Devices the rule covers.")
    compliant: int = Field(..., description="Of those, devices with no violation, blocked-but-present, "
                                            "not-evaluable or stale finding under this rule.")
    rate: float | None = Field(..., description=_RATE)
    violations: int = Field(..., description="Devices with a violation finding under this rule.")
    blocked_present: int
    not_evaluable: int = Field(..., description="Devices that could not be evaluated under this rule, on which no "
                                                "prohibited app is seen.")
    stale: int


class SourceRate(BaseModel):
    """Compliance and coverage of the devices one inventory source reports."""

    source: str
    devices: int = Field(..., description="Devices the source reports, in scope or not.")
    in_scope: int
    compliant: int
    rate: float | None = Field(..., description=_RATE)
    violations: int
    not_evaluable: int = Field(..., description="Devices in scope that could not be evaluated, on which no "
                                                "prohibited app is seen.")
    stale: int
    last_observed: datetime | None = None
    by_coverage: dict[str, int] = Field(default_factory=dict, description="Coverage (full, partial, none) -> "
                                                                          "devices in scope.")
    not_evaluable_by_reason: dict[str, int] = Field(default_factory=dict, description="Coverage reason -> devices "
                                                                                      "not evaluable, most first.")
class ScopeUnknownOut(BaseModel):
    family: str
    source: str
    devices: int
    labels: list[dict[str, str]] = Field(default_factory=list,
                                         description="The source's own labels, as {kind, value}; empty when none.")


class SummaryOut(BaseModel):
    at: datetime
    devices_total: int
    devices_in_scope: int
    compliant: int
    rate: float | None = Field(..., description=_RATE)
    by_state: dict[str, int] = Field(..., description="State -> devices with at least one finding in it; "
                                                      "not_evaluable leaves out devices on which a prohibited app "
                                                      "is seen.")
    by_family: dict[str, int]
    by_org_unit: list[OrgUnitRate]
    by_rule: list[RuleRate] = Field(default_factory=list,
                                    description="Each rule in force (directives and the organisation's own rules), "
                                                "in the policy's order.")
    by_source: list[SourceRate] = Field(default_factory=list, description="Each inventory source, by name.")
    by_coverage: dict[str, int] = Field(default_factory=dict, description="Coverage (full, partial, none) -> devices "
                                                                          "in scope.")
    not_evaluable_by_reason: dict[str, int] = Field(
        default_factory=dict, description="Coverage reason -> devices in scope that could not be evaluated, most "
                                          "first (e.g. work_profile, user_enrolment, app_reports_disabled).")
    out_of_scope: dict[str, int] = Field(
        default_factory=dict, description="Devices outside every rule in force, by reason (personal, "
                                          "ownership_unknown, corporate, platform, management, excluded_group, "
                                          "other_org_unit, scope_unknown, no_rule_in_force).")
    scope_unknown: list[ScopeUnknownOut] = Field(
        default_factory=list, description="Devices holding a prohibited app that cannot be placed in the "
                                          "organisation (org unit or groups unknown or not mapped), by family, "
                                          "source and what the source said: counted not evaluable, never compliant.")


class ExceptionOut(BaseModel):
    id: str
    families: list[str]
    approver: str
    reason: str
    expires: date
    days_to_expiry: int
    active: bool
    devices: list[str] = Field(default_factory=list)
    users: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    safeguards: list[str] = Field(default_factory=list)
    granted: date | None = None
    review_by: date | None = None


class ExceptionIn(BaseModel):
    id: str = Field(..., min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    families: list[str] = Field(..., min_length=1, max_length=50)
    approver: str = Field(..., min_length=1, max_length=200)
    reason: str = Field(..., min_length=1, max_length=2000)
    expires: date
    devices: list[str] = Field(default_factory=list, max_length=10000)
    users: list[str] = Field(default_factory=list, max_length=10000)
    groups: list[str] = Field(default_factory=list, max_length=1000)
    safeguards: list[str] = Field(default_factory=list, max_length=100)
    review_by: date | None = None


class PolicyOut(BaseModel):
    organisation: str
    digest: str
    text: str
    rules: list[dict[str, Any]]
    exceptions: list[ExceptionOut]


class PolicyIn(BaseModel):
    text: str = Field(..., max_length=2_000_000, description="The whole policy file, YAML.")


class PolicyChange(BaseModel):
    saved: bool
    digest: str
    diff: str


class AccountOut(BaseModel):
    username: str
    role: str
    disabled: bool
    created_at: datetime
    has_password: bool
    oidc: bool = Field(False, description="The person signs in through the OpenID Connect provider.")


class AccountIn(BaseModel):
    username: str = Field(..., min_length=1, max_length=120, pattern=r"^\S+$")
    role: str = Field(..., pattern=r"^(admin|analyst|auditor|ingest)$")
    password: str | None = Field(None, min_length=12, max_length=1000)


class TokenOut(BaseModel):
    id: str
    username: str
    name: str
    created_at: datetime
    revoked_at: datetime | None = None
    sources: list[str] = Field(default_factory=lambda: ["*"], description=(
        "What the token may write: source names it may import, '@logs' for log uploads, '*' for everything its "
        "role allows (tokens made before scopes existed have '*')."))


class TokenIn(BaseModel):
    username: str = Field(..., min_length=1, max_length=120)
    name: str = Field(..., min_length=1, max_length=120, pattern=r"^[^\x00-\x1f]+$")
    sources: list[str] = Field(default_factory=list, max_length=100, description=(
        "Sources the token may import (none: every source its role allows)."))
    logs: bool = Field(False, description="The token may also upload DNS, proxy and TLS logs (with sources given).")


class PasswordIn(BaseModel):
    password: str = Field(..., min_length=12, max_length=1000)


class NewToken(TokenOut):
    token: str = Field(..., description="The secret, shown this once: store it now.")


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    before: Any = None
    after: Any = None
    prev_hash: str
    hash: str


class AuditVerifyOut(BaseModel):
    ok: bool
    entries: int
    head: str
    broken_at: int | None = None
    reason: str = ""


class ImportOut(BaseModel):
    run_id: Any = None
    source: str
    format: str
    read: int
    accepted: int
    rejected: int
    rejections: list[dict[str, str]]
    result: dict[str, Any]


class Open(BaseModel):
    """A document whose listed fields are typed; fields added later pass through."""

    model_config = ConfigDict(extra="allow")


class SourceRef(Open):
    url: str
    note: str = ""


class AppIdOut(Open):
    platform: str
    identifier: str


class FamilyOut(Open):
    id: str
    name: str
    vendor: str
    identifiers: list[AppIdOut]
    prefixes: list[AppIdOut]
    domains: list[str]
    category: str
    confidence: str
    sources: list[SourceRef]


class FamilyDetail(FamilyOut):
    directives: list[str] = Field(..., description="The directives that prohibit this family (or its vendor).")


class DirectiveOut(Open):
    id: str
    issuer: str
    jurisdiction: str
    title: dict[str, str] = Field(..., description="Title by language (en, fr).")
    announced: date | None
    effective: date
    families: list[str]
    vendors: list[str]
    device_scope: str
    ownership: list[str]
    exceptions_allowed: str
    requires_network_block: bool
    actions: list[str]
    rationale: str
    interim: bool
    confidence: str
    sources: list[SourceRef]


class CatalogueHit(BaseModel):
    kind: str
    id: str
    label: str


class DeviceOut(Open):
    source: str
    device_id: str
    platform: str
    ownership: str
    management: str
    observed_at: datetime
    supervised: bool | None = None
    user: str | None = None
    name: str | None = None
    model: str | None = None
    os_version: str | None = None
    org_unit: str | None = None
    groups: list[str] = Field(default_factory=list)
    addresses: list[str] = Field(default_factory=list)


class DeviceListItem(DeviceOut):
    findings: dict[str, int] = Field(..., description="Findings of the latest evaluation, by state.")


class DevicePage(BaseModel):
    items: list[DeviceListItem]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null at the end.")


class AppIntervalOut(Open):
    source: str
    device_id: str
    app: AppIdOut
    first_seen: datetime
    last_seen: datetime
    removed_at: datetime | None = None
    name: str | None = None
    version: str | None = None
    managed: bool | None = None
    state: str


class DeviceVersionOut(Open):
    valid_from: datetime
    valid_to: datetime | None = None
    device: DeviceOut


class DeviceDetailOut(Open):
    source: str
    device_id: str
    first_seen: datetime
    removed_at: datetime | None = None
    versions: list[DeviceVersionOut] = Field(..., description="The device's attributes over time, oldest first.")
    apps: list[AppIntervalOut] = Field(..., description="Every app the device holds or held.")
    findings: list[dict[str, Any]] = Field(default_factory=list, description="From the latest stored evaluation.")
    device: DeviceOut | None = Field(None, description="The device's attributes now.")
    current_findings: list[FindingOut] = Field(..., description="The device's findings in the latest evaluation.")


class RuleDeadline(BaseModel):
    rule: str
    directive: str | None = None
    deadline: date
    days_left: int


class ReviewItem(BaseModel):
    kind: str
    id: str
    date: date
    why: str


class DeadlinesOut(BaseModel):
    rules: list[RuleDeadline]
    review: list[ReviewItem] = Field(..., description="Policy items (exceptions, interim rules) due for review.")


class RejectionOut(Open):
    place: str
    reason: str
    fix: str | None = ""


class ImportRunOut(Open):
    id: int
    source: str
    format: str
    at: datetime
    started_at: datetime
    finished_at: datetime | None = None
    status: str
    read: int
    accepted: int
    rejected: int
    devices: int
    apps: int
    devices_new: int
    devices_changed: int
    devices_removed: int
    apps_opened: int
    apps_closed: int
    error: str | None = None
    rejections: list[RejectionOut]


class SourceOut(BaseModel):
    name: str
    type: str
    credentials: str = Field(..., description="How the credentials are given (never them).")


class SyncOut(BaseModel):
    source: str
    read: int
    accepted: int
    rejected: int
    run_id: int | None = None
    rejections: list[RejectionOut]


class AnalysisOut(Open):
    sha256: str
    analyzer_version: str
    package: str | None = None
    version_code: int | None = None
    version_name: str | None = None
    file_name: str
    verdict: str
    score: int
    sdk_vendors: list[str]
    endpoint_vendors: list[str]
    analyzed_at: datetime


class AnalysisReportOut(Open):
    """What `interdit analyze --format json` writes for the file."""

    schema_version: int
    generator: dict[str, Any]
    apps: list[dict[str, Any]] = Field(..., description="The file's report (one app).")


class AnalysisJobFile(BaseModel):
    file: str
    sha256: str
    package: str | None = None
    version_name: str | None = None
    score: int | None = None
    ok: bool = Field(..., description="False when the file could not be read as an APK.")
    problems: list[str] = Field(default_factory=list, description="The serious problems the analyzer found.")
    result: str | None = Field(None, description="Where the full report is (GET).")


class AnalysisJobOut(BaseModel):
    id: str
    status: str = Field(..., pattern="^(queued|running|done|failed)$")
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    files: list[str]
    results: list[AnalysisJobFile] = Field(..., description="Each file's outcome, once the job has run.")
    error: ProblemModel | None = Field(None, description="Why the job failed (RFC 9457 problem details).")
    links: dict[str, str] = Field(..., description="`self`, and `result` for a job of one file once done.")


class ScannedFileOut(Open):
    path: str
    format: str | None = None
    read: int
    matched: int
    unmatched: int
    rejected: int
    error: str | None = None


class LogScanOut(BaseModel):
    read: int
    matched: int
    unmatched: int
    rejected: int
    files: list[ScannedFileOut]
    sightings: int
    rejections: list[RejectionOut]


class SightingOut(Open):
    family: str
    day: date
    client: str
    first: datetime
    last: datetime
    count: int
    source_format: str
    example_name: str
    device_source: str | None = None
    device_id: str | None = None
    weak: bool = False


class EnforcementTargetOut(BaseModel):
    name: str
    summary: str


class EnforcementPayloadOut(BaseModel):
    target: str
    media_type: str
    caveats: list[str]
    files: dict[str, str] = Field(..., description="File name -> content (base64 for the names in `binary`).")
    binary: list[str]


def plain(value: Any) -> Any:
    """A JSON-ready copy of a model value (dataclasses, enums, dates, mappings, tuples)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def finding_out(f: Finding, device: Device | None = None) -> FindingOut:
    """A finding as the API returns it, with its device's name, owner, model and OS version when known."""
    return FindingOut(id=f.id, kind=f.kind.value, state=f.state.value, source=f.source, device_id=f.device_id,
                      device_name=device.name if device else None, owner=device.user if device else None,
                      model=device.model if device else None, os_version=device.os_version if device else None,
                      rule=f.rule, family=f.family, directive=f.directive, app=str(f.app) if f.app else None,
                      org_unit=f.org_unit, exception=f.exception, first_seen=f.first_seen, last_seen=f.last_seen,
                      deadline=f.deadline, resolved_at=f.resolved_at, evidence=list(f.evidence))


def summary_out(s: Summary) -> SummaryOut:
    units = [OrgUnitRate(org_unit=k, in_scope=v[0], compliant=v[1], rate=(v[1] / v[0] if v[0] else None))
             for k, v in sorted(s.by_org_unit.items())]
    return SummaryOut(at=s.at, devices_total=s.devices_total, devices_in_scope=s.devices_in_scope,
                      compliant=s.compliant, rate=s.rate, by_state=dict(s.by_state), by_family=dict(s.by_family),
                      by_org_unit=units,
                      by_rule=[RuleRate(rule=k, directive=r.directive, effective=r.effective, deadline=r.deadline,
                                        in_scope=r.in_scope, compliant=r.compliant, rate=r.rate,
                                        violations=r.violations, blocked_present=r.blocked_present,
                                        not_evaluable=r.not_evaluable, stale=r.stale)
                               for k, r in s.by_rule.items()],
                      by_source=[SourceRate(source=k, devices=v.devices, in_scope=v.in_scope, compliant=v.compliant,
                                            rate=v.rate, violations=v.violations, not_evaluable=v.not_evaluable,
                                            stale=v.stale, last_observed=v.last_observed,
                                            by_coverage=dict(v.by_coverage),
                                            not_evaluable_by_reason=dict(v.not_evaluable_by_reason))
                                 for k, v in sorted(s.by_source.items())],
                      by_coverage=dict(s.by_coverage), not_evaluable_by_reason=dict(s.not_evaluable_by_reason),
                      out_of_scope=dict(s.out_of_scope),
                      scope_unknown=[ScopeUnknownOut(family=u.family, source=u.source, devices=u.devices,
                                                     labels=[{"kind": k, "value": v} for k, v in u.labels])
                                     for u in s.scope_unknown])


def exception_out(e: PolicyException, today: date) -> ExceptionOut:
    return ExceptionOut(id=e.id, families=list(e.families), approver=e.approver, reason=e.reason, expires=e.expires,
                        days_to_expiry=(e.expires - today).days, active=today < e.expires, devices=list(e.devices),
                        users=list(e.users), groups=list(e.groups), safeguards=list(e.safeguards), granted=e.granted,
                        review_by=e.review_by)
