"""Evaluations and findings: storing an evaluation's summary and findings, reading the latest ones back.

An evaluation is a pure function of the policy file, the stored data and its `as_of`. Each stored evaluation
keeps a data stamp (`data_stamp`: the latest import run, network scan and APK analysis) beside the policy's
digest, so a later question for the same `as_of`, policy and data can read the stored answer back
(`stored_evaluation`) instead of computing it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text
from sqlalchemy.engine import Connection, Engine

from interdit.model import (
    AppId,
    Finding,
    FindingKind,
    FindingState,
    RuleSummary,
    ScopeUnknown,
    SourceSummary,
    Summary,
    utc,
)
from interdit.storage import tables as t
from interdit.storage.base import CHUNK, PLATFORMS, guard, new_id


def dump_summary(summary: Summary) -> str:
    return json.dumps({
        "at": summary.at.isoformat(), "devices_total": summary.devices_total,
        "devices_in_scope": summary.devices_in_scope, "compliant": summary.compliant,
        "by_state": dict(summary.by_state), "by_family": dict(summary.by_family),
        "by_org_unit": {k: list(v) for k, v in summary.by_org_unit.items()},
        "by_source": {k: {"devices": s.devices, "in_scope": s.in_scope, "compliant": s.compliant,
                          "violations": s.violations, "not_evaluable": s.not_evaluable, "stale": s.stale,
                          "last_observed": s.last_observed.isoformat() if s.last_observed else None,
                          "by_coverage": dict(s.by_coverage),
                          "not_evaluable_by_reason": dict(s.not_evaluable_by_reason)}
                      for k, s in summary.by_source.items()},
        "by_rule": {k: {"directive": r.directive, "effective": r.effective.isoformat(),
                        "deadline": r.deadline.isoformat(), "in_scope": r.in_scope, "compliant": r.compliant,
                        "violations": r.violations, "blocked_present": r.blocked_present,
                        "not_evaluable": r.not_evaluable, "stale": r.stale}
                    for k, r in summary.by_rule.items()},
        "by_coverage": dict(summary.by_coverage), "not_evaluable_by_reason": dict(summary.not_evaluable_by_reason),
        "out_of_scope": dict(summary.out_of_scope),
        "scope_unknown": [{"family": u.family, "source": u.source, "labels": [list(x) for x in u.labels],
                           "devices": u.devices} for u in summary.scope_unknown],
    }, sort_keys=True)


_COVERAGE_ORDER = {"full": 0, "partial": 1, "none": 2}


def _coverage(counts: dict[str, int]) -> dict[str, int]:
    """The order evaluation gives (stored JSON sorts its keys): full, partial, none."""
    return dict(sorted(counts.items(), key=lambda kv: _COVERAGE_ORDER.get(kv[0], 3)))


def _reasons(counts: dict[str, int]) -> dict[str, int]:
    """The order evaluation gives: most devices first, then by name."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def load_summary(text_: str) -> Summary:
    doc = json.loads(text_)
    return Summary(
        at=datetime.fromisoformat(doc["at"]), devices_total=doc["devices_total"],
        devices_in_scope=doc["devices_in_scope"], compliant=doc["compliant"], by_state=doc["by_state"],
        by_family=doc["by_family"], by_org_unit={k: (v[0], v[1]) for k, v in doc["by_org_unit"].items()},
        by_source={k: SourceSummary(
            devices=v["devices"], in_scope=v["in_scope"], compliant=v["compliant"], violations=v["violations"],
            not_evaluable=v["not_evaluable"], stale=v["stale"],
            last_observed=datetime.fromisoformat(v["last_observed"]) if v["last_observed"] else None,
            by_coverage=_coverage(v.get("by_coverage", {})),
            not_evaluable_by_reason=_reasons(v.get("not_evaluable_by_reason", {})))
            for k, v in doc.get("by_source", {}).items()},
        by_rule={k: RuleSummary(
            directive=v["directive"], effective=date.fromisoformat(v["effective"]),
            deadline=date.fromisoformat(v["deadline"]), in_scope=v["in_scope"], compliant=v["compliant"],
            violations=v["violations"], blocked_present=v["blocked_present"], not_evaluable=v["not_evaluable"],
            stale=v["stale"])
            for k, v in doc.get("by_rule", {}).items()},
        by_coverage=_coverage(doc.get("by_coverage", {})),
        not_evaluable_by_reason=_reasons(doc.get("not_evaluable_by_reason", {})),
        out_of_scope=doc.get("out_of_scope", {}),
        scope_unknown=tuple(ScopeUnknown(family=u["family"], source=u["source"],
                                         labels=tuple((k, v) for k, v in u["labels"]), devices=u["devices"])
                            for u in doc.get("scope_unknown", [])),
    )


