"""The Zeek TSV fast paths give exactly the full path's answer: counts (read, matched, unmatched, rejected,
weak), rejections with their line numbers, and sightings, on hostile logs: listed names in any case, with a
trailing dot, look-alikes, international and Windows-form names, Zeek escapes, answers (weak evidence),
malformed and binary lines, comment and header lines, a truncated last line; one process and split.

`auto` is the native prefilter (`hyperscan`), `python` the bytes-level check, `full` every line read.
"""

from __future__ import annotations

import gzip
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interdit.network import fastpath, opening
from interdit.network import match as matchmod
from interdit.network import prefilter as prefiltermod
from interdit.network import scan as scanmod
from interdit.network import sieve as sievemod
from interdit.network.match import DomainMatcher
from interdit.network.scan import FileScan, scan_file

LIST = {"tiktok.com": "tiktok", "tiktokv.com": "tiktok", "deepseek.com": "deepseek", "kaspersky.co.uk": "kaspersky"}
FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto trans_id rtt query qclass qclass_name qtype "  # noqa: SIM905
          "qtype_name rcode rcode_name AA TC RD RA Z answers TTLs rejected").split()
HEAD = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#fields\t" + \
    "\t".join(FIELDS) + "\n#types\t" + "\t".join(["string"] * len(FIELDS)) + "\n"
SHARED = Path(os.environ.get("INTERDIT_SHARED", Path(__file__).resolve().parents[3] / "shared"))
NETLOGS = SHARED / "data" / "netlogs" / "zeek"
native = pytest.mark.skipif(not prefiltermod.available(), reason="hyperscan is not installed (Linux x86_64 only)")
# the two ways of finding a block's lines to read: the compiled prefilter (short lists) and the sieve (long ones)
ENGINES = [pytest.param(0, marks=pytest.mark.skipif(not sievemod.available(), reason="numpy is not installed"),
                        id="sieve"),
           pytest.param(10**9, marks=native, id="compiled")]

NAMES = [
    "tiktok.com", "www.tiktok.com", "WWW.TikTok.COM.", "a.b.c.tiktokv.com", "api.deepseek.com.", "x.kaspersky.co.uk",
    "nottiktok.com", "tiktok.com.evil.example", "mytiktokv.com", "www.tiktok.co", "tiktok-com.example", "co.uk",
    "www.google.com", "qq.com", "-", "(empty)", ".", "", "localhost", "tiktok.com..", "a..tiktok.com", ".tiktok.com",
    "tiktök.com", "ｔｉｋｔｏｋ.com", "\\x74iktok.com", "www.\\xe4.tiktok.com", "(3)www(6)tiktok(3)com(0)",
    "(6)google(3)com(0)", "(bad", "(", "(e",
    "(empty", "(empty))", "(empty)x", " tiktok.com", "tiktok.com ", "tik tok.com", "TIKTOK.COM\r",
    "a" * 64 + ".tiktok.com", "a" * 64 + ".example.com", ("b" * 60 + ".") * 4 + "tiktok.com",
    ("c" * 60 + ".") * 5 + "com", "a..example.com", "example.com..", ".example.com",
    "xn--tiktk-mua.com", "tiktok.com,evil", "*.tiktok.com", "a(b).tiktok.com",
]
ANSWERS = ["-", "(empty)", "192.0.2.1", "cdn.tiktokcdn.com.edgesuite.net,23.1.2.3", "v16.tiktokv.com,1.2.3.4",
           "1.2.3.4,TikTok.com.", "(3)www(6)tiktok(3)com(0)", " deepseek.com", "x.ｔｉｋｔｏｋ.com", "a..tiktok.com",
           "(empty),tiktok.com", "notdeepseek.com"]
