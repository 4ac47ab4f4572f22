"""The scanner: open (gzip, bzip2, zstd, stdin), detect the format, stream lines, match, attribute, aggregate.

One file at a time, in bounded memory. A large plain file is split by byte ranges across processes (each
begins at the first whole line of its range). Zeek TSV logs take a fast path: with `hyperscan`, a native
prefilter over whole blocks of lines (`interdit.network.prefilter`) and checks of each block's shape leave
only the flagged lines to read; without it, a bytes-level check of each line's query and answers. Either
way a line is counted as unmatched without being decoded only when the full reader would say the same, so
every method gives the same result. Counts always add up: read = matched + unmatched + rejected.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import multiprocessing
import os
import re
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import IO, Any

from interdit.inflate import InflateLimit, counted, file_size
from interdit.model import Rejection
from interdit.network.aggregate import Aggregator
from interdit.network.attribute import Attributor
from interdit.network.base import MAX_LINE, Event, FileContext, LineError, LineReader, client_address, readers
from interdit.network.match import MAX_NAME, DomainMatcher, normalise
from interdit.network.prefilter import Prefilter

BLOCK = 4 * 1024 * 1024
PIECE = 256 * 1024  # compressed streams are read in pieces, so a fault loses at most one piece
HEAD_LINES = 200
SPLIT_MIN = 16 * 1024 * 1024
KEEP = 20  # rejections kept per file (all are counted)
FINGERPRINT_BYTES = 65_536


class _TooLong:
    __slots__ = ()


TOO_LONG = _TooLong()


class Truncated(Exception):
    """The compressed stream ended early or is corrupt."""


@dataclass
class FileScan:
    path: str
    format: str | None = None
    compression: str = "none"
    read: int = 0
    matched: int = 0
    unmatched: int = 0
    rejected: int = 0
    weak: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    error: str | None = None  # why the file could not be scanned at all
    fingerprint: str = ""
    head: bytes = b""  # the first 64 KiB of the content: the input's identity when stored
    aggregate: Aggregator = field(default_factory=Aggregator)
    seconds: float = 0.0

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < KEEP:
            self.rejections.append(Rejection(f"{self.path}:{line}", reason))

    def counts_ok(self) -> bool:
        return self.read == self.matched + self.unmatched + self.rejected


@dataclass(frozen=True)
class Match:
    """A matched request as `--follow` shows it."""

    when: datetime
    client: str
    name: str
    family: str
    weak: bool
    device: tuple[str, str] | None
    format: str


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


def _read(stream: IO[bytes], n: int) -> bytes:
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
               poll: float = 0.5) -> Iterator[list[bytes | _TooLong]]:
    """Batches of lines without their newline; a line longer than MAX_LINE comes out as TOO_LONG.

    With `follow`, waits at the end of the file for more, until `follow()` returns False.
    """
    for blob in iter_blocks(stream, first=first, follow=follow, poll=poll):
        yield [TOO_LONG] if isinstance(blob, _TooLong) else split_block(blob)


def split_block(blob: bytes) -> list[bytes | _TooLong]:
    """The lines of a block from `iter_blocks`; a line longer than MAX_LINE comes out as TOO_LONG."""
    batch: list[bytes | _TooLong] = list(blob.split(b"\n"))
    if len(blob) > MAX_LINE and max(map(len, batch)) > MAX_LINE:  # type: ignore[arg-type]
        batch = [TOO_LONG if len(x) > MAX_LINE else x for x in batch]  # type: ignore[arg-type]
    return batch


def iter_blocks(stream: IO[bytes], *, first: bytes = b"", follow: Callable[[], bool] | None = None,
                poll: float = 0.5) -> Iterator[bytes | _TooLong]:
    """Blocks of whole lines joined by newlines (without the last newline), or TOO_LONG for a line too long
    to hold (the rest of it is skipped). `split_block` turns a block into its lines."""
    carry = b""
    skipping = False
    pending = first
    while True:
        block, pending = (pending, b"") if pending else (_read(stream, BLOCK), b"")
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


# -- detection --------------------------------------------------------------------------------------


def detect(head: list[bytes]) -> str | None:
    """The registered format most of the first lines look like; None when no format fits any line."""
    best, score = None, 0
    lines = [h for h in head if h.strip()][:50]
    for name, cls in readers.items():
        probe = cls.__new__(cls)
        n = 0
        for line in lines:
            try:
                n += bool(probe.sniff(line))
            except Exception:
                continue
        if n > score:
            best, score = name, n
    return best


# -- matching one event -----------------------------------------------------------------------------


@dataclass
class _Ctx:
    reader: LineReader
    fmt: str
    matcher: DomainMatcher
    attributor: Attributor
    result: FileScan
    on_match: Callable[[Match], None] | None = None
    method: str = "auto"  # auto | python | full (see `scan_file`)


def _handle(ctx: _Ctx, n: int, item: Event | LineError | _TooLong | None) -> None:
    r = ctx.result
    r.read += 1
    if item is None:
        r.unmatched += 1
        return
    if isinstance(item, _TooLong):
        r.reject(n, f"line longer than {MAX_LINE} bytes")
        return
    if isinstance(item, LineError):
        r.reject(n, str(item))
        return
    name = normalise(item.name)
    if name is None:
        if item.name.strip() in (".", ""):  # the root (priming queries) or no name at all
            r.unmatched += 1
            return
        r.reject(n, f"{item.name[:80]!r} is not a DNS name (empty label, over 253 characters, or bad IDN)")
        return
    family = ctx.matcher.family_of(name)
    weak = False
    shown = name
    if family is None:
        for a in item.answers:
            an = normalise(a)
            f = ctx.matcher.family_of(an) if an else None
            if f is not None:
                family, weak, shown = f, True, f"{name} -> {an}"
                break
    if family is None:
        r.unmatched += 1
        return
    try:
        when = ctx.reader.when(item.stamp)
        client = client_address(item.client)
    except LineError as e:
        r.reject(n, str(e))
        return
    r.matched += 1
    r.weak += weak
    device = ctx.attributor.device(client, when.timestamp()) if ctx.attributor else None
    r.aggregate.add(family, when, client, device, shown, weak, ctx.fmt)
    if ctx.on_match is not None:
        ctx.on_match(Match(when, client, shown, family, weak, device, ctx.fmt))


def _parse(reader: LineReader, line: bytes | _TooLong) -> Event | LineError | _TooLong | None:
    if isinstance(line, _TooLong):
        return line
    try:
        return reader.parse(line)
    except LineError as e:
        return e
    except (ValueError, KeyError, IndexError, TypeError, UnicodeError) as e:  # a reader bug must not stop a scan
        return LineError(f"unreadable line ({type(e).__name__})")


# -- the Zeek TSV fast path -------------------------------------------------------------------------


_NAME = re.compile(rb"(?:[^.(]{1,63}\.)*[^.(]{1,63}")  # a lowercased name normalise keeps as it is


def _layout(reader: LineReader) -> tuple[bytes | None, int, int]:
    """The tabs of a data line (None: no quick path), the query column and the answers column (-1: none)."""
    tabs = _tabs(reader)
    cols: dict[str, int] = getattr(reader, "columns", {})
    if tabs < 0:
        return None, -1, -1
    return (b"\t" * tabs, cols[getattr(reader, "name_field", "")],
            cols.get(getattr(reader, "answers_field", None) or "", -1))


def _unmatched(parts: list[bytes], qi: int, ai: int, keys: frozenset[bytes],
               exact: Callable[[bytes], str | None]) -> bool:
    """True when the full reader would count this clean data line (ASCII, the header's columns, no NUL and no
    whitespace but tabs) as unmatched: its name is a valid DNS name that is not listed, nor are its answers."""
    q = parts[qi].lower()
    if q[-1:] == b".":
        q = q[:-1]
    if not 0 < len(q) <= MAX_NAME or _NAME.fullmatch(q) is None:
        return False  # the root, "-", "(empty)", a Windows wire form or a name the reader refuses: read it
    i = q.rfind(b".")
    if i > 0 and q[q.rfind(b".", 0, i) + 1:] in keys and exact(q) is not None:
        return False
    if ai < 0:
        return True
    a = parts[ai]
    if a == b"-" or a == b"(empty)":
        return True
    for x in a.lower().split(b","):
        if x[:1] == b"(":
            return False  # a Windows wire form is decoded by the reader
        if x[-1:] == b".":
            x = x[:-1]
        j = x.rfind(b".")
        if j > 0 and x[x.rfind(b".", 0, j) + 1:] in keys and exact(x) is not None:
            return False
    return True


def _listed_query(ctx: _Ctx, parts: list[bytes], qi: int, ti: int, ci: int) -> bool:
    """`_handle` for a clean data line whose name is a valid, listed DNS name (what most flagged lines are),
    without decoding the whole line: the same counts, rejection and sighting. False when the name is not
    such a name (the caller reads the line in full)."""
    q = parts[qi].lower()
    if q[-1:] == b".":
        q = q[:-1]
    if not 0 < len(q) <= MAX_NAME or _NAME.fullmatch(q) is None:
        return False
    family = ctx.matcher.family_of_bytes(q)
    if family is None:
        return False
    r = ctx.result
    r.read += 1
    try:
        when = ctx.reader.when(parts[ti].decode("ascii"))
        client = client_address(parts[ci].decode("ascii"))
    except LineError as e:
        r.reject(0, str(e))
        return True
    r.matched += 1
    device = ctx.attributor.device(client, when.timestamp()) if ctx.attributor else None
    r.aggregate.add(family, when, client, device, q.decode("ascii"), False, ctx.fmt)
    return True


def _fast_zeek(ctx: _Ctx, batches: Iterator[list[bytes | _TooLong]], lineno: int) -> int:
    """Count the lines that certainly do not match without decoding them; read the rest in full.

    A line is counted without being read only when it is a clean data line (ASCII, exactly the header's
    number of tabs, no NUL and no other whitespace) whose name is a valid DNS name (as `normalise` would
    keep it) that is not listed, and whose answers are not listed either. Every other line (headers,
    malformed lines, listed names, international or Windows-form names) gets the reader's verdict.
    """
    reader = ctx.reader
    r = ctx.result
    keys = ctx.matcher.bkeys
    exact = ctx.matcher.family_of_bytes
    unmatched = 0
    shape, qi, ai = _layout(reader)
    for batch in batches:
        for line in batch:
            lineno += 1
            if (shape is not None and isinstance(line, bytes) and line[:1] != b"#" and line.isascii()
                    and line.translate(None, _DROP) == shape and _unmatched(line.split(b"\t"), qi, ai, keys, exact)):
                unmatched += 1
                continue
            before = getattr(reader, "columns", None)
            _handle(ctx, lineno, _parse(reader, line))
            if getattr(reader, "columns", None) is not before:  # a new #fields header
                shape, qi, ai = _layout(reader)
    r.read += unmatched
    r.unmatched += unmatched
    return lineno


ZEEK_TSV = ("zeek-dns", "zeek-ssl")
METHODS = ("auto", "python", "full")
# what the block check keeps of a line: tabs, newlines, and the bytes that would change a name or a column
_KEEP = b"\t\n\x00\x0b\x0c\r\x1c\x1d\x1e\x1f "
_DROP = bytes(i for i in range(256) if i not in _KEEP)
_MAX_WIDTH = MAX_LINE // 254  # columns of at most 253 bytes then make a line shorter than MAX_LINE


def _run(ctx: _Ctx, blocks: Iterator[bytes | _TooLong], lineno: int = 0) -> int:
    """Read every line of the blocks (see `iter_blocks`) into the result; the last line number."""
    zeek = ctx.fmt in ZEEK_TSV and ctx.on_match is None and ctx.method != "full"
    if zeek and ctx.method == "auto":
        pre = ctx.matcher.zeek_prefilter()
        if pre is not None:
            return _native_zeek(ctx, pre, blocks, lineno)
    lines: Iterator[list[bytes | _TooLong]] = (
        [TOO_LONG] if isinstance(b, _TooLong) else split_block(b) for b in blocks)
    if zeek:
        return _fast_zeek(ctx, lines, lineno)
    reader = ctx.reader
    for batch in lines:
        for line in batch:
            lineno += 1
            _handle(ctx, lineno, _parse(reader, line))
    return lineno


def _tabs(reader: LineReader) -> int:
    """Tabs on each data line when the reader's header allows the native path, else -1."""
    cols: dict[str, int] = getattr(reader, "columns", {})
    width = int(getattr(reader, "width", 0))
    if not cols or not 0 < width <= _MAX_WIDTH or getattr(reader, "sep", "") != "\t":
        return -1
    if any(k not in cols for k in (getattr(reader, "name_field", ""), "id.orig_h", "ts")):
        return -1
    return width - 1


