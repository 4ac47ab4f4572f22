"""The repository: every read and write of the inventory history, import runs, evaluations and findings.

SQLite (a file, the default) and PostgreSQL (by URL) run the same set-based SQL. The bulk paths (staging a
snapshot, diffing it against the stored history) use SQLAlchemy Core and the raw DBAPI connection of the
same transaction (`executemany` on SQLite, `COPY ... FROM STDIN` on PostgreSQL): ORM objects for millions
of rows would cost minutes and gigabytes.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, event, func, insert, or_, select, text, update
from sqlalchemy.engine import URL, Connection, CursorResult, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import ConnectionPoolEntry

from interdit.errors import InterditError, StorageError
from interdit.inventory.base import Record, Tally
from interdit.model import (
    AppId,
    AppInterval,
    AppState,
    Device,
    DeviceState,
    Finding,
    FindingKind,
    FindingState,
    InstalledApp,
    Management,
    Ownership,
    Platform,
    Rejection,
    Summary,
    utc,
)
from interdit.storage import tables as t

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_S = 60  # how long a SQLite writer waits for another one before giving up
CHUNK = 10_000  # records staged per executemany / COPY batch
KEEP_REJECTIONS = 100  # rejections recorded with an import run
CACHE_KB = 64 * 1024  # SQLite page cache per connection
IMPORT_CACHE_KB = 384 * 1024  # ... while an import runs
SORT_CACHE_KB = 128 * 1024  # ... while it builds an index

_PLATFORMS = {p: p for p in Platform} | {p.value: p for p in Platform}
_OWNERSHIP = {o.value: o for o in Ownership}
_MANAGEMENT = {m.value: m for m in Management}
_STATES = {s.value: s for s in AppState}


# -- values the repository returns ------------------------------------------------------------------


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


@dataclass(frozen=True)
class ImportRun:
    id: int
    source: str
    format: str
    at: datetime
    started_at: datetime
    finished_at: datetime | None
    status: str  # ok | failed
    read: int
    accepted: int
    rejected: int
    devices: int
    apps: int
    devices_new: int
    devices_changed: int
    devices_removed: int
    apps_opened: int
    apps_closed: int
    error: str | None
    rejections: tuple[Rejection, ...]


@dataclass(frozen=True)
class DeviceVersion:
    """The device's attributes from `valid_from` until `valid_to` (None: still current)."""

    valid_from: datetime
    valid_to: datetime | None
    device: Device


@dataclass(frozen=True)
class DeviceDetail:
    source: str
    device_id: str
    first_seen: datetime
    removed_at: datetime | None
    versions: tuple[DeviceVersion, ...]  # oldest first
    apps: tuple[AppInterval, ...]  # every app interval, by identifier then first_seen
    findings: tuple[Finding, ...]  # from the latest stored evaluation

    @property
    def current(self) -> Device:
        return self.versions[-1].device


# -- engine -----------------------------------------------------------------------------------------


def _sqlite_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    dbapi_connection.isolation_level = None  # interdit emits BEGIN itself (see _sqlite_begin)
    cur = dbapi_connection.cursor()
    # page_size only applies to a new file (bulk imports into bigger pages are about 10 % cheaper)
    for pragma in ("page_size=16384", "journal_mode=WAL", "journal_size_limit=67108864", "foreign_keys=ON",
                   "synchronous=NORMAL", f"busy_timeout={BUSY_TIMEOUT_S * 1000}", f"cache_size=-{CACHE_KB}",
                   "temp_store=FILE"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def _make_engine(url: str) -> Engine:
    from sqlalchemy import create_engine

    if "://" not in url:  # a bare path is a SQLite file
        url = f"sqlite:///{url}"
    try:
        parsed: URL = make_url(url)
    except ArgumentError as e:
        raise StorageError(f"cannot read the database URL {url!r}",
                           fix="use sqlite:///path/to/interdit.db or postgresql://user@host/dbname") from e
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).expanduser().resolve().parent
            if not folder.is_dir():
                raise StorageError(f"the folder {folder} for the database does not exist",
                                   where=url, fix=f"create it (mkdir -p {folder}) or choose another --db path")
        # check_same_thread off: an import's staging thread uses the importing connection (one thread at a time)
        engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return create_engine(parsed, pool_pre_ping=True)
        except ImportError as e:
            raise StorageError("PostgreSQL needs the psycopg driver",
                               fix="pip install 'interdit[postgres]'") from e
    raise StorageError(f"unsupported database {backend!r} in {parsed.render_as_string(hide_password=True)}",
                       fix="use sqlite:///path/to/interdit.db or postgresql://user@host/dbname")


