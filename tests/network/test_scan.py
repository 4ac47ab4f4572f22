"""The scanner on hostile input: malformed lines, binary garbage, truncated gzip, wrong formats, absurd names;
compression (gzip, bzip2, zstd) and stdin; the two-process split gives the same answer as one process."""

from __future__ import annotations

import bz2
import gzip
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interdit.network import scan as scanmod
from interdit.network.match import DomainMatcher
from interdit.network.scan import FileScan, Match, scan_file

M = DomainMatcher({"tiktok.com": "tiktok", "tiktokv.com": "tiktok", "deepseek.com": "deepseek"})
FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto trans_id rtt query qclass qclass_name qtype "  # noqa: SIM905
          "qtype_name rcode rcode_name AA TC RD RA Z answers TTLs rejected").split()
HEAD = "#separator \\x09\n#path\tdns\n#fields\t" + "\t".join(FIELDS) + "\n"


def zeek_line(i: int, client: str, query: str, answers: str = "-") -> str:
    return (f"{1677664800 + i}.000000\tC{i}\t{client}\t5353\t10.0.0.53\t53\tudp\t1\t0.001\t{query}\t1\tC_INTERNET\t1\t"
            f"A\t0\tNOERROR\tF\tF\tT\tT\t0\t{answers}\t-\tF\n")


def check(r: FileScan) -> FileScan:
    assert r.read == r.matched + r.unmatched + r.rejected
    return r


def test_malformed_lines_are_counted_with_line_numbers(tmp_path: Path) -> None:
    p = tmp_path / "dns.log"
    p.write_text(HEAD + zeek_line(1, "10.1.1.1", "www.tiktok.com")
                 + "only\tthree\tcolumns\n"  # line 5
                 + zeek_line(2, "not-an-ip", "www.tiktok.com")  # line 6: matched name, bad client
                 + zeek_line(3, "10.1.1.1", "a" * 300 + ".tiktok.com")  # line 7: absurdly long name
                 + zeek_line(4, "10.1.1.1", "x..tiktok.com")  # line 8: empty label
                 + zeek_line(5, "10.1.1.1", "nottiktok.com"))
    r = check(scan_file(str(p), M))
    assert (r.read, r.matched, r.unmatched, r.rejected) == (9, 1, 4, 4)
    assert [x.place.rsplit(":", 1)[1] for x in r.rejections] == ["5", "6", "7", "8"]
    assert "columns" in r.rejections[0].reason and "address" in r.rejections[1].reason


def test_binary_garbage_and_over_long_lines(tmp_path: Path) -> None:
    p = tmp_path / "dns.log"
    p.write_bytes(HEAD.encode() + zeek_line(1, "10.1.1.1", "www.tiktok.com").encode()
                  + b"\x00\xff\xfe garbage \x00\n" + b"x" * 200_000 + b"\n"
                  + zeek_line(2, "10.1.1.1", "tiktok.com").encode()
                  + b"\xc3\x28\t" * 23 + b"\n")
    r = check(scan_file(str(p), M))
    assert (r.matched, r.rejected) == (2, 3)
    assert [x.place.rsplit(":", 1)[1] for x in r.rejections] == ["5", "6", "8"]


