"""`pipeline.scan_logs` and `pipeline.sightings` with a real database: storage is idempotent per input,
a grown log replaces its earlier counts, leases attribute addresses to devices; and the `interdit logs` commands."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from interdit import pipeline
from interdit.storage.repo import Repository

FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto trans_id rtt query qclass qclass_name qtype "  # noqa: SIM905
          "qtype_name rcode rcode_name AA TC RD RA Z answers TTLs rejected").split()
HEAD = "#separator \\x09\n#path\tdns\n#open\t2023-03-01-10-00-00\n#fields\t" + "\t".join(FIELDS) + "\n"
DOMAINS = {"tiktok.com": "tiktok", "tiktokv.com": "tiktok", "deepseek.com": "deepseek"}
LEASES = """lease 10.1.1.1 {
  starts 3 2023/03/01 00:00:00;
  ends 3 2023/03/02 00:00:00;
  hardware ethernet aa:bb:cc:dd:ee:01;
}
"""


def line(i: int, client: str, query: str) -> str:
    return (f"{1677664800 + i * 60}.000000\tC{i}\t{client}\t5353\t10.0.0.53\t53\tudp\t1\t0.001\t{query}\t1\tC_INTERNET"
            f"\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t-\t-\tF\n")


@pytest.fixture
def repo(db_url: str) -> Repository:
    """SQLite, then a real PostgreSQL server (tests/conftest.py): the 0003 migration runs on both."""
    return pipeline.open_repository(db_url)


def test_scan_store_twice_and_grow(tmp_path: Path, repo: Repository) -> None:
    log = tmp_path / "dns.log"
    log.write_text(HEAD + line(1, "10.1.1.1", "www.tiktok.com") + line(2, "10.1.1.1", "api.tiktokv.com")
                   + line(3, "10.1.1.2", "chat.deepseek.com") + line(4, "10.1.1.2", "nottiktok.com"))
    leases = tmp_path / "dhcpd.leases"
    leases.write_text(LEASES)
    r = pipeline.scan_logs([log], families_domains=DOMAINS, repo=repo, leases=[leases])
    assert (r.read, r.matched, r.unmatched, r.rejected) == (8, 3, 5, 0) and r.stored
    first = pipeline.sightings(repo)
    assert [(s.family, s.device_source, s.device_id, s.client, s.count) for s in first] == [
        ("deepseek", None, None, "10.1.1.2", 1), ("tiktok", "dhcp", "aa:bb:cc:dd:ee:01", "10.1.1.1", 2)]
    again = pipeline.scan_logs([log], families_domains=DOMAINS, repo=repo, leases=[leases])
    assert again.files[0].replaced
    assert pipeline.sightings(repo) == first  # scanning the same log twice does not double the counts
    with log.open("a") as fh:  # the log grows: a re-scan counts the whole file once
        fh.write(line(5, "10.1.1.1", "m.tiktok.com"))
    pipeline.scan_logs([log], families_domains=DOMAINS, repo=repo, leases=[leases])
    assert [s.count for s in pipeline.sightings(repo, family="tiktok")] == [3]
    other = tmp_path / "dns2.log"  # another log adds to the same device's day
    other.write_text(HEAD.replace("10-00-00", "11-00-00") + line(9, "10.1.1.1", "tiktok.com"))
    pipeline.scan_logs([other], families_domains=DOMAINS, repo=repo, leases=[leases])
    assert [s.count for s in pipeline.sightings(repo, family="tiktok")] == [4]
    assert pipeline.sightings(repo, since=date(2023, 3, 2)) == []


def test_unreadable_files_and_bad_lease_lines_are_reported(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 10)
    leases = tmp_path / "dnsmasq.leases"
    leases.write_text("garbage line\n")
    r = pipeline.scan_logs([junk], families_domains=DOMAINS, leases=[leases])
    assert r.failed_files and r.read == 0 and len(r.lease_rejections) == 1


def test_domain_list_file(tmp_path: Path) -> None:
    f = tmp_path / "domains.txt"
    f.write_text("# banned\ntiktok.com tiktok\nDeepSeek.com.\tdeepseek\nwechat.com\n")
    assert pipeline.read_domain_list(f) == {"tiktok.com": "tiktok", "deepseek.com": "deepseek", "wechat.com": "listed"}
    f.write_text("tiktok.com\nnot a domain here\n")
    with pytest.raises(Exception, match=r"domains.txt:2"):
        pipeline.read_domain_list(f)


def _app() -> typer.Typer:
    from interdit.cli import main, network_cmd

    if not any(g.name == "logs" for g in main.app.registered_groups):
        network_cmd.register(main.app)
    return main.app


def test_cli_scan_json_and_exit_codes(tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    log.write_text(HEAD + line(1, "10.1.1.1", "www.tiktok.com") + "broken line\n")
    domains = tmp_path / "domains.txt"
    domains.write_text("tiktok.com tiktok\n")
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    res = runner.invoke(_app(), ["--db", db, "logs", "scan", "--domains", str(domains), "--format", "json", str(log)])
    assert res.exit_code == 3, res.output  # a rejected line
    doc = json.loads(res.stdout)
    assert (doc["read"], doc["matched"], doc["rejected"]) == (6, 1, 1)
    assert doc["rejections"][0]["place"].endswith("dns.log:6")
    assert doc["sightings"][0]["family"] == "tiktok" and doc["sightings"][0]["count"] == 1
    listed = runner.invoke(_app(), ["--db", db, "--lang", "fr", "logs", "sightings"])
    assert listed.exit_code == 0 and "adresse 10.1.1.1" in listed.stdout
    formats = runner.invoke(_app(), ["logs", "formats", "--format", "json"])
    names = {f["name"] for f in json.loads(formats.stdout)["formats"]}
    assert {"zeek-dns", "bind9", "windows-dns", "pihole-ftl", "squid"} <= names


def test_times_without_zone_follow_timezone(tmp_path: Path) -> None:
    log = tmp_path / "query.log"
    log.write_text("01-Mar-2023 10:00:00.000 queries: info: client 10.1.1.1#1 (tiktok.com): query: tiktok.com IN A +"
                   " (10.0.0.53)\n")
    r = pipeline.scan_logs([log], families_domains=DOMAINS, tz="America/Toronto")
    assert r.sightings[0].first == datetime(2023, 3, 1, 15, tzinfo=UTC)
    with pytest.raises(Exception, match="time zone"):
        pipeline.scan_logs([log], families_domains=DOMAINS, tz="Mars/Olympus")
