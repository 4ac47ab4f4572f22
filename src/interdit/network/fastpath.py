"""The fast path for tab-separated logs with a header (what a reader declares through `LineReader.tabular`;
Zeek's TSV logs do): lines that certainly do not match are counted without being decoded.

A native prefilter over whole blocks of lines (`interdit.network.prefilter`, Hyperscan, for short lists) or the
block sieve (`interdit.network.sieve`, numpy, for long ones), with checks of each block's shape, leave only the
flagged lines to read; without either, a bytes-level check of each line's name and answers. Either way a line
is counted as unmatched without being decoded only when the full reader would say the same, so every method
gives the same result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from interdit.model import Rejection
from interdit.network import match, prefilter, sieve
from interdit.network.base import MAX_LINE, LineError, TabularReader, client_address
from interdit.network.handling import ScanContext, handle, parse
from interdit.network.match import MAX_NAME, DomainMatcher
from interdit.network.opening import TOO_LONG, TooLong, split_block
from interdit.network.prefilter import Prefilter
from interdit.network.sieve import Sieve


def prefilter_for(matcher: DomainMatcher) -> Prefilter | Sieve | None:
    """What finds a block's lines to read for this list, made on first use and then kept on the matcher: the
    block sieve (`interdit.network.sieve`, built in linear time) for a list of `match.SIEVE_FROM` names or more, the
    compiled prefilter (`interdit.network.prefilter`, compiled once and kept in the user's cache; compiling
    grows faster than the list: 1,000 names 0.05 s, 100,000 names 4 s or more) for a shorter one, or the
    other where one is missing; None when neither `hyperscan` nor `numpy` is installed."""
    if matcher.compiled is None:
        first: Prefilter | Sieve | None = None
        if len(matcher.table) >= match.SIEVE_FROM:
            first = sieve.build(matcher.table)
        if first is None:
            first = prefilter.build(matcher.table, digest=matcher.digest)
        if first is None:
            first = sieve.build(matcher.table)
        matcher.compiled = (first,)
    return matcher.compiled[0]


_NAME = re.compile(rb"(?:[^.(]{1,63}\.)*[^.(]{1,63}")  # a lowercased name normalise keeps as it is


def _layout(tab: TabularReader) -> tuple[bytes | None, int, int]:
    """The tabs of a data line (None: no quick path), the name column and the answers column (-1: none)."""
    tabs = _tabs(tab)
    if tabs < 0:
        return None, -1, -1
    return b"\t" * tabs, tab.columns[tab.name_field], tab.columns.get(tab.answers_field or "", -1)


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


class _Unlisted:
    """What `_query_family` answers for a valid DNS name that is not listed (one instance: `UNLISTED`)."""

    __slots__ = ()


UNLISTED = _Unlisted()


def _query_family(q: bytes, seen: dict[bytes, str | _Unlisted | None],
                  exact: Callable[[bytes], str | None]) -> str | _Unlisted | None:
    """The family of a clean line's name as logged (`UNLISTED`: a valid DNS name that is not listed; None: not a
    name `normalise` keeps as it is, which the full reader must see), remembered by the logged bytes: a log asks
    for the same few thousand names again and again."""
    if q in seen:
        return seen[q]
    n = q.lower()
    if n[-1:] == b".":
        n = n[:-1]
    family: str | _Unlisted | None = None
    if 0 < len(n) <= MAX_NAME and _NAME.fullmatch(n) is not None:
        listed = exact(n)
        family = UNLISTED if listed is None else listed
    if len(seen) < _SEEN_MAX:
        seen[q] = family
    return family


_SEEN_MAX = 200_000  # names remembered per scan (a few tens of MB at most)


def _listed_query(ctx: ScanContext, tab: TabularReader, parts: list[bytes], family: str, qi: int, ti: int,
                  ci: int, clients: dict[bytes, str]) -> None:
    """`handle` for a clean data line whose name is a valid, listed DNS name (what most flagged lines are),
    without decoding the whole line: the same counts, rejection and sighting. `clients` remembers the addresses
    read (by their logged bytes: reading one takes microseconds, and a log has few)."""
    r = ctx.result
    r.read += 1
    try:
        when = tab.when(parts[ti].decode("ascii"))
        client = clients.get(parts[ci])
        if client is None:
            client = client_address(parts[ci].decode("ascii"))
            if len(clients) < _SEEN_MAX:
                clients[parts[ci]] = client
    except LineError as e:
        r.reject(0, str(e))
        return
    r.matched += 1
    q = parts[qi].lower()
    if q[-1:] == b".":
        q = q[:-1]
    device = ctx.attributor.device(client, when.timestamp()) if ctx.attributor else None
    r.aggregate.add(family, when, client, device, q.decode("ascii"), False, ctx.fmt)


def _answers_unmatched(a: bytes, keys: frozenset[bytes], exact: Callable[[bytes], str | None]) -> bool:
    """True when none of a clean line's answers is listed, nor needs the reader (a Windows wire form)."""
    if a == b"-" or a == b"(empty)":
        return True
    for x in a.lower().split(b","):
        if x[:1] == b"(":
            return False
        if x[-1:] == b".":
            x = x[:-1]
        j = x.rfind(b".")
        if j > 0 and x[x.rfind(b".", 0, j) + 1:] in keys and exact(x) is not None:
            return False
    return True


