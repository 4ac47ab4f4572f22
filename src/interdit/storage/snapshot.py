"""Importing a snapshot: staging tables, the set-based diff against the stored history, app intervals.

The bulk paths use SQLAlchemy Core and the raw DBAPI connection of the same transaction (`executemany` on
SQLite, `COPY ... FROM STDIN` on PostgreSQL): ORM objects for millions of rows would cost minutes and gigabytes.
The transaction itself (and the locking it relies on) is opened by `Repository.import_snapshot`.
"""

from __future__ import annotations

import gc
import json
import queue
import threading
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from interdit.errors import InputError, StorageError
from interdit.model import Device, InstalledApp, Platform, Record, Rejection, Tally, utc
from interdit.storage import tables as t
from interdit.storage.base import (
    CHUNK,
    IMPORT_CACHE_KB,
    SORT_CACHE_KB,
    SORT_THREADS,
    STAGE_CACHE_KB,
    new_id,
)
from interdit.storage.pg_import import analyze_app_intervals, build_primary_key, drop_primary_key
from interdit.storage.pg_stage import PgStageProcess, pg_unique
from interdit.storage.snapshot_sql import (
    APP_STAGE_COLUMNS,
    DEVICE_STAGE_COLUMNS,
    NO_APPS,
    PG_AFTER_STAGING,
    PG_STAGING,
    SQL,
    SQL_UNIQUE_APPS,
    SQLITE_STAGING,
    TEMP_TABLES,
    UNREADABLE,
)
from interdit.storage.stage_process import StageProcess, StageProcessError
from interdit.storage.stage_process import fold as fold_batch

KEEP_REJECTIONS = 100  # rejections recorded with an import run
# an import with at least this many app rows stages them in a child process (`stage_process` on SQLite, `pg_stage`
# on PostgreSQL); below it the process's start-up (about 0.1 s) would cost more than it saves
PROCESS_MIN_ROWS = 100_000
STAGE_SCHEMA = "staged"  # the name the child's file is attached under


@dataclass(frozen=True)
class ImportResult:
    """What one import changed. `apps_opened`/`apps_closed` count app intervals: an app opens when it arrives
    and closes when it is gone; a version or state change updates the open interval (`apps_updated`).

    A snapshot fails closed: `devices_unreadable` devices could not be read in it (a rejected record of theirs)
    and keep their last known state, flagged `unreadable`; `devices_no_apps` came with no app at all from a
    source that lists apps, and are flagged `no_apps_reported`. `removals_held` is true when a rejected device
    record named no device, so no device of the source was marked removed; `closes_held` when a rejected app
    record named no device, so no app interval of the source was closed.
    """

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
    apps_updated: int = 0  # a new version or state within the same presence
    devices_unreadable: int = 0  # kept with their last known state, flagged `unreadable`
    devices_no_apps: int = 0  # flagged `no_apps_reported`
    removals_held: bool = False
    closes_held: bool = False


@dataclass(frozen=True)
class RejectionLimit:
    """How many rejected records a snapshot may hold and still be applied: a count, or a share of the records
    read (`percent`). More than that, and the whole snapshot is refused."""

    count: int | None = None
    percent: float | None = 1.0

    def allowed(self, read: int) -> float:
        if self.count is not None:
            return float(self.count)
        return read * (self.percent or 0.0) / 100.0

    def __str__(self) -> str:
        return f"{self.count:,} records" if self.count is not None else f"{self.percent:g} % of the records read"


@dataclass(frozen=True)
class SnapshotRules:
    """When a snapshot is refused, and what its source says about empty app lists.

    `max_rejected`: None applies every snapshot whatever it rejected. A snapshot that would mark more than
    `SHRINK_SHARE` of a source's devices removed at once (from `SHRINK_MIN_DEVICES` devices) is refused unless
    `allow_shrink`. `empty_app_lists_expected`: the source lists devices without apps on purpose, so a snapshot
    with devices and not one app is not suspicious.
    """

    max_rejected: RejectionLimit | None = RejectionLimit()
    allow_shrink: bool = False
    empty_app_lists_expected: bool = False


