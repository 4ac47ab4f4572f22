"""BIND 9 query log (`querylog yes;`) and its `rpz` category (the blocked queries)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from interdit.network.base import Event, FileContext, LineError, LineReader, month_number, readers, text

DATE = r"(?P<date>\d{1,2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?)"
QUERY = re.compile(DATE + r" .*?client (?:@0x[0-9a-fA-F]+ )?(?P<ip>[^\s#]+)#\d+(?: \([^)]*\))?:? "
                   r"(?:view [^:]+: )?query: (?P<name>\S+) (?P<cls>\S+) (?P<type>\S+)")
RPZ = re.compile(DATE + r" .*?client (?:@0x[0-9a-fA-F]+ )?(?P<ip>[^\s#]+)#\d+(?: \([^)]*\))?:? "
                 r"(?:view [^:]+: )?rpz (?P<kind>\S+) (?P<action>\S+) rewrite (?P<name>[^/\s]+)/(?P<type>[^/\s]+)")


def bind_time(stamp: str, ctx_tz: object) -> datetime:
    """`22-Nov-2026 13:40:24.753` in the server's zone."""
    try:
        day, mon, year = stamp[:stamp.index(" ")].split("-")
        clock = stamp[stamp.index(" ") + 1:]
        hh, mm, rest = clock.split(":")
        sec = float(rest)
        value = datetime(int(year), month_number(mon), int(day), int(hh), int(mm), int(sec),
                         round((sec % 1) * 1_000_000) % 1_000_000, tzinfo=ctx_tz)  # type: ignore[arg-type]
        return value.astimezone(UTC)
    except (ValueError, IndexError):
        raise LineError(f"{stamp!r} is not a BIND time (DD-Mon-YYYY HH:MM:SS.mmm)") from None


@readers.register("bind9")
class Bind9(LineReader):
    name = "bind9"
    summary = "BIND 9 query log, and its rpz category (blocked queries)"
    example = ("22-Nov-2026 13:40:24.753 queries: info: client @0x7f715d873098 10.1.2.3#39437 (www.tiktok.com): "
               "query: www.tiktok.com IN A +E(0)K (10.0.0.53)")
    kind = "dns"

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.has_queries = False

    def sniff(self, line: bytes) -> bool:
        if line.startswith(b"<") or not (b" query: " in line or b" rpz " in line):
            return False
        s = line.decode("utf-8", "replace")
        return QUERY.match(s) is not None or RPZ.match(s) is not None

    def start(self, head: list[bytes]) -> None:
        # a file with both categories logs each blocked query twice: count the query lines only
        self.has_queries = any(b" query: " in line for line in head)

    def state(self) -> dict[str, object]:
        return {"has_queries": self.has_queries}

    def restore(self, state: dict[str, object]) -> None:
        self.has_queries = bool(state["has_queries"])

    def parse(self, line: bytes) -> Event | None:
        s = text(line)
        m = QUERY.match(s)
        if m:
            return Event(m["name"], m["ip"], m["date"], "dns", m["type"])
        m = RPZ.match(s)
        if m:
            if self.has_queries:
                return None
            return Event(m["name"], m["ip"], m["date"], "dns", m["type"], f"rpz {m['action']}")
        if re.match(r"\d{1,2}-[A-Za-z]{3}-\d{4} ", s):
            return None  # another category (general, resolver, ...)
        raise LineError("not a BIND log line (DD-Mon-YYYY HH:MM:SS.mmm category: ...)")

    def when(self, stamp: str) -> datetime:
        return bind_time(stamp, self.ctx.tz)
