"""dnsmasq `log-queries` (plain and `extra`) and Pi-hole's `pihole.log`, which is the same format."""

from __future__ import annotations

import re
from datetime import datetime

from interdit.network.base import Event, LineError, LineReader, readers, syslog_time, text

LINE = re.compile(r"(?P<ts>[A-Za-z]{3} +\d{1,2} \d{2}:\d{2}:\d{2}) (?:\S+ )?(?:dnsmasq|pihole-FTL)(?:\[\d+\])?: "
                  r"(?P<rest>.*)$")
QUERY = re.compile(r"(?:\d+ \S+/\d+ )?query\[(?P<type>[^\]]+)\] (?P<name>\S+) from (?P<ip>\S+)$")


@readers.register("dnsmasq")
class Dnsmasq(LineReader):
    name = "dnsmasq"
    summary = "dnsmasq log-queries (plain or extra) and Pi-hole pihole.log"
    example = "Nov 22 13:40:26 dnsmasq[21325]: 1 10.1.2.3/39027 query[A] www.tiktok.com from 10.1.2.3"
    kind = "dns"

    def sniff(self, line: bytes) -> bool:
        return (b"dnsmasq" in line or b"pihole-FTL" in line) and LINE.match(line.decode("utf-8", "replace")) is not None

    def parse(self, line: bytes) -> Event | None:
        s = text(line).rstrip("\r")
        m = LINE.match(s)
        if m is None:
            raise LineError("not a dnsmasq log line (Mon DD HH:MM:SS dnsmasq[pid]: ...)")
        q = QUERY.match(m["rest"])
        if q is None:
            return None  # forwarded, reply, cached, config, gravity blocked, ...: follow-ups of a query line
        return Event(q["name"], q["ip"], m["ts"], "dns", q["type"])

    def when(self, stamp: str) -> datetime:
        return syslog_time(stamp, self.ctx)
