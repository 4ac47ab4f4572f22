"""Daily figures: compliance at the end of each day, per inventory source and for the whole fleet, stored so
that a report's trend reads them instead of evaluating the history again.

One row per (figures key, day, source); `source` is "" for the whole fleet. The figures key names what the
figures depend on besides the data (the policy file's digest, the catalogue's and the code's versions): a new
policy gets figures of its own. Each row keeps the instant it was evaluated at (`at`: the day's end for a day
that is over, earlier for a day still running) and the stamp of the data it read (`stamp`, see `day_stamp`):
the import runs up to that instant, the network sightings up to that day and the APK analyses. A row whose
stamp no longer matches (an import back-dated into that day or before, a log scan of an earlier day) is
computed again, never shown.

The table lives on the shared `tables.metadata`; migration 0013 creates it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from interdit.model import Summary
from interdit.storage.base import guard as _guard
from interdit.storage.evaluations import dump_summary, load_summary
from interdit.storage.tables import UTCDateTime, metadata

WHOLE = ""  # the `source` of the whole fleet's row

daily_figures = Table(
    "daily_figures", metadata,
    Column("key", String(64), primary_key=True),  # what the figures depend on besides the data
    Column("day", Date, primary_key=True),
    Column("source", String(200), primary_key=True),  # "" for the whole fleet
    Column("at", UTCDateTime, nullable=False),  # the instant evaluated
    Column("stamp", String(300), nullable=False),  # the stored data read (day_stamp at `at`)
    Column("devices", Integer, nullable=False),
    Column("in_scope", Integer, nullable=False),
    Column("compliant", Integer, nullable=False),
    Column("violations", Integer, nullable=False),
    Column("not_evaluable", Integer, nullable=False),
    Column("stale", Integer, nullable=False),
    Column("computed_at", UTCDateTime, nullable=False),
    # the whole fleet's row: the evaluation's full summary (by family, org unit, rule...), as evaluations keep it
    Column("summary", Text, nullable=True),
    Index("ix_daily_figures_day", "day"),
)


@dataclass(frozen=True, slots=True)
class DailyFigure:
    """One source's figures (or the whole fleet's, `source` "") at the end of `day`."""

    day: date
    source: str
    at: datetime
    stamp: str
    devices: int
    in_scope: int
    compliant: int
    violations: int
    not_evaluable: int
    stale: int
    summary: Summary | None = None  # the whole fleet's row only: the evaluation's full summary

    @property
    def rate(self) -> float | None:
        return self.compliant / self.in_scope if self.in_scope else None


_FIELDS = ("devices", "in_scope", "compliant", "violations", "not_evaluable", "stale")


def day_stamp(engine: Engine, at: datetime) -> str:
    """What the stored data an evaluation at `at` reads is at: the successful import runs up to `at` (count and
    last id), the network sightings up to `at`'s day (count, last id, look-ups) and the APK analyses."""
    sql = ("SELECT (SELECT count(*) FROM import_runs WHERE status = 'ok' AND at <= :at), "
           "(SELECT max(id) FROM import_runs WHERE status = 'ok' AND at <= :at), "
           "(SELECT count(*) FROM network_sightings WHERE day <= :day), "
           "(SELECT max(id) FROM network_sightings WHERE day <= :day), "
           "(SELECT sum(count) FROM network_sightings WHERE day <= :day), "
           "(SELECT count(*) FROM apk_analyses), (SELECT max(id) FROM apk_analyses)")
    stmt = text(sql).bindparams(bindparam("at", type_=UTCDateTime()), bindparam("day", type_=Date()))
    with _guard("reading the daily figures' stamp"), engine.connect() as conn:
        row = conn.execute(stmt, {"at": at, "day": at.date()}).one()
    return "runs {}/{}; sightings {}/{}/{}; analyses {}/{}".format(*("-" if v is None else v for v in row))


def save_day(engine: Engine, key: str, figures: Sequence[DailyFigure], *, computed_at: datetime) -> None:
    """Store one day's figures (every source and the whole fleet), replacing what was stored for that day."""
    if not figures:
        return
    days = {f.day for f in figures}
    rows = [{"key": key, "day": f.day, "source": f.source, "at": f.at, "stamp": f.stamp,
             **{k: getattr(f, k) for k in _FIELDS}, "computed_at": computed_at,
             "summary": None if f.summary is None else dump_summary(f.summary)} for f in figures]
    d = daily_figures
    # two processes may store the same day at once (two workers' evaluations, a report filling its trend): the
    # delete takes away sources no longer there, and the insert replaces a row another transaction has just
    # written instead of failing on its key (the last one stored wins: both computed the same day's figures)
    upsert = (postgresql.insert(d) if engine.dialect.name == "postgresql" else sqlite.insert(d))
    upsert = upsert.on_conflict_do_update(
        index_elements=[d.c.key, d.c.day, d.c.source],
        set_={c.name: upsert.excluded[c.name] for c in d.columns if c.name not in ("key", "day", "source")})
    with _guard("storing the daily figures"), engine.begin() as conn:
        conn.execute(delete(d).where(d.c.key == key, d.c.day.in_(days)))
        conn.execute(upsert, rows)


def read_days(engine: Engine, key: str, days: Iterable[date]) -> dict[date, list[DailyFigure]]:
    """The stored figures of `days` under `key`, by day (the whole fleet's row first, then by source)."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    d = daily_figures
    out: dict[date, list[DailyFigure]] = {}
    with _guard("reading the daily figures"), engine.connect() as conn:
        for i in range(0, len(wanted), 500):
            rows = conn.execute(select(d).where(d.c.key == key, d.c.day.in_(wanted[i:i + 500]))
                                .order_by(d.c.day, d.c.source)).mappings()
            for r in rows:
                out.setdefault(r["day"], []).append(_figure(r))
    return out


def stored_days(engine: Engine, key: str | None = None) -> list[date]:
    """The days with stored figures (under `key`, or any), oldest first."""
    d = daily_figures
    q = select(d.c.day).distinct().order_by(d.c.day)
    if key is not None:
        q = q.where(d.c.key == key)
    with _guard("reading the daily figures"), engine.connect() as conn:
        return list(conn.execute(q).scalars())


def forget(engine: Engine, *, since: date | None = None) -> int:
    """Delete the stored figures of `since` and the days after (every day without it); the count deleted."""
    d = daily_figures
    stmt = delete(d) if since is None else delete(d).where(d.c.day >= since)
    with _guard("deleting daily figures"), engine.begin() as conn:
        return int(conn.execute(stmt).rowcount or 0)


def count_rows(engine: Engine) -> int:
    with _guard("reading the daily figures"), engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(daily_figures)).scalar_one())


def _figure(r: Any) -> DailyFigure:
    return DailyFigure(day=r["day"], source=r["source"], at=r["at"], stamp=r["stamp"],
                       **{k: int(r[k]) for k in _FIELDS},
                       summary=None if r["summary"] is None else load_summary(r["summary"]))
