"""CoreDNS `log` plugin (Common Log Format), bare, with an RFC 3339 prefix, or in a Kubernetes JSON envelope."""

from __future__ import annotations

import json
import re
from datetime import datetime

from interdit.network.base import Event, LineError, LineReader, iso, readers, split_host_port, text

LINE = re.compile(r'(?:(?P<ts>\d{4}-\d{2}-\d{2}T\S+) )?\[(?P<level>[A-Z]+)\] (?P<remote>\S+) - (?P<id>\d+) '
                  r'"(?P<type>\S+) (?P<cls>\S+) (?P<name>\S+) (?P<proto>\S+) \d+ \S+ \d+" (?P<rcode>\S+)')


@readers.register("coredns")
class CoreDns(LineReader):
    name = "coredns"
    summary = "CoreDNS log plugin (lines without a time take the file's modification time)"
    example = ('2019-03-06T08:55:28.903Z [INFO] 172.17.0.4:36413 - 21583 "A IN www.tiktok.com. udp 43 false 512" '
               "NXDOMAIN qr,rd,ra 136 0.000102078s")
    kind = "dns"

    def sniff(self, line: bytes) -> bool:
        return b"[INFO] " in line and b' - ' in line and LINE.search(self._unwrap(line.decode("utf-8", "replace")))\
            is not None

    @staticmethod
    def _unwrap(s: str) -> str:
        if s.startswith("{"):
            try:
                obj = json.loads(s)
            except ValueError:
                return s
            if isinstance(obj, dict) and isinstance(obj.get("log"), str):
                t = obj.get("time")
                return (f"{t} " if isinstance(t, str) else "") + str(obj["log"]).strip()
        return s

    def parse(self, line: bytes) -> Event | None:
        s = self._unwrap(text(line).strip())
        if not s:
            return None
        m = LINE.match(s)
        if m is None:
            if "[INFO]" in s or "[ERROR]" in s or "[WARNING]" in s:
                return None  # other plugin messages
            raise LineError("not a CoreDNS log line ([INFO] ip:port - id \"TYPE CLASS name ...\" RCODE ...)")
        return Event(m["name"], split_host_port(m["remote"]), m["ts"] or "", "dns", m["type"], m["rcode"])

    def when(self, stamp: str) -> datetime:
        return iso(stamp) if stamp else self.ctx.mtime
