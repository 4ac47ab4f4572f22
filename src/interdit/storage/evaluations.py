"""Evaluations and findings: storing an evaluation's summary and findings, reading the latest ones back."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.engine import Connection, Engine

from interdit.model import AppId, Finding, FindingKind, FindingState, Summary, utc
from interdit.storage import tables as t
from interdit.storage.base import _PLATFORMS, CHUNK, _guard, _new_id


def _dump_summary(summary: Summary) -> str:
    return json.dumps({
        "at": summary.at.isoformat(), "devices_total": summary.devices_total,
        "devices_in_scope": summary.devices_in_scope, "compliant": summary.compliant,
        "by_state": dict(summary.by_state), "by_family": dict(summary.by_family),
        "by_org_unit": {k: list(v) for k, v in summary.by_org_unit.items()},
    }, sort_keys=True)


def load_summary(text_: str) -> Summary:
    doc = json.loads(text_)
    return Summary(
        at=datetime.fromisoformat(doc["at"]), devices_total=doc["devices_total"],
        devices_in_scope=doc["devices_in_scope"], compliant=doc["compliant"], by_state=doc["by_state"],
        by_family=doc["by_family"], by_org_unit={k: (v[0], v[1]) for k, v in doc["by_org_unit"].items()},
    )


def save_evaluation(engine: Engine, clock: Callable[[], datetime], findings: Iterable[Finding], summary: Summary, *,
                    policy_hash: str, as_of: datetime) -> int:
    """Store an evaluation's summary and make its findings the current ones; returns its id."""
    rows: dict[str, dict[str, Any]] = {}
    for f in findings:
        rows.setdefault(f.id, {
            "id": f.id, "kind": f.kind.value, "state": f.state.value, "source": f.source,
            "device_id": f.device_id, "rule": f.rule, "family": f.family, "directive": f.directive,
            "first_seen": f.first_seen, "last_seen": f.last_seen, "deadline": f.deadline,
            "resolved_at": f.resolved_at, "app_platform": f.app.platform.value if f.app else None,
            "app_identifier": f.app.identifier if f.app else None, "org_unit": f.org_unit,
            "exception": f.exception, "evidence": json.dumps(list(f.evidence), ensure_ascii=False),
        })
    with _guard("saving an evaluation"), engine.begin() as conn:
        evaluation_id = _new_id(conn.execute(insert(t.evaluations).values(
            as_of=utc(as_of), policy_hash=policy_hash, created=clock(),
            summary=_dump_summary(summary))))
        conn.execute(delete(t.findings).where(t.findings.c.evaluation_id != evaluation_id))
        batch = list(rows.values())
        for start in range(0, len(batch), CHUNK):
            chunk = [dict(r, evaluation_id=evaluation_id) for r in batch[start:start + CHUNK]]
            conn.execute(insert(t.findings), chunk)
    return evaluation_id


def latest_evaluation(engine: Engine) -> tuple[datetime, str, datetime, Summary] | None:
    """(as_of, policy_hash, created, summary) of the latest stored evaluation, if any."""
    e = t.evaluations
    with _guard("reading evaluations"), engine.connect() as conn:
        row = conn.execute(select(e.c.as_of, e.c.policy_hash, e.c.created, e.c.summary)
                           .order_by(e.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    return row.as_of, row.policy_hash, row.created, load_summary(row.summary)


def findings(engine: Engine, *, state: str | Collection[str] | None = None, kind: str | Collection[str] | None = None,
             family: str | None = None, org_unit: str | None = None, source: str | None = None,
             device_id: str | None = None, limit: int | None = None, after: str | None = None) -> list[Finding]:
    """The latest evaluation's findings, by id. `org_unit` includes the units below it; `after` is the id of
    the last finding of the previous page (cursor pagination)."""
    with _guard("reading findings"), engine.connect() as conn:
        return list(iter_findings(conn, state=state, kind=kind, family=family, org_unit=org_unit,
                                   source=source, device_id=device_id, limit=limit, after=after))


def iter_findings(conn: Connection, *, state: str | Collection[str] | None = None,
              kind: str | Collection[str] | None = None, family: str | None = None,
              org_unit: str | None = None, source: str | None = None, device_id: str | None = None,
              limit: int | None = None, after: str | None = None) -> Iterator[Finding]:
    f = t.findings
    latest = select(func.max(t.evaluations.c.id)).scalar_subquery()
    query = select(f).where(f.c.evaluation_id == latest)
    for column, wanted in ((f.c.state, state), (f.c.kind, kind)):
        if wanted is not None:
            values = [wanted] if isinstance(wanted, str) else list(wanted)
            query = query.where(column.in_([str(x) for x in values]))
    if family is not None:
        query = query.where(f.c.family == family)
    if source is not None:
        query = query.where(f.c.source == source)
    if device_id is not None:
        query = query.where(f.c.device_id == device_id)
    if org_unit is not None:
        unit = org_unit.rstrip("/") or "/"
        query = query.where(or_(f.c.org_unit == unit, f.c.org_unit.startswith(unit.rstrip("/") + "/",
                                                                                autoescape=True)))
    if after is not None:
        query = query.where(f.c.id > after)
    query = query.order_by(f.c.id)
    if limit is not None:
        query = query.limit(max(0, limit))
    for r in conn.execute(query):
        yield Finding(
            id=r.id, kind=FindingKind(r.kind), state=FindingState(r.state), source=r.source,
            device_id=r.device_id, rule=r.rule, family=r.family, directive=r.directive,
            first_seen=r.first_seen, last_seen=r.last_seen, deadline=r.deadline, resolved_at=r.resolved_at,
            app=AppId(_PLATFORMS[r.app_platform], r.app_identifier) if r.app_platform else None,
            org_unit=r.org_unit, exception=r.exception, evidence=tuple(json.loads(r.evidence)))
