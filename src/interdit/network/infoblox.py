"""Infoblox NIOS syslog: BIND query lines, `infoblox-responses` lines and RPZ hits in CEF."""

from __future__ import annotations

import re
from datetime import datetime

from interdit.network.base import Event, FileContext, LineError, LineReader, readers, syslog_time, text
from interdit.network.bind9 import bind_time

PREFIX = re.compile(r"<\d{1,3}>(?P<sys>[A-Za-z]{3} +\d{1,2} \d{2}:\d{2}:\d{2}) \S+ (?:\S+ )?named\[\d+\]: "
                    r"(?P<rest>.*)$")
INNER = re.compile(r"(?:[a-z-]+: )?(?:[a-z-]+: )?(?P<date>\d{1,2}-[A-Za-z]{3}-\d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?) ")
QUERY = re.compile(r"client (?:@0x[0-9a-fA-F]+ )?(?P<ip>[^\s#]+)#\d+(?: \([^)]*\))?:? (?:(?:UDP|TCP): )?"
                   r"(?:view [^:]+: )?query: (?P<name>\S+) (?P<cls>\S+) (?P<type>\S+)(?: .*?response: (?P<rcode>\S+))?")
CEF = re.compile(r"CEF:\d+\|Infoblox\|[^|]*\|[^|]*\|(?P<sig>RPZ[^|]*)\|(?P<action>[^|]*)\|")
KV = re.compile(r"(?:^|\s)(src|qtype|msg)=(\"[^\"]*\"|\S+)")


@readers.register("infoblox")
class Infoblox(LineReader):
    name = "infoblox"
    summary = "Infoblox NIOS DNS syslog (queries, responses, RPZ hits in CEF)"
    example = ("<30>Apr 14 16:16:05 10.50.1.227 named[2588]: queries: client @0x7f97e40eb500 192.168.1.90#64727 "
               "(www.tiktok.com): query: www.tiktok.com IN A + (192.168.1.10)")
    kind = "dns"

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.has_queries = False

    def sniff(self, line: bytes) -> bool:
        return line.startswith(b"<") and b"named[" in line and PREFIX.match(line.decode("utf-8", "replace")) is not None

    def start(self, head: list[bytes]) -> None:
        self.has_queries = any(b"query: " in line for line in head)

    def state(self) -> dict[str, object]:
        return {"has_queries": self.has_queries}

    def restore(self, state: dict[str, object]) -> None:
        self.has_queries = bool(state["has_queries"])

    def parse(self, line: bytes) -> Event | None:
        s = text(line).rstrip("\r")
        p = PREFIX.match(s)
        if p is None:
            raise LineError("not an Infoblox syslog line (<PRI>Mon DD HH:MM:SS host named[pid]: ...)")
        rest = p["rest"]
        inner = INNER.match(rest)
        stamp = "B" + inner["date"] if inner else "S" + p["sys"]
        m = QUERY.search(rest)
        if m:
            return Event(m["name"], m["ip"], stamp, "dns", m["type"], m["rcode"] or "")
        c = CEF.search(rest)
        if c:
            if self.has_queries:
                return None
            kv = {k: v.strip('"') for k, v in KV.findall(rest)}
            found = re.search(r"rewrite (\S+)", kv.get("msg", ""))
            if not found or "src" not in kv:
                raise LineError("an RPZ CEF record without src= or a rewritten name in msg=")
            return Event(found.group(1), kv["src"], stamp, "dns", kv.get("qtype", ""), f"rpz {c['action']}")
        return None

    def when(self, stamp: str) -> datetime:
        if stamp.startswith("B"):
            return bind_time(stamp[1:], self.ctx.tz)
        return syslog_time(stamp[1:], self.ctx)