def _native_zeek(ctx: _Ctx, pre: Prefilter, blocks: Iterator[bytes | _TooLong], lineno: int) -> int:
    """The Zeek TSV path with the native prefilter: only the lines it flags are read.

    A block is taken whole only when it is ASCII, has no `#fields` line, and every line has exactly the
    header's number of tabs and no NUL or whitespace but tabs (one `translate` and one comparison). Then a
    line the prefilter does not flag is, for the full reader, a data line whose name is a valid DNS name that
    contains no listed domain, nor do its answers: unmatched. Any other block goes through `_fast_zeek`.
    """
    reader = ctx.reader
    r = ctx.result
    keys = ctx.matcher.bkeys
    exact = ctx.matcher.family_of_bytes
    unmatched = 0
    for blob in blocks:
        if isinstance(blob, _TooLong):
            lineno = _fast_zeek(ctx, iter([[TOO_LONG]]), lineno)
            continue
        if blob[:1] == b"#":  # header lines at the top of the file: read one by one, then the rest whole
            i = 0
            while blob[i:i + 1] == b"#":
                j = blob.find(b"\n", i)
                i = len(blob) + 1 if j < 0 else j + 1
            lineno = _fast_zeek(ctx, iter([split_block(blob[:i - 1])]), lineno)
            if i > len(blob):
                continue
            blob = blob[i:]
        tail = None
        last = blob.rfind(b"\n") + 1
        if blob[last:last + 1] == b"#":  # the #close line at the end
            blob, tail = blob[:last - 1], blob[last:]
        tabs = _tabs(reader)
        if tabs >= 0 and blob.isascii() and (b"#" not in blob or b"#fields" not in blob):
            seen = blob.translate(None, _DROP)
            k = len(seen) // (tabs + 1)
            if len(seen) == k * (tabs + 1) + tabs and seen == (b"\t" * tabs + b"\n") * k + b"\t" * tabs:
                read = r.read
                starts = pre.lines(blob)
                _, qi, ai = _layout(reader)
                cols: dict[str, int] = getattr(reader, "columns", {})
                ti, ci = cols["ts"], cols["id.orig_h"]
                for start in starts:
                    end = blob.find(b"\n", start)
                    line = blob[start:] if end < 0 else blob[start:end]
                    kept = len(r.rejections)
                    if line[:1] != b"#" and len(line) <= MAX_LINE:
                        parts = line.split(b"\t")
                        if _unmatched(parts, qi, ai, keys, exact):
                            continue  # a look-alike: counted below with the lines not flagged
                        if not _listed_query(ctx, parts, qi, ti, ci):
                            _handle(ctx, 0, _parse(reader, line))
                    else:
                        _handle(ctx, 0, _parse(reader, TOO_LONG if len(line) > MAX_LINE else line))
                    if len(r.rejections) > kept:  # its line number, counted only when shown
                        n = lineno + blob.count(b"\n", 0, start) + 1
                        r.rejections[-1] = Rejection(f"{r.path}:{n}", r.rejections[-1].reason)
                unmatched += k + 1 - (r.read - read)
                lineno += k + 1
            else:
                lineno = _fast_zeek(ctx, iter([split_block(blob)]), lineno)
        else:
            lineno = _fast_zeek(ctx, iter([split_block(blob)]), lineno)
        if tail is not None:
            lineno = _fast_zeek(ctx, iter([[tail]]), lineno)
    r.read += unmatched
    r.unmatched += unmatched
    return lineno


