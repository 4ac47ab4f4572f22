"""Compressed input bounded: what a gzip, bzip2 or zstd file inflates to is limited by ratio and by size.

A 500 KB gzip can hold 512 MiB of blank lines (a ratio of 1000), and reading it costs minutes of CPU. Every
reader of compressed inventories and logs goes through `bounded`, which stops with `InflateLimit` (an
`InputError`: the import or scan is refused, nothing is stored) once the output passes
`max(MIN_ALLOWED, ratio × compressed size)` or the absolute `max_bytes`. Exports of real fleets and DNS logs
compress 5 to 20 times; the defaults leave room for that and refuse bombs early. For gzip, the size written in
the file's trailer is checked first, so most bombs are refused before anything is inflated.

Set `INTERDIT_MAX_INFLATE_RATIO` and `INTERDIT_MAX_INFLATED_MB` to change the limits (read when a file is
opened).
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from typing import IO, Any

from interdit.errors import InputError

MAX_RATIO = 100
MAX_BYTES = 4 * 1024**3
MIN_ALLOWED = 64 * 1024**2  # a small compressed file may always inflate to this much


class InflateLimit(InputError):
    """A compressed input inflates past the limits (a decompression bomb, or limits set too low)."""


def limits(environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """(ratio, absolute bytes), from the environment or the defaults."""
    env = os.environ if environ is None else environ
    ratio = _whole(env, "INTERDIT_MAX_INFLATE_RATIO") or MAX_RATIO
    size = _whole(env, "INTERDIT_MAX_INFLATED_MB") * 1024**2 or MAX_BYTES
    return ratio, size


def _whole(env: Mapping[str, str], key: str) -> int:
    """A limit from the environment (0 when unset); a value that is not a whole number of at least 1 is refused
    with the variable's name, before any file is read."""
    raw = env.get(key, "").strip()
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise InputError(f"{key}={raw!r} is not a whole number of at least 1", where=key,
                         fix=f"set {key} to a whole number (e.g. {key}=200), or unset it for the default")
    return int(raw)


def allowed(compressed: int | None, environ: dict[str, str] | None = None) -> int:
    """The most a file of `compressed` bytes (None: unknown, e.g. standard input) may inflate to."""
    ratio, size = limits(environ)
    if compressed is None:
        return size
    return min(size, max(MIN_ALLOWED, ratio * compressed))


def _refusal(where: str, limit: int, compressed: int | None) -> InflateLimit:
    ratio, size = limits()
    return InflateLimit(
        f"the compressed file inflates to more than {limit:,} bytes, the most allowed"
        + (f" for {compressed:,} compressed bytes" if compressed else ""),
        where=where, fix=f"send the file uncompressed or split it; the limits are {ratio} times the compressed size "
                         f"(at least {MIN_ALLOWED // 1024**2} MiB) and {size // 1024**2:,} MiB: raise "
                         "INTERDIT_MAX_INFLATE_RATIO or INTERDIT_MAX_INFLATED_MB if the file is genuine")


def gzip_trailer_size(raw: IO[bytes]) -> int | None:
    """The inflated size a seekable gzip file declares in its last 4 bytes (modulo 4 GiB), or None."""
    try:
        here = raw.tell()
        raw.seek(-4, io.SEEK_END)
        tail = raw.read(4)
        raw.seek(here)
    except (OSError, ValueError):
        return None
    return int.from_bytes(tail, "little") if len(tail) == 4 else None


class _Counted(io.RawIOBase):
    def __init__(self, inner: Any, limit: int, where: str, compressed: int | None, raw: IO[bytes] | None) -> None:
        self.inner, self.limit, self.where, self.compressed, self.raw = inner, limit, where, compressed, raw
        self.seen = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        n = len(data)
        self.seen += n
        if self.seen > self.limit:
            raise _refusal(self.where, self.limit, self.compressed)
        buffer[:n] = data
        return n

    def close(self) -> None:
        try:
            self.inner.close()
            if self.raw is not None:
                self.raw.close()
        finally:
            super().close()


class _Limited:
    """The unbuffered form: each read goes to the decompressor as it is (what it decoded before a fault in
    the data is returned before the fault is raised)."""

    def __init__(self, counted: _Counted) -> None:
        self.counted = counted

    def read(self, n: int = -1) -> bytes:
        inner = self.counted
        data = bytes(inner.inner.read(n))
        inner.seen += len(data)
        if inner.seen > inner.limit:
            raise _refusal(inner.where, inner.limit, inner.compressed)
        return data

    def close(self) -> None:
        self.counted.close()


def counted(inflating: Any, *, compressed: int | None, where: str) -> _Limited:
    """`inflating` (a reader of decompressed bytes) read as it is, stopping at the limits."""
    return _Limited(_Counted(inflating, allowed(compressed), where, compressed, None))


def bounded(inflating: Any, *, compressed: int | None, where: str, kind: str = "",
            raw: Any = None) -> io.BufferedReader:
    """`inflating` (a reader of decompressed bytes) as a buffered reader that stops at the limits.

    `compressed` is the compressed file's size (None when unknown); with `kind` "gzip" and the seekable `raw`
    file under it, the size its trailer declares is checked first (a truncated file, whose last bytes are not a
    trailer, is refused too: read whole files only this way). Closing the reader closes `raw` too."""
    limit = allowed(compressed)
    if kind == "gzip" and raw is not None:
        declared = gzip_trailer_size(raw)
        if declared is not None and declared > limit:  # the true size is at least this (a lone member)
            inflating.close()
            raw.close()
            raise InflateLimit(
                f"the compressed file says it inflates to {declared:,} bytes, more than the {limit:,} allowed for "
                f"{compressed or 0:,} compressed bytes; or the file is not complete (its end is cut off)",
                where=where, fix="check that the file is complete; send a large file uncompressed or split it; if it "
                                 "is genuine, raise INTERDIT_MAX_INFLATE_RATIO or INTERDIT_MAX_INFLATED_MB")
    return io.BufferedReader(_Counted(inflating, limit, where, compressed, raw), buffer_size=1024 * 1024)


def file_size(raw: Any) -> int | None:
    try:
        return os.fstat(raw.fileno()).st_size
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
