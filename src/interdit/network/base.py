"""The log-reader interface: one module per log format, each registered in `readers`.

A reader turns one line of a DNS, proxy or TLS log into an `Event` (a client asked for, or connected to, a
name), or `None` for a line that is not such a request (headers, follow-up lines, statistics), or raises
`LineError` for a line it cannot read. The scanner (`interdit.network.scan`) does the rest: decompression,
format detection, matching, attribution and aggregation, so a reader stays small.

    @readers.register("coredns")
    class CoreDns(LineReader):
        name = "coredns"
        summary = "CoreDNS log plugin"
        example = '[INFO] 172.17.0.1:53202 - 15835 "A IN abc.xyz. udp 48 false 1232" NOERROR qr,rd,ra 174 0.05s'
        def sniff(self, line: bytes) -> bool: ...
        def parse(self, line: bytes) -> Event | None: ...
"""

from __future__ import annotations

import functools
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, ClassVar, Protocol

from interdit.registry import Registry

MAX_LINE = 65_536  # longer lines are rejected, never held whole


class LineError(Exception):
    """A line the reader cannot read; the message is the reason a person sees."""


@dataclass(slots=True)
class Event:
    """One request seen in a log. `stamp` is the raw time text, turned into a time only when it matters."""

    name: str  # the name asked for (DNS qname, TLS SNI, proxy host), as logged
    client: str  # the address of the asking device, as logged
    stamp: str  # raw time text (read by the reader's `when`)
    kind: str = "dns"  # dns | sni | proxy
    qtype: str = ""
    action: str = ""  # rcode, or what the server did (blocked, NXDOMAIN, TCP_DENIED/403, ...)
    answers: tuple[str, ...] = ()  # names in the answer (CNAME targets): weaker evidence


@dataclass(frozen=True, slots=True)
class FileContext:
    """What a reader may know about the file before its first line."""

    path: str
    mtime: datetime  # aware UTC; for formats whose times have no year or no date at all
    tz: tzinfo = UTC  # the zone of times written without one


class LineReader:
    """Base of the line-oriented readers. Subclasses set the class attributes and `sniff`/`parse`/`when`."""

    name: ClassVar[str]
    summary: ClassVar[str]
    example: ClassVar[str]  # one real-looking line, for the documentation
    kind: ClassVar[str] = "dns"
    whole_file: ClassVar[bool] = False  # True: reads the file itself (`events`), not lines
    splittable: ClassVar[bool] = True  # lines are independent once `start` has seen the head

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx

    def sniff(self, line: bytes) -> bool:
        """Does this one line look like this format? Detection counts the yes over the file's first lines."""
        raise NotImplementedError

    def sniff_head(self, first: bytes) -> bool:
        """Do the file's first bytes (up to 4 MiB, decompressed) say it is this format? For binary formats,
        whose content has no lines to sniff (a database's magic number). Asked before any line is. Default: no."""
        return False

    def tabular(self) -> TabularReader | None:
        """The reader itself when it reads tab-separated columns named by a header, which gives it the
        scanner's fast path (`interdit.network.fastpath`); None (the default) otherwise."""
        return None

    def start(self, head: list[bytes]) -> None:
        """Learn what the head of the file says (column names, date order). Default: nothing."""

    def parse(self, line: bytes) -> Event | None:
        raise NotImplementedError

    def when(self, stamp: str) -> datetime:
        """The event's time, aware UTC. Raise `LineError` when the text is not a time."""
        raise NotImplementedError

    def events(self, path: Path) -> Iterator[tuple[int, Event | LineError | None]]:
        """Whole-file readers only: (record number, event or None or error)."""
        raise NotImplementedError
        yield  # pragma: no cover

    def state(self) -> dict[str, object]:
        """What `start` learned, so another process can continue the file from any line."""
        return {}

    def restore(self, state: dict[str, object]) -> None:
        """Take back what `state` returned."""


