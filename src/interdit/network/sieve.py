"""The block sieve for tab-separated logs (Zeek TSV): in a whole block of lines, find the few lines that need
reading, with a handful of `numpy` passes whose cost does not depend on the list's length, and whose
preparation is linear in it (100,000 names in about 0.1 s; nothing is compiled, nothing is cached).

One pass finds every byte below 33 or beyond ASCII: with the counts of tabs and newlines it proves that the
block is ASCII, without NUL or whitespace but tabs, and that every line has exactly the header's number of
tabs (else the block is read line by line); and it gives each line's fields. A line is then flagged when:

- a name in it may be listed: the name column and each answer (the answers column cut at its commas), less one
  trailing dot, end with the last L bytes of a listed domain, in any letter case (L is 8, 16, 24 or 32, the
  largest at most the domain's length, or the domain's length under 8: a name that is or is under a listed
  domain ends with that domain, so with its last L bytes). The last bytes are read as 64-bit words, hashed,
  looked up in a bit table and checked exactly against the sorted hashes of the list; a hash that collides
  only sends a line to be read;
- its name is not plainly a valid DNS name as logged: it starts with `.` or `(` (`(empty)` alone excepted), it
  has 64 bytes or more and a label over 63 bytes or more than 253 bytes, or the block has `..` (each line with
  one is flagged);
- an answer starts with `(` (a Windows wire form, decoded by the reader), `(empty)` alone excepted;
- it starts with `#`, or is longer than `MAX_LINE`.

Every other line is, for the full reader, a data line whose name is a valid DNS name that is not listed, nor
are its answers: unmatched. What is flagged is read by the fast path's exact check (`interdit.network.fastpath`).
"""

from __future__ import annotations

import sys
from collections.abc import Collection
from typing import Any

from interdit.network.base import MAX_LINE

_OR = 0x2020202020202020  # each byte OR 0x20: `A`..`Z` become `a`..`z`, and a name's lowercase form is unchanged
_K = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5)  # odd: word weights
_MIX = 0xD6E8FEB86659FD93  # odd: the bit table's hash
_WIDE = 32  # the most bytes of a name looked at
_EMPTY = int.from_bytes(b"(empty)", "little")


def available() -> bool:
    try:
        import numpy  # noqa: F401
    except ImportError:
        return False
    return True


