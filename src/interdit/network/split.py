"""A large plain file read by several processes: each reads the lines that start in its byte range.

The workers are forked, so they inherit the list, the attribution and the reading function without pickling
them; each sends its own result back through a pipe, and the results are added up in order (rejections keep
their line numbers). Plain `fork` and a pipe per worker, not a `multiprocessing` pool: the pool's start and its
shutdown (helper threads that poll) cost a tenth of a second or more, a tenth of the whole scan of a large file.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, tzinfo
from typing import IO

from interdit.model import Rejection
from interdit.network.attribute import Attributor
from interdit.network.base import FileContext, readers
from interdit.network.handling import KEEP, FileScan, ScanContext
from interdit.network.match import DomainMatcher
from interdit.network.opening import TooLong, file_mtime, plain_range

Run = Callable[[ScanContext, Iterator[bytes | TooLong]], int]


def _align(f: IO[bytes], offset: int, size: int) -> int:
    """The first line start at or after `offset`."""
    if offset <= 0:
        return 0
    if offset >= size:
        return size
    f.seek(offset - 1)
    pos = offset - 1
    while True:
        chunk = f.read(65_536)
        if not chunk:
            return size
        i = chunk.find(b"\n")
        if i >= 0:
            return pos + i + 1
        pos += len(chunk)


def range_blocks(path: str, start: int, end: int) -> Iterator[bytes | TooLong]:
    """The lines that START in [start, end): the first partial line belongs to the previous range."""
    size = os.path.getsize(path)
    with open(path, "rb", buffering=0) as f:
        a, b = _align(f, start, size), _align(f, end, size)
        yield from plain_range(f, a, b)


_SHARED: tuple[DomainMatcher, Attributor, Run] | None = None  # inherited by forked workers, never pickled


def _worker(args: tuple[str, int, int, str, dict[str, object], str, str]) -> FileScan:
    path, start, end, fmt, state, tzname, method = args
    assert _SHARED is not None
    matcher, attributor, run = _SHARED
    cls = readers.get(fmt)
    from zoneinfo import ZoneInfo

    tz: tzinfo = UTC if tzname == "UTC" else ZoneInfo(tzname)
    reader = cls(FileContext(path, file_mtime(path), tz))
    reader.restore(state)
    result = FileScan(path, fmt)
    run(ScanContext(reader, fmt, matcher, attributor, result, method=method), range_blocks(path, start, end))
    return result


def split(path: str, size: int, jobs: int, c: ScanContext, run: Run) -> None:
    """Read the file with `jobs` processes, each running `run` on its byte range, into `c.result`."""
    step = size // jobs
    bounds = [(i * step, size if i == jobs - 1 else (i + 1) * step) for i in range(jobs)]
    state = c.reader.state()
    tzname = str(getattr(c.reader.ctx.tz, "key", "UTC"))
    args = [(path, s, e, c.fmt, state, tzname, c.method) for s, e in bounds]
    global _SHARED
    _SHARED = (c.matcher, c.attributor, run)
    children: list[tuple[int, int]] = []
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        for a in args:
            children.append(_fork(a))
        parts = []
        while children:
            pid, fd = children.pop(0)
            parts.append(_collect(pid, fd))
    finally:
        _SHARED = None
        for pid, fd in children:  # a worker failed or the scan was interrupted: the others are stopped
            os.close(fd)
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except (ChildProcessError, ProcessLookupError):
                pass
    r = c.result
    offset = 0
    for part in parts:
        for rej in part.rejections:
            if len(r.rejections) < KEEP:
                where, _, n = rej.place.rpartition(":")
                r.rejections.append(Rejection(f"{where}:{int(n) + offset}", rej.reason))
        r.read += part.read
        r.matched += part.matched
        r.unmatched += part.unmatched
        r.rejected += part.rejected
        r.weak += part.weak
        r.aggregate.merge(part.aggregate)
        offset += part.read


def _fork(args: tuple[str, int, int, str, dict[str, object], str, str]) -> tuple[int, int]:
    """A worker reading one range: its process id and the pipe its result comes back through."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: its result (or its failure) into the pipe, then out without the parent's exit hooks
        os.close(r)
        code = 0
        try:
            try:
                answer: tuple[bool, object] = (True, _worker(args))
            except BaseException as e:  # sent to the parent, which raises it
                answer, code = (False, e), 1
            data = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
            view = memoryview(data)
            while view:
                view = view[os.write(w, view):]
        finally:
            os._exit(code)
    os.close(w)
    return pid, r


def _collect(pid: int, fd: int) -> FileScan:
    """A worker's result, once it has ended; its failure raised here."""
    chunks = []
    try:
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(fd)
        os.waitpid(pid, 0)
    if not chunks:
        raise RuntimeError("a scanning process ended without its result")
    ok, value = pickle.loads(b"".join(chunks))
    if not ok:
        raise value
    assert isinstance(value, FileScan)
    return value
