"""Stored APK analyses: one row per (sha256, analyzer version, settings digest), the report as JSON.

A report is reused only when the same file was analysed by the same analyzer version with the same rules,
signature data and catalogue (the settings digest): a new analyzer or new data means a new analysis.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from interdit.storage.base import UTCDateTime, metadata

analyses_table = sa.Table(
    "apk_analyses", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("analyzer_version", sa.String(20), nullable=False),
    sa.Column("settings", sa.String(64), nullable=False),
    sa.Column("package", sa.String(300), nullable=True),
    sa.Column("version_code", sa.BigInteger, nullable=True),
    sa.Column("version_name", sa.String(200), nullable=True),
    sa.Column("file_name", sa.String(500), nullable=False),
    sa.Column("verdict", sa.String(20), nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("sdk_vendors", sa.Text, nullable=False),  # JSON list of vendor ids (bundled SDKs)
    sa.Column("endpoint_vendors", sa.Text, nullable=False),  # JSON list of vendor ids (endpoint owners)
    sa.Column("analyzed_at", UTCDateTime, nullable=False),
    sa.Column("report", sa.Text, nullable=False),
    sa.UniqueConstraint("sha256", "analyzer_version", "settings"),
    sa.Index("ix_apk_analyses_package", "package"),
)


@dataclass(frozen=True, slots=True)
class StoredAnalysis:
    sha256: str
    analyzer_version: str
    package: str | None
    version_code: int | None
    version_name: str | None
    file_name: str
    verdict: str
    score: int
    sdk_vendors: tuple[str, ...]
    endpoint_vendors: tuple[str, ...]
    analyzed_at: datetime


def save_analysis(engine: Engine, *, sha256: str, analyzer_version: str, settings: str, package: str | None,
                  version_code: int | None, version_name: str | None, file_name: str, verdict: str, score: int,
                  sdk_vendors: Sequence[str], endpoint_vendors: Sequence[str], report: dict[str, Any],
                  at: datetime) -> None:
    """Store one report, replacing an earlier one for the same file, analyzer version and settings."""
    save_analyses(engine, [dict(sha256=sha256, analyzer_version=analyzer_version, settings=settings, package=package,
                                version_code=version_code, version_name=version_name, file_name=file_name,
                                verdict=verdict, score=score, sdk_vendors=sdk_vendors,
                                endpoint_vendors=endpoint_vendors, report=report, at=at)])


def save_analyses(engine: Engine, analyses: Sequence[dict[str, Any]],
                  audit: Callable[[Connection], object] | None = None) -> None:
    """Store several reports (each a dict of `save_analysis`'s arguments) in one transaction; with `audit`,
    called in that transaction, its entry commits with them or nothing is stored."""
    with engine.begin() as conn:
        for a in analyses:
            _save_in(conn, **a)
        if audit is not None:
            audit(conn)


def _save_in(conn: Connection, *, sha256: str, analyzer_version: str, settings: str, package: str | None,
             version_code: int | None, version_name: str | None, file_name: str, verdict: str, score: int,
             sdk_vendors: Sequence[str], endpoint_vendors: Sequence[str], report: dict[str, Any],
             at: datetime) -> None:
    t = analyses_table
    key = (t.c.sha256 == sha256) & (t.c.analyzer_version == analyzer_version) & (t.c.settings == settings)
    conn.execute(sa.delete(t).where(key))
    conn.execute(sa.insert(t).values(
        sha256=sha256, analyzer_version=analyzer_version, settings=settings, package=package,
        version_code=version_code, version_name=(version_name or "")[:200] or None, file_name=file_name[:500],
        verdict=verdict, score=score, sdk_vendors=json.dumps(sorted(set(sdk_vendors))),
        endpoint_vendors=json.dumps(sorted(set(endpoint_vendors))), analyzed_at=at,
        report=json.dumps(report, ensure_ascii=False, separators=(",", ":"))))


def load_analysis(engine: Engine, sha256: str, analyzer_version: str, settings: str) -> dict[str, Any] | None:
    """The stored report (JSON) for this file, analyzer version and settings, or None."""
    t = analyses_table
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.c.report).where(
            (t.c.sha256 == sha256) & (t.c.analyzer_version == analyzer_version) & (t.c.settings == settings)
        )).first()
    if row is None:
        return None
    value: dict[str, Any] = json.loads(row[0])
    return value


def latest_analyses(engine: Engine) -> list[StoredAnalysis]:
    """The most recent analysis of each package (reports without a package are left out), by package."""
    t = analyses_table
    with engine.connect() as conn:
        rows = conn.execute(sa.select(
            t.c.sha256, t.c.analyzer_version, t.c.package, t.c.version_code, t.c.version_name, t.c.file_name,
            t.c.verdict, t.c.score, t.c.sdk_vendors, t.c.endpoint_vendors, t.c.analyzed_at,
        ).where(t.c.package.is_not(None)).order_by(t.c.package, t.c.analyzed_at, t.c.id)).all()
    latest: dict[str, StoredAnalysis] = {}
    for r in rows:
        latest[r.package] = StoredAnalysis(
            sha256=r.sha256, analyzer_version=r.analyzer_version, package=r.package, version_code=r.version_code,
            version_name=r.version_name, file_name=r.file_name, verdict=r.verdict, score=r.score,
            sdk_vendors=tuple(json.loads(r.sdk_vendors)), endpoint_vendors=tuple(json.loads(r.endpoint_vendors)),
            analyzed_at=r.analyzed_at)
    return list(latest.values())