def read_python(ctx: ScanContext, tab: TabularReader, batches: Iterator[list[bytes | TooLong]], lineno: int) -> int:
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
    shape, qi, ai = _layout(tab)
    for batch in batches:
        for line in batch:
            lineno += 1
            if (shape is not None and isinstance(line, bytes) and line[:1] != b"#" and line.isascii()
                    and line.translate(None, _DROP) == shape and _unmatched(line.split(b"\t"), qi, ai, keys, exact)):
                unmatched += 1
                continue
            before = tab.columns
            handle(ctx, lineno, parse(reader, line))
            if tab.columns is not before:  # a new header
                shape, qi, ai = _layout(tab)
    r.read += unmatched
    r.unmatched += unmatched
    return lineno


# what the block check keeps of a line: tabs, newlines, and the bytes that would change a name or a column
# (whitespace, NUL, and any byte beyond ASCII: so the one comparison also proves the block is ASCII)
_KEEP = b"\t\n\x00\x0b\x0c\r\x1c\x1d\x1e\x1f " + bytes(range(128, 256))
_DROP = bytes(i for i in range(256) if i not in _KEEP)
_MAX_WIDTH = MAX_LINE // 254  # columns of at most 253 bytes then make a line shorter than MAX_LINE


def _tabs(tab: TabularReader) -> int:
    """Tabs on each data line when the reader's current header allows the fast path, else -1."""
    cols = tab.columns
    if not cols or not 0 < tab.width <= _MAX_WIDTH or tab.sep != "\t":
        return -1
    if any(k not in cols for k in (tab.name_field, tab.client_field, tab.time_field)):
        return -1
    return tab.width - 1


def _flagged(pre: Prefilter | Sieve, tab: TabularReader, blob: bytes) -> tuple[list[int], int] | None:
    """The start offsets of the lines of a block to read and its number of lines, or None when the block is not
    clean: a header line in it, or a line without the header's number of tabs, or a NUL, whitespace but tabs or
    byte beyond ASCII (for the compiled prefilter: one `translate` and one comparison; the sieve checks it)."""
    tabs = _tabs(tab)
    if tabs < 0 or (b"#" in blob and tab.header in blob):
        return None
    if isinstance(pre, Sieve):
        _, qi, ai = _layout(tab)
        return pre.lines(blob, tabs, qi, ai)
    seen = blob.translate(None, _DROP)
    k = len(seen) // (tabs + 1)
    if len(seen) == k * (tabs + 1) + tabs and seen == (b"\t" * tabs + b"\n") * k + b"\t" * tabs:
        return pre.lines(blob), k + 1
    return None


