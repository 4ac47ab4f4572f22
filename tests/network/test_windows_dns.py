"""The Windows Server DNS debug log with "Details" on: each packet is a summary line and a detail block.

The fixture `windows_dns/dns-debug-details.log` follows the layout of real logs (header with the field legend,
an EVENT line, summary lines, `UDP question|response info at <packet id>` blocks with socket, remote address,
header flags and the four sections, answer data, EDNS and SOA continuation lines, an empty line after each
record; CRLF line ends). A detail block is part of its packet's record: its lines are counted as unmatched,
never as requests and never rejected for their bytes; the question it repeats must be the summary line's.
"""

from __future__ import annotations

import gzip
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interdit.network import scan as scanmod
from interdit.network.base import FileContext, readers
from interdit.network.match import DomainMatcher
from interdit.network.scan import FileScan, detect, scan_file
from interdit.network.windows_dns import WindowsDns

FIXTURE = Path(__file__).parent / "windows_dns" / "dns-debug-details.log"
M = DomainMatcher({"tiktok.com": "tiktok", "tiktokv.com": "tiktok"})

# the fixture, line by line: 30 header lines (creation, wrap, key, 25 legend lines, 2 empty), 1 EVENT line,
# 11 packets (summary line, `info at` line, indented detail lines, empty line)
READ, SUMMARY, DETAIL = 508, 11, 466
SIGHTINGS = [("tiktok", "10.1.1.5", 2, "2023-03-01T10:00:00+00:00"),  # www.tiktok.com, api.tiktokv.com (HTTPS)
             ("tiktok", "2001:db8::20", 1, "2023-03-01T13:15:02+00:00")]  # m.tiktok.com, refused, 1:15:02 PM


def scan(path: Path, matcher: DomainMatcher = M, **kw: object) -> FileScan:
    r = scan_file(str(path), matcher, **kw)  # type: ignore[arg-type]
    assert r.read == r.matched + r.unmatched + r.rejected, (r.read, r.matched, r.unmatched, r.rejected)
    return r


def sightings(r: FileScan) -> list[tuple[str, str, int, str]]:
    return sorted((s.family, s.client, s.count, s.first.isoformat()) for s in r.aggregate.sightings())


def fixture_lines() -> list[bytes]:
    return FIXTURE.read_bytes().split(b"\r\n")[:-1]


def write(path: Path, lines: list[bytes], end: bytes = b"\r\n") -> Path:
    path.write_bytes(b"".join(line + end for line in lines))
    return path


# -- the fixture ------------------------------------------------------------------------------------


def test_fixture_layout() -> None:
    lines = fixture_lines()
    assert len(lines) == READ and FIXTURE.read_bytes().count(b"\n") == READ
    assert sum(b" PACKET " in x for x in lines) == SUMMARY
    assert sum(re.match(rb"UDP (question|response) info at ", x) is not None for x in lines) == SUMMARY
    record = False
    detail = 0
    for x in lines:  # from each `info at` line to the empty line that ends the record
        record = record or x.startswith(b"UDP ")
        detail += record
        record = record and x != b""
    assert detail == DETAIL


def test_details_are_part_of_the_record_not_requests_nor_rejections() -> None:
    r = scan(FIXTURE)
    assert r.format == "windows-dns" and r.error is None
    assert (r.read, r.matched, r.unmatched, r.rejected) == (READ, 3, READ - 3, 0)
    assert sightings(r) == SIGHTINGS
    assert {s.example_name for s in r.aggregate.sightings()} == {"www.tiktok.com", "m.tiktok.com"}


def test_the_same_packets_without_details_give_the_same_sightings(tmp_path: Path) -> None:
    # a detail block adds lines, not requests: the names in its answers (CNAMEs, SOA) are never counted
    kept, record = [], False
    for x in fixture_lines():
        record = record or x.startswith(b"UDP ")
        if not record:
            kept.append(x)
        record = record and x != b""
    plain = scan(write(tmp_path / "dns.log", kept))
    assert len(kept) == READ - DETAIL
    assert (plain.read, plain.matched, plain.unmatched, plain.rejected) == (READ - DETAIL, 3, READ - DETAIL - 3, 0)
    assert sightings(plain) == SIGHTINGS