# -- one file ---------------------------------------------------------------------------------------


def _mtime(path: str) -> datetime:
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime, UTC) if path != "-" else datetime.now(UTC)
    except OSError:
        return datetime.now(UTC)


def scan_file(path: str, matcher: DomainMatcher, attributor: Attributor | None = None, *, fmt: str | None = None,
              tz: tzinfo = UTC, jobs: int = 1, follow: Callable[[], bool] | None = None,
              on_match: Callable[[Match], None] | None = None, method: str = "auto") -> FileScan:
    """Scan one file (or `-` for stdin). Never raises for bad content: problems are in the result.

    `method` chooses how Zeek TSV logs are read, all with the same result: `auto` (the native prefilter where
    `hyperscan` is installed, else `python`), `python` (a bytes-level check of each line's name), `full`
    (every line read and matched as any other format's).
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
        first = _read(stream, BLOCK)
    except Truncated as e:
        result.error = f"the {result.compression} stream is corrupt or ends early: {e}"
        return result
    result.head = first[:FINGERPRINT_BYTES]
    result.fingerprint = hashlib.sha256(result.head).hexdigest()
    head = first.split(b"\n", HEAD_LINES)[:HEAD_LINES]
    if len(first) == 0:
        result.format = fmt
        return result
    if fmt is None:
        fmt = "pihole-ftl" if first.startswith(b"SQLite format 3\x00") else detect(head)
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
    ctx = FileContext(path, _mtime(path), tz)
    reader = cls(ctx)
    c = _Ctx(reader, fmt, matcher, attributor, result, on_match, method)
    if fmt in ZEEK_TSV and method == "auto" and on_match is None:
        matcher.zeek_prefilter()  # compiled once, before any worker starts
    if cls.whole_file:
        if path == "-" or result.compression != "none":
            result.error = f"{fmt} is a database file: pass its path, not a stream or a compressed copy"
            return result
        for n, item in reader.events(Path(path)):
            _handle(c, n, item)
    else:
        reader.start(head)
        size = os.path.getsize(path) if path != "-" and result.compression == "none" else 0
        if jobs > 1 and cls.splittable and size >= SPLIT_MIN and follow is None and on_match is None:
            _split(path, size, jobs, c)
        else:
            try:
                _run(c, iter_blocks(stream, first=first, follow=follow))
            except Truncated as e:
                result.read += 1
                result.reject(result.read, f"the {result.compression} stream is corrupt or ends early here: {e}")
    result.seconds = time.perf_counter() - started
    return result


# -- byte-range split across processes -------------------------------------------------------------


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


class _Window(io.RawIOBase):
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


def _range_blocks(path: str, start: int, end: int) -> Iterator[bytes | _TooLong]:
    """The lines that START in [start, end): the first partial line belongs to the previous range."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        a, b = _align(f, start, size), _align(f, end, size)
        yield from iter_blocks(_Window(f, a, b))  # type: ignore[arg-type]