CLIENTS = ["10.1.1.1", "10.1.1.2", "fe80::1%eth0", "not-an-address", "02:42:ac:11:00:02"]
STAMPS = ["1677664800.000000", "1677751200.5", "abc", "-1"]
ODD = ["", "#close\t2023-03-04-00-00-00", "# a comment", "\x00\x01\x02 binary", "tab\tonly", "\xff\xfe not utf-8",
       "\t" * 23, "\t" * 24, "#fields\tts\tid.orig_h\tquery", "#fields\t" + "\t".join(FIELDS)]


def _line(draw: Any) -> str:
    kind = draw(st.sampled_from(["data"] * 8 + ["odd", "columns"]))
    if kind == "odd":
        return str(draw(st.sampled_from(ODD)))
    cols = [draw(st.sampled_from(STAMPS)), "Cx1", draw(st.sampled_from(CLIENTS)), "5353", "10.0.0.53", "53", "udp",
            "1", "0.001", draw(st.sampled_from(NAMES)), "1", "C_INTERNET", "1", "A", "0", "NOERROR", "F", "F", "T",
            "T", "0", draw(st.sampled_from(ANSWERS)), "300.000000", "F"]
    if kind == "columns":
        cols = cols[:draw(st.integers(0, 23))] if draw(st.booleans()) else [*cols, "extra"]
    return "\t".join(cols)


@st.composite
def zeek_logs(draw: Any) -> bytes:
    lines = [_line(draw) for _ in range(draw(st.integers(0, 60)))]
    text = (HEAD if draw(st.booleans()) or not lines else "") + "\n".join(lines)
    if lines and draw(st.booleans()):
        text += "\n"  # else the last line is truncated
    return text.encode("utf-8", "surrogateescape")


def _facts(r: FileScan) -> dict[str, Any]:
    assert r.read == r.matched + r.unmatched + r.rejected
    return {"format": r.format, "error": r.error, "read": r.read, "matched": r.matched, "unmatched": r.unmatched,
            "rejected": r.rejected, "weak": r.weak, "rejections": r.rejections, "sightings": r.aggregate.sightings()}