def test_line_ends_and_compression_do_not_matter(tmp_path: Path) -> None:
    lf = scan(write(tmp_path / "lf.log", fixture_lines(), b"\n"))
    gz = tmp_path / "dns.log.gz"
    gz.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    for r in (lf, scan(gz)):
        assert (r.read, r.matched, r.rejected) == (READ, 3, 0)
        assert sightings(r) == SIGHTINGS


def test_two_processes_give_the_same_answer_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ranges start inside detail blocks: their lines are unmatched either way
    body = fixture_lines()[30:]
    p = write(tmp_path / "dns.log", fixture_lines()[:30] + body * 400)
    monkeypatch.setattr(scanmod, "SPLIT_MIN", 1)
    one = scan(p, jobs=1)
    assert (one.matched, one.rejected) == (1200, 0)
    for jobs in (2, 3):
        many = scan(p, jobs=jobs)
        assert (many.read, many.matched, many.unmatched, many.rejected) == \
            (one.read, one.matched, one.unmatched, one.rejected)
        assert many.aggregate.sightings() == one.aggregate.sightings()


# -- detection --------------------------------------------------------------------------------------


def test_detected_from_the_header_from_a_packet_or_from_inside_a_record(tmp_path: Path) -> None:
    lines = fixture_lines()
    assert detect(lines[:200]) == "windows-dns"
    assert detect(lines[:30]) == "windows-dns"  # the header alone (a log that has just been created)
    assert detect(lines[31:200]) == "windows-dns"  # starts with a detail-enabled packet
    inside = lines[125:]  # a piece that starts inside a response's details: no summary line in its first 50
    assert not any(b" PACKET " in x for x in [x for x in inside if x.strip()][:50])
    assert detect(inside[:200]) == "windows-dns"
    r = scan(write(tmp_path / "piece.log", inside))
    assert (r.format, r.read, r.rejected) == ("windows-dns", len(inside), 0)
    assert sightings(r) == [("tiktok", "10.1.1.5", 1, "2023-03-01T13:20:40+00:00"), SIGHTINGS[1]]


def test_no_other_format_claims_a_line_and_this_one_claims_no_other_format() -> None:
    lines = fixture_lines()
    for name, cls in readers.items():
        probe = cls.__new__(cls)
        if name == "windows-dns":
            continue
        assert not [x for x in lines if probe.sniff(x)], name
        assert not WindowsDns.__new__(WindowsDns).sniff(cls.example.encode()), name


# -- dates in the server's locale -------------------------------------------------------------------

US = re.compile(rb"(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2}):(\d{2}) ([AP]M)")


def _relocale(line: bytes, fmt: str) -> bytes:
    def sub(m: re.Match[bytes]) -> bytes:
        mo, d, y, hh, mm, ss = (int(x) for x in m.groups()[:6])
        hh = hh % 12 + (12 if m.group(7) == b"PM" else 0)
        return fmt.format(y=y, mo=mo, d=d, hh=hh, mm=mm, ss=ss).encode()
    return US.sub(sub, line, count=1)


LOCALES = {"en-GB": "{d:02}/{mo:02}/{y} {hh:02}:{mm:02}:{ss:02}", "de-DE": "{d:02}.{mo:02}.{y} {hh:02}:{mm:02}:{ss:02}",
           "ISO": "{y}-{mo:02}-{d:02} {hh:02}:{mm:02}:{ss:02}", "en-US 24h": "{mo}/{d}/{y} {hh}:{mm:02}:{ss:02}"}


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_locale_dates(tmp_path: Path, locale: str) -> None:
    lines = [_relocale(x, LOCALES[locale]) for x in fixture_lines()]
    assert lines[0].startswith(b"DNS Server log file creation at ") and lines != fixture_lines()
    r = scan(write(tmp_path / "dns.log", lines))
    assert (r.read, r.matched, r.rejected) == (READ, 3, 0)
    if locale == "en-US 24h":  # 3/1 with a 24-hour clock and no day over 12: read day first, as documented
        assert [s[3] for s in sightings(r)] == ["2023-01-03T10:00:00+00:00", "2023-01-03T13:15:02+00:00"]
    else:
        assert sightings(r) == SIGHTINGS


