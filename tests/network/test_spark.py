"""The Spark job gives exactly the streaming scanner's sightings and counts: on a generated Zeek dns.log with
listed names in any case, deep subdomains, trailing dots, look-alikes (`nottiktok.com`, `tiktok.com.evil.example`),
international and Windows-form names, answers (weak evidence), equal times, malformed lines and bad clients;
split into many file parts; on Parquet from `convert_logs`; and through the `spark-submit` command line.

Spark runs in local mode (`local[2]`, one session for the module); the expected answers are computed by the
streaming scanner (`scan_file`), never written by hand.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interdit.errors import InputError
from interdit.model import Sighting
from interdit.network.aggregate import Aggregator
from interdit.network.match import DomainMatcher, read_domain_list
from interdit.network.scan import FileScan, scan_file
from interdit.network.spark import main, scan_with_spark
from interdit.pipeline import convert_logs

LIST = {"tiktok.com": "tiktok", "tiktokv.com": "tiktok", "deepseek.com": "deepseek", "kaspersky.co.uk": "kaspersky",
        "bücher.example": "idn", "cdn.shared.example": "tiktok"}
NEVER = ("shared.example",)
FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto trans_id rtt query qclass qclass_name qtype "  # noqa: SIM905
          "qtype_name rcode rcode_name AA TC RD RA Z answers TTLs rejected").split()
HEAD = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tdns\n#fields\t" + \
    "\t".join(FIELDS) + "\n#types\t" + "\t".join(["string"] * len(FIELDS)) + "\n"
NAMES = [
    "tiktok.com", "www.tiktok.com", "WWW.TikTok.COM.", "a.b.c.d.e.f.g.tiktokv.com", "api.deepseek.com.",
    "x.kaspersky.co.uk", "nottiktok.com", "tiktok.com.evil.example", "mytiktokv.com", "www.tiktok.co", "co.uk",
    "www.google.com", "-", "(empty)", ".", "tiktok.com..", "a..tiktok.com", "tiktök.com", "www.BÜCHER.example",
    "xn--bcher-kva.example", "(3)www(6)tiktok(3)com(0)", "(bad", " tiktok.com", "TIKTOK.COM\r", "x" * 300 + ".com",
    "cdn.shared.example", "img.cdn.shared.example", "kaspersky.co.uk.", "DeepSeek.com",
]
ANSWERS = ["-", "-", "-", "v16.tiktokv.com", "www.google.com,a.tiktok.com", "(empty)", "x..y,deepseek.com",
           "cdn.example,API.DEEPSEEK.COM."]
CLIENTS = ["10.0.0.1", "10.0.0.2", "fe80::1%eth0", "2001:db8::7", "not-an-address"]


def zeek_line(ts: float, client: str, query: str, answers: str) -> str:
    return (f"{ts:.6f}\tC1\t{client}\t5353\t10.0.0.53\t53\tudp\t1\t0.001\t{query}\t1\tC_INTERNET\t1\t"
            f"A\t0\tNOERROR\tF\tF\tT\tT\t0\t{answers}\t-\tF\n")


def make_log(path: Path, seed: int, lines: int = 1000) -> Path:
    rnd = random.Random(seed)
    body = [HEAD]
    t = 1677664800.0 + seed * 50_000
    for i in range(lines):
        t += rnd.choice((0.0, 0.0, 0.000001, 1.5, 37.25, 3600.0))  # equal times, and days that change
        body.append(zeek_line(t, rnd.choice(CLIENTS[:4] if i % 50 else CLIENTS), rnd.choice(NAMES),
                              rnd.choice(ANSWERS)))
        if i % 301 == 7:
            body.append(rnd.choice(("garbage without tabs\n", "\n", "1677664800\t10.0.0.1\n", "#close\tx\n",
                                    "bad-time\tC1\t10.0.0.1\t5\t10.0.0.53\t53\tudp\t1\t0\ttiktok.com"
                                    + "\t-" * 14 + "\n")))
    path.write_text("".join(body), encoding="utf-8")
    return path


def streaming(paths: list[Path], matcher: DomainMatcher) -> tuple[list[Sighting], dict[str, int]]:
    agg = Aggregator()
    counts = dict.fromkeys(("read", "matched", "unmatched", "rejected"), 0)
    for p in paths:
        r: FileScan = scan_file(str(p), matcher, method="full")
        assert r.error is None
        agg.merge(r.aggregate)
        for k in counts:
            counts[k] += getattr(r, k)
    return agg.sightings(), counts


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    session = (SparkSession.builder.master("local[2]").appName("interdit-test")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false").config("spark.sql.shuffle.partitions", "2")
               .config("spark.default.parallelism", "2").config("spark.driver.memory", "1g")
               .config("spark.sql.files.maxPartitionBytes", "65536")  # many parts of one file
               .config("spark.sql.files.openCostInBytes", "4096").getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    d = tmp_path_factory.mktemp("zeek")
    paths = [make_log(d / f"dns.{i}.log", seed=i) for i in range(3)]
    gz = d / "dns.2.log.gz"  # compressed logs are read as they are, by both
    gz.write_bytes(gzip.compress(paths[2].read_bytes()))
    paths[2].unlink()
    return [*paths[:2], gz]


def test_zeek_same_sightings_and_counts_as_the_streaming_scanner(spark: Any, logs: list[Path]) -> None:
    matcher = DomainMatcher(LIST, never=NEVER)
    expected, counts = streaming(logs, matcher)
    assert len(expected) > 30 and any(s.weak for s in expected) and counts["rejected"] > 0  # the data has it all
    assert {s.family for s in expected} == {"tiktok", "deepseek", "kaspersky", "idn"}
    stats: dict[str, Any] = {}
    got = scan_with_spark(spark, [str(p) for p in logs], LIST, never=NEVER, stats=stats)
    assert got == expected
    assert {k: stats[k] for k in counts} == counts
    assert len(stats["rejections"]) > 0 and all(":" in r for r in stats["rejections"])
    # whole labels only: no look-alike, and the shared CDN is never matched whole
    strong = {s.example_name for s in got if not s.weak}
    assert not strong & {"nottiktok.com", "tiktok.com.evil.example", "mytiktokv.com", "cdn.shared.example"}


def test_rejections_name_file_and_line(spark: Any, tmp_path: Path) -> None:
    p = tmp_path / "dns.log"
    p.write_text(HEAD + zeek_line(1677664800.0, "10.0.0.1", "tiktok.com", "-") + "garbage\n"
                 + zeek_line(1677664801.0, "nobody", "www.tiktok.com", "-")
                 + zeek_line(1677664802.0, "10.0.0.1", "a..b.com", "-"), encoding="utf-8")
    stats: dict[str, Any] = {}
    got = scan_with_spark(spark, str(p), LIST, stats=stats)
    assert [(s.client, s.count) for s in got] == [("10.0.0.1", 1)]
    assert (stats["read"], stats["matched"], stats["rejected"], stats["unmatched"]) == (11, 1, 3, 7)
    r = scan_file(str(p), DomainMatcher(LIST), method="full")
    assert (r.read, r.matched, r.rejected, r.unmatched) == (11, 1, 3, 7)
    assert stats["rejections"] == [f"{x.place}: {x.reason}" for x in r.rejections]


def test_parquet_from_convert_logs(spark: Any, logs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "requests.parquet"
    counts = convert_logs([str(p) for p in logs], out)
    assert counts["written"] > 0
    matcher = DomainMatcher(LIST, never=NEVER)
    expected, _ = streaming(logs, matcher)
    stats: dict[str, Any] = {}
    got = scan_with_spark(spark, str(out), LIST, never=NEVER, stats=stats)
    # the converted rows keep only the requests whose time and client could be read: the same sightings
    assert got == expected
    assert stats["read"] == counts["written"] and stats["rejected"] == 0


def test_command_line(spark: Any, logs: list[Path], tmp_path: Path) -> None:
    domains = tmp_path / "domains.txt"
    domains.write_text("# the list\n" + "".join(f"{d} {f}\n" for d, f in LIST.items()), encoding="utf-8")
    listed = read_domain_list(domains)
    assert listed["xn--bcher-kva.example"] == "idn" and listed["tiktok.com"] == "tiktok"
    out = tmp_path / "out.jsonl"
    assert main(["--domains", str(domains), "--out", str(out), "--never", NEVER[0], str(logs[0])]) == 0
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    expected, _ = streaming(logs[:1], DomainMatcher(read_domain_list(domains), never=NEVER))
    assert [(r["family"], r["day"], r["client"], r["count"], r["example_name"], r["weak"]) for r in rows] == \
        [(s.family, s.day.isoformat(), s.client, s.count, s.example_name, s.weak) for s in expected]


def test_a_header_that_changes_inside_a_file_is_refused(spark: Any, tmp_path: Path) -> None:
    p = tmp_path / "dns.log"
    p.write_text(HEAD + zeek_line(1677664800.0, "10.0.0.1", "tiktok.com", "-")
                 + "#fields\tts\tid.orig_h\tquery\n1677664801.0\t10.0.0.1\ttiktok.com\n", encoding="utf-8")
    with pytest.raises(InputError, match="#fields header changes"):
        scan_with_spark(spark, str(p), LIST)
    with pytest.raises(InputError, match="not a Zeek TSV"):
        scan_with_spark(spark, str(p), LIST, fmt="bind9")


def test_the_package_imports_without_pyspark() -> None:
    code = "import sys; sys.modules['pyspark'] = None; import interdit.network.spark as m; print(m.KEEP)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