def read_native(ctx: ScanContext, tab: TabularReader, pre: Prefilter | Sieve, blocks: Iterator[bytes | TooLong],
                lineno: int) -> int:
    """The fast path with the native prefilter or the block sieve (`pre`): only the lines it flags are read.

    A block is taken whole only when it has no header line (`tab.header`), and every line has exactly the header's
    number of tabs and no NUL, whitespace but tabs or byte beyond ASCII (`_flagged`). Then a line `pre` does not
    flag is, for the full reader, a data line whose name is a valid DNS name that
    contains no listed domain, nor do its answers: unmatched. Any other block goes through `read_python`.
    """
    reader = ctx.reader
    r = ctx.result
    keys = ctx.matcher.bkeys
    exact = ctx.matcher.family_of_bytes
    names: dict[bytes, str | _Unlisted | None] = {}
    clients: dict[bytes, str] = {}
    unmatched = 0
    for blob in blocks:
        if isinstance(blob, TooLong):
            lineno = read_python(ctx, tab, iter([[TOO_LONG]]), lineno)
            continue
        if blob[:1] == b"#":  # header lines at the top of the file: read one by one, then the rest whole
            i = 0
            while blob[i:i + 1] == b"#":
                j = blob.find(b"\n", i)
                i = len(blob) + 1 if j < 0 else j + 1
            lineno = read_python(ctx, tab, iter([split_block(blob[:i - 1])]), lineno)
            if i > len(blob):
                continue
            blob = blob[i:]
        tail = None
        last = blob.rfind(b"\n") + 1
        if blob[last:last + 1] == b"#":  # the #close line at the end
            blob, tail = blob[:last - 1], blob[last:]
        found = _flagged(pre, tab, blob)
        if found is not None:
            starts, k = found
            read = r.read
            _, qi, ai = _layout(tab)
            ti, ci = tab.columns[tab.time_field], tab.columns[tab.client_field]
            for start in starts:
                end = blob.find(b"\n", start)
                line = blob[start:] if end < 0 else blob[start:end]
                kept = len(r.rejections)
                if line[:1] != b"#" and len(line) <= MAX_LINE:
                    parts = line.split(b"\t")
                    family = _query_family(parts[qi], names, exact)
                    if family is UNLISTED and (ai < 0 or _answers_unmatched(parts[ai], keys, exact)):
                        continue  # a look-alike: counted below with the lines not flagged
                    if isinstance(family, str):
                        _listed_query(ctx, tab, parts, family, qi, ti, ci, clients)
                    else:
                        handle(ctx, 0, parse(reader, line))
                else:
                    handle(ctx, 0, parse(reader, TOO_LONG if len(line) > MAX_LINE else line))
                if len(r.rejections) > kept:  # its line number, counted only when shown
                    n = lineno + blob.count(b"\n", 0, start) + 1
                    r.rejections[-1] = Rejection(f"{r.path}:{n}", r.rejections[-1].reason)
            unmatched += k - (r.read - read)
            lineno += k
        else:
            lineno = read_python(ctx, tab, iter([split_block(blob)]), lineno)
        if tail is not None:
            lineno = read_python(ctx, tab, iter([[tail]]), lineno)
    r.read += unmatched
    r.unmatched += unmatched
    return lineno


def read_fast(ctx: ScanContext, tab: TabularReader, blocks: Iterator[bytes | TooLong], lineno: int = 0) -> int:
    """Read the blocks of a tabular log into the result by the fastest method allowed (`ctx.method`): `auto`
    is the native prefilter where `hyperscan` is installed, else `python`. The last line number."""
    if ctx.method == "auto":
        pre = prefilter_for(ctx.matcher)
        if pre is not None:
            return read_native(ctx, tab, pre, blocks, lineno)
    lines: Iterator[list[bytes | TooLong]] = (
        [TOO_LONG] if isinstance(b, TooLong) else split_block(b) for b in blocks)
    return read_python(ctx, tab, lines, lineno)