_COLUMNS = ("evaluation_id", "seq", "id", "kind", "state", "source", "device_id", "rule", "family", "directive",
            "first_seen", "last_seen", "deadline", "resolved_at", "app_platform", "app_identifier", "org_unit",
            "exception", "evidence")


def save_evaluation(engine: Engine, clock: Callable[[], datetime], findings: Iterable[Finding], summary: Summary, *,
                    policy_hash: str, as_of: datetime, data_stamp: str | None = None,
                    audit: Callable[[Connection], object] | None = None) -> int:
    """Store an evaluation's summary and make its findings the current ones; returns its id.

    With `audit`, it is called in the evaluation's transaction: its entry commits with the evaluation, and when
    it cannot be written the evaluation is not stored.

    With `data_stamp` (see `data_stamp`), the evaluation can be read back by `stored_evaluation` for the same
    `as_of`, policy and data. The findings go through the driver's own `executemany` (SQLite) or `COPY`
    (PostgreSQL), in the evaluation's order.
    """
    sqlite = engine.dialect.name == "sqlite"
    times: dict[datetime, Any] = {}
    days: dict[date, Any] = {}
    evidence: dict[tuple[str, ...], str] = {}
    seen: set[str] = set()

    def when(value: datetime | None) -> Any:
        if value is None or not sqlite:
            return value
        got = times.get(value)
        if got is None:
            got = times[value] = t.sqlite_text(value)
        return got

    def day(value: date | None) -> Any:
        if value is None or not sqlite:
            return value
        got = days.get(value)
        if got is None:
            got = days[value] = value.isoformat()
        return got

    rows: list[list[Any]] = []
    for f in findings:
        if f.id in seen:
            data_stamp = None  # the same id twice: what is stored is not the evaluation itself
            continue
        seen.add(f.id)
        ev = evidence.get(f.evidence)
        if ev is None:
            ev = evidence[f.evidence] = json.dumps(list(f.evidence), ensure_ascii=False)
        app = f.app
        rows.append([0, len(rows), f.id, f.kind.value, f.state.value, f.source, f.device_id, f.rule, f.family,
                     f.directive, when(f.first_seen), when(f.last_seen), day(f.deadline), when(f.resolved_at),
                     app.platform.value if app else None, app.identifier if app else None, f.org_unit,
                     f.exception, ev])
    mark = "?" if sqlite else "%s"
    sql = (f"INSERT INTO findings ({', '.join(_COLUMNS)}) "
           f"VALUES ({', '.join(mark for _ in _COLUMNS)})")
    with guard("saving an evaluation"), engine.begin() as conn:
        evaluation_id = new_id(conn.execute(insert(t.evaluations).values(
            as_of=utc(as_of), policy_hash=policy_hash, created=clock(),
            summary=dump_summary(summary), data_stamp=data_stamp)))
        conn.execute(delete(t.findings).where(t.findings.c.evaluation_id != evaluation_id))
        for row in rows:
            row[0] = evaluation_id
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if sqlite:
                for start in range(0, len(rows), CHUNK):
                    cursor.executemany(sql, rows[start:start + CHUNK])
            else:  # COPY: one stream instead of a statement per finding (several times cheaper on both ends)
                with cursor.copy(f"COPY findings ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        finally:
            cursor.close()
        if audit is not None:
            audit(conn)
    return evaluation_id


# -- reusing a stored evaluation ------------------------------------------------------------------------


def data_stamp(engine: Engine) -> str:
    """What the stored data an evaluation reads is at, in one cheap query: the latest import run, the network
    log inputs scanned (a rescan moves `scanned_at`) and the APK analyses (a new report moves `analyzed_at`).
    Every write that can change an evaluation's answer moves it."""
    sql = ("SELECT (SELECT max(id) FROM import_runs), (SELECT count(*) FROM import_runs), "
           "(SELECT max(id) FROM network_inputs), (SELECT count(*) FROM network_inputs), "
           "(SELECT max(scanned_at) FROM network_inputs), "
           "(SELECT max(id) FROM apk_analyses), (SELECT count(*) FROM apk_analyses), "
           "(SELECT max(analyzed_at) FROM apk_analyses)")
    with guard("reading the data stamp"), engine.connect() as conn:
        row = conn.execute(text(sql)).one()
    runs, nruns, inputs, ninputs, scanned, analyses, nanalyses, analysed = row
    return (f"runs {runs}/{nruns}; scans {inputs}/{ninputs}/{_stamp_time(scanned)}; "
            f"analyses {analyses}/{nanalyses}/{_stamp_time(analysed)}")


def _stamp_time(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()


def stored_evaluation(engine: Engine, *, as_of: datetime, policy_hash: str, data_stamp: str,
                      within: timedelta | None = None) -> tuple[Summary, tuple[Finding, ...]] | None:
    """The latest stored evaluation's summary and findings (in the evaluation's order) when it was computed for
    this `as_of`, policy digest and data stamp; None otherwise (compute it again).

    With `within`, an evaluation made for an `as_of` up to `within` earlier (never later) is taken too: what
    several server processes over one database share, instead of each computing its own (its summary keeps the
    time it was made for)."""
    e = t.evaluations
    as_of = utc(as_of)
    with guard("reading evaluations"), engine.connect() as conn:
        row = conn.execute(select(e.c.id, e.c.as_of, e.c.policy_hash, e.c.summary, e.c.data_stamp)
                           .order_by(e.c.id.desc()).limit(1)).first()
        if row is None or row[4] is None or row[4] != data_stamp or row[2] != policy_hash:
            return None
        made_for = utc(row[1])
        if not (made_for == as_of or (within is not None and as_of - within <= made_for <= as_of)):
            return None
        if '"by_coverage"' not in row[3] or '"out_of_scope"' not in row[3]:  # stored before these figures: again
            return None
        summary = load_summary(row[3])
        found = tuple(_stored_findings(conn, int(row[0])))
    return summary, found


def _stored_findings(conn: Connection, evaluation_id: int) -> Iterator[Finding]:
    """One evaluation's findings in its own order, as plain driver rows (no per-row wrapping)."""
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    sql = (f"SELECT {', '.join(_COLUMNS[2:])} FROM findings WHERE evaluation_id = {mark} "
           "ORDER BY seq")
    kinds = {k.value: k for k in FindingKind}
    states = {s.value: s for s in FindingState}
    times: dict[Any, datetime] = {}
    days: dict[Any, date] = {}
    apps: dict[tuple[str, str], AppId] = {}
    evidence: dict[str, tuple[str, ...]] = {"[]": ()}

    def when(value: Any) -> datetime | None:
        if value is None:
            return None
        got = times.get(value)
        if got is None:
            got = times[value] = _utc(value)
        return got

    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, (evaluation_id,))
        for (id_, kind, state, source, device_id, rule, family, directive, first_seen, last_seen, deadline,
             resolved_at, platform, identifier, org_unit, exception, ev) in cursor:
            if deadline is not None:
                d = days.get(deadline)
                if d is None:
                    d = days[deadline] = deadline if isinstance(deadline, date) else date.fromisoformat(deadline)
                deadline = d
            app = None
            if platform:
                app = apps.get((platform, identifier))
                if app is None:
                    app = apps[(platform, identifier)] = AppId(PLATFORMS[platform], identifier)
            e = evidence.get(ev)
            if e is None:
                e = evidence[ev] = tuple(json.loads(ev))
            first = when(first_seen)
            last = when(last_seen)
            assert first is not None and last is not None
            yield Finding(id_, kinds[kind], states[state], source, device_id, rule, family, directive, first,
                          last, deadline, when(resolved_at), app, org_unit, exception, e)
    finally:
        cursor.close()


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# -- the latest evaluation ----------------------------------------------------------------------------------

def latest_evaluation(engine: Engine) -> tuple[datetime, str, datetime, Summary] | None:
    """(as_of, policy_hash, created, summary) of the latest stored evaluation, if any."""
    e = t.evaluations
    with guard("reading evaluations"), engine.connect() as conn:
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
    with guard("reading findings"), engine.connect() as conn:
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
            app=AppId(PLATFORMS[r.app_platform], r.app_identifier) if r.app_platform else None,
            org_unit=r.org_unit, exception=r.exception, evidence=tuple(json.loads(r.evidence)))