def test_the_header_alone_teaches_the_date_order() -> None:
    # `--follow` on a log just created: the head holds the header and no packet line yet
    ctx = FileContext("dns.log", datetime(2023, 3, 2, tzinfo=UTC))
    us, de = WindowsDns(ctx), WindowsDns(ctx)
    us.start(fixture_lines()[:30])
    de.start([b"DNS Server log file creation at 20.01.2026 23:00:00", b"Log file wrap at 20.01.2026 23:30:00"])
    assert (us.order, de.order) == ("mdy", "dmy")
    assert us.when("3/1/2023 10:00:00 AM") == datetime(2023, 3, 1, 10, tzinfo=UTC)
    assert us.when("3/1/2023 12:05:00 AM") == datetime(2023, 3, 1, 0, 5, tzinfo=UTC)
    assert de.when("03.02.2026 23:00:16") == datetime(2026, 2, 3, 23, 0, 16, tzinfo=UTC)


# -- what a detail block may hold, and a block that contradicts its packet -------------------------

SUMMARY_LINE = ("3/1/2023 10:00:00 AM 0E1C PACKET  000001C6F8A4B010 UDP {dir} {ip:<15} 3a1f {r} Q [{flags}] "
                "{qtype:<6} {name}")


def wire(name: str) -> str:
    return "".join(f"({len(label)}){label}" for label in name.split(".")) + "(0)"


def record(name: str, ip: str = "10.1.1.5", *, direction: str = "Rcv", response: bool = False,
           details: bool = True, packet_id: str = "000001C6F8A4B010", asked: str | None = None,
           answers: tuple[bytes, ...] = ()) -> list[bytes]:
    """One packet as the server writes it: the summary line, then (with details) its block and an empty line."""
    flags = "8081   DR  NOERROR" if response else "0001   D   NOERROR"
    lines = [SUMMARY_LINE.format(dir=direction, ip=ip, r="R" if response else " ", flags=flags, qtype="A",
                                 name=wire(name)).encode()]
    if not details:
        return lines
    lines += [f"UDP {'response' if response else 'question'} info at {packet_id}".encode(),
              b"  Socket = 512", f"  Remote addr {ip}, port 52814".encode(), b"  Time Query=1042, Queued=0, Expire=0",
              b"  Buf length = 0x0fa0 (4000)", b"  Msg length = 0x0020 (32)", b"  Message:", b"    XID       0x3a1f",
              b"    Flags     0x8180" if response else b"    Flags     0x0100", b"    QCOUNT    1",
              f"    ACOUNT    {len(answers)}".encode(), b"    QUESTION SECTION:", b"    Offset = 0x000c, RR count = 0",
              f'    Name      "{wire(asked or name)}"'.encode(), b"      QTYPE   A (1)", b"      QCLASS  1",
              b"    ANSWER SECTION:"]
    lines += list(answers) or [b"      empty"]
    return [*lines, b"    AUTHORITY SECTION:", b"      empty", b"    ADDITIONAL SECTION:", b"      empty", b""]


def test_detail_lines_are_never_rejected_for_the_bytes_a_packet_put_in_them(tmp_path: Path) -> None:
    txt = (b'    Name      "[C00C](3)www(6)tiktok(3)com(0)"', b"      TYPE   TXT  (16)",
           b"      DATA   (27)caf\xe9 \xff\xfe UDP Rcv 10.1.1.9 PACKET ", b'\t\t"v=spf1 include:tiktok.com ~all"')
    lines = [*record("www.tiktok.com", response=False), *record("www.tiktok.com", direction="Snd", response=True,
                                                                  answers=txt)]
    r = scan(write(tmp_path / "dns.log", lines), fmt="windows-dns")
    assert (r.read, r.matched, r.unmatched, r.rejected) == (len(lines), 1, len(lines) - 1, 0)


