"""The repository: every read and write of the inventory history, import runs, evaluations and findings.

SQLite (a file, the default) and PostgreSQL (by URL) run the same set-based SQL. `Repository` opens the
database and its transactions; the work itself lives beside it: `snapshot` (importing a snapshot: staging,
the set-based diff, app intervals), `history` (the fleet at a time, a device's story, import runs) and
`evaluations` (evaluations and findings).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from interdit.errors import StorageError
from interdit.model import AppId, Device, DeviceState, Finding, Record, Summary, Tally, utc
from interdit.storage import evaluations, history, snapshot
from interdit.storage.base import BUSY_TIMEOUT_S, CACHE_KB, TEMP_CACHE_KB, guard, system_clock
from interdit.storage.evaluations import load_summary
from interdit.storage.history import AppVersionSeen, DeviceDetail, DeviceVersion, ImportRun
from interdit.storage.history import json_strings as json_strings  # re-exported
from interdit.storage.snapshot import (
    TEMP_TABLES,
    ImportResult,
    RejectionLimit,
    SnapshotRefused,
    SnapshotRules,
    Stager,
)

__all__ = ["AppVersionSeen", "DeviceDetail", "DeviceVersion", "ImportResult", "ImportRun", "RejectionLimit",
           "Repository", "SnapshotRefused", "SnapshotRules", "load_summary"]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


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



# -- the repository ---------------------------------------------------------------------------------


class Repository:
    """The interdit database. `Repository("sqlite:///interdit.db")` or `Repository("postgresql://...")`."""

    def __init__(self, url: str, *, clock: Callable[[], datetime] | None = None) -> None:
        self.url = url
        self.engine: Engine = _make_engine(url)
        self._clock = clock or system_clock

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

        with guard(self._where()), self.engine.connect() as conn:
            return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))

    def migrate(self) -> None:
        """Create or upgrade the tables (`alembic upgrade heads`). Refuses a database newer than the code."""
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        cfg = self._alembic_config()
        script = ScriptDirectory.from_config(cfg)
        known = {s.revision for s in script.walk_revisions()}
        with guard(self._where()), self.engine.begin() as conn:
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
                        at: datetime, rules: SnapshotRules | None = None,
                        audit: Callable[[Connection, ImportResult], object] | None = None) -> ImportResult:
        """Apply one full snapshot of `source` as ONE transaction; devices missing from it are removed at `at`.

        It fails closed: a device the snapshot could not read (a rejected record names it, or a rejected device
        record names no device at all) is not removed but kept with its last state, flagged `unreadable`; apps
        close only on a clean, complete app list. `rules` refuse the whole snapshot (`SnapshotRefused`, nothing
        changed) when it rejected too many records or would remove too large a share of the source's devices
        (default `SnapshotRules()`: 1 % of the records read, no shrink beyond a fifth).

        A failure (a record stream that raises, a database error, an interruption) rolls everything back and
        records a failed run in a short transaction of its own; a killed process leaves the previous state.
        `audit(conn, result)` writes the import's audit entry inside the same transaction: if it fails, the
        import rolls back.
        """
        at = utc(at)
        started = self._clock()
        where = f"import of {source!r}"
        try:
            with guard(where), self.engine.connect() as conn:
                stager: Stager | None = None
                try:
                    with conn.begin():
                        stager = Stager(conn)
                        stager.stage(records)
                        run_id, counts = snapshot.apply(conn, source, fmt, tally, at, started, self._clock,
                                                        stager.seen(tally), rules, stager.apps_unique)
                        if audit is not None:
                            audit(conn, ImportResult(run_id, tally.read, tally.accepted, tally.rejected, **counts))
                finally:
                    try:
                        if self.dialect == "sqlite":  # after the commit (PostgreSQL drops them at commit)
                            with conn.begin():
                                for name in TEMP_TABLES:
                                    conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
                                conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KB}")
                                conn.exec_driver_sql(f"PRAGMA temp.cache_size=-{TEMP_CACHE_KB}")
                                conn.exec_driver_sql("PRAGMA threads=0")
                    finally:
                        if stager is not None:  # the staging file or table of a big import
                            stager.close()
                return ImportResult(run_id, tally.read, tally.accepted, tally.rejected, **counts)
        except BaseException as error:
            snapshot.record_failure(self.engine, self._clock, source, fmt, tally, at, started, error)
            raise

    # -- reading the fleet ----------------------------------------------------------------------------

    def device_states(self, as_of: datetime, exact: Collection[AppId],
                      prefixes: Sequence[AppId]) -> Iterator[DeviceState]:
        """Every device present at `as_of` as it was then, with its candidate app intervals, streamed.

        Candidates are the apps in `exact`, or matching a prefix `p` as `p` or `p.*`, first seen by `as_of`:
        present then, or removed before it (with `removed_at` set).
        """
        return history.device_states(self.engine, as_of, exact, prefixes)

    def device(self, source: str, device_id: str) -> DeviceDetail | None:
        """One device: its attribute versions, its whole app history and its latest findings."""
        return history.device(self.engine, source, device_id)

    def devices_at(self, keys: Collection[tuple[str, str]], as_of: datetime) -> dict[tuple[str, str], Device]:
        """Each (source, device_id) in `keys` as it was at `as_of` (batched: never one query per device)."""
        return history.devices_at(self.engine, keys, as_of)

    # -- evaluations and findings ---------------------------------------------------------------------

    def save_evaluation(self, findings: Iterable[Finding], summary: Summary, *, policy_hash: str,
                        as_of: datetime) -> int:
        """Store an evaluation's summary and make its findings the current ones; returns its id."""
        return evaluations.save_evaluation(self.engine, self._clock, findings, summary, policy_hash=policy_hash,
                                           as_of=as_of)

    def latest_evaluation(self) -> tuple[datetime, str, datetime, Summary] | None:
        """(as_of, policy_hash, created, summary) of the latest stored evaluation, if any."""
        return evaluations.latest_evaluation(self.engine)

    def findings(self, *, state: str | Collection[str] | None = None, kind: str | Collection[str] | None = None,
                 family: str | None = None, org_unit: str | None = None, source: str | None = None,
                 device_id: str | None = None, limit: int | None = None, after: str | None = None) -> list[Finding]:
        """The latest evaluation's findings, by id. `org_unit` includes the units below it; `after` is the id of
        the last finding of the previous page (cursor pagination)."""
        return evaluations.findings(self.engine, state=state, kind=kind, family=family, org_unit=org_unit,
                                    source=source, device_id=device_id, limit=limit, after=after)

    # -- import runs ----------------------------------------------------------------------------------

    def present_by_source(self) -> dict[str, tuple[int, int]]:
        """Per inventory source: the devices present and the app rows open now (devices, apps)."""
        return history.present_by_source(self.engine)

    def import_times(self) -> list[datetime]:
        """The distinct times of successful imports, oldest first."""
        return history.import_times(self.engine)

    def import_runs(self, limit: int = 20) -> list[ImportRun]:
        """The latest import runs, newest first, failed ones included."""
        return history.import_runs(self.engine, limit)
