"""A big SQLite import writes its app staging table in a second process.

An import reads and checks records in Python while SQLite inserts the previous batch. In one process the two
share the interpreter lock, which each row's parameters need: measured at 100,000 devices / 6,000,000 app rows
on 2 cores, the inserting thread spent most of its time waiting for the lock, and staging took 43 s where reading
alone takes 14 s and inserting alone 20 s. A child process has its own interpreter: the importing process
only serialises each batch (a C loop) into a pipe, and the two run side by side.

The child writes a throwaway SQLite file (no journal, no sync: nothing in it outlives the import) with the same
`stage_apps` table the import would have had as a temporary table; the importing connection attaches it once
the child has committed, and the import's SQL reads it by the same name. `StageProcess` is the parent's side;
`main` is the child's (`python -m interdit.storage.stage_process FILE CACHE_KB`, batches on its standard input).
The child also takes each device's app digest (`fold`: about a tenth of the importing process's time, reading
included) and writes them to its `stage_digests` table, which replaces the temporary one the same way.

The protocol on the pipe: each batch is a 4-byte big-endian length and the `marshal` dump of its list of row
tuples (`WIDTH` values each, in the table's column order); a zero length ends the stream. The child then
commits and exits 0, or prints the error on its standard error and exits 1. What costs the child its time is
binding each value for SQLite, so the work per value is kept small: the rows flattened into one list of values,
`managed` turned from a bool (which the driver binds through its slow adapter look-up) into 0 or 1, and one
INSERT statement for `MULTI` rows at a time (a third less than `executemany`, row by row). `marshal` writes a
batch of real rows in about half the time `pickle` takes and reads it back faster; it is safe here, both ends
being this module on the same interpreter.
"""

from __future__ import annotations

import contextlib
import marshal
import operator
import os
import pickle
import sqlite3
import struct
import subprocess
import sys
import tempfile
import zlib
from itertools import chain, groupby
from typing import IO, Any

# the columns and key of the staging table, as `snapshot_sql` declares the temporary one
CREATE = ("CREATE TABLE stage_apps (device_id TEXT NOT NULL, platform TEXT NOT NULL, identifier TEXT NOT NULL, "
          "name TEXT, version TEXT, managed INTEGER, state TEXT NOT NULL, "
          "PRIMARY KEY (device_id, platform, identifier)) WITHOUT ROWID")
WIDTH = 7  # values per row
MANAGED = 5  # the column of `managed`, a bool or None
MULTI = 256  # rows per INSERT statement (WIDTH * MULTI bound values, well below SQLite's limit)
DIGESTS = ("CREATE TABLE stage_digests (device_id TEXT PRIMARY KEY NOT NULL, digest INTEGER NOT NULL) "
           "WITHOUT ROWID")
_LENGTH = struct.Struct(">I")
_AS_INT = {True: 1, False: 0, None: None}
_DIGEST_MASK = (1 << 63) - 1
_APP_KEY = operator.itemgetter(1, 2)  # (platform, identifier) of a staged app row
_DEVICE = operator.itemgetter(0)


def fold(rows: list[tuple[Any, ...]], digests: dict[str, int]) -> None:
    """Add one batch of staged app rows to their devices' digests.

    A device's records come one after the other in every export we read, so its digest is taken once per run of
    its records in a batch (a few calls in C) rather than once per row. The run is put in key order first and the
    parts of a device (its records across two batches, or seen again later) are summed, so the digest does not
    depend on the order an export lists apps in. It only tells which devices to diff: two different lists share
    one with a chance of 2^-63, and a device whose records a batch boundary split differently from last time at
    most gets a diff that finds nothing."""
    get, crc32, adler32, dumps = digests.get, zlib.crc32, zlib.adler32, pickle.dumps
    for device_id, run in groupby(rows, _DEVICE):
        part = sorted(run, key=_APP_KEY)
        data = dumps(part, protocol=4)
        digests[device_id] = (get(device_id, 0) + ((crc32(data) << 31) ^ adler32(data))) & _DIGEST_MASK


def insert_sql(rows: int) -> str:
    """INSERT of `rows` rows; within one statement, as between statements, the last record of an app wins (as in
    the temporary table)."""
    return ("INSERT OR REPLACE INTO stage_apps (device_id, platform, identifier, name, version, managed, state) "
            "VALUES " + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * rows))


class StageProcessError(RuntimeError):
    """The child failed or stopped; the message says why (its own error when it could tell it)."""


class StageProcess:
    """The parent's side: start the child, hand it batches, wait for its commit, remove its file."""

    def __init__(self, cache_kb: int) -> None:
        fd, self.path = tempfile.mkstemp(prefix="interdit-stage-", suffix=".db")  # readable by its owner only
        os.close(fd)
        self.rows = 0
        self.proc: subprocess.Popen[bytes] | None = subprocess.Popen(
            [sys.executable, "-m", "interdit.storage.stage_process", self.path, str(cache_kb)],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def submit(self, rows: list[tuple[Any, ...]]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        data = marshal.dumps(rows)
        try:
            self.proc.stdin.write(_LENGTH.pack(len(data)))
            self.proc.stdin.write(data)
        except (BrokenPipeError, OSError):
            raise self._failure() from None
        self.rows += len(rows)

    def finish(self) -> None:
        """End the stream and wait until the child has committed every row."""
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(_LENGTH.pack(0))
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            raise self._failure() from None
        if self.proc.wait() != 0:
            raise self._failure()

    def _failure(self) -> StageProcessError:
        assert self.proc is not None
        return child_failure(self.proc)

    def close(self) -> None:
        """Stop the child if it still runs and remove its file (also after a failure)."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stderr):
                if stream is not None:
                    with contextlib.suppress(OSError):  # what is left in the pipe's buffer has nowhere to go
                        stream.close()
            self.proc = None
        for suffix in ("", "-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(self.path + suffix)


def _read_exactly(stream: IO[bytes], n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError("the importing process stopped before the end of the snapshot")
    return data


def main(path: str, cache_kb: int) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("page_size=16384", "journal_mode=OFF", "synchronous=OFF", f"cache_size=-{cache_kb}",
                       "temp_store=FILE", "secure_delete=OFF"):
            db.execute(f"PRAGMA {pragma}")
        db.execute("BEGIN")
        db.execute(CREATE)
        stream = sys.stdin.buffer
        loads, unpack, execute, as_int = marshal.loads, _LENGTH.unpack, db.execute, _AS_INT.__getitem__
        flatten = chain.from_iterable
        step = WIDTH * MULTI
        full = insert_sql(MULTI)
        digests: dict[str, int] = {}
        while (size := unpack(_read_exactly(stream, 4))[0]) > 0:
            rows = loads(_read_exactly(stream, size))
            values = list(flatten(rows))
            if len(values) != WIDTH * len(rows):
                raise ValueError("a batch whose rows are not all whole")
            fold(rows, digests)
            values[MANAGED::WIDTH] = map(as_int, values[MANAGED::WIDTH])
            end = len(values) - len(values) % step
            for start in range(0, end, step):
                execute(full, values[start:start + step])
            if end < len(values):
                execute(insert_sql((len(values) - end) // WIDTH), values[end:])
        db.execute(DIGESTS)
        db.executemany("INSERT INTO stage_digests (device_id, digest) VALUES (?, ?)", sorted(digests.items()))
        db.execute("COMMIT")
    finally:
        db.close()


if __name__ == "__main__":
    try:
        main(sys.argv[1], int(sys.argv[2]))
    except BaseException as error:  # said to the parent, which raises it in the import
        print(f"staging process: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)


def child_failure(proc: subprocess.Popen[bytes]) -> StageProcessError:
    """A staging child that failed, stopped: its last line of errors, else its exit status."""
    proc.kill()
    proc.wait()
    said = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
    return StageProcessError(said.splitlines()[-1] if said else
                             f"the staging process stopped (exit status {proc.returncode})")