_SHARED: tuple[DomainMatcher, Attributor] | None = None  # inherited by forked workers, never pickled


def _worker(args: tuple[str, int, int, str, dict[str, object], str, str]) -> FileScan:
    path, start, end, fmt, state, tzname, method = args
    assert _SHARED is not None
    matcher, attributor = _SHARED
    cls = readers.get(fmt)
    from zoneinfo import ZoneInfo

    tz: tzinfo = UTC if tzname == "UTC" else ZoneInfo(tzname)
    reader = cls(FileContext(path, _mtime(path), tz))
    reader.restore(state)
    result = FileScan(path, fmt)
    _run(_Ctx(reader, fmt, matcher, attributor, result, method=method), _range_blocks(path, start, end))
    return result


def _split(path: str, size: int, jobs: int, c: _Ctx) -> None:
    step = size // jobs
    bounds = [(i * step, size if i == jobs - 1 else (i + 1) * step) for i in range(jobs)]
    state = c.reader.state()
    tzname = str(getattr(c.reader.ctx.tz, "key", "UTC"))
    args = [(path, s, e, c.fmt, state, tzname, c.method) for s, e in bounds]
    global _SHARED
    _SHARED = (c.matcher, c.attributor)
    try:
        mp = multiprocessing.get_context("fork")
        with mp.Pool(jobs) as pool:
            parts = pool.map(_worker, args, chunksize=1)
    finally:
        _SHARED = None
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


def describe(fmt: str) -> dict[str, Any]:
    cls = readers.get(fmt)
    return {"name": fmt, "summary": cls.summary, "kind": cls.kind, "example": cls.example}