def test_truncated_gzip_keeps_what_was_read_and_says_where_it_stopped(tmp_path: Path) -> None:
    body = HEAD + "".join(zeek_line(i, "10.1.1.1", "www.tiktok.com") for i in range(5000))
    data = gzip.compress(body.encode())
    p = tmp_path / "dns.log.gz"
    p.write_bytes(data[: len(data) // 2])
    r = check(scan_file(str(p), M))
    assert r.compression == "gzip" and 0 < r.matched < 5000
    assert r.rejected == 1 and "ends early" in r.rejections[-1].reason


@pytest.mark.parametrize("kind", ["gzip", "bzip2", "zstd"])
def test_compressed_files_are_read_by_content(tmp_path: Path, kind: str) -> None:
    body = (HEAD + zeek_line(1, "10.1.1.1", "www.tiktok.com") + zeek_line(2, "10.1.1.2", "x.deepseek.com")).encode()
    if kind == "gzip":
        data = gzip.compress(body)
    elif kind == "bzip2":
        data = bz2.compress(body)
    else:
        import zstandard

        data = zstandard.ZstdCompressor().compress(body)
    p = tmp_path / "dns.log.data"  # the name says nothing: the content does
    p.write_bytes(data)
    r = check(scan_file(str(p), M))
    assert r.compression == kind and r.matched == 2


def test_wrong_or_unknown_format_is_reported_not_raised(tmp_path: Path) -> None:
    p = tmp_path / "photo.jpg"
    p.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 50)
    r = scan_file(str(p), M)
    assert r.error and "recognised" in r.error and r.read == 0
    q = tmp_path / "squid.log"
    q.write_text("1677664800.000 0 10.1.1.1 TCP_DENIED/403 3417 CONNECT www.tiktok.com:443 - HIER_NONE/- -\n" * 3)
    forced = check(scan_file(str(q), M, fmt="bind9"))  # the person forced the wrong format: every line rejected
    assert (forced.read, forced.rejected) == (3, 3)
    assert scan_file(str(tmp_path / "missing.log"), M).error is not None
    unknown = scan_file(str(q), M, fmt="no-such-format")
    assert unknown.error and "unknown network" in unknown.error


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.log"
    p.write_bytes(b"")
    r = check(scan_file(str(p), M))
    assert r.read == 0 and r.error is None


def test_two_processes_give_the_same_answer_as_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [HEAD]
    for i in range(20000):
        q = ("WWW.TikTok.com", "nottiktok.com", "example.org", "api.tiktokv.com.", "bad\tline")[i % 5]
        lines.append(zeek_line(i, f"10.1.{i % 7}.1", q) if "\t" not in q else "garbage line\n")
    p = tmp_path / "dns.log"
    p.write_text("".join(lines))
    monkeypatch.setattr(scanmod, "SPLIT_MIN", 1)
    one, two = check(scan_file(str(p), M, jobs=1)), check(scan_file(str(p), M, jobs=2))
    assert (one.read, one.matched, one.unmatched, one.rejected) == (two.read, two.matched, two.unmatched, two.rejected)
    assert one.aggregate.sightings() == two.aggregate.sightings()
    assert [x.place for x in one.rejections] == [x.place for x in two.rejections]
    three = check(scan_file(str(p), M, jobs=3))
    assert three.aggregate.sightings() == one.aggregate.sightings()


def test_a_failing_scanning_process_fails_the_scan_and_leaves_no_process(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from interdit.network import split as splitmod

    p = tmp_path / "dns.log"
    p.write_text(HEAD + "".join(zeek_line(i, "10.1.1.1", "www.tiktok.com") for i in range(2000)))
    monkeypatch.setattr(scanmod, "SPLIT_MIN", 1)
    calls = []
    worker = splitmod._worker

    def failing(args: tuple) -> object:  # the second range fails in its own process
        if args[1] > 0:
            raise LookupError("this range cannot be read")
        calls.append(args)
        return worker(args)

    def children() -> set[str]:  # this process's children, running or not yet waited for (Linux's /proc)
        found = set()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    if int(fh.read().rsplit(")", 1)[1].split()[1]) == os.getpid():
                        found.add(pid)
            except (OSError, IndexError, ValueError):
                continue
        return found

    before = children()
    monkeypatch.setattr(splitmod, "_worker", failing)
    with pytest.raises(LookupError, match="this range cannot be read"):
        scan_file(str(p), M, jobs=2)
    assert children() <= before  # every scanning process ended and was waited for
    assert not calls  # the first range was read in its own process, not in this one
    monkeypatch.setattr(splitmod, "_worker", worker)
    assert check(scan_file(str(p), M, jobs=2)).matched == 2000


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.binary(max_size=120), st.sampled_from([
    zeek_line(1, "10.1.1.1", "www.tiktok.com").rstrip("\n").encode(),
    zeek_line(2, "10.1.1.2", "NOTtiktok.com").rstrip("\n").encode(), b"#fields\tts", b""])), max_size=40),
    st.integers(1, 3))
def test_any_bytes_never_crash_and_counts_add_up(tmp_path: Path, chunks: list[bytes], jobs: int) -> None:
    p = tmp_path / "fuzz.log"
    p.write_bytes(HEAD.encode() + b"\n".join(chunks))
    r = scan_file(str(p), M, fmt="zeek-dns", jobs=jobs)
    assert r.read == r.matched + r.unmatched + r.rejected


def test_stdin(tmp_path: Path) -> None:
    body = HEAD + zeek_line(1, "10.1.1.1", "www.tiktok.com")
    code = ("import sys; from interdit.network.scan import scan_file; from interdit.network.match import DomainMatcher;"
            "r = scan_file('-', DomainMatcher({'tiktok.com': 't'})); print(r.format, r.read, r.matched)")
    proc = subprocess.run([sys.executable, "-c", code], input=gzip.compress(body.encode()), capture_output=True,
                          check=True, timeout=60)
    assert proc.stdout.decode().split() == ["zeek-dns", "4", "1"]


