"""A big PostgreSQL import writes its app staging table from a second process, over a connection of its own.

In one process the reading of the snapshot and the `COPY` of its app rows share Python's interpreter lock: at
100,000 devices / 6,000,000 app rows on 2 cores staging took 34-40 s where the `COPY` alone takes 9.6 s. As for
SQLite (`stage_process`), a child process takes the app rows: the importing process only pickles each batch into
a pipe, and the child formats and copies them.

The import's staging tables are temporary (private to its session), which another session cannot write, so the
child creates an UNLOGGED ordinary table with a name of its own, `interdit_stage_<pid>_<random>` (the pid of the
import's own server process), copies the rows into it and commits. The import's transaction then reads it
through a temporary view named `stage_apps` (the import's SQL reads it by that name), and drops both when it
ends, committed or not. An import killed in between leaves its table behind: the next big import drops every
staging table whose import's server process is gone. A failed child fails the import (its error is raised
there), and its own transaction leaves no table.

`PgStageProcess` is the parent's side; `main` is the child's (`python -m interdit.storage.pg_stage TABLE`, the
database URL as the first message on its standard input, then the batches). The protocol on the pipe: each
message is a 4-byte big-endian length and a pickled value; a zero length ends the stream. The child then commits,
writes `unique` or `repeated` on its standard output (whether some app of a device was listed twice, which decides
whether the import must pick the last record of each) and exits 0, or prints the error on its standard error and
exits 1.
"""

from __future__ import annotations

import contextlib
import pickle
import re
import secrets
import struct
import subprocess
import sys
from typing import IO, Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from interdit.storage.snapshot_sql import APP_STAGE_COLUMNS, PG_STAGE_APPS
from interdit.storage.stage_process import StageProcessError, child_failure

PREFIX = "interdit_stage_"
_NAME = re.compile(rf"{PREFIX}(\d+)_[0-9a-f]+")
_LENGTH = struct.Struct(">I")
FIX = ("check that the database user may create tables in its schema and that the server has free space, "
       "then import again")


def _create(table: str) -> str:
    return f"CREATE UNLOGGED TABLE {table} {PG_STAGE_APPS}"


def _child_url(url: str) -> str:
    """The URL the child connects with: the import's own."""
    return url


