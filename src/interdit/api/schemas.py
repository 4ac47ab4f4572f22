"""The shapes the API answers with (they become the OpenAPI schemas), and conversions from the model."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from interdit.model import Finding, PolicyException, Summary


class FindingOut(BaseModel):
    id: str
    kind: str
    state: str
    source: str
    device_id: str
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


class OrgUnitRate(BaseModel):
    org_unit: str
    in_scope: int
    compliant: int
    rate: float


class SummaryOut(BaseModel):
    at: datetime
    devices_total: int
    devices_in_scope: int
    compliant: int
    rate: float
    by_state: dict[str, int]
    by_family: dict[str, int]
    by_org_unit: list[OrgUnitRate]


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


class TokenIn(BaseModel):
    username: str = Field(..., min_length=1, max_length=120)
    name: str = Field(..., min_length=1, max_length=120)


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


def finding_out(f: Finding) -> FindingOut:
    return FindingOut(id=f.id, kind=f.kind.value, state=f.state.value, source=f.source, device_id=f.device_id,
                      rule=f.rule, family=f.family, directive=f.directive, app=str(f.app) if f.app else None,
                      org_unit=f.org_unit, exception=f.exception, first_seen=f.first_seen, last_seen=f.last_seen,
                      deadline=f.deadline, resolved_at=f.resolved_at, evidence=list(f.evidence))


def summary_out(s: Summary) -> SummaryOut:
    units = [OrgUnitRate(org_unit=k, in_scope=v[0], compliant=v[1], rate=(v[1] / v[0] if v[0] else 1.0))
             for k, v in sorted(s.by_org_unit.items())]
    return SummaryOut(at=s.at, devices_total=s.devices_total, devices_in_scope=s.devices_in_scope,
                      compliant=s.compliant, rate=s.rate, by_state=dict(s.by_state), by_family=dict(s.by_family),
                      by_org_unit=units)


def exception_out(e: PolicyException, today: date) -> ExceptionOut:
    return ExceptionOut(id=e.id, families=list(e.families), approver=e.approver, reason=e.reason, expires=e.expires,
                        days_to_expiry=(e.expires - today).days, active=today < e.expires, devices=list(e.devices),
                        users=list(e.users), groups=list(e.groups), safeguards=list(e.safeguards), granted=e.granted,
                        review_by=e.review_by)
