"""One line's verdict into a file's result: the counts, the rejections kept, the sightings.

Every reading path (`interdit.network.scan`, its fast path and its split workers) ends here or proves it
would give the same verdict, so counts always add up: read = matched + unmatched + rejected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from interdit.model import Rejection
from interdit.network.aggregate import Aggregator
from interdit.network.attribute import Attributor
from interdit.network.base import MAX_LINE, Event, LineError, LineReader, client_address
from interdit.network.match import DomainMatcher, normalise
from interdit.network.opening import TooLong

KEEP = 20  # rejections kept per file (all are counted)


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


@dataclass
class ScanContext:
    """What reading one file needs: its reader, the list, the attribution, where the verdicts go."""

    reader: LineReader
    fmt: str
    matcher: DomainMatcher
    attributor: Attributor
    result: FileScan
    on_match: Callable[[Match], None] | None = None
    method: str = "auto"  # auto | python | full (see `scan_file`)


def handle(ctx: ScanContext, n: int, item: Event | LineError | TooLong | None) -> None:
    r = ctx.result
    r.read += 1
    if item is None:
        r.unmatched += 1
        return
    if isinstance(item, TooLong):
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


def parse(reader: LineReader, line: bytes | TooLong) -> Event | LineError | TooLong | None:
    if isinstance(line, TooLong):
        return line
    try:
        return reader.parse(line)
    except LineError as e:
        return e
    except (ValueError, KeyError, IndexError, TypeError, UnicodeError) as e:  # a reader bug must not stop a scan
        return LineError(f"unreadable line ({type(e).__name__})")