SHRINK_SHARE = 0.20
SHRINK_MIN_DEVICES = 10
NO_APPS_MIN_DEVICES = 3  # a snapshot of fewer devices without apps is not suspicious enough to flag


class SnapshotRefused(InputError):
    """The snapshot was not applied (nothing changed): too many rejected records, or too many devices gone."""


__all__ = ["APP_STAGE_COLUMNS", "DEVICE_STAGE_COLUMNS", "NO_APPS", "TEMP_TABLES", "UNREADABLE"]

APP_INDEX = next(i for i in t.app_intervals.indexes if i.name == "ix_app_intervals_app")


@dataclass(frozen=True)
class Unread:
    """What a snapshot could not tie to a device: a rejected device record, or a rejected app record."""

    devices: bool = False  # some device went unread: no device of the source is removed by this snapshot
    apps: bool = False  # some app row went unread: no app interval of the source is closed by this snapshot


class _Writer:
    """Runs the staging inserts on a second thread, so the database's work overlaps the reader's (SQLite and
    psycopg release the GIL while they work). One batch at a time, on the same connection and transaction, in
    order."""

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


def _no_fold(device_id: str, start: int) -> None:
    """SQLite takes the digests per batch instead (`stage_process.fold`)."""


class Stager:
    """Streams records into the staging tables of the open transaction, in chunks."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.devices: list[tuple[Any, ...]] = []
        self.apps: list[tuple[Any, ...]] = []
        self.digests: dict[str, int] = {}
        self.rejected_ids: set[str] = set()  # the devices a rejected record named
        self.unnamed_devices = 0  # rejected device records that named no device
        self.unnamed_apps = 0  # rejected app records that named no device
        self.rejections_seen = 0
        # PostgreSQL stages every app record; when no (device, platform, identifier) came twice, the apply needs
        # no sort to pick the last record of each (`pg_stage.RepeatCheck`, over the staged rows)
        self.apps_unique = False
        driver = conn.connection.driver_connection
        assert driver is not None
        self.driver: Any = driver
        if self.dialect == "sqlite":  # room for the index pages a big import touches (fewer spills to the WAL)
            conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KB}")
            # the staging tables live in the temporary database, whose page cache is set apart
            conn.exec_driver_sql(f"PRAGMA temp.cache_size=-{STAGE_CACHE_KB}")
            # the staging tables are thrown away: no need to overwrite their pages with zeros when they are dropped
            # (the main database keeps the library's own setting)
            conn.exec_driver_sql("PRAGMA temp.secure_delete=OFF")
        for sql in SQLITE_STAGING if self.dialect == "sqlite" else PG_STAGING:
            conn.exec_driver_sql(sql)
        self.writer: _Writer | None = None
        # the first app rows wait here; past PROCESS_MIN_ROWS a child process takes the app staging table (see
        # `stage_process`, `pg_stage`), below it they go to the temporary table like every other batch
        self.pending: list[list[tuple[Any, ...]]] | None = []
        self.pending_rows = 0
        self.process: StageProcess | PgStageProcess | None = None

    def stage(self, records: Iterable[Record]) -> None:
        self.writer = _Writer(self._execute)  # SQLite and psycopg's COPY both release the GIL while they work
        # SQLite: no cyclic garbage collection while the records stream (a record and its row make no cycle):
        # it scanned every young record and row tuple, some 6 % of the reading
        paused = self.dialect == "sqlite" and gc.isenabled()
        if paused:
            gc.disable()
        try:
            self._stage(records)
            if self.dialect == "postgresql" and self.process is None:
                self.apps_unique = pg_unique(self.pending or [])
            for batch in self.pending or ():  # a small snapshot: its app rows go to the temporary table
                self.writer.submit("stage_apps", APP_STAGE_COLUMNS, batch)
            self.pending = None
            self.writer.finish()
        finally:
            if paused:
                gc.enable()
            self.writer.stop()
        if self.process is not None:
            try:
                self.process.finish()
            except StageProcessError as e:
                raise StorageError(f"the app records could not be staged: {e}", where="import",
                                   fix=getattr(self.process, "fix", "check the free space of the temporary folder "
                                               "(TMPDIR), then import again")) from None
            # the child's tables replace the temporary ones under the same names
            if isinstance(self.process, PgStageProcess):
                self.apps_unique = self.process.apps_unique
                self.process.attach(self.conn)
            else:
                self.conn.exec_driver_sql("DROP TABLE temp.stage_apps")
                self.conn.exec_driver_sql("DROP TABLE temp.stage_digests")
                self.conn.exec_driver_sql(f"ATTACH DATABASE ? AS {STAGE_SCHEMA}", (self.process.path,))
        if self.dialect == "postgresql":
            for sql in PG_AFTER_STAGING:  # the child analysed its own table
                if self.process is None or sql != "ANALYZE stage_apps":
                    self.conn.exec_driver_sql(sql)

    def _stage(self, records: Iterable[Record]) -> None:
        devices, apps = self.devices, self.apps
        plat = {p: p.value for p in Platform}
        when = t.sqlite_text if self.dialect == "sqlite" else utc
        dumps = json.dumps
        append, app_type, chunk, fold = apps.append, InstalledApp, CHUNK, self._fold
        if self.dialect == "sqlite":  # digests are taken per batch (`stage_process.fold`), by the child if any
            fold = _no_fold
        last: str | None = None  # the device whose app records are being read, from `start` in `apps`
        start = 0
        for rec in records:
            kind = type(rec)
            if kind is app_type:  # the hot path: millions of rows, every attribute look-up counts
                app = rec.app  # type: ignore[union-attr]
                did: str = rec.device_id  # type: ignore[assignment]
                if did != last:
                    if last is not None:
                        fold(last, start)
                    last, start = did, len(apps)
                p, i = app.platform._value_, app.identifier  # `_value_`: `.value` is a property, slower
                n, v, m, s = rec.name, rec.version, rec.managed, rec.state._value_  # type: ignore[union-attr]
                append((did, p, i, n, v, m, s))
                if len(apps) >= chunk:
                    fold(did, start)
                    start = 0
                    self._write("stage_apps", APP_STAGE_COLUMNS, apps)
            elif kind is Device:
                assert isinstance(rec, Device)
                gap, labels = rec.coverage_gap, rec.org_labels
                devices.append((rec.device_id, plat[rec.platform], rec.ownership.value, rec.management.value,
                                when(rec.observed_at), rec.supervised, rec.user, rec.name, rec.model,
                                rec.os_version, rec.org_unit, dumps(list(rec.groups)), dumps(list(rec.addresses)),
                                None if gap is None else gap.value, dumps(labels) if labels else "[]"))
                if len(devices) >= CHUNK:
                    self._write("stage_devices", DEVICE_STAGE_COLUMNS, devices)
            elif isinstance(rec, Rejection):
                self._rejected(rec)
            else:
                raise TypeError(f"not an inventory record: {rec!r}")
        if last is not None:
            fold(last, start)
        self._write("stage_apps", APP_STAGE_COLUMNS, apps)
        self._write("stage_devices", DEVICE_STAGE_COLUMNS, devices)
        if self.dialect == "sqlite":  # a small SQLite snapshot: no child took its app rows and their digests
            for batch in self.pending or ():
                fold_batch(batch, self.digests)
        items = list(self.digests.items())
        for start in range(0, len(items), CHUNK):
            self._write("stage_digests", ("device_id", "digest"), items[start:start + CHUNK])
        named = [(d,) for d in sorted(self.rejected_ids)]
        for start in range(0, len(named), CHUNK):
            self._write("stage_rejected", ("device_id",), named[start:start + CHUNK])

    def _fold(self, device_id: str, start: int) -> None:
        """Add the app records of `device_id` from `start` in the current batch to the device's digest (see
        `stage_process.fold`, which SQLite calls per batch instead)."""
        fold_batch(self.apps[start:], self.digests)

    def _rejected(self, rejection: Rejection) -> None:
        self.rejections_seen += 1
        if rejection.device_id:
            self.rejected_ids.add(rejection.device_id)
        elif rejection.kind == "app":
            self.unnamed_apps += 1
        elif rejection.kind == "record":  # could have been a device or an app (a file cut short): hold both
            self.unnamed_apps += 1
            self.unnamed_devices += 1
        else:
            self.unnamed_devices += 1

    def seen(self, tally: Tally) -> Unread:
        """What the snapshot could not read. Rejections the reader counted but never handed over (so their
        devices are unknown) count as unnamed device records: the snapshot fails closed."""
        hidden = max(0, tally.rejected - self.rejections_seen)
        return Unread(bool(self.unnamed_devices or hidden), bool(self.unnamed_apps))

    def _write(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        batch = list(rows)
        rows.clear()
        if table == "stage_apps" and self.pending is not None:
            self._stage_apps(batch)
            return
        if self.writer is not None:
            self.writer.submit(table, columns, batch)
        else:
            self._execute(table, columns, batch)

    def _stage_apps(self, batch: list[tuple[Any, ...]]) -> None:
        """App rows: held until there are enough of them to be worth a second process."""
        if self.process is not None:
            self._to_process(batch)
            return
        assert self.pending is not None
        self.pending.append(batch)
        self.pending_rows += len(batch)
        if self.pending_rows >= PROCESS_MIN_ROWS:
            self.process = StageProcess(STAGE_CACHE_KB) if self.dialect == "sqlite" else PgStageProcess(self.conn)
            for held in self.pending:
                self._to_process(held)
            self.pending.clear()

    def _to_process(self, batch: list[tuple[Any, ...]]) -> None:
        assert self.process is not None
        try:
            self.process.submit(batch)
        except StageProcessError as e:
            raise StorageError(f"the app records could not be staged: {e}", where="import",
                               fix=getattr(self.process, "fix", "check the free space of the temporary folder "
                                           "(TMPDIR), then import again")) from None

    def close(self) -> None:
        """After the import's transaction (committed or not): detach and remove the child's staging file."""
        if self.process is None:
            return
        if isinstance(self.process, PgStageProcess):
            self.process.close(self.conn)
            self.process = None
            return
        try:
            attached = any(row[1] == STAGE_SCHEMA for row in self.conn.exec_driver_sql("PRAGMA database_list"))
            if attached:
                self.conn.exec_driver_sql(f"DETACH DATABASE {STAGE_SCHEMA}")
        finally:
            self.process.close()
            self.process = None

    def _execute(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        cur = self.driver.cursor()
        try:
            if self.dialect == "sqlite":
                verb = "INSERT" if table in ("stage_digests", "stage_rejected") else "INSERT OR REPLACE"  # last wins
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
          clock: Callable[[], datetime], unread: Unread | None = None,
          rules: SnapshotRules | None = None, apps_unique: bool = False) -> tuple[int, dict[str, Any]]:
    """Apply the staged snapshot to the stored history; returns the run's id and its counts.

    `apps_unique`: no app record was staged twice (PostgreSQL then skips picking the last of each; were it
    wrong, the primary key would refuse the import, never store a wrong row). Raises `SnapshotRefused` (and
    changes nothing) when the snapshot breaks `rules`."""
    dialect = conn.dialect.name
    sql = SQL_UNIQUE_APPS[dialect] if apps_unique else SQL[dialect]
    p: dict[str, Any] = {"s": source, "at": t.sqlite_text(at) if dialect == "sqlite" else at}
    unread = unread or Unread()
    rules = rules or SnapshotRules()

    def run(name: str) -> int:
        return int(conn.execute(text(sql[name]), p).rowcount or 0)

    def scalar(name_or_sql: str) -> int:
        return int(conn.execute(text(sql.get(name_or_sql, name_or_sql)), p).scalar() or 0)

    # the first statement on the main database writes, so SQLite takes its write lock here (waiting for
    # another writer if need be) and the rest of the transaction sees a state nobody else changes
    run_id = new_id(conn.execute(insert(t.import_runs).values(
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
    _check_rejections(source, tally, rules)
    same_instant = last is not None and last == at  # imported again at the same time: no zero-length rows
    present = _present_in(conn, source)
    n_devices = scalar("SELECT count(*) FROM stage_devices")
    n_apps = scalar("SELECT count(*) FROM stage_apps")
    counts: dict[str, Any] = {"devices": n_devices, "closes_held": unread.apps and present}
    unreadable = run("unreadable_staged")  # read, but a record of theirs was rejected: their list is incomplete
    counts["devices_no_apps"] = (run("no_apps_staged") if n_apps == 0 and n_devices >= NO_APPS_MIN_DEVICES
                                 and not rules.empty_app_lists_expected else 0)
    before = scalar("present") if present else 0
    counts["devices_new"] = run("devices_new") + run("devices_back")
    counts["devices_removed"] = 0 if unread.devices else run("devices_removed")
    if (not rules.allow_shrink and before >= SHRINK_MIN_DEVICES
            and counts["devices_removed"] > SHRINK_SHARE * before):
        raise _shrink_refusal(source, counts["devices_removed"], before)
    closed = run("apps_of_removed")
    run("versions_of_removed")
    kept = run("kept")  # absent but not removed: unreadable in this snapshot, their last state kept
    counts["removals_held"] = unread.devices and kept > 0
    if kept:
        run("kept_close")
        run("kept_open")
    counts["devices_unreadable"] = unreadable + kept
    if present:  # diff the apps of the devices whose app digest moved
        counts["apps"] = n_apps
        run("changed_devices")
        if sql["changed_apps"]:
            run("changed_apps")
        if not unread.apps:
            run("closable")
        closed += run("apps_close")
        if same_instant:
            run("zero_apps")
        moved = run("moved")
        if moved:
            run("app_versions_prior")
            run("app_versions_new")
            if same_instant:
                run("app_versions_redo")
            run("apps_update")
        counts["apps_updated"] = moved
        counts["apps_opened"] = run("apps_open")
        run("digests_changed")
        run("digests_unclosed")
    else:  # nothing open for this source: every app opens an interval
        if same_instant:
            run("zero_apps")
        # into an empty table (a new database's first import), building the app index once afterwards is
        # several times cheaper than growing it row by row (on both databases); SQLite readers keep their
        # snapshot meanwhile, PostgreSQL readers of app_intervals wait for the commit (there is nothing to read)
        rebuild = (conn.execute(select(t.app_intervals.c.source).limit(1)).first() is None
                   and (dialect == "sqlite" or _table_to_ourselves(conn, t.app_intervals.name)))
        if rebuild:
            APP_INDEX.drop(conn)
            if dialect == "postgresql":
                drop_primary_key(conn)
        opened = run("apps_open_all")  # every row it inserted is an interval opened now (nothing was open)
        if rebuild:  # the sort's memory follows the page cache: keep both within bounds
            if dialect == "sqlite":
                conn.exec_driver_sql(f"PRAGMA cache_size=-{SORT_CACHE_KB}")
                conn.exec_driver_sql(f"PRAGMA threads={SORT_THREADS}")
            else:
                build_primary_key(conn)
            APP_INDEX.create(conn)
            if dialect == "postgresql":
                analyze_app_intervals(conn)
        counts["apps"] = counts["apps_opened"] = opened
        counts["apps_updated"] = 0
        run("digests_all")
    counts["apps_closed"] = closed
    counts["devices_changed"] = scalar("devices_changed")
    run("versions_close")
    if same_instant:
        run("zero_apps")
        run("zero_versions")
    run("versions_open")
    if same_instant:
        run("zero_devices")
    stored = {k: v for k, v in counts.items() if k in t.import_runs.c}
    conn.execute(update(t.import_runs).where(t.import_runs.c.id == run_id).values(
        status="ok", finished_at=clock(), rejections=_rejections_json(tally), **stored))
    return run_id, counts


def _table_to_ourselves(conn: Connection, table: str) -> bool:
    """PostgreSQL: lock `table` for this transaction alone when no other one uses it, else say no at once.
    Two first imports of two sources at the same time would otherwise each wait for the other's lock to drop the
    index (a deadlock); the one that cannot have the table grows the index row by row instead."""
    savepoint = conn.begin_nested()
    try:
        conn.exec_driver_sql(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE NOWAIT")
    except DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def _check_rejections(source: str, tally: Tally, rules: SnapshotRules) -> None:
    limit = rules.max_rejected
    if limit is None or tally.rejected <= limit.allowed(tally.read):
        return
    share = 100.0 * tally.rejected / tally.read if tally.read else 100.0
    first = "; ".join(f"{r.place}: {r.reason}" for r in tally.rejections[:5])
    raise SnapshotRefused(
        f"{tally.rejected:,} of {tally.read:,} records were rejected ({share:.1f} %), more than the limit of "
        f"{limit}; the snapshot was refused and nothing changed / {tally.rejected:,} enregistrements rejetés sur "
        f"{tally.read:,}, au-delà de la limite : l'instantané est refusé, rien n'a changé. First rejections / "
        f"premiers rejets: {first}", where=f"import of {source!r}",
        fix="correct the export where the rejections say (or save it again as UTF-8), then import it again; if "
            "those records really cannot be read, raise the limit with --max-rejected (a count, e.g. 50, or a "
            "percentage, e.g. 5%; max_rejected in the API)")


def _shrink_refusal(source: str, removed: int, before: int) -> SnapshotRefused:
    return SnapshotRefused(
        f"this snapshot would mark {removed:,} of the {before:,} devices of {source!r} removed at once "
        f"({100.0 * removed / before:.0f} %, more than {SHRINK_SHARE:.0%}); that looks like a broken or partial "
        f"export, so it was refused and nothing changed / cet instantané retirerait {removed:,} des {before:,} "
        f"appareils d'un coup : export incomplet ou cassé ? Il est refusé, rien n'a changé",
        where=f"import of {source!r}",
        fix="check that the export is complete (every page, every file); if those devices really left, import it "
            "again with --allow-shrink (allow_shrink=true in the API)")


def _present_in(conn: Connection, source: str) -> bool:
    d = t.devices
    return conn.execute(select(d.c.device_id).where(d.c.source == source, d.c.removed_at.is_(None))
                        .limit(1)).first() is not None


def record_failure(engine: Engine, clock: Callable[[], datetime], source: str, fmt: str, tally: Tally, at: datetime,
                   started: datetime, error: BaseException) -> None:
    """Record a failed (or refused) run in a short transaction of its own."""
    message = str(error) or type(error).__name__
    try:
        with engine.begin() as conn:
            conn.execute(insert(t.import_runs).values(
                source=source, format=fmt, at=at, started_at=started, finished_at=clock(),
                status="refused" if isinstance(error, SnapshotRefused) else "failed", read=tally.read,
                accepted=tally.accepted, rejected=tally.rejected,
                devices=0, apps=0, devices_new=0, devices_changed=0, devices_removed=0, apps_opened=0,
                apps_closed=0, rejections=_rejections_json(tally), error=message[:2000]))
    except (SQLAlchemyError, DBAPIError):  # the database itself failed: the original error says why
        pass


def _rejections_json(tally: Tally) -> str:
    return json.dumps([{"place": r.place, "reason": r.reason, "fix": r.fix,
                        **({"device_id": r.device_id} if r.device_id else {}),
                        **({"kind": r.kind} if r.kind != "device" else {})}
                       for r in tally.rejections[:KEEP_REJECTIONS]], ensure_ascii=False)
