"""Importing a snapshot: staging tables, the set-based diff against the stored history, app intervals.

The bulk paths use SQLAlchemy Core and the raw DBAPI connection of the same transaction (`executemany` on
SQLite, `COPY ... FROM STDIN` on PostgreSQL): ORM objects for millions of rows would cost minutes and gigabytes.
The transaction itself (and the locking it relies on) is opened by `Repository.import_snapshot`.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from interdit.errors import StorageError
from interdit.inventory.base import Record, Tally
from interdit.model import Device, InstalledApp, Platform, Rejection, utc
from interdit.storage import tables as t
from interdit.storage.base import CHUNK, IMPORT_CACHE_KB, SORT_CACHE_KB, STAGE_CACHE_KB, _new_id

KEEP_REJECTIONS = 100  # rejections recorded with an import run


@dataclass(frozen=True)
class ImportResult:
    """What one import changed. `apps_opened`/`apps_closed` count app intervals (a version change is both)."""

    run_id: int
    read: int
    accepted: int
    rejected: int
    devices: int  # devices in the snapshot
    apps: int  # installed apps in the snapshot
    devices_new: int  # first seen, or back after being removed
    devices_changed: int  # attributes changed (a newer observed_at alone does not count)
    devices_removed: int  # absent from this snapshot, present in the previous one
    apps_opened: int
    apps_closed: int


# -- staging and diff SQL ---------------------------------------------------------------------------
#
# An import streams the snapshot into temporary staging tables, then applies it with set-based SQL:
#   stage_devices  one row per device (the last record of a device wins)
#   stage_apps     one row per app on a device (SQLite: keyed, the last record wins; PostgreSQL: every record
#                  in stream order, the last one picked when applied)
#   stage_digests  per device, a digest of its app records, computed while streaming
# Apps are diffed only for the devices whose digest differs from the one stored with the device (new,
# returning and changed devices), so re-importing a mostly unchanged fleet touches few rows.

DEVICE_STAGE_COLUMNS = ("device_id", "platform", "ownership", "management", "observed_at", "supervised", '"user"',
                        "name", "model", "os_version", "org_unit", '"groups"', "addresses")
APP_STAGE_COLUMNS = ("device_id", "platform", "identifier", "name", "version", "managed", "state")
_DEVICE_ATTRS = ("platform", "ownership", "management", "supervised", '"user"', "name", "model", "os_version",
                 "org_unit", '"groups"', "addresses")
_APP_COLUMNS = ", ".join(APP_STAGE_COLUMNS)
_TEMP_TABLES = ("stage_devices_raw", "stage_devices", "stage_apps", "stage_digests", "changed_devices",
                "changed_apps")
_DIGEST_MASK = (1 << 63) - 1

_SQLITE_STAGING = (
    *(f"DROP TABLE IF EXISTS temp.{name}" for name in _TEMP_TABLES),
    'CREATE TEMP TABLE stage_devices (device_id TEXT PRIMARY KEY NOT NULL, platform TEXT NOT NULL, '
    'ownership TEXT NOT NULL, management TEXT NOT NULL, observed_at TEXT NOT NULL, supervised INTEGER, '
    '"user" TEXT, name TEXT, model TEXT, os_version TEXT, org_unit TEXT, "groups" TEXT NOT NULL, '
    'addresses TEXT NOT NULL) WITHOUT ROWID',
    "CREATE TEMP TABLE stage_apps (device_id TEXT NOT NULL, platform TEXT NOT NULL, identifier TEXT NOT NULL, "
    "name TEXT, version TEXT, managed INTEGER, state TEXT NOT NULL, "
    "PRIMARY KEY (device_id, platform, identifier)) WITHOUT ROWID",
    "CREATE TEMP TABLE stage_digests (device_id TEXT PRIMARY KEY NOT NULL, digest INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TEMP TABLE changed_devices (device_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID",
)
_PG_STAGING = (
    "DROP TABLE IF EXISTS " + ", ".join(f"pg_temp.{name}" for name in _TEMP_TABLES),
    'CREATE TEMP TABLE stage_devices_raw (seq bigint GENERATED ALWAYS AS IDENTITY, device_id text NOT NULL, '
    'platform text NOT NULL, ownership text NOT NULL, management text NOT NULL, '
    'observed_at timestamptz NOT NULL, supervised boolean, "user" text, name text, model text, os_version text, '
    'org_unit text, "groups" text NOT NULL, addresses text NOT NULL) ON COMMIT DROP',
    "CREATE TEMP TABLE stage_apps (seq bigint GENERATED ALWAYS AS IDENTITY, device_id text NOT NULL, "
    "platform text NOT NULL, identifier text NOT NULL, name text, version text, managed boolean, "
    "state text NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE stage_digests (device_id text PRIMARY KEY, digest bigint NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE changed_devices (device_id text PRIMARY KEY) ON COMMIT DROP",
    "CREATE TEMP TABLE changed_apps (device_id text NOT NULL, platform text NOT NULL, identifier text NOT NULL, "
    "name text, version text, managed boolean, state text NOT NULL, "
    "PRIMARY KEY (device_id, platform, identifier)) ON COMMIT DROP",
)
_PG_AFTER_STAGING = (
    "CREATE TEMP TABLE stage_devices ON COMMIT DROP AS SELECT DISTINCT ON (device_id) "
    + ", ".join(DEVICE_STAGE_COLUMNS) + " FROM stage_devices_raw ORDER BY device_id, seq DESC",
    "ALTER TABLE stage_devices ADD PRIMARY KEY (device_id)",
    "ANALYZE stage_devices",
    "ANALYZE stage_apps",
    "ANALYZE stage_digests",
)

_OPEN_VERSION_OBSERVED = ("(SELECT v.observed_at FROM device_versions v WHERE v.source = :s "
                          "AND v.device_id = app_intervals.device_id AND v.valid_to IS NULL)")
_INSERT_APPS = ("INSERT INTO app_intervals (source, device_id, platform, identifier, name, version, managed, state, "
                "first_seen) ")


def _diff_sql(dialect: str) -> dict[str, str]:
    """The set-based steps of an import, for one dialect."""
    ne = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"  # null-safe "differs"
    app_same = " AND ".join([
        "sa.device_id = app_intervals.device_id", "sa.platform = app_intervals.platform",
        "sa.identifier = app_intervals.identifier", "sa.state = app_intervals.state",
        *(f"NOT (sa.{c} {ne} app_intervals.{c})" for c in ("version", "managed", "name")),
    ])
    attrs_differ = " OR ".join(f"sd.{c} {ne} device_versions.{c}" for c in _DEVICE_ATTRS)
    version_columns = ", ".join(c for c in DEVICE_STAGE_COLUMNS if c != "device_id")
    if dialect == "sqlite":  # stage_apps holds the last record of each app already (INSERT OR REPLACE)
        apps_of_changed = "stage_apps"
        open_all = _INSERT_APPS + f"SELECT :s, {_APP_COLUMNS}, :at FROM stage_apps"
        changed_apps = ""
    else:  # the last record of each app wins
        apps_of_changed = "changed_apps"
        open_all = (_INSERT_APPS + f"SELECT DISTINCT ON (device_id, platform, identifier) :s, {_APP_COLUMNS}, "
                    ":at FROM stage_apps ORDER BY device_id, platform, identifier, seq DESC")
        changed_apps = (f"INSERT INTO changed_apps SELECT DISTINCT ON (device_id, platform, identifier) "
                        f"{_APP_COLUMNS} FROM stage_apps WHERE device_id IN (SELECT device_id FROM changed_devices) "
                        "ORDER BY device_id, platform, identifier, seq DESC")
    steps = {
        "devices_new": "INSERT INTO devices (source, device_id, first_seen) SELECT :s, sd.device_id, :at "
                       "FROM stage_devices sd WHERE NOT EXISTS (SELECT 1 FROM devices d "
                       "WHERE d.source = :s AND d.device_id = sd.device_id)",
        "devices_back": "UPDATE devices SET removed_at = NULL WHERE source = :s AND removed_at IS NOT NULL "
                        "AND device_id IN (SELECT device_id FROM stage_devices)",
        "devices_removed": "UPDATE devices SET removed_at = :at, apps_digest = NULL WHERE source = :s "
                           "AND removed_at IS NULL AND device_id NOT IN (SELECT device_id FROM stage_devices)",
        "apps_of_removed": f"UPDATE app_intervals SET removed_at = :at, last_seen = {_OPEN_VERSION_OBSERVED} "
                           "WHERE source = :s AND removed_at IS NULL AND device_id IN "
                           "(SELECT device_id FROM devices WHERE source = :s AND removed_at = :at)",
        "versions_of_removed": "UPDATE device_versions SET valid_to = :at WHERE source = :s AND valid_to IS NULL "
                               "AND device_id IN (SELECT device_id FROM devices WHERE source = :s "
                               "AND removed_at = :at)",
        "apps_open_all": open_all,
        "digests_all": "UPDATE devices SET apps_digest = COALESCE((SELECT g.digest FROM stage_digests g "
                       "WHERE g.device_id = devices.device_id), 0) WHERE source = :s "
                       "AND device_id IN (SELECT device_id FROM stage_devices)",
        "changed_devices": "INSERT INTO changed_devices SELECT sd.device_id FROM stage_devices sd "
                           "JOIN devices d ON d.source = :s AND d.device_id = sd.device_id "
                           "LEFT JOIN stage_digests g ON g.device_id = sd.device_id "
                           "WHERE d.apps_digest IS NULL OR d.apps_digest <> COALESCE(g.digest, 0)",
        "changed_apps": changed_apps,
        "apps_close": f"UPDATE app_intervals SET removed_at = :at, last_seen = {_OPEN_VERSION_OBSERVED} "
                      "WHERE source = :s AND removed_at IS NULL "
                      "AND device_id IN (SELECT device_id FROM changed_devices) "
                      f"AND NOT EXISTS (SELECT 1 FROM {apps_of_changed} sa WHERE {app_same})",
        "apps_open": _INSERT_APPS + "SELECT :s, sa.device_id, sa.platform, sa.identifier, sa.name, sa.version, "
                     f"sa.managed, sa.state, :at FROM {apps_of_changed} sa WHERE sa.device_id IN "
                     "(SELECT device_id FROM changed_devices) AND NOT EXISTS (SELECT 1 FROM app_intervals a "
                     "WHERE a.source = :s AND a.device_id = sa.device_id AND a.platform = sa.platform "
                     "AND a.identifier = sa.identifier AND a.removed_at IS NULL)",
        "digests_changed": "UPDATE devices SET apps_digest = COALESCE((SELECT g.digest FROM stage_digests g "
                           "WHERE g.device_id = devices.device_id), 0) WHERE source = :s "
                           "AND device_id IN (SELECT device_id FROM changed_devices)",
        "devices_changed": "SELECT count(*) FROM device_versions WHERE source = :s AND valid_to IS NULL "
                           "AND EXISTS (SELECT 1 FROM stage_devices sd WHERE sd.device_id = device_versions.device_id "
                           f"AND ({attrs_differ}))",
        "versions_close": "UPDATE device_versions SET valid_to = :at WHERE source = :s AND valid_to IS NULL "
                          "AND EXISTS (SELECT 1 FROM stage_devices sd WHERE sd.device_id = device_versions.device_id "
                          f"AND ({attrs_differ} OR sd.observed_at {ne} device_versions.observed_at))",
        "versions_open": f"INSERT INTO device_versions (source, device_id, valid_from, {version_columns}) "
                         "SELECT :s, sd.device_id, :at, "
                         + ", ".join(f"sd.{c}" for c in DEVICE_STAGE_COLUMNS if c != "device_id")
                         + " FROM stage_devices sd WHERE NOT EXISTS (SELECT 1 FROM device_versions v "
                         "WHERE v.source = :s AND v.device_id = sd.device_id AND v.valid_to IS NULL)",
        "zero_apps": "DELETE FROM app_intervals WHERE source = :s AND first_seen = :at AND removed_at = :at",
        "zero_versions": "DELETE FROM device_versions WHERE source = :s AND valid_from = :at AND valid_to = :at",
        "zero_devices": "DELETE FROM devices WHERE source = :s AND first_seen = :at AND removed_at = :at "
                        "AND NOT EXISTS (SELECT 1 FROM device_versions v WHERE v.source = :s "
                        "AND v.device_id = devices.device_id)",
    }
    if dialect == "postgresql":  # give the parameters their types (PostgreSQL cannot always deduce them)
        steps = {k: re.sub(r":at\b", "CAST(:at AS timestamptz)", re.sub(r":s\b", "CAST(:s AS text)", v))
                 for k, v in steps.items()}
    return steps


_SQL = {"sqlite": _diff_sql("sqlite"), "postgresql": _diff_sql("postgresql")}
_APP_INDEX = next(i for i in t.app_intervals.indexes if i.name == "ix_app_intervals_app")


class _Writer:
    """Runs the staging inserts on a second thread, so SQLite's work overlaps the reader's (SQLite releases the
    GIL while it works). One batch at a time, on the same connection and transaction, in order."""

    def __init__(self, execute: Callable[[str, Sequence[str], list[tuple[Any, ...]]], None]) -> None:
        self.execute = execute
        self.queue: queue.Queue[tuple[str, Sequence[str], list[tuple[Any, ...]]] | None] = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="interdit-staging", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.execute(*item)
                except BaseException as e:  # handed to the importing thread
                    self.error = e

    def submit(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put((table, columns, rows))

    def finish(self) -> None:
        """Wait until every batch is written; raise the error of a failed batch."""
        self.stop()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        if self.thread.is_alive():
            self.queue.put(None)
            self.thread.join()


class _Stager:
    """Streams records into the staging tables of the open transaction, in chunks."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.devices: list[tuple[Any, ...]] = []
        self.apps: list[tuple[Any, ...]] = []
        self.digests: dict[str, int] = {}
        driver = conn.connection.driver_connection
        assert driver is not None
        self.driver: Any = driver
        if self.dialect == "sqlite":  # room for the index pages a big import touches (fewer spills to the WAL)
            conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KB}")
            # the staging tables live in the temporary database, whose page cache is set apart
            conn.exec_driver_sql(f"PRAGMA temp.cache_size=-{STAGE_CACHE_KB}")
        for sql in _SQLITE_STAGING if self.dialect == "sqlite" else _PG_STAGING:
            conn.exec_driver_sql(sql)
        self.writer: _Writer | None = None

    def stage(self, records: Iterable[Record]) -> None:
        if self.dialect == "sqlite":
            self.writer = _Writer(self._execute)
        try:
            self._stage(records)
            if self.writer is not None:
                self.writer.finish()
        finally:
            if self.writer is not None:
                self.writer.stop()
        if self.dialect == "postgresql":
            for sql in _PG_AFTER_STAGING:
                self.conn.exec_driver_sql(sql)

    def _stage(self, records: Iterable[Record]) -> None:
        devices, apps, digests = self.devices, self.apps, self.digests
        plat = {p: p.value for p in Platform}
        when = t.sqlite_text if self.dialect == "sqlite" else utc
        dumps, crc, adler, mask = json.dumps, zlib.crc32, zlib.adler32, _DIGEST_MASK
        append, digest_of, app_type, chunk = apps.append, digests.get, InstalledApp, CHUNK
        for rec in records:
            kind = type(rec)
            if kind is app_type:  # the hot path: millions of rows, every attribute look-up counts
                app = rec.app  # type: ignore[union-attr]
                did: str = rec.device_id  # type: ignore[assignment]
                p, i = app.platform._value_, app.identifier  # `_value_`: `.value` is a property, slower
                n, v, m, s = rec.name, rec.version, rec.managed, rec.state._value_  # type: ignore[union-attr]
                append((did, p, i, n, v, m, s))
                key = f"{p}\x1f{i}\x1f{n}\x1f{v}\x1f{m}\x1f{s}".encode()
                digests[did] = (digest_of(did, 0) + ((crc(key) << 31) ^ adler(key))) & mask
                if len(apps) >= chunk:
                    self._write("stage_apps", APP_STAGE_COLUMNS, apps)
            elif kind is Device:
                assert isinstance(rec, Device)
                devices.append((rec.device_id, plat[rec.platform], rec.ownership.value, rec.management.value,
                                when(rec.observed_at), rec.supervised, rec.user, rec.name, rec.model,
                                rec.os_version, rec.org_unit, dumps(list(rec.groups)), dumps(list(rec.addresses))))
                if len(devices) >= CHUNK:
                    self._write("stage_devices", DEVICE_STAGE_COLUMNS, devices)
            elif not isinstance(rec, Rejection):
                raise TypeError(f"not an inventory record: {rec!r}")
        self._write("stage_apps", APP_STAGE_COLUMNS, apps)
        self._write("stage_devices", DEVICE_STAGE_COLUMNS, devices)
        items = list(digests.items())
        for start in range(0, len(items), CHUNK):
            self._write("stage_digests", ("device_id", "digest"), items[start:start + CHUNK])

    def _write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        batch = list(rows)
        rows.clear()
        if self.writer is not None:
            self.writer.submit(table, columns, batch)
        else:
            self._execute(table, columns, batch)

    def _execute(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        cur = self.driver.cursor()
        try:
            if self.dialect == "sqlite":
                verb = "INSERT" if table == "stage_digests" else "INSERT OR REPLACE"  # the last record wins
                cur.executemany(f"{verb} INTO {table} ({', '.join(columns)}) VALUES "
                                f"({', '.join('?' * len(columns))})", rows)
            else:
                target = "stage_devices_raw" if table == "stage_devices" else table
                with cur.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        finally:
            cur.close()


# -- applying the staged snapshot -------------------------------------------------------------------


def apply(conn: Connection, source: str, fmt: str, tally: Tally, at: datetime, started: datetime,
          clock: Callable[[], datetime]) -> tuple[int, dict[str, int]]:
    """Apply the staged snapshot to the stored history; returns the run's id and its counts."""
    dialect = conn.dialect.name
    sql = _SQL[dialect]
    p: dict[str, Any] = {"s": source, "at": t.sqlite_text(at) if dialect == "sqlite" else at}

    def run(name: str) -> int:
        return int(conn.execute(text(sql[name]), p).rowcount or 0)

    # the first statement on the main database writes, so SQLite takes its write lock here (waiting for
    # another writer if need be) and the rest of the transaction sees a state nobody else changes
    run_id = _new_id(conn.execute(insert(t.import_runs).values(
        source=source, format=fmt, at=at, started_at=started, status="running", read=tally.read,
        accepted=tally.accepted, rejected=tally.rejected, devices=0, apps=0, devices_new=0,
        devices_changed=0, devices_removed=0, apps_opened=0, apps_closed=0, rejections="[]",
    )))
    if dialect == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(source.encode()) - 2**31})
    last = conn.execute(select(func.max(t.import_runs.c.at)).where(
        t.import_runs.c.source == source, t.import_runs.c.status == "ok")).scalar()
    if last is not None and last > at:
        raise StorageError(
            f"the snapshot's time {at.isoformat()} is before the last import of {source!r} "
            f"({last.isoformat()})", where=f"import of {source!r}",
            fix="import snapshots in time order, or pass --at with the time the snapshot was taken")
    same_instant = last is not None and last == at  # imported again at the same time: no zero-length rows
    present = _present_in(conn, source)
    n_devices = int(conn.exec_driver_sql("SELECT count(*) FROM stage_devices").scalar() or 0)
    counts = {"devices": n_devices}
    counts["devices_new"] = run("devices_new") + run("devices_back")
    counts["devices_removed"] = run("devices_removed")
    closed = run("apps_of_removed")
    run("versions_of_removed")
    if present:  # diff the apps of the devices whose app digest moved
        counts["apps"] = int(conn.exec_driver_sql("SELECT count(*) FROM stage_apps").scalar() or 0)
        run("changed_devices")
        if sql["changed_apps"]:
            run("changed_apps")
        closed += run("apps_close")
        if same_instant:
            run("zero_apps")
        counts["apps_opened"] = run("apps_open")
        run("digests_changed")
    else:  # nothing open for this source: every app opens an interval
        if same_instant:
            run("zero_apps")
        # into an empty table (a new database's first import), building the app index once afterwards is
        # several times cheaper than growing it row by row; SQLite readers keep their snapshot meanwhile
        rebuild = dialect == "sqlite" and conn.execute(
            select(t.app_intervals.c.source).limit(1)).first() is None
        if rebuild:
            _APP_INDEX.drop(conn)
        run("apps_open_all")
        if rebuild:  # the sort's memory follows the page cache: keep both within bounds
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SORT_CACHE_KB}")
            _APP_INDEX.create(conn)
        counts["apps"] = counts["apps_opened"] = int(conn.execute(
            select(func.count()).select_from(t.app_intervals).where(
                t.app_intervals.c.source == source, t.app_intervals.c.first_seen == at)).scalar() or 0)
        run("digests_all")
    counts["apps_closed"] = closed
    counts["devices_changed"] = int(conn.execute(text(sql["devices_changed"]), p).scalar() or 0)
    run("versions_close")
    if same_instant:
        run("zero_apps")
        run("zero_versions")
    run("versions_open")
    if same_instant:
        run("zero_devices")
    conn.execute(update(t.import_runs).where(t.import_runs.c.id == run_id).values(
        status="ok", finished_at=clock(), rejections=_rejections_json(tally), **counts))
    return run_id, counts


def _present_in(conn: Connection, source: str) -> bool:
    d = t.devices
    return conn.execute(select(d.c.device_id).where(d.c.source == source, d.c.removed_at.is_(None))
                        .limit(1)).first() is not None


def record_failure(engine: Engine, clock: Callable[[], datetime], source: str, fmt: str, tally: Tally, at: datetime,
                   started: datetime, error: BaseException) -> None:
    """Record a failed run in a short transaction of its own."""
    message = str(error) or type(error).__name__
    try:
        with engine.begin() as conn:
            conn.execute(insert(t.import_runs).values(
                source=source, format=fmt, at=at, started_at=started, finished_at=clock(),
                status="failed", read=tally.read, accepted=tally.accepted, rejected=tally.rejected,
                devices=0, apps=0, devices_new=0, devices_changed=0, devices_removed=0, apps_opened=0,
                apps_closed=0, rejections=_rejections_json(tally), error=message[:2000]))
    except (SQLAlchemyError, DBAPIError):  # the database itself failed: the original error says why
        pass


def _rejections_json(tally: Tally) -> str:
    return json.dumps([{"place": r.place, "reason": r.reason, "fix": r.fix}
                       for r in tally.rejections[:KEEP_REJECTIONS]], ensure_ascii=False)
