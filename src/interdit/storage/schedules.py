"""Scheduled jobs and their runs: what `interdit worker` runs, when, and how it went.

`schedule_jobs` holds the jobs of the schedule file as the worker last read it (name, kind, cron expression,
time zone, settings), so that any process (the command line, the dashboard, `/metrics`) can answer which jobs
exist and when they run next without reading the file. `schedule_runs` holds one row per firing of a job.

Exactly once across processes: a firing is claimed by inserting its run row, keyed by (job, scheduled_for), in a
transaction of its own (`INSERT ... ON CONFLICT DO NOTHING` on SQLite and PostgreSQL alike). The process whose
insert lands runs the job; every other process sees nothing inserted and skips. A run still `running` after its
deadline belongs to a process that died: readers report it `failed` (and write that down, so it stays so); that
firing is not run again, the next one is.

The tables are defined on the shared `interdit.storage.tables.metadata`; the migration `0011` creates them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from interdit.storage.base import guard as _guard
from interdit.storage.tables import UTCDateTime, import_runs, metadata

RUNNING, OK, FAILED = "running", "ok", "failed"

schedule_jobs = sa.Table(
    "schedule_jobs", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("kind", sa.String(200), nullable=False),  # one kind, or steps joined by "+" (sync+evaluate)
    sa.Column("cron", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(100), nullable=False),
    sa.Column("settings", sa.Text, nullable=False),  # JSON: the job's other settings
    sa.Column("enabled", sa.Boolean, nullable=False),  # False: no longer in the schedule file
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

schedule_runs = sa.Table(
    "schedule_runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(100), nullable=False),
    sa.Column("scheduled_for", UTCDateTime, nullable=False),  # the firing: the same in every process
    sa.Column("kind", sa.String(200), nullable=False),
    sa.Column("owner", sa.String(200), nullable=False),  # host and process that runs it
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Column("deadline", UTCDateTime, nullable=False),  # still running after it: the owner died
    sa.Column("status", sa.String(20), nullable=False),  # running | ok | failed
    sa.Column("summary", sa.Text, nullable=False),  # JSON: what the run did
    sa.Column("error", sa.Text, nullable=True),
    sa.UniqueConstraint("job", "scheduled_for"),
    sa.Index("ix_schedule_runs_started_at", "started_at"),
)


@dataclass(frozen=True, slots=True)
class StoredJob:
    name: str
    kind: str
    cron: str
    timezone: str
    settings: dict[str, Any]
    enabled: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Run:
    id: int
    job: str
    scheduled_for: datetime
    kind: str
    owner: str
    started_at: datetime
    finished_at: datetime | None
    deadline: datetime
    status: str
    summary: dict[str, Any]
    error: str | None


def _run(row: Any) -> Run:
    return Run(id=row.id, job=row.job, scheduled_for=row.scheduled_for, kind=row.kind, owner=row.owner,
               started_at=row.started_at, finished_at=row.finished_at, deadline=row.deadline, status=row.status,
               summary=json.loads(row.summary), error=row.error)


def _insert(engine: Engine, table: sa.Table) -> Any:
    return (postgresql.insert(table) if engine.dialect.name == "postgresql" else sqlite.insert(table))


def publish_jobs(engine: Engine, jobs: Iterable[StoredJob], *, at: datetime) -> None:
    """Store the schedule file's jobs; a stored job the file no longer has is kept (its runs stay readable),
    disabled."""
    t = schedule_jobs
    rows = [{"name": j.name, "kind": j.kind, "cron": j.cron, "timezone": j.timezone,
             "settings": json.dumps(j.settings, sort_keys=True, default=str), "enabled": True, "updated_at": at}
            for j in jobs]
    with _guard("schedule_jobs"), engine.begin() as conn:
        conn.execute(sa.update(t).where(t.c.name.not_in([r["name"] for r in rows]) & t.c.enabled)
                     .values(enabled=False, updated_at=at))
        for row in rows:
            stmt = _insert(engine, t).values(**row)
            conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.name],
                                                    set_={k: stmt.excluded[k] for k in row if k != "name"}))


def stored_jobs(engine: Engine, *, enabled_only: bool = False) -> list[StoredJob]:
    t = schedule_jobs
    query = sa.select(t).order_by(t.c.name)
    if enabled_only:
        query = query.where(t.c.enabled)
    with _guard("schedule_jobs"), engine.connect() as conn:
        return [StoredJob(r.name, r.kind, r.cron, r.timezone, json.loads(r.settings), bool(r.enabled), r.updated_at)
                for r in conn.execute(query)]


def claim_run(engine: Engine, job: str, scheduled_for: datetime, *, kind: str, owner: str, at: datetime,
              deadline: datetime) -> int | None:
    """Claim one firing: its run id, or None when another process claimed it first (skip it then)."""
    t = schedule_runs
    stmt = _insert(engine, t).values(job=job, scheduled_for=scheduled_for, kind=kind, owner=owner[:200],
                                     started_at=at, deadline=deadline, status=RUNNING, summary="{}")
    stmt = stmt.on_conflict_do_nothing(index_elements=[t.c.job, t.c.scheduled_for]).returning(t.c.id)
    with _guard("schedule_runs"), engine.begin() as conn:
        row = conn.execute(stmt).first()
    return None if row is None else int(row[0])


def finish_run(engine: Engine, run_id: int, *, at: datetime, ok: bool, summary: dict[str, Any],
               error: str | None = None) -> None:
    t = schedule_runs
    with _guard("schedule_runs"), engine.begin() as conn:
        conn.execute(sa.update(t).where((t.c.id == run_id) & (t.c.status == RUNNING)).values(
            status=OK if ok else FAILED, finished_at=at, summary=json.dumps(summary, default=str),
            error=error))


def _fail_abandoned(engine: Engine, now: datetime) -> None:
    """Write down as failed the runs left running past their deadline. Only a read when there are none (the
    usual case), so that `/metrics` and `interdit jobs` never wait for a writer such as a long import."""
    t = schedule_runs
    abandoned = (t.c.status == RUNNING) & (t.c.deadline < now)
    with _guard("schedule_runs"), engine.connect() as conn:
        if conn.execute(sa.select(t.c.id).where(abandoned).limit(1)).first() is None:
            return
    with _guard("schedule_runs"), engine.begin() as conn:
        conn.execute(sa.update(t).where((t.c.status == RUNNING) & (t.c.deadline < now)).values(
            status=FAILED, finished_at=now,
            error=sa.literal("the run was not finished by its deadline: the process that ran it (")
            + t.c.owner + sa.literal(") stopped")))


def runs(engine: Engine, *, now: datetime, job: str | None = None, limit: int = 50) -> list[Run]:
    """The latest runs, newest first; runs left running past their deadline are failed first."""
    _fail_abandoned(engine, now)
    t = schedule_runs
    query = sa.select(t).order_by(t.c.scheduled_for.desc(), t.c.id.desc()).limit(limit)
    if job is not None:
        query = query.where(t.c.job == job)
    with _guard("schedule_runs"), engine.connect() as conn:
        return [_run(r) for r in conn.execute(query)]


@dataclass(frozen=True, slots=True)
class RunTotals:
    last: Run | None
    last_ok: datetime | None  # when the latest successful run finished
    failures: int  # failed runs, all time
    failing_since: int  # failed runs since the latest success (0: the latest run went well)


def _when(value: Any, dialect: Any) -> datetime | None:
    """An aggregate over a time column (SQLite may hand it back as text)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return UTCDateTime().process_result_value(value, dialect)