def test_follow_reads_lines_appended_later(tmp_path: Path) -> None:
    p = tmp_path / "dnsmasq.log"
    p.write_text("Mar  1 10:00:00 dnsmasq[1]: query[A] example.org from 10.1.1.1\n")
    seen: list[Match] = []
    stop = threading.Event()

    def writer() -> None:
        time.sleep(0.3)
        with p.open("a") as fh:
            fh.write("Mar  1 10:00:01 dnsmasq[1]: query[A] www.tiktok.com from 10.1.1.9\n")
            fh.flush()
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()

    t = threading.Thread(target=writer)
    t.start()
    r = scan_file(str(p), M, follow=lambda: not stop.is_set(), on_match=seen.append)
    t.join()
    assert [(m.client, m.name, m.family) for m in seen] == [("10.1.1.9", "www.tiktok.com", "tiktok")]
    assert r.read == 2


def test_parquet_conversion_and_duckdb_scan_agree_with_the_streaming_scan(tmp_path: Path) -> None:
    from interdit import pipeline
    from interdit.network.columnar import scan_parquet, to_parquet

    p = tmp_path / "dns.log"
    p.write_text(HEAD + "".join(zeek_line(i, f"10.1.1.{i % 3}", q) for i, q in enumerate(
        ["WWW.TikTok.com", "nottiktok.com", "api.tiktokv.com.", "chat.deepseek.com", "tiktok.com.evil.example",
         "tiktokv.com", "example.org"] * 5)) + "broken\n")
    out = tmp_path / "requests.parquet"
    counts = to_parquet([str(p)], out)
    assert (counts["read"], counts["written"], counts["rejected"]) == (39, 35, 1)
    stream = [s for s in scan_file(str(p), M).aggregate.sightings() if not s.weak]
    assert scan_parquet(out, M.table) == stream
    r = pipeline.scan_logs([out], families_domains=M.table)
    assert r.files[0].format == "parquet" and (r.read, r.matched) == (35, 20)


def test_the_scanner_names_no_format() -> None:
    """What a format can do it declares; the scanner's modules never switch on a format's name."""
    from interdit.network.base import readers

    package = Path(scanmod.__file__).parent
    for module in ("scan", "opening", "detect", "handling", "fastpath", "split"):
        source = (package / f"{module}.py").read_text("utf-8")
        named = [n for n in readers.names() if f'"{n}"' in source or f"'{n}'" in source]
        assert named == [], f"{module}.py names {named}"


def test_a_binary_format_is_detected_from_its_first_bytes(tmp_path: Path) -> None:
    import sqlite3

    from interdit.network.detect import detect, detect_format

    db = tmp_path / "pihole-FTL.db"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE queries (id INTEGER PRIMARY KEY, timestamp INTEGER, type INTEGER, status INTEGER,"
                " domain TEXT, client TEXT)")
    con.execute("INSERT INTO queries VALUES (1, 1700000000, 1, 2, 'www.tiktok.com', '10.0.0.7')")
    con.commit()
    con.close()
    first = db.read_bytes()
    assert detect_format(first) == "pihole-ftl"
    assert detect(first.split(b"\n")[:200]) != "pihole-ftl"  # no line says so: only the head does
    r = scan_file(str(db), DomainMatcher({"tiktok.com": "tiktok"}))
    assert (r.format, r.read, r.matched) == ("pihole-ftl", 1, 1)


class _Pipe:
    """A stream that cannot seek, as standard input from a pipe: blocks carry their cut line over."""

    def __init__(self, data: bytes) -> None:
        import io

        self._f = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._f.read(n)

    def seekable(self) -> bool:
        return False


@given(lines=st.lists(st.sampled_from([b"", b"a", b"bb\tcc", b"x" * 300, b"y" * 5000]), max_size=40),
       newline_at_end=st.booleans(), block=st.integers(16, 2048), probe=st.integers(1, 2048),
       max_line=st.sampled_from([100, 1000, 65_536]))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_plain_file_gives_the_lines_a_pipe_gives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   lines: list[bytes], newline_at_end: bool, block: int,
                                                   probe: int, max_line: int) -> None:
    """Reading a plain file up to line ends found beforehand gives the same lines, over-long ones included,
    as carrying the cut line from block to block."""
    from interdit.network import opening

    monkeypatch.setattr(opening, "BLOCK", block)
    monkeypatch.setattr(opening, "PROBE", probe)
    monkeypatch.setattr(opening, "MAX_LINE", max_line)
    data = b"\n".join(lines) + (b"\n" if newline_at_end and lines else b"")
    path = tmp_path / "log"
    path.write_bytes(data)

    def lines_of(blocks: object) -> list[object]:
        return [x for blob in blocks for x in  # type: ignore[attr-defined]
                ([blob] if isinstance(blob, opening.TooLong) else opening.split_block(blob))]

    piped = lines_of(opening.iter_blocks(_Pipe(data)))  # type: ignore[arg-type]
    with open(path, "rb") as fh:
        first = opening.read_block(fh, block)
        plain = lines_of(opening.iter_blocks(fh, first=first))
    assert plain == piped
