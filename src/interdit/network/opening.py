"""Opening a log: decompression found by content (gzip, bzip2, zstd), stdin, and blocks of whole lines.

A corrupt or truncated compressed stream gives what was decoded before the fault, then `Truncated`; a line
longer than `MAX_LINE` comes out as `TOO_LONG` and the rest of it is skipped, so memory stays bounded.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
import stat
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import IO, Any

from interdit.inflate import InflateLimit, counted, file_size
from interdit.network.base import MAX_LINE

BLOCK = 4 * 1024 * 1024
PROBE = 65_536  # where a plain file's block looks for its last line end
PIECE = 256 * 1024  # compressed streams are read in pieces, so a fault loses at most one piece


class TooLong:
    """A line longer than MAX_LINE (one instance: `TOO_LONG`)."""

    __slots__ = ()


TOO_LONG = TooLong()


class Truncated(Exception):
    """The compressed stream ended early or is corrupt."""



# -- opening ----------------------------------------------------------------------------------------


def _magic(head: bytes) -> str:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bzip2"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    return "none"


def open_stream(path: str) -> tuple[IO[bytes], str]:
    """A binary stream of the decompressed content, and the compression found (by content, not name)."""
    raw: IO[bytes]
    if path == "-":
        buffered = sys.stdin.buffer
        if not isinstance(buffered, io.BufferedReader):
            buffered = io.BufferedReader(buffered.raw if hasattr(buffered, "raw") else buffered)
        raw = buffered
        head = buffered.peek(4)[:4]
    else:
        raw = open(path, "rb")  # noqa: SIM115
        head = raw.read(4)
        raw.seek(0)
    kind = _magic(head)
    stream: Any
    inflating: Any
    if kind == "gzip":
        inflating = gzip.GzipFile(fileobj=raw, mode="rb")
    elif kind == "bzip2":
        inflating = bz2.BZ2File(raw, "rb")
    elif kind == "zstd":
        import zstandard

        inflating = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    else:
        return raw, kind
    size = None if path == "-" else file_size(raw)  # bounded by ratio and size (interdit.inflate)
    # counted as it inflates (a log may be cut off at its end while it is written: no trailer to trust)
    stream = _Closing(counted(inflating, compressed=size, where=path), raw)
    stream._interdit_piecewise = True
    return stream, kind


class _Closing:
    """A decompressing reader that also closes the file under it."""

    def __init__(self, reader: Any, raw: IO[bytes]) -> None:
        self.reader, self.raw = reader, raw

    def read(self, n: int = -1) -> bytes:
        return bytes(self.reader.read(n))

    def close(self) -> None:
        self.reader.close()
        self.raw.close()


def read_block(stream: IO[bytes], n: int) -> bytes:
    """Read up to n bytes. A corrupt or truncated compressed stream gives what was decoded before the fault,
    then raises `Truncated` on the next read."""
    fault = getattr(stream, "_interdit_fault", None)
    if fault is not None:
        raise Truncated(fault)
    if not hasattr(stream, "_interdit_piecewise"):
        return _read_once(stream, n)
    parts: list[bytes] = []
    got = 0
    while got < n:
        try:
            piece = _read_once(stream, min(PIECE, n - got))
        except Truncated as e:
            if not parts:
                raise
            stream._interdit_fault = str(e)  # type: ignore[attr-defined]
            break
        if not piece:
            break
        parts.append(piece)
        got += len(piece)
    return b"".join(parts)


def _read_once(stream: IO[bytes], n: int) -> bytes:
    try:
        return stream.read(n)
    except InflateLimit:
        raise
    except (EOFError, OSError, zlib.error, ValueError) as e:
        raise Truncated(str(e) or type(e).__name__) from None
    except Exception as e:  # zstandard.ZstdError and other decompressor failures
        if type(e).__name__.endswith("Error"):
            raise Truncated(str(e) or type(e).__name__) from None
        raise


def iter_lines(stream: IO[bytes], *, first: bytes = b"", follow: Callable[[], bool] | None = None,
               poll: float = 0.5) -> Iterator[list[bytes | TooLong]]:
    """Batches of lines without their newline; a line longer than MAX_LINE comes out as TOO_LONG.

    With `follow`, waits at the end of the file for more, until `follow()` returns False.
    """
    for blob in iter_blocks(stream, first=first, follow=follow, poll=poll):
        yield [TOO_LONG] if isinstance(blob, TooLong) else split_block(blob)


def split_block(blob: bytes) -> list[bytes | TooLong]:
    """The lines of a block from `iter_blocks`; a line longer than MAX_LINE comes out as TOO_LONG."""
    batch: list[bytes | TooLong] = list(blob.split(b"\n"))
    if len(blob) > MAX_LINE and max(map(len, batch)) > MAX_LINE:  # type: ignore[arg-type]
        batch = [TOO_LONG if len(x) > MAX_LINE else x for x in batch]  # type: ignore[arg-type]
    return batch


def iter_blocks(stream: IO[bytes], *, first: bytes = b"", follow: Callable[[], bool] | None = None,
                poll: float = 0.5) -> Iterator[bytes | TooLong]:
    """Blocks of whole lines joined by newlines (without the last newline), or TOO_LONG for a line too long
    to hold (the rest of it is skipped). `split_block` turns a block into its lines. `first` is what was
    read from the stream already.

    A plain file is read block by block up to a line end found beforehand (`plain_range`), so a block is
    never copied; a compressed stream, a pipe or a file followed as it grows carries the cut line over."""
    if follow is None and _plain(stream):
        end = os.fstat(stream.fileno()).st_size
        yield from plain_range(stream, stream.tell() - len(first), end)
        return
    yield from _carried(stream, first=first, follow=follow, poll=poll)


def _plain(stream: IO[bytes]) -> bool:
    """A regular file that can be read at any offset (not a decompressing stream, not a pipe)."""
    if hasattr(stream, "_interdit_piecewise"):
        return False
    try:
        return bool(stream.seekable()) and stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):
        return False


def plain_range(f: IO[bytes], start: int, end: int) -> Iterator[bytes | TooLong]:
    """`iter_blocks` for the lines of a plain file that lie in [start, end) (`start` at a line start, `end` at
    one or at the end of the file). Each block is read once, to the last line end in its last PROBE bytes
    (looked for first), so no block is joined to a carried line; where a line longer than that crosses the
    probe, the rest is read with the carried line instead."""
    pos = start
    while pos < end:
        probe_len = min(PROBE, BLOCK)
        if end - pos <= BLOCK:  # the last block: all of it, but its final newline
            f.seek(end - 1)
            last = f.read(1)
            f.seek(pos)
            yield f.read(end - pos - (last == b"\n"))
            return
        at = pos + BLOCK - probe_len
        f.seek(at)
        cut = f.read(probe_len).rfind(b"\n")
        if cut < 0:
            yield from _carried(Window(f, pos, end))  # type: ignore[arg-type]
            return
        f.seek(pos)
        blob = f.read(at + cut - pos)
        yield blob
        if len(blob) != at + cut - pos:  # the file shrank under the scan: what was left is read
            return
        pos = at + cut + 1


class Window(io.RawIOBase):
    """The bytes [start, end) of a file, read as a stream."""

    def __init__(self, f: IO[bytes], start: int, end: int) -> None:
        super().__init__()
        self.f = f
        self.left = end - start
        f.seek(start)

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n)
        self.left -= len(data)
        return data


def _carried(stream: IO[bytes], *, first: bytes = b"", follow: Callable[[], bool] | None = None,
             poll: float = 0.5) -> Iterator[bytes | TooLong]:
    """`iter_blocks` for any stream: the line cut at the end of a block is carried over to the next."""
    carry = b""
    skipping = False
    pending = first
    while True:
        block, pending = (pending, b"") if pending else (read_block(stream, BLOCK), b"")
        if not block:
            if follow is not None and follow():
                time.sleep(poll)
                continue
            break
        cut = block.rfind(b"\n")  # the carry holds no newline: the last one is in this block
        if cut < 0:
            carry = carry + block if carry else block
        else:
            if not skipping:
                yield b"".join((carry, memoryview(block)[:cut]))  # one copy
            else:  # the first line is the end of the over-long one
                skipping = False
                i = block.find(b"\n")
                if i < cut:
                    yield block[i + 1:cut]
            carry = block[cut + 1:]
        if len(carry) > MAX_LINE:
            if not skipping:
                yield TOO_LONG
            skipping = True
            carry = b""
    if carry and not skipping:
        yield carry


def file_mtime(path: str) -> datetime:
    """When the file last changed (now for stdin or a file that cannot be read): the year of syslog times."""
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime, UTC) if path != "-" else datetime.now(UTC)
    except OSError:
        return datetime.now(UTC)
