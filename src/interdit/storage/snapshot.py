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

from interdit.errors import InputError, StorageError
from interdit.inventory.base import Record, Tally
from interdit.model import CoverageReason, Device, InstalledApp, Management, Platform, Rejection, utc
from interdit.storage import tables as t
from interdit.storage.base import CHUNK, IMPORT_CACHE_KB, SORT_CACHE_KB, STAGE_CACHE_KB, _new_id

KEEP_REJECTIONS = 100  # rejections recorded with an import run


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


# -- staging and diff SQL ---------------------------------------------------------------------------
#
# An import streams the snapshot into temporary staging tables, then applies it with set-based SQL:
#   stage_devices  one row per device (the last record of a device wins)
#   stage_apps     one row per app on a device (SQLite: keyed, the last record wins; PostgreSQL: every record
#                  in stream order, the last one picked when applied)
#   stage_digests  per device, a digest of its app records, computed while streaming
#   stage_rejected the devices a rejected record named (device or app record): unreadable in this snapshot
# Apps are diffed only for the devices whose digest differs from the one stored with the device (new,
# returning and changed devices), so re-importing a mostly unchanged fleet touches few rows.
#
# Failing closed: a device absent from the snapshot is removed only when the snapshot could have read it (no
# rejected record names it, and no rejected device record went unnamed); otherwise it keeps its last state,
# flagged `unreadable`. An app interval closes only on positive evidence: the device read cleanly, with an app
# list that shows the whole device (or the same partial view as before), without the app (`closable_devices`).
# A device whose app list was not complete keeps its apps open and no digest, so the next snapshot diffs it.

DEVICE_STAGE_COLUMNS = ("device_id", "platform", "ownership", "management", "observed_at", "supervised", '"user"',
                        "name", "model", "os_version", "org_unit", '"groups"', "addresses", "coverage_gap",
                        "org_labels")
APP_STAGE_COLUMNS = ("device_id", "platform", "identifier", "name", "version", "managed", "state")
_DEVICE_ATTRS = ("platform", "ownership", "management", "supervised", '"user"', "name", "model", "os_version",
                 "org_unit", '"groups"', "addresses", "coverage_gap", "org_labels")
_VERSION_COLUMNS = ", ".join(c for c in DEVICE_STAGE_COLUMNS if c != "device_id")
_APP_COLUMNS = ", ".join(APP_STAGE_COLUMNS)
_TEMP_TABLES = ("stage_devices_raw", "stage_devices", "stage_apps", "stage_digests", "stage_rejected",
                "changed_devices", "changed_apps", "closable_devices", "kept_devices")
_DIGEST_MASK = (1 << 63) - 1
# the gaps that mean the source gave no usable app list for the device: its apps are never closed by it
_NO_LIST = tuple(g.value for g in (CoverageReason.NOT_REPORTED, CoverageReason.APP_REPORTS_DISABLED,
                                   CoverageReason.NO_APPS_REPORTED, CoverageReason.UNREADABLE))
_LISTS_APPS = tuple(m.value for m in (Management.FULLY_MANAGED, Management.WORK_PROFILE, Management.USER_ENROLMENT))
UNREADABLE = CoverageReason.UNREADABLE.value
NO_APPS = CoverageReason.NO_APPS_REPORTED.value

_SQLITE_STAGING = (
    *(f"DROP TABLE IF EXISTS temp.{name}" for name in _TEMP_TABLES),
    'CREATE TEMP TABLE stage_devices (device_id TEXT PRIMARY KEY NOT NULL, platform TEXT NOT NULL, '
    'ownership TEXT NOT NULL, management TEXT NOT NULL, observed_at TEXT NOT NULL, supervised INTEGER, '
    '"user" TEXT, name TEXT, model TEXT, os_version TEXT, org_unit TEXT, "groups" TEXT NOT NULL, '
    'addresses TEXT NOT NULL, coverage_gap TEXT, org_labels TEXT NOT NULL) WITHOUT ROWID',
    "CREATE TEMP TABLE stage_apps (device_id TEXT NOT NULL, platform TEXT NOT NULL, identifier TEXT NOT NULL, "
    "name TEXT, version TEXT, managed INTEGER, state TEXT NOT NULL, "
    "PRIMARY KEY (device_id, platform, identifier)) WITHOUT ROWID",
    "CREATE TEMP TABLE stage_digests (device_id TEXT PRIMARY KEY NOT NULL, digest INTEGER NOT NULL) WITHOUT ROWID",
    "CREATE TEMP TABLE stage_rejected (device_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID",
    "CREATE TEMP TABLE changed_devices (device_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID",
    "CREATE TEMP TABLE closable_devices (device_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID",
    "CREATE TEMP TABLE kept_devices (device_id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID",
)
_PG_STAGING = (
    "DROP TABLE IF EXISTS " + ", ".join(f"pg_temp.{name}" for name in _TEMP_TABLES),
    'CREATE TEMP TABLE stage_devices_raw (seq bigint GENERATED ALWAYS AS IDENTITY, device_id text NOT NULL, '
    'platform text NOT NULL, ownership text NOT NULL, management text NOT NULL, '
    'observed_at timestamptz NOT NULL, supervised boolean, "user" text, name text, model text, os_version text, '
    'org_unit text, "groups" text NOT NULL, addresses text NOT NULL, coverage_gap text, '
    'org_labels text NOT NULL) ON COMMIT DROP',
    "CREATE TEMP TABLE stage_apps (seq bigint GENERATED ALWAYS AS IDENTITY, device_id text NOT NULL, "
    "platform text NOT NULL, identifier text NOT NULL, name text, version text, managed boolean, "
    "state text NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE stage_digests (device_id text PRIMARY KEY, digest bigint NOT NULL) ON COMMIT DROP",
    "CREATE TEMP TABLE stage_rejected (device_id text PRIMARY KEY) ON COMMIT DROP",
    "CREATE TEMP TABLE changed_devices (device_id text PRIMARY KEY) ON COMMIT DROP",
    "CREATE TEMP TABLE closable_devices (device_id text PRIMARY KEY) ON COMMIT DROP",
    "CREATE TEMP TABLE kept_devices (device_id text PRIMARY KEY) ON COMMIT DROP",
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


def _quoted(values: Sequence[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _diff_sql(dialect: str) -> dict[str, str]:
    """The set-based steps of an import, for one dialect."""
    ne = "IS NOT" if dialect == "sqlite" else "IS DISTINCT FROM"  # null-safe "differs"
    same_app = ("sa.device_id = {t}.device_id AND sa.platform = {t}.platform AND sa.identifier = {t}.identifier")
    app_same = same_app.format(t="app_intervals")
    app_moved = " OR ".join(f"sa.{c} {ne} app_intervals.{c}" for c in ("version", "managed", "name", "state"))
    version_moved = f"sa.version {ne} a.version"
    attrs_differ = " OR ".join(f"sd.{c} {ne} device_versions.{c}" for c in _DEVICE_ATTRS)
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
    open_changed = ("WHERE source = :s AND removed_at IS NULL "
                    "AND device_id IN (SELECT device_id FROM changed_devices)")
    moved_app = f"FROM {apps_of_changed} sa WHERE {app_same} AND ({app_moved})"
    a_moved = (f"EXISTS (SELECT 1 FROM {apps_of_changed} sa WHERE {same_app.format(t='a')} AND {version_moved})")
    steps = {
        "unreadable_staged": f"UPDATE stage_devices SET coverage_gap = '{UNREADABLE}' "
                             "WHERE device_id IN (SELECT device_id FROM stage_rejected)",
        "no_apps_staged": f"UPDATE stage_devices SET coverage_gap = '{NO_APPS}' WHERE coverage_gap IS NULL",
        "present": "SELECT count(*) FROM devices WHERE source = :s AND removed_at IS NULL",
        "devices_new": "INSERT INTO devices (source, device_id, first_seen) SELECT :s, sd.device_id, :at "
                       "FROM stage_devices sd WHERE NOT EXISTS (SELECT 1 FROM devices d "
                       "WHERE d.source = :s AND d.device_id = sd.device_id)",
        "devices_back": "UPDATE devices SET removed_at = NULL WHERE source = :s AND removed_at IS NOT NULL "
                        "AND device_id IN (SELECT device_id FROM stage_devices)",
        "devices_removed": "UPDATE devices SET removed_at = :at, apps_digest = NULL WHERE source = :s "
                           "AND removed_at IS NULL AND device_id NOT IN (SELECT device_id FROM stage_devices) "
                           "AND device_id NOT IN (SELECT device_id FROM stage_rejected)",
        "apps_of_removed": f"UPDATE app_intervals SET removed_at = :at, last_seen = {_OPEN_VERSION_OBSERVED} "
                           "WHERE source = :s AND removed_at IS NULL AND device_id IN "
                           "(SELECT device_id FROM devices WHERE source = :s AND removed_at = :at)",
        "versions_of_removed": "UPDATE device_versions SET valid_to = :at WHERE source = :s AND valid_to IS NULL "
                               "AND device_id IN (SELECT device_id FROM devices WHERE source = :s "
                               "AND removed_at = :at)",
        # present, absent from the snapshot, not removed: kept with their last state, flagged unreadable
        "kept": "INSERT INTO kept_devices SELECT device_id FROM devices WHERE source = :s AND removed_at IS NULL "
                "AND device_id NOT IN (SELECT device_id FROM stage_devices)",
        "kept_close": "UPDATE device_versions SET valid_to = :at WHERE source = :s AND valid_to IS NULL "
                      f"AND coverage_gap {ne} '{UNREADABLE}' "
                      "AND device_id IN (SELECT device_id FROM kept_devices)",
        "kept_open": f"INSERT INTO device_versions (source, device_id, valid_from, {_VERSION_COLUMNS}) "
                     "SELECT source, device_id, :at, "
                     + ", ".join(f"'{UNREADABLE}'" if c == "coverage_gap" else c
                                 for c in DEVICE_STAGE_COLUMNS if c != "device_id")
                     + " FROM device_versions v WHERE source = :s AND valid_to = :at AND valid_from = "
                     "(SELECT max(w.valid_from) FROM device_versions w WHERE w.source = :s "
                     "AND w.device_id = v.device_id AND w.valid_to = :at) "
                     "AND device_id IN (SELECT device_id FROM kept_devices) AND NOT EXISTS (SELECT 1 "
                     "FROM device_versions o WHERE o.source = :s AND o.device_id = v.device_id "
                     "AND o.valid_to IS NULL)",
        "apps_open_all": open_all,
        "digests_all": "UPDATE devices SET apps_digest = COALESCE((SELECT g.digest FROM stage_digests g "
                       "WHERE g.device_id = devices.device_id), 0) WHERE source = :s "
                       "AND device_id IN (SELECT device_id FROM stage_devices)",
        "changed_devices": "INSERT INTO changed_devices SELECT sd.device_id FROM stage_devices sd "
                           "JOIN devices d ON d.source = :s AND d.device_id = sd.device_id "
                           "LEFT JOIN stage_digests g ON g.device_id = sd.device_id "
                           "WHERE d.apps_digest IS NULL OR d.apps_digest <> COALESCE(g.digest, 0)",
        "changed_apps": changed_apps,
        # positive evidence of removal: read cleanly, an app list of the whole device, or of the same partial
        # view as the stored version (a work profile that drops a work app), without the app
        "closable": "INSERT INTO closable_devices SELECT sd.device_id FROM stage_devices sd "
                    "WHERE sd.device_id IN (SELECT device_id FROM changed_devices) "
                    f"AND (sd.coverage_gap IS NULL OR sd.coverage_gap NOT IN ({_quoted(_NO_LIST)})) "
                    f"AND sd.management IN ({_quoted(_LISTS_APPS)}) "
                    f"AND ((sd.coverage_gap IS NULL AND sd.management = '{Management.FULLY_MANAGED.value}') "
                    "OR EXISTS (SELECT 1 FROM device_versions v WHERE v.source = :s AND v.device_id = sd.device_id "
                    "AND v.valid_to IS NULL AND v.management = sd.management "
                    f"AND NOT (v.coverage_gap {ne} sd.coverage_gap)))",
        "apps_close": f"UPDATE app_intervals SET removed_at = :at, last_seen = {_OPEN_VERSION_OBSERVED} "
                      "WHERE source = :s AND removed_at IS NULL "
                      "AND device_id IN (SELECT device_id FROM closable_devices) "
                      f"AND NOT EXISTS (SELECT 1 FROM {apps_of_changed} sa WHERE {app_same})",
        # a new version within the same presence: the version it had so far is kept as evidence first
        "app_versions_prior": "INSERT INTO app_versions (source, device_id, platform, identifier, first_seen, "
                              "interval_first_seen, version) SELECT a.source, a.device_id, a.platform, a.identifier, "
                              "a.first_seen, a.first_seen, a.version FROM app_intervals a WHERE a.source = :s "
                              "AND a.removed_at IS NULL AND a.device_id IN (SELECT device_id FROM changed_devices) "
                              f"AND {a_moved} AND NOT EXISTS (SELECT 1 FROM app_versions x WHERE x.source = :s "
                              "AND x.device_id = a.device_id AND x.platform = a.platform "
                              "AND x.identifier = a.identifier AND x.interval_first_seen = a.first_seen)",
        "app_versions_new": "INSERT INTO app_versions (source, device_id, platform, identifier, first_seen, "
                            "interval_first_seen, version) SELECT a.source, a.device_id, a.platform, a.identifier, "
                            f":at, a.first_seen, (SELECT sa.version FROM {apps_of_changed} sa "
                            f"WHERE {same_app.format(t='a')}) FROM app_intervals a WHERE a.source = :s "
                            "AND a.removed_at IS NULL AND a.device_id IN (SELECT device_id FROM changed_devices) "
                            f"AND {a_moved} AND NOT EXISTS (SELECT 1 FROM app_versions x WHERE x.source = :s "
                            "AND x.device_id = a.device_id AND x.platform = a.platform "
                            "AND x.identifier = a.identifier AND x.first_seen = :at)",
        "app_versions_redo": f"UPDATE app_versions SET version = (SELECT sa.version FROM {apps_of_changed} sa "
                             f"WHERE {same_app.format(t='app_versions')}) WHERE source = :s AND first_seen = :at "
                             "AND device_id IN (SELECT device_id FROM changed_devices) AND EXISTS (SELECT 1 "
                             f"FROM {apps_of_changed} sa WHERE {same_app.format(t='app_versions')} "
                             f"AND sa.version {ne} app_versions.version)",
        "apps_update": "UPDATE app_intervals SET "
                       + ", ".join(f"{c} = (SELECT sa.{c} FROM {apps_of_changed} sa WHERE {app_same})"
                                   for c in ("version", "managed", "name", "state"))
                       + f" {open_changed} AND EXISTS (SELECT 1 {moved_app})",
        "apps_open": _INSERT_APPS + "SELECT :s, sa.device_id, sa.platform, sa.identifier, sa.name, sa.version, "
                     f"sa.managed, sa.state, :at FROM {apps_of_changed} sa WHERE sa.device_id IN "
                     "(SELECT device_id FROM changed_devices) AND NOT EXISTS (SELECT 1 FROM app_intervals a "
                     "WHERE a.source = :s AND a.device_id = sa.device_id AND a.platform = sa.platform "
                     "AND a.identifier = sa.identifier AND a.removed_at IS NULL)",
        "digests_changed": "UPDATE devices SET apps_digest = COALESCE((SELECT g.digest FROM stage_digests g "
                           "WHERE g.device_id = devices.device_id), 0) WHERE source = :s "
                           "AND device_id IN (SELECT device_id FROM closable_devices)",
        # apps kept open beyond the device's list: no digest, so the next snapshot diffs the device again
        "digests_unclosed": "UPDATE devices SET apps_digest = NULL WHERE source = :s "
                            "AND device_id IN (SELECT device_id FROM changed_devices) "
                            "AND device_id NOT IN (SELECT device_id FROM closable_devices)",
        "devices_changed": "SELECT count(*) FROM device_versions WHERE source = :s AND valid_to IS NULL "
                           "AND EXISTS (SELECT 1 FROM stage_devices sd WHERE sd.device_id = device_versions.device_id "
                           f"AND ({attrs_differ}))",
        "versions_close": "UPDATE device_versions SET valid_to = :at WHERE source = :s AND valid_to IS NULL "
                          "AND EXISTS (SELECT 1 FROM stage_devices sd WHERE sd.device_id = device_versions.device_id "
                          f"AND ({attrs_differ} OR sd.observed_at {ne} device_versions.observed_at))",
        "versions_open": f"INSERT INTO device_versions (source, device_id, valid_from, {_VERSION_COLUMNS}) "
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


@dataclass(frozen=True)
class Unread:
    """What a snapshot could not tie to a device: a rejected device record, or a rejected app record."""

    devices: bool = False  # some device went unread: no device of the source is removed by this snapshot
    apps: bool = False  # some app row went unread: no app interval of the source is closed by this snapshot


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
        self.rejected_ids: set[str] = set()  # the devices a rejected record named
        self.unnamed_devices = 0  # rejected device records that named no device
        self.unnamed_apps = 0  # rejected app records that named no device
        self.rejections_seen = 0
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
        self._write("stage_apps", APP_STAGE_COLUMNS, apps)
        self._write("stage_devices", DEVICE_STAGE_COLUMNS, devices)
        items = list(digests.items())
        for start in range(0, len(items), CHUNK):
            self._write("stage_digests", ("device_id", "digest"), items[start:start + CHUNK])
        named = [(d,) for d in sorted(self.rejected_ids)]
        for start in range(0, len(named), CHUNK):
            self._write("stage_rejected", ("device_id",), named[start:start + CHUNK])

    def _rejected(self, rejection: Rejection) -> None:
        self.rejections_seen += 1
        if rejection.device_id:
            self.rejected_ids.add(rejection.device_id)
        elif rejection.kind == "app":
            self.unnamed_apps += 1
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
        if self.writer is not None:
            self.writer.submit(table, columns, batch)
        else:
            self._execute(table, columns, batch)

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
          rules: SnapshotRules | None = None) -> tuple[int, dict[str, Any]]:
    """Apply the staged snapshot to the stored history; returns the run's id and its counts.

    Raises `SnapshotRefused` (and changes nothing) when the snapshot breaks `rules`."""
    dialect = conn.dialect.name
    sql = _SQL[dialect]
    p: dict[str, Any] = {"s": source, "at": t.sqlite_text(at) if dialect == "sqlite" else at}
    unread = unread or Unread()
    rules = rules or SnapshotRules()

    def run(name: str) -> int:
        return int(conn.execute(text(sql[name]), p).rowcount or 0)

    def scalar(name_or_sql: str) -> int:
        return int(conn.execute(text(sql.get(name_or_sql, name_or_sql)), p).scalar() or 0)

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
    _check_rejections(source, tally, rules)
    same_instant = last is not None and last == at  # imported again at the same time: no zero-length rows
    present = _present_in(conn, source)
    n_devices = scalar("SELECT count(*) FROM stage_devices")
    n_apps = scalar("SELECT count(*) FROM stage_apps")
    counts: dict[str, Any] = {"devices": n_devices, "removals_held": unread.devices, "closes_held": unread.apps}
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
        run("app_versions_prior")
        run("app_versions_new")
        if same_instant:
            run("app_versions_redo")
        counts["apps_updated"] = run("apps_update")
        counts["apps_opened"] = run("apps_open")
        run("digests_changed")
        run("digests_unclosed")
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
            "percentage, e.g. 5%)")


def _shrink_refusal(source: str, removed: int, before: int) -> SnapshotRefused:
    return SnapshotRefused(
        f"this snapshot would mark {removed:,} of the {before:,} devices of {source!r} removed at once "
        f"({100.0 * removed / before:.0f} %, more than {SHRINK_SHARE:.0%}); that looks like a broken or partial "
        f"export, so it was refused and nothing changed / cet instantané retirerait {removed:,} des {before:,} "
        f"appareils d'un coup : export incomplet ou cassé ? Il est refusé, rien n'a changé",
        where=f"import of {source!r}",
        fix="check that the export is complete (every page, every file); if those devices really left, import it "
            "again with --allow-shrink")


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
