"""PowerDNS Recursor with `quiet=no`: structured (`msg="Question" ... qname=... remote=...`) or classic lines."""

from __future__ import annotations

import re
from datetime import datetime

from interdit.network.base import Event, LineError, LineReader, epoch, iso, readers, split_host_port, syslog_time, text

KV = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
SYSLOG = re.compile(r"(?P<ts>[A-Za-z]{3} +\d{1,2} \d{2}:\d{2}:\d{2}) ")
CLASSIC = re.compile(r"question for '(?P<name>[^|']+)\|(?P<type>[^']+)' from (?P<remote>\S+)")


@readers.register("pdns")
class PowerDnsRecursor(LineReader):
    name = "pdns"
    summary = "PowerDNS Recursor query log (quiet=no; structured or classic)"
    example = ('msg="Question" subsystem="syncres" level="0" prio="Info" tid="2" ts="1795354861.130" proto="udp" '
               'qname="www.tiktok.com" qtype="A" remote="10.1.2.3:49312"')
    kind = "dns"

    def sniff(self, line: bytes) -> bool:
        return (b'msg="Question"' in line and b"qname=" in line) or b"question for '" in line or \
            (b'subsystem="' in line and b'msg="' in line)

    def parse(self, line: bytes) -> Event | None:
        s = text(line).rstrip("\r")
        sys = SYSLOG.match(s)
        if 'msg="' in s:
            kv = dict(KV.findall(s))
            if kv.get("msg") != "Question":
                return None
            if "qname" not in kv or "remote" not in kv:
                raise LineError('a Question record without qname= or remote=')
            stamp = kv.get("ts") or (("S" + sys["ts"]) if sys else "")
            if not stamp:
                raise LineError("a Question record without a time (ts= or a syslog time)")
            return Event(kv["qname"], split_host_port(kv["remote"]), stamp, "dns", kv.get("qtype", ""))
        m = CLASSIC.search(s)
        if m:
            if sys is None:
                raise LineError("a question line without a syslog time")
            return Event(m["name"], split_host_port(m["remote"]), "S" + sys["ts"], "dns", m["type"])
        return None

    def when(self, stamp: str) -> datetime:
        if stamp.startswith("S"):
            return syslog_time(stamp[1:], self.ctx)
        if stamp.replace(".", "", 1).isdigit():
            return epoch(stamp)
        return iso(stamp)