class TabularReader(Protocol):
    """What a reader declares (through `LineReader.tabular`) to have its lines checked by the fast path.

    Its data lines are `width` columns separated by `sep` (a tab), named by `columns` (name -> index, read
    from the header; empty before it); its header and comment lines begin with `#`, and a line beginning with
    `header` (re)defines the columns. `parse` must read a data line exactly as the fast path assumes: a line
    without `width` columns is an error; the name is in `name_field` (`-` or `(empty)`: no request, `parse`
    returns None), the client address in `client_field`, the time in `time_field` (read by `when`), and,
    when `answers_field` is set, the answers as names separated by commas (`-` or `(empty)`: none).
    A test that reads random logs with every method (`auto`, `python`, `full`) and compares the results is
    how a new tabular format proves it keeps this contract (see docs/guides/add-a-log-format.md).
    """

    @property
    def columns(self) -> dict[str, int]: ...
    @property
    def width(self) -> int: ...
    @property
    def sep(self) -> str: ...
    @property
    def header(self) -> bytes: ...
    @property
    def name_field(self) -> str: ...
    @property
    def answers_field(self) -> str | None: ...
    @property
    def client_field(self) -> str: ...
    @property
    def time_field(self) -> str: ...

    def when(self, stamp: str) -> datetime: ...


readers: Registry[type[LineReader]] = Registry("network", builtins="interdit.network")


# -- small shared helpers for readers ---------------------------------------------------------------

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}


def month_number(text: str) -> int:
    try:
        return _MONTHS[text[:3].lower()]
    except KeyError:
        raise LineError(f"{text!r} is not a month") from None


def epoch(text: str) -> datetime:
    try:
        value = float(text)
    except ValueError:
        raise LineError(f"{text!r} is not a Unix time") from None
    if not 0 <= value < 32503680000:  # before year 3000
        raise LineError(f"{text!r} is out of range for a Unix time")
    return datetime.fromtimestamp(value, UTC)


def iso(text: str) -> datetime:
    t = text.strip()
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    elif len(t) > 5 and t[-5] in "+-" and t[-4:].isdigit() and t[-3] != ":":
        t = t[:-2] + ":" + t[-2:]  # +0000 -> +00:00
    try:
        value = datetime.fromisoformat(t)
    except ValueError:
        raise LineError(f"{text!r} is not an ISO 8601 time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def syslog_time(text: str, ctx: FileContext) -> datetime:
    """`Nov 22 13:40:26` (no year): the year of the file's last change, or the year before when later."""
    parts = text.split()
    if len(parts) != 3:
        raise LineError(f"{text!r} is not a syslog time (Mon DD HH:MM:SS)")
    month = month_number(parts[0])
    try:
        day = int(parts[1])
        hh, mm, ss = (int(float(x)) for x in parts[2].split(":"))
        year = ctx.mtime.year
        if (month, day) > (ctx.mtime.month, ctx.mtime.day + 1):
            year -= 1
        return datetime(year, month, day, hh, mm, ss, tzinfo=ctx.tz).astimezone(UTC)
    except ValueError:
        raise LineError(f"{text!r} is not a syslog time (Mon DD HH:MM:SS)") from None


@functools.lru_cache(maxsize=8192)  # a log names the same few thousand clients again and again
def client_address(text: str) -> str:
    """An IP address (v4 or v6, brackets and zone removed), or a MAC address; else `LineError`."""
    t = text.strip().strip("[]")
    try:
        return str(ipaddress.ip_address(t.split("%", 1)[0]))
    except ValueError:
        pass
    mac = t.replace("-", ":").lower()
    if len(mac) == 17 and all(len(p) == 2 for p in mac.split(":")):
        try:
            bytes.fromhex(mac.replace(":", ""))
            return mac
        except ValueError:
            pass
    raise LineError(f"client {text[:80]!r} is not an address")


def split_host_port(text: str, sep: str = ":") -> str:
    """`10.0.0.1:5353` / `[::1]:5353` / `10.0.0.1#5353` -> the address part."""
    t = text.strip()
    if t.startswith("["):
        return t[1:t.find("]")] if "]" in t else t
    if sep == ":" and t.count(":") > 1:  # bare IPv6 without a port
        return t
    return t.rsplit(sep, 1)[0] if sep in t else t


def json_object(line: bytes) -> dict[str, Any] | None:
    """A JSON Lines record as an object; None for an empty line; a rejected line when it is not one."""
    s = text(line).strip()
    if not s:
        return None
    try:
        obj = json.loads(s)
    except json.JSONDecodeError as e:
        raise LineError(f"not JSON ({e.msg} at column {e.colno})") from None
    except ValueError:
        raise LineError("not JSON") from None
    if not isinstance(obj, dict):
        raise LineError("a JSON value that is not an object")
    return obj


def text(line: bytes) -> str:
    """Decode a log line; bytes that are not UTF-8 make it a rejected line (binary garbage)."""
    if b"\x00" in line:
        raise LineError("binary data (NUL byte) in the line")
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LineError(f"not UTF-8 text (byte {e.start})") from None
