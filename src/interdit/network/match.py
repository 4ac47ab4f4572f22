"""The domain matcher: whole labels, exactly RPZ / Unbound `local-zone` semantics.

A name matches when it, or any parent domain of it, is on the list: `www.tiktok.com` and `TikTok.COM.`
match `tiktok.com`; `nottiktok.com` and `tiktok.com.evil.example` do not. Never substring. The same rule
drives detection (logs) and enforcement (generated DNS configs), so what interdit reports as "used" is
what the DNS server would have blocked.
"""

from __future__ import annotations

import hashlib
import marshal
import operator
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from interdit.errors import InputError
from interdit.network import prefilter
from interdit.network.prefilter import Prefilter
from interdit.network.sieve import Sieve

MAX_NAME = 253
SIEVE_FROM = 2_000  # lists this long are read with the block sieve (`fastpath.prefilter_for`)
_WINDOWS = re.compile(r"\((\d{1,3})\)")
_DOMAIN = re.compile(r"(?:(?!-)[a-z0-9_-]{1,63}(?<!-)\.)+(?!-)[a-z0-9_-]{1,63}(?<!-)")


def normalise(name: str) -> str | None:
    """The comparable form of a name, or None when it is not a usable DNS name.

    Trims spaces, decodes the Windows wire form `(3)www(6)tiktok(3)com(0)`, lowercases, removes ONE trailing
    dot, converts international names to punycode (`xn--`), and refuses names longer than 253 characters
    or with an empty or over-long label.
    """
    s = name.strip()
    if not s:
        return None
    if s[0] == "(":
        decoded = _windows(s)
        if decoded is None:
            return None
        s = decoded
    s = s.lower()
    if s.endswith("."):
        s = s[:-1]
    if not s or len(s) > MAX_NAME:
        return None
    if not s.isascii():
        try:
            s = s.encode("idna").decode("ascii")
        except UnicodeError:
            return None
        if len(s) > MAX_NAME:
            return None
    if ".." in s or s[0] == "." or s[-1] == "." or max(map(len, s.split("."))) > 63:
        return None
    return s


def _windows(s: str) -> str | None:
    """`(3)www(6)tiktok(3)com(0)` -> `www.tiktok.com` (lengths checked)."""
    labels: list[str] = []
    pos = 0
    while pos < len(s):
        m = _WINDOWS.match(s, pos)
        if m is None:
            return None
        n = int(m.group(1))
        pos = m.end()
        if n == 0:
            return ".".join(labels) if pos == len(s) and labels else None
        label = s[pos:pos + n]
        if len(label) != n:
            return None
        labels.append(label)
        pos += n
    return None


_DOMAIN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-."


def valid_domain(name: str) -> bool:
    """A list entry: at least two labels, letters/digits/hyphens (punycode), no wildcards.

    The same answer as `_DOMAIN.fullmatch` (a test checks), without a regular expression: lists have
    100,000 names."""
    if not name or len(name) > MAX_NAME or name.strip(_DOMAIN_CHARS) or "." not in name:
        return False
    if name[0] in ".-" or name[-1] in ".-" or ".." in name or ".-" in name or "-." in name:
        return False
    return max(map(len, name.split("."))) <= 63


