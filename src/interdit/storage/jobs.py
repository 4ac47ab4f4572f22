"""Queued APK analyses: one row per job, so that any server process can answer for any job.

A job is `queued` when its files are saved, `running` while a worker analyses them, then `done` or
`failed`. A job still queued or running after its deadline belongs to a process that died: readers report
it as failed (and write that down, so it stays so).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from interdit.storage.base import UTCDateTime, metadata

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"

jobs_table = sa.Table(
    "analysis_jobs", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("lang", sa.String(5), nullable=False),
    sa.Column("owner", sa.String(200), nullable=False),  # host and process that runs it
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=True),
    sa.Column("finished_at", UTCDateTime, nullable=True),
    sa.Column("deadline", UTCDateTime, nullable=False),  # still queued or running after it: the owner died
    sa.Column("files", sa.Text, nullable=False),  # JSON list of file names
    sa.Column("results", sa.Text, nullable=False),  # JSON list of {file, sha256, package, verdict, problems}
    sa.Column("error", sa.Text, nullable=True),  # JSON problem detail when failed
    sa.Index("ix_analysis_jobs_created_at", "created_at"),
)


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    status: str
    actor: str
    lang: str
    owner: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    deadline: datetime
    files: tuple[str, ...]
    results: tuple[dict[str, Any], ...]
    error: dict[str, Any] | None


def _job(row: Any) -> Job:
    return Job(id=row.id, status=row.status, actor=row.actor, lang=row.lang, owner=row.owner,
               created_at=row.created_at, started_at=row.started_at, finished_at=row.finished_at,
               deadline=row.deadline, files=tuple(json.loads(row.files)), results=tuple(json.loads(row.results)),
               error=json.loads(row.error) if row.error else None)


def create_job(engine: Engine, *, files: list[str], actor: str, lang: str, owner: str, at: datetime,
               timeout: timedelta) -> str:
    job_id = secrets.token_hex(16)
    with engine.begin() as conn:
        conn.execute(sa.insert(jobs_table).values(
            id=job_id, status=QUEUED, actor=actor[:200], lang=lang, owner=owner[:200], created_at=at,
            deadline=at + timeout, files=json.dumps(files), results="[]", error=None))
    return job_id


def start_job(engine: Engine, job_id: str, *, at: datetime, timeout: timedelta) -> bool:
    """Mark a queued job running (False when it is no longer queued: reported failed meanwhile)."""
    t = jobs_table
    with engine.begin() as conn:
        done = conn.execute(sa.update(t).where((t.c.id == job_id) & (t.c.status == QUEUED)).values(
            status=RUNNING, started_at=at, deadline=at + timeout))
    return bool(done.rowcount)


def finish_job(engine: Engine, job_id: str, *, at: datetime, results: list[dict[str, Any]],
               error: dict[str, Any] | None) -> None:
    t = jobs_table
    with engine.begin() as conn:
        conn.execute(sa.update(t).where((t.c.id == job_id) & t.c.status.in_((QUEUED, RUNNING))).values(
            status=FAILED if error else DONE, finished_at=at, results=json.dumps(results),
            error=json.dumps(error) if error else None))


def get_job(engine: Engine, job_id: str, *, now: datetime) -> Job | None:
    """The job; one left queued or running past its deadline is failed first (its process died)."""
    t = jobs_table
    with engine.connect() as conn:
        row = conn.execute(sa.select(t).where(t.c.id == job_id)).first()
    if row is None:
        return None
    job = _job(row)
    if job.status in (QUEUED, RUNNING) and now > job.deadline:
        error = {"type": "about:blank", "title": "Internal error", "status": 500,
                 "detail": f"the analysis was not finished by {job.deadline.isoformat()}: the server process "
                           f"that ran it ({job.owner}) stopped",
                 "fix": "upload the files again"}
        with engine.begin() as conn:
            conn.execute(sa.update(t).where((t.c.id == job_id) & t.c.status.in_((QUEUED, RUNNING))).values(
                status=FAILED, finished_at=now, error=json.dumps(error)))
        with engine.connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.id == job_id)).first()
        assert row is not None
        job = _job(row)
    return job


def latest_report(engine: Engine, sha256: str) -> dict[str, Any] | None:
    """The most recently stored report (JSON) of this file, whatever the analyzer version and settings."""
    from interdit.storage.analyses import analyses_table as t

    with engine.connect() as conn:
        row = conn.execute(sa.select(t.c.report).where(t.c.sha256 == sha256)
                           .order_by(t.c.analyzed_at.desc(), t.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    value: dict[str, Any] = json.loads(row[0])
    return value
