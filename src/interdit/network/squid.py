"""Squid access.log, native format: the host of `CONNECT host:port` or of the URL."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from interdit.network.base import Event, LineError, LineReader, epoch, readers, text

LINE = re.compile(r"(?P<ts>\d{9,11}\.\d{1,3}) +(?P<elapsed>-?\d+) (?P<ip>\S+) (?P<code>[A-Z_]+/\d{3}) (?P<bytes>\d+) "
                  r"(?P<method>[A-Z_-]+) (?P<url>\S+)")


@readers.register("squid")
class Squid(LineReader):
    name = "squid"
    summary = "Squid access.log (native format; CONNECT host or URL host)"
    example = ("1795354827.995      0 10.1.2.3 TCP_DENIED/403 3417 CONNECT www.tiktok.com:443 - HIER_NONE/- "
               "text/html")
    kind = "proxy"

    def sniff(self, line: bytes) -> bool:
        return LINE.match(line.decode("utf-8", "replace")) is not None

    def parse(self, line: bytes) -> Event | None:
        s = text(line).rstrip("\r")
        if not s.strip():
            return None
        m = LINE.match(s)
        if m is None:
            raise LineError("not a Squid native access.log line (time elapsed client code/status bytes method URL)")
        url = m["url"]
        if m["method"] == "CONNECT" or "://" not in url:
            host = url.rsplit(":", 1)[0] if not url.endswith("]") else url
            host = host.strip("[]")
        else:
            try:
                host = urlsplit(url).hostname or ""
            except ValueError:
                raise LineError(f"URL {url[:80]!r} cannot be read") from None
        if not host:
            return None
        return Event(host, m["ip"], m["ts"], "proxy", m["method"], m["code"])

    def when(self, stamp: str) -> datetime:
        return epoch(stamp)