class DomainMatcher:
    """Match names against a mapping domain -> family (the policy's families' domains).

    `never` lists hosts that must never be matched whole (shared CDNs): a listed domain equal to or under
    one of them is dropped, so a bad list cannot make the whole of a CDN look like TikTok.
    """

    def __init__(self, domains: Mapping[str, str], *, never: Iterable[str] = (), checked: bool = False) -> None:
        """`checked`: every key of `domains` is a valid domain in its normal form (`read_domain_list` gives them)."""
        never_set = {n for n in (normalise(x) for x in never) if n}
        under = tuple("." + n for n in never_set)
        # a domain under a never-block host of two labels or more ends with the host's last two labels
        near = {n[n.rfind(".", 0, n.rfind(".")) + 1:] for n in never_set} if all("." in n for n in never_set) else None
        table: dict[str, str] = {}
        keys: set[str] = set()
        self.refused: list[str] = []
        for raw, family in domains.items():
            d: str | None = raw
            if not checked and not valid_domain(raw):  # a valid listed domain is its own normal form
                d = normalise(raw)
                if d is None or not valid_domain(d):
                    self.refused.append(raw)
                    continue
            assert d is not None
            key = d[d.rfind(".", 0, d.rfind(".")) + 1:]  # its last two labels
            if never_set and (near is None or key in near) and (d in never_set or d.endswith(under)):
                self.refused.append(raw)
                continue
            table[d] = family
            keys.add(key)
        self.table = table
        # the fast path's key: the last `depth` labels of a name; every listed domain has at least that many
        self.depth = 2
        self._derive(frozenset(keys))
        self.digest: str | None = None  # prefilter.list_digest of the table, when known (load_domain_list)
        # what finds a block's lines to read, once made (`fastpath.prefilter_for`); (None,) without one
        self.compiled: tuple[Prefilter | Sieve | None] | None = None

    def _derive(self, keys: frozenset[str]) -> None:
        self.keys = keys
        self.bkeys = frozenset(k.encode("ascii") for k in keys)
        self.btable = {d.encode("ascii"): f for d, f in self.table.items()}

    def _state(self) -> tuple[Any, ...]:
        """What the cache keeps (plain lists and a dict: marshalling 100,000 names in sets took 0.2 s)."""
        # the digest only names a compiled prefilter in the cache: a list the sieve reads needs none
        digest = self.digest or ("" if len(self.table) >= SIEVE_FROM else prefilter.list_digest(self.table))
        return (_STATE_VERSION, digest, self.table, self.refused, list(self.keys))

    @classmethod
    def _restore(cls, state: Any) -> DomainMatcher | None:
        """A matcher from `_state()`, or None when the state is not one this version wrote."""
        if not (isinstance(state, tuple) and len(state) == 5 and state[0] == _STATE_VERSION):
            return None
        _, digest, table, refused, keys = state
        if not (isinstance(digest, str) and isinstance(table, dict) and isinstance(refused, list)
                and isinstance(keys, list) and all(isinstance(d, str) and d.isascii() for d in table)):
            return None
        m = cls.__new__(cls)
        m.table, m.refused, m.depth = table, refused, 2
        m._derive(frozenset(keys))
        m.digest, m.compiled = digest or None, None
        return m

    def __len__(self) -> int:
        return len(self.table)

    def __bool__(self) -> bool:
        return bool(self.table)

    def family_of(self, normalised: str) -> str | None:
        """The family of an already-normalised name (itself or its nearest listed parent)."""
        table = self.table
        n = normalised
        while True:
            f = table.get(n)
            if f is not None:
                return f
            i = n.find(".")
            if i < 0:
                return None
            n = n[i + 1:]

    def listed_parent(self, normalised: str) -> str | None:
        """The listed domain that covers the name, if any."""
        n = normalised
        while True:
            if n in self.table:
                return n
            i = n.find(".")
            if i < 0:
                return None
            n = n[i + 1:]

    def match(self, name: str) -> str | None:
        """The family of a raw name as logged, or None."""
        n = normalise(name)
        return None if n is None else self.family_of(n)

    def maybe(self, lowered: bytes) -> bool:
        """Fast pre-check on a lowercased name: could it match? (False means certainly not.)"""
        q = lowered[:-1] if lowered.endswith(b".") else lowered
        i = q.rfind(b".")
        if i < 0:
            return False
        j = q.rfind(b".", 0, i)
        return q[j + 1:] in self.bkeys

    def family_of_bytes(self, lowered: bytes) -> str | None:
        """`family_of` for a lowercased ASCII name as bytes (one trailing dot allowed)."""
        n = lowered[:-1] if lowered.endswith(b".") else lowered
        table = self.btable
        while True:
            f = table.get(n)
            if f is not None:
                return f
            i = n.find(b".")
            if i < 0:
                return None
            n = n[i + 1:]

    def minimal(self) -> list[str]:
        """The listed domains with every entry already covered by a listed parent removed, sorted."""
        out = []
        for d in sorted(self.table):
            parent = d.split(".", 1)[1] if "." in d else ""
            if not parent or self.listed_parent(parent) is None:
                out.append(d)
        return out


def minimal_domains(domains: Iterable[str]) -> list[str]:
    """Normalise, drop invalid names and names covered by a listed parent; sorted. (For enforcement too.)"""
    return DomainMatcher(dict.fromkeys(domains, "")).minimal()


def read_domain_list(path: Path, default_family: str = "listed") -> dict[str, str]:
    """A domain list file (`interdit logs scan --domains`): `domain [family]` a line (tab or spaces), `#`
    comments. Bad lines are errors naming their line."""
    if not path.is_file():
        raise InputError(f"no domain list at {path}", fix="pass a text file with one domain a line")
    with path.open(encoding="utf-8", errors="replace") as fh:
        return _parse_domain_list(fh, path, default_family)