def test_a_block_that_contradicts_its_packet_is_rejected_not_counted(tmp_path: Path) -> None:
    lines = [*record("www.tiktok.com"),
             *record("example.org", asked="www.tiktok.com"),  # the details ask for another name
             *record("m.tiktok.com", packet_id="000001C6F8FFFFF0")]  # the details of another packet
    r = scan(write(tmp_path / "dns.log", lines))
    assert (r.read, r.matched, r.unmatched, r.rejected) == (len(lines), 2, len(lines) - 4, 2)
    # the name in the block is never a request: the second packet asked for example.org
    assert sightings(r) == [("tiktok", "10.1.1.5", 2, "2023-03-01T10:00:00+00:00")]
    assert [x.reason for x in r.rejections] == [
        "the packet's details ask for '(3)www(6)tiktok(3)com(0)', its packet line for '(7)example(3)org(0)'",
        "details of packet 000001C6F8FFFFF0 follow the packet line of 000001C6F8A4B010"]
    assert [int(x.place.rsplit(":", 1)[1]) for x in r.rejections] == [
        len(record("x")) + 15, 2 * len(record("x")) + 2]


def test_names_beyond_printable_ascii_are_not_compared(tmp_path: Path) -> None:
    # how the summary line and the block each write such a name is not known: neither is held against the other
    lines = record("www.tiktök.com")
    lines[14] = b'    Name      "(3)www(6)tikt\\303\\266k(3)com(0)"'
    r = scan(write(tmp_path / "dns.log", lines), DomainMatcher({"xn--tiktk-mua.com": "lookalike"}))
    assert (r.format, r.read, r.matched, r.rejected) == ("windows-dns", len(lines), 1, 0)


def test_a_block_with_nothing_before_it_is_unmatched(tmp_path: Path) -> None:
    # the start of a piece, or after a summary line that was rejected: nothing to check it against
    lines = [*record("example.org")[1:], b"3/1/2023 10:00:00 AM 0E1C PACKET  in a layout nobody wrote",
             *record("m.tiktok.com")[1:]]
    r = scan(write(tmp_path / "dns.log", lines), fmt="windows-dns")
    assert (r.read, r.matched, r.unmatched, r.rejected) == (len(lines), 0, len(lines) - 1, 1)
    assert r.rejections[0].reason == "a PACKET line in an unknown layout"


def test_a_nul_byte_in_a_detail_line_is_binary_garbage(tmp_path: Path) -> None:
    lines = record("www.tiktok.com")
    lines[3] = b"  Remote addr 10.1.1.5\x00\x00\x00"
    r = scan(write(tmp_path / "dns.log", lines), fmt="windows-dns")
    assert (r.read, r.matched, r.rejected) == (len(lines), 1, 1)
    assert r.rejections[0].reason == "binary data (NUL byte) in the line"


# -- property: details never change what is found ----------------------------------------------------

NAMES = ["www.tiktok.com", "api.tiktokv.com", "nottiktok.com", "example.org", "tiktok.com.evil.example",
         "WWW.TikTok.COM"]
CLIENTS = ["10.1.1.5", "10.1.1.6", "2001:db8::20"]
PACKETS = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(CLIENTS), st.sampled_from(["Rcv", "Snd"]),
                             st.booleans(), st.booleans()), max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(PACKETS, st.booleans())
def test_details_never_change_what_is_found(tmp_path: Path, packets: list[tuple[str, str, str, bool, bool]],
                                           header: bool) -> None:
    head = fixture_lines()[:30] if header else []
    answer = (b'    Name      "[C00C](3)www(6)tiktok(3)com(0)"', b"      TYPE   CNAME  (5)",
              b"      DATA   (2)m(6)tiktok(3)com(0)")
    with_details, without = list(head), list(head)
    expected: dict[str, int] = {}
    for name, client, direction, response, answered in packets:
        answers = answer if answered else ()
        with_details += record(name, client, direction=direction, response=response, answers=answers)
        without += record(name, client, direction=direction, response=response, answers=answers, details=False)
        if direction == "Rcv" and not response and M.family_of(name.lower()) is not None:
            expected[client] = expected.get(client, 0) + 1
    a = scan(write(tmp_path / "a.log", with_details), fmt="windows-dns")
    b = scan(write(tmp_path / "b.log", without), fmt="windows-dns")
    assert (a.read, b.read) == (len(with_details), len(without))
    assert a.matched == b.matched == sum(expected.values()) and a.rejected == b.rejected == 0
    assert a.unmatched - b.unmatched == len(with_details) - len(without)
    assert a.aggregate.sightings() == b.aggregate.sightings()
    assert {s.client: s.count for s in a.aggregate.sightings()} == expected
    if with_details:
        assert detect(with_details[:200]) == "windows-dns"