class Sieve:
    """The hashed last bytes of one domain list (normalised, ASCII). `lines(block, ...)` gives the start offsets
    of the lines of a block that need reading, or None when the block is not clean (see the module)."""

    def __init__(self, domains: Collection[str]) -> None:
        import numpy as np

        self.np = np
        names = [d.encode("ascii") for d in domains]
        rows = np.frombuffer(b"".join(d[-_WIDE:].rjust(_WIDE, b"\0") for d in names) or b"\0" * _WIDE, "<u8")
        words = rows.reshape(-1, _WIDE // 8) | np.uint64(_OR)  # word 3 ends with the name's last byte
        lengths = np.array([len(d) for d in names] or [0])
        levels = np.where(lengths < 8, lengths, np.minimum(lengths // 8 * 8, _WIDE))
        self.levels: list[tuple[int, Any]] = []  # (L, sorted hashes of the domains of level L)
        keys = []
        for level in np.unique(levels[levels > 0]).tolist():
            of = words[levels == level]
            h = np.unique(self._hash(level, [of[:, 3 - i] for i in range(max(level // 8, 1))]))
            self.levels.append((level, h))
            keys.append(h)
        total = sum(len(h) for h in keys)
        self.bits = max(12, min(24, (total * 32).bit_length()))
        self.table = np.zeros(1 << self.bits, dtype=bool)
        for h in keys:
            self.table[self._slot(h)] = True

    def _hash(self, level: int, words: list[Any]) -> Any:
        """The hash of the last `level` bytes of names, from their last words (the last first)."""
        np = self.np
        if level < 8:
            return words[0] >> np.uint64(8 * (8 - level))
        h = words[0] * np.uint64(_K[0])
        for i in range(1, level // 8):
            h += words[i] * np.uint64(_K[i])
        return h

    def _slot(self, h: Any) -> Any:
        return (h * self.np.uint64(_MIX)) >> self.np.uint64(64 - self.bits)

    def lines(self, block: bytes, tabs: int, qi: int, ai: int) -> tuple[list[int], int] | None:
        """The start offsets (sorted) of the lines to read in `block` (lines joined by newlines, no header line
        defining columns), whose data lines have `tabs` tabs, the name in column `qi` and the answers in column
        `ai` (-1: none), and the number of lines; None when a line has another number of tabs, or the block has
        a byte the check refuses."""
        np = self.np
        arr = np.frombuffer(block, np.uint8)
        size = len(arr)
        if size < _WIDE:
            return None
        seps = np.flatnonzero(arr.view(np.int8) < 33)  # tabs, newlines, and any other whitespace, NUL or non-ASCII
        width = tabs + 1
        k = len(seps) // width + 1  # lines, when the block is clean
        if len(seps) != k * width - 1:
            return None
        ends = seps[tabs::width]  # each line's newline
        if not (arr[ends] == 10).all() or np.count_nonzero(arr == 9) != k * tabs:
            return None  # tabs + newlines = every byte found: nothing else is there
        starts = np.empty(k, dtype=seps.dtype)
        starts[0] = 0
        starts[1:] = ends + 1
        stops = np.append(ends, size)

        def column(j: int) -> Any:  # where each line's column j ends: its tab, or the line's end
            return stops if j == tabs else seps[j::width]

        flag = (arr[starts] == 35) | (stops - starts > MAX_LINE)  # `#`, or too long to hold
        u = np.ndarray(shape=(size - 7,), dtype="<u8", buffer=block, strides=(1,))  # the 8 bytes at each offset

        qs = starts if qi == 0 else column(qi - 1) + 1
        qe = column(qi)
        flag |= self._odd_start(arr, u, qs, qe)
        qlen = qe - qs
        long = np.flatnonzero(qlen >= 64)
        for i in long.tolist():
            name = block[qs[i]:qe[i]]
            if len(name) >= 254 or max(map(len, name.split(b"."))) >= 64:
                flag[i] = True
        pairs = np.frombuffer(block, "<u2", count=size // 2)
        odd = np.frombuffer(block, "<u2", offset=1, count=(size - 1) // 2)
        if (pairs == 0x2E2E).any() or (odd == 0x2E2E).any():  # `..` somewhere: its lines
            i = block.find(b"..")
            while i >= 0:
                flag[np.searchsorted(stops, i)] = True
                i = block.find(b"..", i + 2)

        name_ends = [qe]
        rows = [np.arange(k)]
        if ai >= 0:
            as_ = starts if ai == 0 else column(ai - 1) + 1
            ae = column(ai)
            flag |= self._odd_start(arr, u, as_, ae)
            name_ends.append(ae)
            rows.append(rows[0])
            commas = np.flatnonzero(arr == 44)
            if len(commas):
                li = np.minimum(np.searchsorted(ae, commas), k - 1)
                inside = (commas >= as_[li]) & (commas < ae[li])
                commas, li = commas[inside], li[inside]
                if len(commas):
                    after = commas + 1
                    opened = arr[after] == 40  # `(` after a comma: `(empty)` is no answer among others
                    flag[li[opened]] = True
                    name_ends.append(commas)
                    rows.append(li)
        e = np.concatenate(name_ends)
        line = np.concatenate(rows)
        e = e - (arr[np.maximum(e - 1, 0)] == 46)  # less one trailing dot
        near = e < _WIDE  # too near the block's start to read 32 bytes before: read
        flag[line[near]] = True
        e = np.maximum(e, _WIDE)
        last = [u[e - 8] | np.uint64(_OR)]
        for level, hashes in self.levels:
            while len(last) < level // 8:
                last.append(u[e - 8 * (len(last) + 1)] | np.uint64(_OR))
            h = self._hash(level, last)
            maybe = np.flatnonzero(self.table[self._slot(h)])
            if len(maybe):
                hm = h[maybe]
                at = np.minimum(np.searchsorted(hashes, hm), len(hashes) - 1)
                flag[line[maybe[hashes[at] == hm]]] = True
        return starts[flag].tolist(), k

    def _odd_start(self, arr: Any, u: Any, s: Any, e: Any) -> Any:
        """Fields (start and end offsets) that start with `.` or `(` and are not `(empty)`."""
        np = self.np
        first = arr[np.minimum(s, len(arr) - 1)]
        odd = ((first == 46) | (first == 40)) & (e > s)
        if odd.any():
            at = np.flatnonzero(odd)
            empty = (e[at] - s[at] == 7) & ((u[np.minimum(s[at], len(u) - 1)] & np.uint64((1 << 56) - 1))
                                           == np.uint64(_EMPTY))
            odd[at[empty]] = False
        return odd


def build(domains: Collection[str]) -> Sieve | None:
    """The sieve of these (normalised, ASCII, distinct) domains; None when `numpy` is not installed."""
    if not available():
        return None
    _reuse_memory()
    return Sieve(domains)


def _reuse_memory() -> None:
    """Keep freed memory in the process for the next block's arrays (glibc's `mallopt`: no release to the system
    under 256 MB, and no separate mapping for an array under 64 MB). Without it each block's arrays are mapped
    and unmapped again: 450,000 page faults for the benchmark's file, as much system time as the sieve itself."""
    if sys.platform != "linux":
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, 64 << 20)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass
