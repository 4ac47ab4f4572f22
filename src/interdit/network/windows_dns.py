"""Windows Server DNS debug log (`dns.log`): wire-form names `(3)www(6)tiktok(3)com(0)`, local dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from interdit.network.base import Event, FileContext, LineError, LineReader, readers, text

PACKET = re.compile(r"(?P<date>\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}) (?P<time>\d{1,2}:\d{2}:\d{2}(?: ?[AaPp][Mm])?) "
                    r"(?P<thread>[0-9A-Fa-f]+) PACKET +(?P<ctx>[0-9A-Fa-f]+) (?P<proto>UDP|TCP) (?P<dir>Rcv|Snd) "
                    r"(?P<ip>\S+) +(?P<xid>[0-9A-Fa-f]+) (?P<r>[R ]) (?P<op>\S) \[(?P<flags>[^\]]*)\] +"
                    r"(?P<type>\S+) +(?P<name>\S+)")
SLASHED = re.compile(rb"^(\d{1,2})[/.](\d{1,2})[/.](\d{4}) ")


@readers.register("windows-dns")
class WindowsDns(LineReader):
    name = "windows-dns"
    summary = "Windows Server DNS debug log (dns.log, packet lines)"
    example = ("22/12/2021 21:46:04 0E1C PACKET  0000017DEDFE28D0 UDP Rcv 10.20.0.6       966f   Q "
               "[0001   D   NOERROR] A      (6)tiktok(3)com(0)")
    kind = "dns"

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.order = "mdy"

    def sniff(self, line: bytes) -> bool:
        return line.startswith(b"DNS Server log file creation") or (
            b" PACKET " in line and PACKET.match(line.decode("utf-8", "replace")) is not None)

    def start(self, head: list[bytes]) -> None:
        # the date order follows the server's locale: a first number over 12 is a day (D/M/Y), a second over
        # 12 is a day (M/D/Y); otherwise AM/PM suggests the US order and a 24-hour clock the day-first one
        ampm = False
        for line in head:
            m = SLASHED.match(line)
            if m is None:
                continue
            a, b = int(m.group(1)), int(m.group(2))
            if a > 12:
                self.order = "dmy"
                return
            if b > 12:
                self.order = "mdy"
                return
            ampm = ampm or b"AM " in line or b"PM " in line
        self.order = "mdy" if ampm or not head else "dmy"

    def state(self) -> dict[str, object]:
        return {"order": self.order}

    def restore(self, state: dict[str, object]) -> None:
        self.order = str(state["order"])

    def parse(self, line: bytes) -> Event | None:
        s = text(line).rstrip("\r")
        m = PACKET.match(s)
        if m is None:
            if " PACKET " in s:
                raise LineError("a PACKET line in an unknown layout")
            return None  # header, EVENT lines, details of a packet
        if m["dir"] != "Rcv" or m["r"] == "R":
            return None  # responses and queries this server sends upstream
        return Event(m["name"], m["ip"], f"{m['date']} {m['time']}", "dns", m["type"], m["flags"].split()[-1])

    def when(self, stamp: str) -> datetime:
        date_s, _, time_s = stamp.partition(" ")
        try:
            parts = [int(x) for x in re.split(r"[/.-]", date_s)]
            if parts[0] > 31:
                y, mo, d = parts
            elif (self.order == "dmy" and parts[1] <= 12) or parts[0] > 12:
                d, mo, y = parts  # day first (or a day over 12 proves it for this line)
            else:
                mo, d, y = parts
            t = time_s.strip().upper()
            pm, am = t.endswith("PM"), t.endswith("AM")
            hh, mm, ss = (int(x) for x in t.rstrip("APM ").split(":"))
            if pm and hh < 12:
                hh += 12
            if am and hh == 12:
                hh = 0
            return datetime(y, mo, d, hh, mm, ss, tzinfo=self.ctx.tz).astimezone(UTC)
        except ValueError:
            raise LineError(f"{stamp!r} is not a date and time in this log's order ({self.order})") from None
