"""Unbound `log-queries`, `log-replies`, `log-local-actions` and `rpz-log` lines."""

from __future__ import annotations

import re
from datetime import datetime

from interdit.network.base import Event, FileContext, LineError, LineReader, epoch, readers, syslog_time, text

PREFIX = re.compile(r"(?:\[(?P<epoch>\d+(?:\.\d+)?)\] |(?P<ts>[A-Za-z]{3} +\d{1,2} \d{2}:\d{2}:\d{2}) (?:\S+ )?)"
                    r"unbound(?:\[\d+:[0-9a-fA-F]+\]|:(?: \[\d+:[0-9a-fA-F]+\])?) (?P<level>\w+): (?P<rest>.*)$")
CLS = r"(?:IN|CH|HS|ANY|NONE|CLASS\d+)"
QUERY = re.compile(r"(?P<ip>[0-9a-fA-F:.]+) (?P<name>\S+) (?P<type>\S+) " + CLS + r"$")
REPLY = re.compile(r"(?P<ip>[0-9a-fA-F:.]+) (?P<name>\S+) (?P<type>\S+) " + CLS + r" (?P<rcode>[A-Z]+) ")
LOCAL = re.compile(r"(?P<zone>\S+) (?P<action>[a-z_]+) (?P<ip>[0-9a-fA-F:.]+)@\d+ (?P<name>\S+) (?P<type>\S+) "
                   + CLS + r"$")
RPZ = re.compile(r"rpz: applied \[(?P<tag>[^\]]*)\] (?P<trigger>\S+) (?P<action>\S+) (?P<ip>[0-9a-fA-F:.]+)@\d+ "
                 r"(?P<name>\S+) (?P<type>\S+) " + CLS)


@readers.register("unbound")
class Unbound(LineReader):
    name = "unbound"
    summary = "Unbound log-queries / log-replies / log-local-actions / rpz-log"
    example = "[1795354860] unbound[23350:0] info: 10.1.2.3 www.tiktok.com. A IN"
    kind = "dns"

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.has_queries = False

    def sniff(self, line: bytes) -> bool:
        return b"unbound" in line and PREFIX.match(line.decode("utf-8", "replace")) is not None

    def start(self, head: list[bytes]) -> None:
        # with log-queries on, the local-action, rpz and reply lines repeat a query already counted
        for line in head:
            m = PREFIX.match(line.decode("utf-8", "replace"))
            if m and QUERY.match(m["rest"]):
                self.has_queries = True
                return

    def state(self) -> dict[str, object]:
        return {"has_queries": self.has_queries}

    def restore(self, state: dict[str, object]) -> None:
        self.has_queries = bool(state["has_queries"])

    def parse(self, line: bytes) -> Event | None:
        s = text(line).rstrip("\r")
        p = PREFIX.match(s)
        if p is None:
            raise LineError("not an Unbound log line ([epoch] unbound[pid:thread] level: ...)")
        stamp = p["epoch"] or "S" + p["ts"]
        rest = p["rest"]
        m = QUERY.match(rest)
        if m:
            return Event(m["name"], m["ip"], stamp, "dns", m["type"])
        if self.has_queries:
            return None
        m = LOCAL.match(rest) or RPZ.match(rest)
        if m:
            return Event(m["name"], m["ip"], stamp, "dns", m["type"], m["action"])
        m = REPLY.match(rest)
        if m:
            return Event(m["name"], m["ip"], stamp, "dns", m["type"], m["rcode"])
        return None

    def when(self, stamp: str) -> datetime:
        return syslog_time(stamp[1:], self.ctx) if stamp.startswith("S") else epoch(stamp)