MAX_LIST_BYTES = 512 * 1024 * 1024
_STATE_VERSION = 3  # of the cached matcher's layout; also part of the cache key


def load_domain_list(path: Path, default_family: str = "listed", *, never: Iterable[str] = ()) -> DomainMatcher:
    """`DomainMatcher(read_domain_list(path), never=never)`, kept in the user's cache for long lists.

    Reading and checking 100,000 names takes longer than the scan's start-up should: a list of 2,000 lines or
    more is stored, once read, beside the compiled prefilter (`network/prefilter.py`), keyed by the file's
    bytes, the default family and the never-block hosts, and read back in a few milliseconds the next time.
    The file is read once, and what is parsed is what was hashed. An unreadable or foreign cache entry is
    ignored and written again."""
    if not path.is_file():
        raise InputError(f"no domain list at {path}", fix="pass a text file with one domain a line")
    if path.stat().st_size > MAX_LIST_BYTES:
        raise InputError(f"the domain list is larger than {MAX_LIST_BYTES // 2**20} MB", where=str(path),
                         fix="split the list, or check that this is a domain list")
    data = path.read_bytes()
    lines = data.count(b"\n")
    where = None
    key = ""
    if lines >= prefilter.CACHE_FROM:
        h = hashlib.sha256(f"list {_STATE_VERSION}\n{default_family}\n".encode())
        h.update("\n".join(sorted(set(never))).encode("utf-8", "replace") + b"\n\0")
        h.update(data)
        key = h.hexdigest()[:32]
        where = prefilter.cache_dir() / f"list-{key}.marshal"
        try:
            restored = DomainMatcher._restore(marshal.loads(where.read_bytes()))
        except (OSError, EOFError, ValueError, TypeError):
            restored = None
        if restored is not None:
            return restored
    text = data.decode("utf-8", errors="replace")
    parsed = _parse_plain(text, default_family)
    if parsed is None:
        parsed = _parse_domain_list(text.splitlines(), path, default_family)
    matcher = DomainMatcher(parsed, never=never, checked=True)
    if where is not None:
        state = matcher._state()
        matcher.digest = state[1] or None
        prefilter.store(where, marshal.dumps(state), "list-*.marshal")
    return matcher


_TAB_SPLIT = operator.methodcaller("split", "\t")


def _parse_plain(text: str, default_family: str) -> dict[str, str] | None:
    """`_parse_domain_list` for a plain list (no comment, no space, `domain` or `domain<TAB>family` a line, every
    domain valid and in its normal form), with the checks of `valid_domain` made once on all the names together;
    None for any other list, which is read line by line (and its bad lines named)."""
    if "#" in text or " " in text or "\r" in text or "\t\t" in text:
        return None
    out: dict[str, str] = {}
    try:  # every line `domain<TAB>family`: made in one call
        out = dict(map(_TAB_SPLIT, text.strip("\n").split("\n")))
    except ValueError:
        for row in text.split("\n"):
            if row:
                name, tab, family = row.partition("\t")
                if tab and (not family or "\t" in family):
                    return None
                out[name] = family if tab else default_family
    names = "\n".join(out)
    families = list(out.values())
    if "\n".join(families).split() != families:  # whitespace in a family: the line has more than two words
        return None
    if (not names or names.strip(_DOMAIN_CHARS + "\n") or names[0] in ".-" or names[-1] in ".-"
            or any(x in names for x in ("..", ".-", "-.", "\n.", ".\n", "\n-", "-\n", "\n\n"))
            or max(map(len, out)) > MAX_NAME or max(map(len, names.replace("\n", ".").split("."))) > 63
            or not all("." in n for n in out)):
        return None
    return out


def _parse_domain_list(lines: Iterable[str], path: Path, default_family: str) -> dict[str, str]:
    out: dict[str, str] = {}
    problems = []
    for n, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        name: str | None = parts[0]
        if not valid_domain(parts[0]):  # a valid domain is its own normal form
            name = normalise(parts[0])
            name = name if name is not None and valid_domain(name) else None
        if name is None or len(parts) > 2:
            problems.append(f"{path}:{n}: {raw.strip()[:80]!r}")
            continue
        out[name] = parts[1] if len(parts) == 2 else default_family
    if problems:
        raise InputError(f"{len(problems)} lines of the domain list are not 'domain [family]': "
                         + "; ".join(problems[:5]), where=str(path), fix="write one domain (and its family) a line")
    if not out:
        raise InputError("the domain list is empty", where=str(path), fix="write one domain a line")
    return out
