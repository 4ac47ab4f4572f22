"""The scanner: open (gzip, bzip2, zstd, stdin), detect the format, stream lines, match, attribute, aggregate.

One file at a time, in bounded memory. The pieces, each in its own module:
`opening` (decompression and blocks of whole lines), `detect` (every reader is asked), `handling` (one line's
verdict into the result), `fastpath` (readers that declare tab-separated columns: only the lines that may match
are decoded) and `split` (a large plain file read by several processes, by byte ranges). No format is named
here: what a format can do, it declares (`LineReader.whole_file`, `splittable`, `sniff_head`, `tabular`).
Counts always add up: read = matched + unmatched + rejected.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, tzinfo
from pathlib import Path
from typing import IO, Any

from interdit.network import opening
from interdit.network.attribute import Attributor
from interdit.network.base import FileContext, readers
from interdit.network.detect import detect, detect_format, head_lines
from interdit.network.fastpath import prefilter_for, read_fast
from interdit.network.handling import FileScan, Match, ScanContext, handle, parse
from interdit.network.match import DomainMatcher
from interdit.network.opening import (
    TOO_LONG,
    TooLong,
    Truncated,
    file_mtime,
    iter_blocks,
    iter_lines,
    open_stream,
    read_block,
    split_block,
)
from interdit.network.split import split

__all__ = ["METHODS", "SPLIT_MIN", "TOO_LONG", "FileScan", "Match", "describe", "detect", "iter_lines",
           "open_stream", "run", "scan_file"]

SPLIT_MIN = 16 * 1024 * 1024
FINGERPRINT_BYTES = 65_536
METHODS = ("auto", "python", "full")


def run(ctx: ScanContext, blocks: Iterator[bytes | TooLong], lineno: int = 0) -> int:
    """Read every line of the blocks (see `iter_blocks`) into the result; the last line number."""
    tab = ctx.reader.tabular() if ctx.on_match is None and ctx.method != "full" else None
    if tab is not None:
        return read_fast(ctx, tab, blocks, lineno)
    reader = ctx.reader
    for blob in blocks:
        for line in [TOO_LONG] if isinstance(blob, TooLong) else split_block(blob):
            lineno += 1
            handle(ctx, lineno, parse(reader, line))
    return lineno


def scan_file(path: str, matcher: DomainMatcher, attributor: Attributor | None = None, *, fmt: str | None = None,
              tz: tzinfo = UTC, jobs: int = 1, follow: Callable[[], bool] | None = None,
              on_match: Callable[[Match], None] | None = None, method: str = "auto") -> FileScan:
    """Scan one file (or `-` for stdin). Never raises for bad content: problems are in the result.

    `method` chooses how the logs of a reader with the fast path (`LineReader.tabular`) are read, all with the
    same result: `auto` (the native prefilter where `hyperscan` is installed, else `python`), `python` (a
    bytes-level check of each line's name), `full` (every line read and matched as any other format's).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    started = time.perf_counter()
    result = FileScan(path)
    attributor = attributor or Attributor()
    try:
        stream, result.compression = open_stream(path)
    except OSError as e:
        result.error = f"cannot open: {e.strerror or e}"
        return result
    try:
        return _scan_stream(path, stream, result, matcher, attributor, fmt, tz, jobs, follow, on_match, started,
                            method)
    finally:
        stream.close()


def _scan_stream(path: str, stream: IO[bytes], result: FileScan, matcher: DomainMatcher, attributor: Attributor,
                 fmt: str | None, tz: tzinfo, jobs: int, follow: Callable[[], bool] | None,
                 on_match: Callable[[Match], None] | None, started: float, method: str = "auto") -> FileScan:
    try:
        first = read_block(stream, opening.BLOCK)
    except Truncated as e:
        result.error = f"the {result.compression} stream is corrupt or ends early: {e}"
        return result
    result.head = first[:FINGERPRINT_BYTES]
    result.fingerprint = hashlib.sha256(result.head).hexdigest()
    if len(first) == 0:
        result.format = fmt
        return result
    if fmt is None:
        fmt = detect_format(first)
        if fmt is None:
            result.error = ("the format could not be recognised from the first lines"
                            " (binary data, or a log format interdit does not read)")
            return result
    try:
        cls = readers.get(fmt)
    except Exception as e:
        result.error = str(e)
        return result
    result.format = fmt
    reader = cls(FileContext(path, file_mtime(path), tz))
    c = ScanContext(reader, fmt, matcher, attributor, result, on_match, method)
    if cls.whole_file:
        if path == "-" or result.compression != "none":
            result.error = f"{fmt} is a database file: pass its path, not a stream or a compressed copy"
            return result
        for n, item in reader.events(Path(path)):
            handle(c, n, item)
    else:
        reader.start(head_lines(first))
        if method == "auto" and on_match is None and reader.tabular() is not None:
            prefilter_for(matcher)  # compiled once, before any worker starts
        size = os.path.getsize(path) if path != "-" and result.compression == "none" else 0
        if jobs > 1 and cls.splittable and size >= SPLIT_MIN and follow is None and on_match is None:
            split(path, size, jobs, c, run)
        else:
            try:
                run(c, iter_blocks(stream, first=first, follow=follow))
            except Truncated as e:
                result.read += 1
                result.reject(result.read, f"the {result.compression} stream is corrupt or ends early here: {e}")
    result.seconds = time.perf_counter() - started
    return result


def describe(fmt: str) -> dict[str, Any]:
    cls = readers.get(fmt)
    return {"name": fmt, "summary": cls.summary, "kind": cls.kind, "example": cls.example}
