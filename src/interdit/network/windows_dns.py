"""Windows Server DNS debug log (`dns.log`): wire-form names `(3)www(6)tiktok(3)com(0)`, local dates.

A packet is one summary line; with the "Details" option on, a block follows it (`UDP question info at
<packet id>`, then indented lines: socket, remote address, header flags, the question, answer, authority and
additional sections) and ends with an empty line. The file starts with a header: `DNS Server log file creation
at ...`, `Log file wrap at ...`, `Message logging key ...` and its tab-indented field legend.

Only summary lines are requests. Header, `EVENT` and detail lines are counted as unmatched: they are read,
never turned into a request, and never rejected for the bytes a packet put in them (answer data is raw wire
content). Detail lines are classified by their shape without being decoded. The question name a detail
block repeats must be the one on its summary line: a block that names another packet, or another question
(compared when the name is plain printable ASCII), is rejected rather than guessed at.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from interdit.network.base import Event, FileContext, LineError, LineReader, readers, text

PACKET = re.compile(r"(?P<date>\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}) (?P<time>\d{1,2}:\d{2}:\d{2}(?: ?[AaPp][Mm])?) "
                    r"(?P<thread>[0-9A-Fa-f]+) PACKET +(?P<ctx>[0-9A-Fa-f]+) (?P<proto>UDP|TCP) (?P<dir>Rcv|Snd) "
                    r"(?P<ip>\S+) +(?P<xid>[0-9A-Fa-f]+) (?P<r>[R ]) (?P<op>\S) \[(?P<flags>[^\]]*)\] +"
                    r"(?P<type>\S+) +(?P<name>\S+)")
# a date in the server's locale, on a packet or event line or in the header (same format): learns the order
STAMP = re.compile(rb"(?:DNS Server log file creation at |Log file wrap at )?"
                   rb"(\d{1,2})[/.](\d{1,2})[/.](\d{4}) \d{1,2}:\d{2}:\d{2}( ?[AaPp][Mm])?")
HEADER = (b"DNS Server log file creation at ", b"Log file wrap at ", b"Message logging key",
          b"Field #  Information")
DETAIL_START = re.compile(rb"(?:UDP|TCP) (?:question|response) info at ([0-9A-Fa-f]+)[ \t\r]*$")
# lines only a detail block has (for detection: a file or a piece may start inside a record)
DETAIL = re.compile(rb"[ \t]*(?:(?:UDP|TCP) (?:question|response) info at [0-9A-Fa-f]+|Remote addr [0-9A-Fa-f.:%]+, "
                    rb"port \d+|Time Query=\d+, Queued=\d+, Expire=\d+|(?:Buf|Msg) length = 0x[0-9A-Fa-f]+ \(\d+\)|"
                    rb"(?:XID|Flags) +0x[0-9A-Fa-f]{4}|(?:QUESTION|ANSWER|AUTHORITY|ADDITIONAL) SECTION:|"
                    rb"Offset = 0x[0-9A-Fa-f]{4}, RR count = \d+|"
                    rb"Name +\"(?:\[C[0-9A-Fa-f]{3}\])?(?:\(\d+\)[^\"]*)?\(0\)\")[ \t\r]*$")
QUESTION_NAME = re.compile(rb'Name +"(.*)"$')
PLAIN = re.compile(r"[!-\[\]-~]+")  # printable ASCII but space and backslash


@readers.register("windows-dns")
class WindowsDns(LineReader):
    name = "windows-dns"
    summary = "Windows Server DNS debug log (dns.log; packet lines, with or without details)"
    example = ("22/12/2021 21:46:04 0E1C PACKET  0000017DEDFE28D0 UDP Rcv 10.20.0.6       966f   Q "
               "[0001   D   NOERROR] A      (6)tiktok(3)com(0)")
    kind = "dns"

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.order = "mdy"
        # the record being read: the last summary line's packet id and name (as written, to the line's end;
        # empty when not compared), the name its detail block must repeat, and whether that block's question
        # is still to come. A range of a split file that starts inside a block cannot check that block: its
        # lines are unmatched anyway.
        self._packet: tuple[bytes, bytes] | None = None
        self._bound: bytes | None = None
        self._question = False

    def sniff(self, line: bytes) -> bool:
        if line.lstrip(b"\t ").startswith(HEADER) or DETAIL.match(line) is not None:
            return True  # the header, or a packet's details
        return b" PACKET " in line and PACKET.match(line.decode("utf-8", "replace")) is not None

    def start(self, head: list[bytes]) -> None:
        # the date order follows the server's locale: a first number over 12 is a day (D/M/Y), a second over
        # 12 is a day (M/D/Y); otherwise AM/PM suggests the US order and a 24-hour clock the day-first one.
        # The header's creation and wrap times count too: a head with details holds few packet lines.
        ampm = False
        for line in head:
            m = STAMP.match(line)
            if m is None:
                continue
            a, b = int(m.group(1)), int(m.group(2))
            if a > 12:
                self.order = "dmy"
                return
            if b > 12:
                self.order = "mdy"
                return
            ampm = ampm or m.group(4) is not None
        self.order = "mdy" if ampm or not head else "dmy"

    def state(self) -> dict[str, object]:
        return {"order": self.order}

    def restore(self, state: dict[str, object]) -> None:
        self.order = str(state["order"])

    def parse(self, line: bytes) -> Event | None:
        head = line[:1]
        if head == b" " or head == b"\t":
            self._detail(line)  # a packet's details, or the header's field legend
            return None
        self._bound, self._question = None, False  # any other line ends a detail block
        if head == b"U" or head == b"T":
            opened = DETAIL_START.match(line)
            if opened is not None:
                self._open(opened.group(1))
                return None
        self._packet = None
        s = text(line).rstrip("\r")
        m = PACKET.match(s)
        if m is None:
            if " PACKET " in s:
                raise LineError("a PACKET line in an unknown layout")
            return None  # header, EVENT lines, empty lines between records
        name = s[m.start("name"):].rstrip()
        # the block repeats the name as written here; a name with spaces, escapes or other than printable
        # ASCII is not compared (how each place would write it is not known)
        self._packet = (m["ctx"].upper().encode(), name.encode() if PLAIN.fullmatch(name) else b"")
        if m["dir"] != "Rcv" or m["r"] == "R":
            return None  # responses and queries this server sends upstream
        return Event(m["name"], m["ip"], f"{m['date']} {m['time']}", "dns", m["type"], m["flags"].split()[-1])

    def _open(self, packet_id: bytes) -> None:
        """`UDP question info at <id>`: the details of the packet on the summary line just read."""
        packet, self._packet = self._packet, None
        if packet is None:
            return  # no summary line read before it (start of a range, or one that was rejected)
        if packet_id.upper() != packet[0]:
            raise LineError(f"details of packet {packet_id.decode()} follow the packet line of {packet[0].decode()}")
        self._bound = packet[1] or None

    def _detail(self, line: bytes) -> None:
        """An indented line: counted as unmatched, never decoded. Checks the block's question name."""
        if b"\x00" in line:
            raise LineError("binary data (NUL byte) in the line")
        if self._bound is None:
            return
        s = line.strip()
        if s.endswith(b"SECTION:"):
            self._question = s == b"QUESTION SECTION:"
        elif self._question and s.startswith(b"Name"):
            m = QUESTION_NAME.match(s)
            if m is not None:
                self._question = False  # the first question is the one the summary line shows
                if m.group(1) != self._bound:
                    asked = m.group(1)[:80].decode("utf-8", "replace")
                    raise LineError(f"the packet's details ask for {asked!r}, its packet line for "
                                    f"{self._bound[:80].decode('utf-8', 'replace')!r}")

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