class PgStageProcess:
    """The parent's side: start the child, hand it batches, wait for its commit; then read its table through the
    view `stage_apps` of the import's transaction, and drop both at the end."""

    fix = FIX

    def __init__(self, conn: Connection) -> None:
        pid = int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())
        self.table = f"{PREFIX}{pid}_{secrets.token_hex(6)}"
        self.rows = 0
        self.apps_unique = False
        self.attached = False
        url = _child_url(conn.engine.url.set(drivername="postgresql").render_as_string(hide_password=False))
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-m", "interdit.storage.pg_stage", self.table],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._send(url)  # on the pipe, not the command line, which other users of the machine can read

    def _send(self, value: Any) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.proc.stdin.write(_LENGTH.pack(len(data)))
            self.proc.stdin.write(data)
        except (BrokenPipeError, OSError):
            raise self._failure() from None

    def submit(self, rows: list[tuple[Any, ...]]) -> None:
        self._send(rows)
        self.rows += len(rows)

    def finish(self) -> None:
        """End the stream and wait until the child has committed every row."""
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(_LENGTH.pack(0))
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            raise self._failure() from None
        said = self.proc.stdout.read().decode("ascii", "replace").strip()
        if self.proc.wait() != 0 or said not in ("unique", "repeated"):
            raise self._failure()
        self.apps_unique = said == "unique"

    def _failure(self) -> StageProcessError:
        assert self.proc is not None
        return child_failure(self.proc)

    def attach(self, conn: Connection) -> None:
        """In the import's transaction: the child's table replaces the temporary `stage_apps`, by a view."""
        conn.exec_driver_sql("DROP TABLE pg_temp.stage_apps")
        conn.exec_driver_sql(f"CREATE TEMP VIEW stage_apps AS SELECT * FROM {self.table}")
        self.attached = True

    def close(self, conn: Connection) -> None:
        """After the import's transaction (committed or not): stop the child if it still runs, drop the view and
        the child's table. A connection that cannot is thrown away (its view with it); the table is then dropped
        by the next big import."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
            self.proc = None
        try:
            with conn.begin():
                if self.attached:
                    conn.exec_driver_sql("DROP VIEW IF EXISTS pg_temp.stage_apps")
                conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.table}")
        except (SQLAlchemyError, DBAPIError):
            conn.invalidate()


def _read_exactly(stream: IO[bytes], n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError("the importing process stopped before the end of the snapshot")
    return data


def _read(stream: IO[bytes]) -> Any:
    size = _LENGTH.unpack(_read_exactly(stream, 4))[0]
    return pickle.loads(_read_exactly(stream, size)) if size else None


class RepeatCheck:
    """Whether every app record of the staged rows (`APP_STAGE_COLUMNS` tuples, in stream order) is the only one
    of its (device, platform, identifier): then the import takes them as staged, without a sort to pick the last
    of each. A device's records are consecutive in every export we read, so only the current device's keys are
    kept; a device seen again later counts as "may repeat" (the sort is kept)."""

    def __init__(self) -> None:
        self.unique = True
        self.current: str | None = None
        self.keys: set[tuple[str, str]] = set()
        self.finished: set[str] = set()

    def feed(self, rows: list[tuple[Any, ...]]) -> None:
        if not self.unique:
            return
        current, keys, finished = self.current, self.keys, self.finished
        for row in rows:
            did = row[0]
            if did != current:
                if current is not None:
                    finished.add(current)
                if did in finished:
                    self.unique = False
                    return
                current, keys = did, set()
            key = (row[1], row[2])
            if key in keys:
                self.unique = False
                return
            keys.add(key)
        self.current, self.keys = current, keys


def pg_unique(batches: list[list[tuple[Any, ...]]]) -> bool:
    """`RepeatCheck` over the batches of a snapshot staged in the importing process."""
    check = RepeatCheck()
    for rows in batches:
        check.feed(rows)
    return check.unique


def drop_stale(db: Any) -> None:
    """Drop the staging tables of imports whose server process is gone (killed before they could drop theirs).
    A table another import still reads is never touched; one that cannot be dropped now is left for later."""
    rows = db.execute("SELECT c.relname FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = "
                      "current_schema()::regnamespace AND c.relname LIKE %s", (PREFIX.replace("_", r"\_") + "%",))
    live = {int(r[0]) for r in db.execute("SELECT pid FROM pg_stat_activity")}
    for (name,) in rows.fetchall():
        found = _NAME.fullmatch(name)
        if found is None or int(found.group(1)) in live:
            continue
        try:
            db.execute("SET lock_timeout = '1s'")
            db.execute(f'DROP TABLE IF EXISTS "{name}"')
        except Exception:  # another user's table, or one still locked: left for later
            continue


def main(table: str) -> None:
    import psycopg

    if not _NAME.fullmatch(table):
        raise ValueError(f"not a staging table's name: {table!r}")
    stream = sys.stdin.buffer
    with psycopg.connect(_read(stream), autocommit=True) as db:
        drop_stale(db)
        db.execute("RESET lock_timeout")
        with db.transaction():
            db.execute(_create(table))
            with db.cursor().copy(f"COPY {table} ({', '.join(APP_STAGE_COLUMNS)}) FROM STDIN") as copy:
                write = copy.write_row
                check = RepeatCheck()
                while (rows := _read(stream)) is not None:
                    for row in rows:
                        write(row)
                    check.feed(rows)
            db.execute(f"ANALYZE {table}")
    sys.stdout.write("unique" if check.unique else "repeated")


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except BaseException as error:  # said to the parent, which raises it in the import
        said = " ".join(str(error).split())  # one line: the parent raises the last line it reads
        print(f"staging process: {type(error).__name__}: {said}", file=sys.stderr)
        sys.exit(1)