def run_totals(engine: Engine, *, now: datetime) -> dict[str, RunTotals]:
    """Per job: its latest run, latest success, failures in all and since its latest success."""
    _fail_abandoned(engine, now)
    t = schedule_runs
    with _guard("schedule_runs"), engine.connect() as conn:
        counts = {r.job: (int(r.failures or 0), _when(r.last_ok, conn.dialect), _when(r.ok_for, conn.dialect))
                  for r in conn.execute(sa.select(
                      t.c.job, sa.func.sum(sa.case((t.c.status == FAILED, 1), else_=0)).label("failures"),
                      sa.func.max(sa.case((t.c.status == OK, t.c.finished_at))).label("last_ok"),
                      sa.func.max(sa.case((t.c.status == OK, t.c.scheduled_for))).label("ok_for"))
                      .group_by(t.c.job))}
        latest = sa.select(t.c.job, sa.func.max(t.c.scheduled_for).label("at")).group_by(t.c.job).subquery()
        last = {r.job: _run(r) for r in conn.execute(
            sa.select(t).join(latest, (t.c.job == latest.c.job) & (t.c.scheduled_for == latest.c.at)))}
        totals: dict[str, RunTotals] = {}
        for job, (failures, last_ok, ok_for) in counts.items():
            since = (t.c.job == job) & (t.c.status == FAILED)
            if ok_for is not None:
                since &= t.c.scheduled_for > ok_for
            in_a_row = conn.execute(sa.select(sa.func.count()).where(since)).scalar_one()
            totals[job] = RunTotals(last.get(job), last_ok, failures, int(in_a_row))
    return totals


def last_syncs(engine: Engine) -> dict[str, datetime]:
    """Per source, the time of its latest successful snapshot (file or API): what the fleet's data is as of."""
    t = import_runs
    with _guard("import_runs"), engine.connect() as conn:
        rows = conn.execute(sa.select(t.c.source, sa.func.max(t.c.at).label("at"))
                            .where(t.c.status == "ok").group_by(t.c.source))
        found = {r.source: _when(r.at, conn.dialect) for r in rows}
    return {k: v for k, v in found.items() if v is not None}