def _all_agree(path: Path, matcher: DomainMatcher, jobs: int = 1, fmt: str | None = "zeek-dns") -> dict[str, Any]:
    full = _facts(scan_file(str(path), matcher, fmt=fmt, jobs=jobs, method="full"))
    assert _facts(scan_file(str(path), matcher, fmt=fmt, jobs=jobs, method="python")) == full
    assert _facts(scan_file(str(path), matcher, fmt=fmt, jobs=jobs, method="auto")) == full
    return full


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Small blocks (so most blocks are data lines only) and a count of the blocks the native path took whole."""
    seen: Counter[str] = Counter()
    real = fastpath._flagged

    def flagged(pre: Any, tab: Any, block: bytes) -> tuple[list[int], int] | None:
        found = real(pre, tab, block)
        seen["native blocks"] += found is not None
        seen[type(pre).__name__] += found is not None
        return found

    monkeypatch.setattr(fastpath, "_flagged", flagged)
    monkeypatch.setattr(scanmod, "SPLIT_MIN", 1)
    return seen



@pytest.mark.parametrize("sieve_from", ENGINES)
@given(log=zeek_logs(), block=st.integers(64, 4096), jobs=st.sampled_from([1, 1, 2]))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_fast_paths_agree_with_the_full_path(tmp_path: Path, counted: Counter[str], monkeypatch: pytest.MonkeyPatch,
                                             sieve_from: int, log: bytes, block: int, jobs: int) -> None:
    monkeypatch.setattr(opening, "BLOCK", block)
    monkeypatch.setattr(matchmod, "SIEVE_FROM", sieve_from)
    p = tmp_path / "dns.log"
    p.write_bytes(log)
    _all_agree(p, DomainMatcher(LIST), jobs=jobs)


@pytest.mark.parametrize("sieve_from", ENGINES)
def test_the_native_path_takes_clean_blocks_and_reads_only_flagged_lines(tmp_path: Path, counted: Counter[str],
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         sieve_from: int) -> None:
    monkeypatch.setattr(opening, "BLOCK", 2048)
    monkeypatch.setattr(matchmod, "SIEVE_FROM", sieve_from)
    rows = []
    for i in range(400):
        q = ("WWW.TikTok.COM." if i % 7 == 0 else "nottiktok.com" if i % 5 == 0 else "tiktok.com.evil.example"
             if i % 11 == 0 else "www.google.com")
        rows.append(f"{1677664800 + i}.000000\tC{i}\t10.1.1.{i % 9 + 1}\t5353\t10.0.0.53\t53\tudp\t1\t0.001\t{q}\t1\t"
                    f"C_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t{'a.tiktokv.com' if i % 13 == 0 else '-'}\t-\tF")
    rows[200] = rows[200].replace("\tudp\t", "\tudp\t\t")  # one malformed line in the middle
    p = tmp_path / "dns.log"
    p.write_text(HEAD + "\n".join(rows) + "\n#close\t2023-03-04-00-00-00\n")
    r = _all_agree(p, DomainMatcher(LIST))
    assert counted["native blocks"] > 10 and counted["Sieve" if sieve_from == 0 else "Prefilter"] > 10
    assert r["rejected"] == 1 and r["rejections"][0].place.endswith(f":{HEAD.count(chr(10)) + 201}")
    strong = sum(1 for i in range(400) if i % 7 == 0 and i != 200)
    weak = sum(1 for i in range(400) if i % 13 == 0 and i % 7 != 0 and i != 200)
    assert (r["matched"], r["weak"]) == (strong + weak, weak)
    assert r["read"] == HEAD.count("\n") + 401


@pytest.mark.parametrize("sieve_from", ENGINES)
def test_a_data_line_with_a_bad_name_is_rejected_by_every_path(tmp_path: Path, counted: Counter[str],
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               sieve_from: int) -> None:
    """Names the reader refuses (empty label, leading dot, label over 63) are rejections, never 'unmatched'."""
    monkeypatch.setattr(opening, "BLOCK", 256)
    monkeypatch.setattr(matchmod, "SIEVE_FROM", sieve_from)
    row = "1677664800.000000\tC1\t10.1.1.1\t5353\t10.0.0.53\t53\tudp\t1\t0.001\t{}\t1\tC_INTERNET\t1\tA\t0\tNOERROR\t" \
          "F\tF\tT\tT\t0\t-\t-\tF"
    names = ["www.google.com"] * 6 + ["a..example.com", ".example.com", "x" * 64 + ".example.com", "(bad"]
    p = tmp_path / "dns.log"
    p.write_text(HEAD + "\n".join(row.format(n) for n in names) + "\n")
    r = _all_agree(p, DomainMatcher(LIST))
    assert r["rejected"] == 4 and r["unmatched"] == HEAD.count("\n") + 6


@pytest.mark.parametrize("sieve_from", ENGINES)
def test_an_unclean_block_falls_back_and_still_agrees(tmp_path: Path, counted: Counter[str],
                                                      monkeypatch: pytest.MonkeyPatch, sieve_from: int) -> None:
    """CRLF line ends, a NUL byte and a second #fields header with other columns: each block that has one is
    read line by line."""
    monkeypatch.setattr(opening, "BLOCK", 512)
    monkeypatch.setattr(matchmod, "SIEVE_FROM", sieve_from)
    row = "1677664800.000000\tC1\t10.1.1.1\t5353\t10.0.0.53\t53\tudp\t1\t0.001\t{}\t1\tC_INTERNET\t1\tA\t0\tNOERROR\t" \
          "F\tF\tT\tT\t0\t{}\t-\tF"
    body = [row.format("www.google.com", "-")] * 30 + [row.format("tiktok.com", "-") + "\r"] + \
        [row.format("www.google.com", "-").replace("C1", "C\x001")] + \
        ["#fields\tts\tid.orig_h\tquery\tanswers", "1677664801.0\t10.2.2.2\tDeepSeek.com\t-",
         "1677664801.0\t10.2.2.2\texample.org\tx.tiktok.com"] + ["1677664802.0\t10.2.2.3\twww.google.com\t-"] * 40
    p = tmp_path / "dns.log"
    p.write_text(HEAD + "\n".join(body) + "\n")
    r = _all_agree(p, DomainMatcher(LIST))
    assert (r["matched"], r["weak"], r["rejected"]) == (3, 1, 1)


@pytest.mark.skipif(not (NETLOGS / "zeek-default_dns.log.gz").is_file(),
                    reason=f"the real Zeek sample is not present at {NETLOGS} (../shared beside the checkout)")
@pytest.mark.parametrize("sieve_from", ENGINES)
@pytest.mark.parametrize("jobs", [1, 2])
def test_real_zeek_sample_every_path_agrees(tmp_path: Path, counted: Counter[str], monkeypatch: pytest.MonkeyPatch,
                                            jobs: int, sieve_from: int) -> None:
    monkeypatch.setattr(opening, "BLOCK", 256 * 1024)
    monkeypatch.setattr(matchmod, "SIEVE_FROM", sieve_from)
    p = tmp_path / "dns.log"
    with gzip.open(NETLOGS / "zeek-default_dns.log.gz", "rb") as src, open(p, "wb") as out:
        shutil.copyfileobj(src, out)
    queries: Counter[str] = Counter()
    with open(p, "rb") as fh:
        for raw in fh:
            parts = raw.rstrip(b"\n").split(b"\t")
            if not raw.startswith(b"#") and len(parts) > 9:
                q = parts[9].decode("utf-8", "replace").lower().rstrip(".").split(".")
                if len(q) >= 2 and all(q):
                    queries[".".join(q[-2:])] += 1
    listed = {d: "sample" for d, _ in queries.most_common(12)[4:8]}  # common names, not the most common
    r = _all_agree(p, DomainMatcher(listed), jobs=jobs, fmt=None)
    assert r["format"] == "zeek-dns" and r["matched"] > 0 and r["unmatched"] > 0
    if jobs == 1:  # (workers count in their own process)
        assert counted["native blocks"] > 0


@native
def test_a_list_is_compiled_once_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    first = prefiltermod.build(LIST)
    kept = list((tmp_path / "cache" / "interdit" / "network").glob("zeek-*.hsdb"))
    assert first is not None and len(kept) == 1
    kept[0].write_bytes(b"garbage")  # a damaged cache is compiled again, never trusted
    again = prefiltermod.build(LIST)
    assert again is not None and again.lines(b"x\twww.TIKTOK.com\ty\nplain\tline\n#close") == [0, 30]
    loaded = prefiltermod.build(LIST)  # from the cache this time
    assert loaded is not None and loaded.lines(b"a\nb.deepseek.COM.\n.\n") == [2, 18]
    monkeypatch.setattr(prefiltermod, "COMPILED_FROM", len(LIST) + 1)  # shorter lists: compiled at each use
    assert prefiltermod.build(["tiktok.com"]) is not None
    assert len(list((tmp_path / "cache" / "interdit" / "network").glob("zeek-*.hsdb"))) == 1


def test_iter_lines_survives_an_over_long_line_ending_in_the_next_block(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(opening, "BLOCK", 70_000)
    p = tmp_path / "x.log"
    p.write_bytes(b"a" * 100_000 + b"\nshort")
    with open(p, "rb") as fh:
        lines = [x for batch in opening.iter_lines(fh) for x in batch]
    assert lines == [opening.TOO_LONG, b"short"]


@given(st.text(alphabet="ab-_.0Z \n*é", max_size=80) | st.from_regex(r"[a-z0-9-]{0,70}(\.[a-z0-9_-]{0,66}){0,4}"))
@settings(max_examples=100, deadline=None)
def test_valid_domain_is_the_regular_expression(name: str) -> None:
    from interdit.network.match import _DOMAIN, MAX_NAME, valid_domain

    assert valid_domain(name) == (len(name) <= MAX_NAME and _DOMAIN.fullmatch(name) is not None)


def test_a_family_of_any_name_is_counted_the_same_by_every_method(tmp_path: Path) -> None:
    """The fast path remembers each name's verdict; an empty family name or one that is a control character is
    still a family, never taken for 'not listed'."""
    rows = [f"{1677664800 + i}.0\tC{i}\t10.1.1.{i % 3}\t5353\t10.0.0.53\t53\tudp\t1\t0.1\t{q}\t1\tC_INTERNET\t1\tA\t0\t"
            f"NOERROR\tF\tF\tT\tT\t0\t-\t-\tF\n"
            for i, q in enumerate(["www.tiktok.com", "deepseek.com", "example.org", "WWW.TIKTOK.COM"] * 50)]
    p = tmp_path / "dns.log"
    p.write_text(HEAD + "".join(rows))
    for family in ("", "\x00", "tiktok"):
        r = _all_agree(p, DomainMatcher({"tiktok.com": family, "deepseek.com": "deepseek"}))
        assert (r["matched"], r["unmatched"]) == (150, 50 + HEAD.count("\n"))  # header lines are unmatched


# domains of every length the sieve reads differently: under 8 bytes (the whole domain), 8 to 15, 16 to 23, 24 to
# 31 and 32 or more bytes (the last 8, 16, 24 or 32)
LENGTHS = {"x.io": "a", "qq.com": "b", "m.co.uk": "c", "tiktok.com": "d", "a-b.example-domain.net": "e",
           "login.prohibited-app-cdn.net": "f", "www.an-unusually-long-service-domain.example.com": "g",
           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.org": "h"}


@st.composite
def _sieve_name(draw: Any) -> str:
    d = draw(st.sampled_from(sorted(LENGTHS)))
    form = draw(st.sampled_from(["same", "under", "glued", "one off", "beyond", "cut"]))
    if form == "under":
        d = draw(st.sampled_from(["www", "a.b", "x" * 40])) + "." + d
    elif form == "glued":
        d = "not" + d  # a longer label: not under the domain
    elif form == "one off":
        i = draw(st.integers(0, len(d) - 1))
        d = d[:i] + ("q" if d[i] != "q" else "z") + d[i + 1:]
    elif form == "beyond":
        d = d + ".evil.example"
    elif form == "cut":
        d = d[draw(st.integers(1, len(d) - 1)):]
    if draw(st.booleans()):
        d = "".join(c.upper() if draw(st.booleans()) else c for c in d)
    return d + ("." if draw(st.booleans()) else "")


@pytest.mark.skipif(not sievemod.available(), reason="numpy is not installed")
@given(names=st.lists(st.tuples(_sieve_name(), _sieve_name(), st.sampled_from(["{}", "1.2.3.4,{}", "{},1.2.3.4"])),
                      min_size=1, max_size=80),
       block=st.integers(32, 2048), jobs=st.sampled_from([1, 1, 2]))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_sieve_finds_names_under_listed_domains_of_every_length(tmp_path: Path, counted: Counter[str],
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    names: list[tuple[str, str, str]], block: int,
                                                                    jobs: int) -> None:
    monkeypatch.setattr(opening, "BLOCK", block)
    monkeypatch.setattr(matchmod, "SIEVE_FROM", 0)
    rows = [f"1677664800.0\tC{i}\t10.1.1.{i % 5}\t5353\t10.0.0.53\t53\tudp\t1\t0.1\t{q}\t1\tC_INTERNET\t1\tA\t0\t"
            f"NOERROR\tF\tF\tT\tT\t0\t{answers.format(a)}\t-\tF" for i, (q, a, answers) in enumerate(names)]
    p = tmp_path / "dns.log"
    p.write_text(HEAD + "\n".join(rows) + "\n")
    r = _all_agree(p, DomainMatcher(LENGTHS), jobs=jobs)
    assert r["read"] == HEAD.count("\n") + len(names)
    assert jobs == 2 or counted["Sieve"] > 0  # (workers count in their own process)
