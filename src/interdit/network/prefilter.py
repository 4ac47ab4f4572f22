"""A native multi-pattern prefilter for Zeek TSV logs: find, in a whole block of lines, the few lines that
need reading; every other line is proved to be an unmatched, well-formed data line without being read.

One Hyperscan database per domain list (Intel's multi-pattern regular expression engine, PyPI `hyperscan`,
whose wheels carry the library) flags a line when it contains, in any letter case, one of the listed domains
(so any name that would match after normalisation: lowercasing and one trailing dot do not remove the
listed text), or when it is not plainly a clean data line: a `#` line, a field that starts with `.` or
with `(` (the Windows wire form; `(empty)` alone excepted), `..`, a field of 254 bytes or more, or a run of
64 bytes without a dot (an over-long label). What a pattern cannot see is checked on the whole block by the
scanner's fast path (`interdit.network.fastpath`): only ASCII (no international name to convert), no NUL, no
space or other whitespace, and exactly the header's number of tabs on every line.

It serves lists shorter than `match.SIEVE_FROM`: compiling grows faster than the list (100,000 names take 4 s
or more), and longer lists go through the block sieve (`interdit.network.sieve`), built in linear time. Where
`hyperscan` is not installed (it ships for Linux on x86_64) `build` returns None and the scanner takes the sieve,
or without `numpy` its pure-Python path; all give the same counts.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

CACHE_FROM = 2_000  # lists this long are kept read and checked in the user's cache (`match.load_domain_list`)
COMPILED_FROM = 1  # lists this long are compiled once and the compiled database kept in the user's cache: even
# 40 names take 0.05 s to compile, paid by every scan before its workers start, and 1 ms to load
CACHE_KEEP = 8  # compiled databases kept (the newest)

# lines the full reader must see, whatever the list (MULTILINE: ^ and $ are line starts and ends)
STRUCTURE = (
    rb"^#",
    rb"(?:^|\t)\.",
    rb"\.\.",
    rb"(?:^|[\t,])\((?:[^e\n]|e[^m\n]|em[^p\n]|emp[^t\n]|empt[^y\n]|empty[^)\n]|empty\)[^\t\n])",
    rb"(?:^|[\t,])\((?:e|em|emp|empt|empty)?$",
    rb"[^\t\n]{254}",
    rb"[^\t\n.]{64}",
)


def available() -> bool:
    try:
        import hyperscan  # noqa: F401
    except ImportError:
        return False
    return True


_SPECIAL = {ord(c): "\\" + c for c in "\\^$.|?*+()[]{}-/#"}
_PLAIN = "abcdefghijklmnopqrstuvwxyz0123456789_\\.-\n"


def _escape_all(domains: list[str]) -> list[bytes]:
    """Listed domains as patterns that match them literally: at once for a valid list (letters, digits, `_`,
    `-` and dots), one by one otherwise."""
    joined = "\n".join(domains).replace(".", "\\.").replace("-", "\\-")
    if domains and not joined.strip(_PLAIN):
        return joined.encode("ascii").split(b"\n")
    return [d.translate(_SPECIAL).encode("ascii") for d in domains]


class Prefilter:
    """The compiled patterns of one domain list. `lines(block)` gives the start offsets of flagged lines."""

    def __init__(self, database: Any, patterns: int) -> None:
        self.database = database
        self.patterns = patterns

    def lines(self, block: bytes) -> list[int]:
        """Sorted start offsets of the lines of `block` (lines joined by newlines) a pattern flags."""
        ends: list[int] = []
        self.database.scan(block, match_event_handler=_on_match, context=ends)
        if not ends:
            return []
        starts = set()
        last_start, last_end = -1, -1
        for e in ends:  # reported by end offset, several per line at times
            if last_start <= e - 1 < last_end:
                continue
            s = block.rfind(b"\n", 0, e - 1) + 1
            n = block.find(b"\n", e - 1)
            last_start, last_end = s, (len(block) if n < 0 else n)
            starts.add(s)
        return sorted(starts)


def _on_match(_id: int, _start: int, end: int, _flags: int, context: list[int]) -> None:
    context.append(end)


PATTERNS_VERSION = b"2"  # of the way domains become patterns (`_escape_all`); part of the cache key


def list_digest(domains: Collection[str]) -> str:
    """What identifies a set of (normalised, distinct) domains in the cache, whatever list it came from."""
    return hashlib.sha256("\n".join(sorted(domains)).encode("utf-8")).hexdigest()


def build(domains: Collection[str], *, cache: bool = True, digest: str | None = None) -> Prefilter | None:
    """The prefilter for these (normalised, ASCII, distinct) domains; None when `hyperscan` is not installed.

    A list of COMPILED_FROM domains or more is kept compiled in the user's cache, keyed by `list_digest` (given
    as `digest` when the caller knows it already, see `match.load_domain_list`), the library's version and
    the patterns' own version."""
    try:
        import hyperscan as hs
    except ImportError:
        return None
    count = len(domains) + len(STRUCTURE)
    where = None
    if cache and len(domains) >= COMPILED_FROM:
        digest = digest or list_digest(domains)
        key = hashlib.sha256(b"\n".join([str(getattr(hs, "__version__", "")).encode(), PATTERNS_VERSION,
                                         digest.encode(), *STRUCTURE])).hexdigest()[:32]
        where = cache_dir() / f"zeek-{key}.hsdb"
    if where is not None:
        try:
            loaded = hs.loadb(where.read_bytes(), hs.HS_MODE_BLOCK)
            loaded.scratch = hs.Scratch(loaded)
            return Prefilter(loaded, count)
        except Exception:  # absent, unreadable or from another hyperscan: compile again
            pass
    names = sorted(domains)
    expressions = _escape_all(names) + list(STRUCTURE)
    flags = [hs.HS_FLAG_CASELESS] * len(names) + [hs.HS_FLAG_MULTILINE] * len(STRUCTURE)
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    try:
        db.compile(expressions=expressions, ids=list(range(len(expressions))), elements=len(expressions),
                   flags=flags)
    except Exception:  # a processor the library does not support: the pure-Python path gives the same counts
        return None
    if where is not None:
        store(where, hs.dumpb(db), "zeek-*.hsdb")
    return Prefilter(db, len(expressions))


def cache_dir() -> Path:
    """Where compiled lists are kept: `$XDG_CACHE_HOME/interdit/network` (`~/.cache/...` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "interdit" / "network"


def store(where: Path, data: bytes, pattern: str) -> None:
    """Keep a cache file (written whole, then renamed), and only the newest CACHE_KEEP files of its kind
    (`pattern`); a cache that cannot be written is no error."""
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        tmp = where.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(where)
        old = sorted(where.parent.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
        for p in old[CACHE_KEEP:]:
            p.unlink(missing_ok=True)
    except OSError:
        pass