def _describe(error: BaseException, where: str) -> StorageError:
    text_ = str(getattr(error, "orig", None) or error).strip().splitlines()[0] if str(error) else repr(error)
    low = text_.lower()
    if "locked" in low or "busy" in low:
        return StorageError(f"the database is locked by another writer ({text_})", where=where,
                            fix=f"wait for the other import or evaluation to finish (interdit waits "
                                f"{BUSY_TIMEOUT_S} s), then run the command again")
    if ("unable to open" in low or "connection" in low or "could not" in low or "refused" in low
            or ("does not exist" in low and "database" in low) or "authentication" in low):
        return StorageError(f"cannot reach the database ({text_})", where=where,
                            fix="check the --db URL (or INTERDIT_DATABASE_URL), that the server is running and "
                                "that the user may connect")
    if "no such table" in low or ("relation" in low and "does not exist" in low):
        return StorageError(f"the database has no interdit tables yet ({text_})", where=where,
                            fix="open it with interdit once (it creates and upgrades its tables), "
                                "or check the --db URL")
    if "readonly" in low or "read-only" in low or "permission" in low:
        return StorageError(f"the database cannot be written ({text_})", where=where,
                            fix="check the file's permissions, or the database user's rights")
    return StorageError(f"the database refused: {text_}", where=where,
                        fix="check the database is an interdit database and is not damaged; restore a backup "
                            "if needed")


@contextmanager
def _guard(where: str) -> Iterator[None]:
    try:
        yield
    except InterditError:
        raise
    except (DBAPIError, SQLAlchemyError) as e:
        raise _describe(e, where) from e


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
        states = {s: s.value for s in AppState}
        when = t.sqlite_text if self.dialect == "sqlite" else utc
        dumps, crc, adler, mask = json.dumps, zlib.crc32, zlib.adler32, _DIGEST_MASK
        for rec in records:
            kind = type(rec)
            if kind is InstalledApp:
                assert isinstance(rec, InstalledApp)
                app, did = rec.app, rec.device_id
                p, i, n, v, m, s = plat[app.platform], app.identifier, rec.name, rec.version, rec.managed, \
                    states[rec.state]
                apps.append((did, p, i, n, v, m, s))
                key = f"{p}\x1f{i}\x1f{n}\x1f{v}\x1f{m}\x1f{s}".encode()
                digests[did] = (digests.get(did, 0) + ((crc(key) << 31) ^ adler(key))) & mask
                if len(apps) >= CHUNK:
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


# -- the repository ---------------------------------------------------------------------------------


class Repository:
    """The interdit database. `Repository("sqlite:///interdit.db")` or `Repository("postgresql://...")`."""

    def __init__(self, url: str, *, clock: Callable[[], datetime] | None = None) -> None:
        self.url = url
        self.engine: Engine = _make_engine(url)
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def __repr__(self) -> str:
        return f"Repository({self.engine.url.render_as_string(hide_password=True)!r})"

    def close(self) -> None:
        self.engine.dispose()

    # -- schema ---------------------------------------------------------------------------------------

    def _alembic_config(self) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.set_main_option("path_separator", "os")
        return cfg

    def schema_revisions(self) -> tuple[str, ...]:
        """The alembic revisions the database is at (empty for a new database)."""
        from alembic.runtime.migration import MigrationContext

        with _guard(self._where()), self.engine.connect() as conn:
            return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))

    def migrate(self) -> None:
        """Create or upgrade the tables (`alembic upgrade heads`). Refuses a database newer than the code."""
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = self._alembic_config()
        script = ScriptDirectory.from_config(cfg)
        known = {s.revision for s in script.walk_revisions()}
        with _guard(self._where()), self.engine.begin() as conn:
            current = MigrationContext.configure(conn).get_current_heads()
            unknown = sorted(set(current) - known)
            if unknown:
                raise StorageError(
                    f"the database's schema ({', '.join(unknown)}) is newer than this version of interdit knows",
                    where=self._where(),
                    fix="upgrade interdit (pip install -U interdit) to the version that wrote this database, "
                        "or point --db at another database")
            if set(current) == set(script.get_heads()):
                return
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")

    def _where(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # -- import ---------------------------------------------------------------------------------------

    def import_snapshot(self, source: str, fmt: str, records: Iterable[Record], tally: Tally, *,
                        at: datetime) -> ImportResult:
        """Apply one full snapshot of `source` as ONE transaction; devices missing from it are removed at `at`.

        A failure (a record stream that raises, a database error, an interruption) rolls everything back and
        records a failed run in a short transaction of its own; a killed process leaves the previous state.
        """
        at = utc(at)
        started = self._clock()
        where = f"import of {source!r}"
        try:
            with _guard(where), self.engine.connect() as conn:
                try:
                    with conn.begin():
                        _Stager(conn).stage(records)
                        run_id, counts = self._apply(conn, source, fmt, tally, at, started)
                finally:
                    if self.dialect == "sqlite":  # after the commit (PostgreSQL drops them at commit)
                        with conn.begin():
                            for name in _TEMP_TABLES:
                                conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
                            conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KB}")
                return ImportResult(run_id, tally.read, tally.accepted, tally.rejected, **counts)
        except BaseException as error:
            self._record_failure(source, fmt, tally, at, started, error)
            raise

    def _apply(self, conn: Connection, source: str, fmt: str, tally: Tally, at: datetime,
               started: datetime) -> tuple[int, dict[str, int]]:
        sql = _SQL[self.dialect]
        p: dict[str, Any] = {"s": source, "at": t.sqlite_text(at) if self.dialect == "sqlite" else at}

        def run(name: str) -> int:
            return int(conn.execute(text(sql[name]), p).rowcount or 0)

        # the first statement on the main database writes, so SQLite takes its write lock here (waiting for
        # another writer if need be) and the rest of the transaction sees a state nobody else changes
        run_id = _new_id(conn.execute(insert(t.import_runs).values(
            source=source, format=fmt, at=at, started_at=started, status="running", read=tally.read,
            accepted=tally.accepted, rejected=tally.rejected, devices=0, apps=0, devices_new=0,
            devices_changed=0, devices_removed=0, apps_opened=0, apps_closed=0, rejections="[]",
        )))
        if self.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(source.encode()) - 2**31})
        last = conn.execute(select(func.max(t.import_runs.c.at)).where(
            t.import_runs.c.source == source, t.import_runs.c.status == "ok")).scalar()
        if last is not None and last > at:
            raise StorageError(
                f"the snapshot's time {at.isoformat()} is before the last import of {source!r} "
                f"({last.isoformat()})", where=f"import of {source!r}",
                fix="import snapshots in time order, or pass --at with the time the snapshot was taken")
        same_instant = last is not None and last == at  # imported again at the same time: no zero-length rows
        present = self._present_in(conn, source)
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
            rebuild = self.dialect == "sqlite" and conn.execute(
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
            status="ok", finished_at=self._clock(), rejections=_rejections_json(tally), **counts))
        return run_id, counts

    @staticmethod
    def _present_in(conn: Connection, source: str) -> bool:
        d = t.devices
        return conn.execute(select(d.c.device_id).where(d.c.source == source, d.c.removed_at.is_(None))
                            .limit(1)).first() is not None

    def _record_failure(self, source: str, fmt: str, tally: Tally, at: datetime, started: datetime,
                        error: BaseException) -> None:
        message = str(error) or type(error).__name__
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(t.import_runs).values(
                    source=source, format=fmt, at=at, started_at=started, finished_at=self._clock(),
                    status="failed", read=tally.read, accepted=tally.accepted, rejected=tally.rejected,
                    devices=0, apps=0, devices_new=0, devices_changed=0, devices_removed=0, apps_opened=0,
                    apps_closed=0, rejections=_rejections_json(tally), error=message[:2000]))
        except (SQLAlchemyError, DBAPIError):  # the database itself failed: the original error says why
            pass

    # -- reading the fleet ----------------------------------------------------------------------------

    def device_states(self, as_of: datetime, exact: Collection[AppId],
                      prefixes: Sequence[AppId]) -> Iterator[DeviceState]:
        """Every device present at `as_of` as it was then, with its candidate app intervals, streamed.

        Candidates are the apps in `exact`, or matching a prefix `p` as `p` or `p.*`, first seen by `as_of`:
        present then, or removed before it (with `removed_at` set).
        """
        as_of = utc(as_of)
        when = self._param(as_of)
        columns = ('source, device_id, platform, ownership, management, observed_at, supervised, "user", name, '
                   'model, os_version, org_unit, "groups", addresses')
        current = f"SELECT {columns} FROM device_versions WHERE valid_to IS NULL AND valid_from <= :t"
        past = f"SELECT {columns} FROM device_versions WHERE valid_to > :t AND valid_from <= :t"
        times: dict[Any, datetime] = {}
        lists: dict[str, tuple[str, ...]] = {}
        with _guard("reading the fleet"), self.engine.connect() as conn:
            apps = self._candidates(conn, as_of, exact, prefixes)
            for sql in (current, past):
                for (source, device_id, platform, ownership, management, observed, supervised, user, name, model,
                     os_version, org_unit, groups, addresses) in self._rows(conn, sql, {"t": when}):
                    seen = times.get(observed)
                    if seen is None:
                        seen = times[observed] = _as_utc(observed)
                    g = lists.get(groups)
                    if g is None:
                        g = lists[groups] = _json_strings(groups)
                    device = Device(source, device_id, _PLATFORMS[platform], _OWNERSHIP[ownership],
                                    _MANAGEMENT[management], seen, None if supervised is None else bool(supervised),
                                    user, name, model, os_version, org_unit, g,
                                    _json_strings(addresses))
                    held = apps.get((source, device_id))
                    if held is None:
                        yield DeviceState(device)
                    else:
                        yield DeviceState(device, tuple(
                            AppInterval(source, device_id, app, first, seen if removed is None else last,
                                        removed, app_name, version, managed, state)
                            for app, first, removed, last, app_name, version, managed, state in held))

    def _rows(self, conn: Connection, sql: str, params: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
        """Plain tuples, streamed: SQLite's own cursor (no per-row wrapping), a server-side cursor on PostgreSQL."""
        if self.dialect != "sqlite":
            yield from conn.execution_options(yield_per=5000).execute(text(sql), params)
            return
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, params)  # sqlite3 takes :name parameters as they are
            yield from cursor
        finally:
            cursor.close()

    def _param(self, value: datetime) -> Any:
        """A time as the raw driver takes it in hand-written SQL."""
        return t.sqlite_text(value) if self.dialect == "sqlite" else utc(value)

    def _candidates(self, conn: Connection, as_of: datetime, exact: Collection[AppId],
                    prefixes: Sequence[AppId]) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
        a = t.app_intervals
        by_platform: dict[str, list[str]] = {}
        for app in exact:
            by_platform.setdefault(_PLATFORMS[app.platform].value, []).append(app.identifier)
        conditions: list[Any] = [and_(a.c.platform == plat, a.c.identifier.in_(sorted(ids)))
                                 for plat, ids in sorted(by_platform.items())]
        for p in prefixes:
            conditions.append(and_(a.c.platform == _PLATFORMS[p.platform].value, or_(
                a.c.identifier == p.identifier,
                and_(a.c.identifier >= p.identifier + ".", a.c.identifier < p.identifier + "/"))))
        found: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        if not conditions:
            return found
        rows = conn.execute(
            select(a.c.source, a.c.device_id, a.c.platform, a.c.identifier, a.c.first_seen, a.c.removed_at,
                   a.c.last_seen, a.c.name, a.c.version, a.c.managed, a.c.state)
            .where(or_(*conditions), a.c.first_seen <= as_of)
            .order_by(a.c.source, a.c.device_id, a.c.platform, a.c.identifier, a.c.first_seen))
        for source, device_id, platform, identifier, first, removed, last, name, version, managed, state in rows:
            gone = removed is not None and removed <= as_of
            found.setdefault((source, device_id), []).append((
                AppId(_PLATFORMS[platform], identifier), first, removed if gone else None,
                (last or removed) if gone else None, name, version, managed, _STATES[state]))
        return found

    def device(self, source: str, device_id: str) -> DeviceDetail | None:
        """One device: its attribute versions, its whole app history and its latest findings."""
        d, v, a = t.devices, t.device_versions, t.app_intervals
        with _guard("reading a device"), self.engine.connect() as conn:
            head = conn.execute(select(d.c.first_seen, d.c.removed_at).where(
                d.c.source == source, d.c.device_id == device_id)).first()
            if head is None:
                return None
            versions = tuple(
                DeviceVersion(r.valid_from, r.valid_to, Device(
                    source, device_id, _PLATFORMS[r.platform], _OWNERSHIP[r.ownership], _MANAGEMENT[r.management],
                    r.observed_at, r.supervised, r.user, r.name, r.model, r.os_version, r.org_unit,
                    tuple(json.loads(r.groups)), tuple(json.loads(r.addresses))))
                for r in conn.execute(select(v).where(v.c.source == source, v.c.device_id == device_id)
                                      .order_by(v.c.valid_from, v.c.id)))
            latest_observed = versions[-1].device.observed_at if versions else None
            apps = tuple(
                AppInterval(source, device_id, AppId(_PLATFORMS[r.platform], r.identifier), r.first_seen,
                            (r.last_seen or r.removed_at) if r.removed_at is not None
                            else (latest_observed or r.first_seen),
                            r.removed_at, r.name, r.version, r.managed, _STATES[r.state])
                for r in conn.execute(select(a).where(a.c.source == source, a.c.device_id == device_id)
                                      .order_by(a.c.platform, a.c.identifier, a.c.first_seen)))
            found = tuple(self._findings(conn, source=source, device_id=device_id))
        return DeviceDetail(source, device_id, head.first_seen, head.removed_at, versions, apps, found)

    # -- evaluations and findings ---------------------------------------------------------------------

    def save_evaluation(self, findings: Iterable[Finding], summary: Summary, *, policy_hash: str,
                        as_of: datetime) -> int:
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
        with _guard("saving an evaluation"), self.engine.begin() as conn:
            evaluation_id = _new_id(conn.execute(insert(t.evaluations).values(
                as_of=utc(as_of), policy_hash=policy_hash, created=self._clock(),
                summary=_dump_summary(summary))))
            conn.execute(delete(t.findings).where(t.findings.c.evaluation_id != evaluation_id))
            batch = list(rows.values())
            for start in range(0, len(batch), CHUNK):
                chunk = [dict(r, evaluation_id=evaluation_id) for r in batch[start:start + CHUNK]]
                conn.execute(insert(t.findings), chunk)
        return evaluation_id

    def latest_evaluation(self) -> tuple[datetime, str, datetime, Summary] | None:
        """(as_of, policy_hash, created, summary) of the latest stored evaluation, if any."""
        e = t.evaluations
        with _guard("reading evaluations"), self.engine.connect() as conn:
            row = conn.execute(select(e.c.as_of, e.c.policy_hash, e.c.created, e.c.summary)
                               .order_by(e.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        return row.as_of, row.policy_hash, row.created, load_summary(row.summary)

    def findings(self, *, state: str | Collection[str] | None = None, kind: str | Collection[str] | None = None,
                 family: str | None = None, org_unit: str | None = None, source: str | None = None,
                 device_id: str | None = None, limit: int | None = None, after: str | None = None) -> list[Finding]:
        """The latest evaluation's findings, by id. `org_unit` includes the units below it; `after` is the id of
        the last finding of the previous page (cursor pagination)."""
        with _guard("reading findings"), self.engine.connect() as conn:
            return list(self._findings(conn, state=state, kind=kind, family=family, org_unit=org_unit,
                                       source=source, device_id=device_id, limit=limit, after=after))

    def _findings(self, conn: Connection, *, state: str | Collection[str] | None = None,
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

    # -- import runs ----------------------------------------------------------------------------------

    def import_times(self) -> list[datetime]:
        """The distinct times of successful imports, oldest first."""
        r = t.import_runs
        with _guard("reading import runs"), self.engine.connect() as conn:
            return list(conn.execute(select(r.c.at).where(r.c.status == "ok").distinct().order_by(r.c.at))
                        .scalars())

    def import_runs(self, limit: int = 20) -> list[ImportRun]:
        """The latest import runs, newest first, failed ones included."""
        r = t.import_runs
        with _guard("reading import runs"), self.engine.connect() as conn:
            rows = conn.execute(select(r).where(r.c.status != "running").order_by(r.c.id.desc())
                                .limit(max(0, limit))).all()
        return [ImportRun(
            id=x.id, source=x.source, format=x.format, at=x.at, started_at=x.started_at, finished_at=x.finished_at,
            status=x.status, read=x.read, accepted=x.accepted, rejected=x.rejected, devices=x.devices, apps=x.apps,
            devices_new=x.devices_new, devices_changed=x.devices_changed, devices_removed=x.devices_removed,
            apps_opened=x.apps_opened, apps_closed=x.apps_closed, error=x.error,
            rejections=tuple(Rejection(**j) for j in json.loads(x.rejections)),
        ) for x in rows]


def _new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def _json_strings(value: str) -> tuple[str, ...]:
    """A JSON list of strings as interdit writes it (json.dumps), read fast: most hold no escapes at all."""
    if value == "[]":
        return ()
    if "\\" not in value and value.startswith('["') and value.endswith('"]'):
        return tuple(value[2:-2].split('", "'))
    return tuple(json.loads(value))


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _rejections_json(tally: Tally) -> str:
    return json.dumps([{"place": r.place, "reason": r.reason, "fix": r.fix}
                       for r in tally.rejections[:KEEP_REJECTIONS]], ensure_ascii=False)
