"""Every log reader over the real samples in ../shared/data/netlogs (skipped when absent) and small synthetic
files written here: detection from the content, the requests found, their clients and times."""

from __future__ import annotations

import contextlib
import gzip
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interdit.network.base import FileContext, LineError, readers
from interdit.network.match import DomainMatcher
from interdit.network.scan import FileScan, scan_file

NETLOGS = Path(os.environ.get("INTERDIT_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "data" / "netlogs"
real = pytest.mark.skipif(not NETLOGS.is_dir(), reason=f"real log samples not present at {NETLOGS} "
                                                       "(../shared beside the checkout)")
TIKTOK = DomainMatcher({"tiktok.com": "tiktok", "tiktokv.com": "tiktok", "tiktokcdn.com": "tiktok",
                        "musical.ly": "tiktok", "byteoversea.com": "tiktok", "ibytedtos.com": "tiktok"})


def scan(path: Path, matcher: DomainMatcher = TIKTOK, **kw: object) -> FileScan:
    r = scan_file(str(path), matcher, **kw)  # type: ignore[arg-type]
    assert r.counts_ok(), (r.read, r.matched, r.unmatched, r.rejected)
    return r


def only(r: FileScan) -> list[tuple[str, str, int, str]]:
    return sorted((s.family, s.client, s.count, s.first.isoformat()) for s in r.aggregate.sightings())


# -- real samples -----------------------------------------------------------------------------------

REAL = [
    ("zeek/zeek-default_dns.log.gz", "zeek-dns"),
    ("zeek/zeek-default_ssl.log.gz", "zeek-ssl"),
    ("zeek/zeek-json_dns.json.gz", "zeek-dns-json"),
    ("generated/bind9_querylog.log", "bind9"),
    ("generated/bind9_rpz.log", "bind9"),
    ("bind9/logstash-patterns-core_bind_spec.excerpt.log", "bind9"),
    ("generated/dnsmasq_log-queries.log", "dnsmasq"),
    ("generated/dnsmasq_log-queries-extra.log", "dnsmasq"),
    ("pihole/pihole.log.format-examples.txt", "dnsmasq"),
    ("generated/unbound_localzone_log-queries-replies.log", "unbound"),
    ("generated/unbound_rpz_log.log", "unbound"),
    ("generated/squid_access.log", "squid"),
    ("squid/elastic-beats_squid_access1.excerpt.log", "squid"),
    ("suricata/elastic-integrations_suricata_test-eve-dns-4-1-4.excerpt.json", "suricata"),
    ("coredns/elastic-integrations_coredns_test-coredns.log", "coredns"),
    ("infoblox/elastic-integrations_infoblox_nios_test-dns.log", "infoblox"),
    ("windows_dns/doc-derived_dns-debug.log", "windows-dns"),
]


@real
@pytest.mark.parametrize("rel,fmt", REAL, ids=[r[0].split("/")[-1] for r in REAL])
def test_real_sample_is_detected_and_counts_add_up(rel: str, fmt: str) -> None:
    r = scan(NETLOGS / rel)
    assert r.error is None and r.format == fmt
    assert r.read > 0


@real
def test_real_servers_logs_show_the_tiktok_queries_we_sent() -> None:
    # the enforcement run sent the same names to each server: 16-17 TikTok queries from 127.0.0.1
    for rel, expected in (("generated/bind9_querylog.log", 17), ("generated/dnsmasq_log-queries.log", 16),
                          ("generated/unbound_localzone_log-queries-replies.log", 17),
                          ("generated/unbound_rpz_log.log", 16), ("generated/bind9_rpz.log", 9)):
        r = scan(NETLOGS / rel)
        assert [(s.family, s.client) for s in r.aggregate.sightings()] == [("tiktok", "127.0.0.1")]
        assert r.matched == expected, rel
        assert r.rejected == 0
    squid = scan(NETLOGS / "generated/squid_access.log")
    assert squid.matched == 2 and squid.unmatched == 1  # CONNECT www.tiktok.com:443, GET m.tiktok.com; example.org


@real
def test_real_zeek_tsv_and_json_agree() -> None:
    m = DomainMatcher({"wrccdc.org": "a", "digicert.com": "b", "google.com": "c", "microsoft.com": "d"})
    tsv, js = scan(NETLOGS / "zeek/zeek-default_dns.log.gz", m), scan(NETLOGS / "zeek/zeek-json_dns.json.gz", m)
    assert tsv.matched == js.matched > 1000
    assert only(tsv) == only(js)
    assert tsv.rejected == 0


@real
def test_real_zeek_ssl_sni() -> None:
    r = scan(NETLOGS / "zeek/zeek-default_ssl.log.gz", DomainMatcher({"google.com": "g"}))
    assert r.matched > 100 and all(s.source_format == "zeek-ssl" for s in r.aggregate.sightings())


@real
def test_real_windows_log_decodes_wire_names_and_skips_responses() -> None:
    m = DomainMatcher({"live.com": "l", "example.com": "e", "alphasoc.com": "a", "domain.com": "d"})
    r = scan(NETLOGS / "windows_dns/doc-derived_dns-debug.log", m)
    got = only(r)
    assert ("l", "10.20.0.6", 1, "2021-12-22T21:46:04+00:00") in got  # Rcv from the client, day first
    assert ("e", "10.2.0.1", 1, "2017-04-21T07:52:03+00:00") not in got  # a response (R), not a query
    assert ("d", "10.161.60.71", 1, "2013-06-05T10:00:32+00:00") in got
    assert not [x for x in got if x[1] in ("8.8.4.4", "127.0.0.1")]  # upstream traffic is not a device's


@real
def test_real_infoblox_queries_responses_and_cef() -> None:
    r = scan(NETLOGS / "infoblox/elastic-integrations_infoblox_nios_test-dns.log",
             DomainMatcher({"foo.com": "f", "digicert.com": "d", "nxd1.com": "n"}))
    got = {(s.family, s.client) for s in r.aggregate.sightings()}
    assert ("f", "192.168.0.1") in got and ("d", "192.168.1.90") in got
    assert r.rejected == 0


@real
def test_real_suricata_queries_only() -> None:
    r = scan(NETLOGS / "suricata/elastic-integrations_suricata_test-eve-dns-4-1-4.excerpt.json",
             DomainMatcher({"google.com": "g", "yahoo.com": "y"}))
    assert only(r) == [("g", "10.0.2.15", 2, "2019-08-22T23:48:27.924120+00:00")]  # answers are not requests


# -- synthetic lines, one per format ----------------------------------------------------------------

SYNTHETIC = {
    "bind9": "01-Mar-2023 10:00:00.123 queries: info: client @0x7f1 10.1.1.1#5353 (WWW.TikTok.com): query: "
             "WWW.TikTok.com IN A +E(0)K (10.0.0.53)\n"
             "01-Mar-2023 10:00:01.000 client 10.1.1.2#5353 (nottiktok.com): query: nottiktok.com IN A + (10.0.0.53)\n",
    "dnsmasq": "Mar  1 10:00:00 dnsmasq[1]: 7 10.1.1.1/5353 query[A] www.tiktok.com from 10.1.1.1\n"
               "Mar  1 10:00:00 dnsmasq[1]: 7 10.1.1.1/5353 config www.tiktok.com is NXDOMAIN\n"
               "Mar  1 10:00:01 pihole-FTL[9]: query[AAAA] api.tiktokv.com from 10.1.1.2\n"
               "Mar  1 10:00:01 pihole-FTL[9]: gravity blocked api.tiktokv.com is 0.0.0.0\n",
    "unbound": "[1677664800] unbound[1:0] info: 10.1.1.1 www.tiktok.com. A IN\n"
               "[1677664800] unbound[1:0] info: 10.1.1.1 www.tiktok.com. A IN NXDOMAIN 0.000000 1 43\n"
               "[1677664801] unbound[1:0] info: tiktok.com. always_nxdomain 10.1.1.1@5353 www.tiktok.com. A IN\n",
    "pdns": 'msg="Question" subsystem="syncres" level="0" prio="Info" tid="2" ts="1677664800.5" proto="udp" '
            'qname="www.tiktok.com" qtype="A" remote="10.1.1.1:49312"\n'
            'msg="Answer" subsystem="syncres" ts="1677664800.6" qname="www.tiktok.com" qtype="A" rcode="3" '
            'remote="10.1.1.1:49312"\n'
            "Mar  1 10:00:02 pdns_recursor[5]: 1 [1/1] question for 'm.tiktok.com|A' from [2001:db8::7]:5300\n",
    "windows-dns": "3/1/2023 10:00:00 AM 0E1C PACKET  0000017DEDFE28D0 UDP Rcv 10.1.1.1        966f   Q "
                   "[0001   D   NOERROR] A      (3)www(6)tiktok(3)com(0)\n"
                   "3/1/2023 10:00:00 AM 0E1C PACKET  0000017DEDFE28D0 UDP Snd 10.1.1.1        966f R Q "
                   "[8081   DR  NXDOMAIN] A      (3)www(6)tiktok(3)com(0)\n",
    "suricata": '{"timestamp":"2023-03-01T10:00:00.000000+0000","event_type":"dns","src_ip":"10.1.1.1",'
                '"dns":{"version":3,"type":"request","id":1,"queries":[{"rrname":"www.tiktok.com","rrtype":"A"}]}}\n'
                '{"timestamp":"2023-03-01T10:00:01.000000+0000","event_type":"dns","src_ip":"10.1.1.1",'
                '"dns":{"type":"query","id":2,"rrname":"api.tiktokv.com","rrtype":"A"}}\n'
                '{"timestamp":"2023-03-01T10:00:02.000000+0000","event_type":"tls","src_ip":"10.1.1.1",'
                '"tls":{"sni":"www.tiktok.com","version":"TLS 1.3"}}\n',
    "coredns": '2023-03-01T10:00:00Z [INFO] 10.1.1.1:42114 - 64820 "A IN www.tiktok.com. udp 57 false 1232" '
               'NXDOMAIN qr,aa,rd 66 0.000150566s\n'
               '{"log":"[INFO] [::1]:53202 - 1 \\"AAAA IN m.tiktok.com. udp 48 false 1232\\" NOERROR qr 1 0.1s\\n",'
               '"stream":"stdout","time":"2023-03-01T10:00:01Z"}\n',
    "infoblox": "<30>Mar  1 10:00:00 ns1 named[1]: queries: client @0x7f 10.1.1.1#64727 (www.tiktok.com): query: "
                "www.tiktok.com IN A + (10.0.0.53)\n",
    "squid": "1677664800.000      0 10.1.1.1 TCP_DENIED/403 3417 CONNECT www.tiktok.com:443 - HIER_NONE/- text/html\n"
             "1677664801.000     10 10.1.1.1 TCP_MISS/200 100 GET http://m.TikTok.com/x?y=1 - HIER_DIRECT/1.2.3.4 -\n",
    "zeek-dns-json": '{"ts":1677664800.0,"uid":"C1","id.orig_h":"10.1.1.1","id.orig_p":1,"query":"www.tiktok.com",'
                     '"qtype_name":"A","rcode_name":"NXDOMAIN"}\n'
                     '{"ts":"2023-03-01T10:00:01Z","uid":"C2","id.orig_h":"10.1.1.1","id.orig_p":1,'
                     '"query":"cdn.example.net","qtype_name":"A","answers":["p16.tiktokcdn.com","192.0.2.9"]}\n',
    "zeek-ssl-json": '{"_path":"ssl","ts":1677664800.0,"uid":"C1","id.orig_h":"10.1.1.1","id.orig_p":1,'
                     '"server_name":"www.tiktok.com","established":true}\n'
                     '{"_path":"ssl","ts":1677664801.0,"uid":"C2","id.orig_h":"10.1.1.1","id.orig_p":1}\n',
}
EXPECTED = {  # (strong matches, weak matches, clients)
    "bind9": (1, 0, {"10.1.1.1"}), "dnsmasq": (2, 0, {"10.1.1.1", "10.1.1.2"}), "unbound": (1, 0, {"10.1.1.1"}),
    "pdns": (2, 0, {"10.1.1.1", "2001:db8::7"}), "windows-dns": (1, 0, {"10.1.1.1"}),
    "suricata": (3, 0, {"10.1.1.1"}), "coredns": (2, 0, {"10.1.1.1", "::1"}), "infoblox": (1, 0, {"10.1.1.1"}),
    "squid": (2, 0, {"10.1.1.1"}), "zeek-dns-json": (1, 1, {"10.1.1.1"}), "zeek-ssl-json": (1, 0, {"10.1.1.1"}),
}


@pytest.mark.parametrize("fmt", sorted(SYNTHETIC))
def test_synthetic_lines(tmp_path: Path, fmt: str) -> None:
    p = tmp_path / f"{fmt}.log"
    p.write_text(SYNTHETIC[fmt])
    written = datetime(2023, 3, 2, tzinfo=UTC).timestamp()  # syslog times have no year: the file's gives it
    os.utime(p, (written, written))
    r = scan(p)
    assert r.format == fmt, "detected from the content"
    strong, weak, clients = EXPECTED[fmt]
    assert (r.matched - r.weak, r.weak) == (strong, weak)
    assert {s.client for s in r.aggregate.sightings()} == clients
    assert r.rejected == 0
    for s in r.aggregate.sightings():
        assert s.first.tzinfo is not None and s.first.year == 2023 and s.family == "tiktok"


def test_zeek_tsv_columns_come_from_the_fields_line(tmp_path: Path) -> None:
    # a site that added a column before `query`: positions must follow #fields
    p = tmp_path / "dns.log"
    p.write_text("#separator \\x09\n#path\tdns\n#fields\tts\tuid\tsite\tid.orig_h\tquery\tanswers\n"
                 "1677664800.0\tC1\thq\t10.1.1.1\tWWW.TIKTOK.COM\t-\n"
                 "1677664801.0\tC2\thq\t10.1.1.2\tnottiktok.com\t-\n"
                 "1677664802.0\tC3\thq\t10.1.1.3\tcdn.example\tx.tiktokcdn.com,1.2.3.4\n"
                 "#close\t2023\n")
    r = scan(p)
    assert r.format == "zeek-dns" and r.read == 7 and r.matched == 2 and r.weak == 1
    assert {(s.client, s.weak) for s in r.aggregate.sightings()} == {("10.1.1.1", False), ("10.1.1.3", True)}
    z = tmp_path / "dns.log.gz"
    z.write_bytes(gzip.compress(p.read_bytes()))
    assert only(scan(z)) == only(r)


def test_pihole_ftl_database(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "pihole-FTL.db"
    con = sqlite3.connect(db)
    con.executescript("""
        CREATE TABLE query_storage (id INTEGER PRIMARY KEY, timestamp INTEGER, type INTEGER, status INTEGER,
                                    domain TEXT, client TEXT);
        CREATE VIEW queries AS SELECT id, timestamp, type, status, domain, client, NULL AS forward,
                                      NULL AS additional_info FROM query_storage;
        INSERT INTO query_storage VALUES (1, 1677664800, 1, 1, 'www.tiktok.com', '10.1.1.1');
        INSERT INTO query_storage VALUES (2, 1677664801, 2, 2, 'example.org', '10.1.1.1');
        INSERT INTO query_storage VALUES (3, 1677664802, 16, 2, 'api.tiktokv.com', '10.1.1.2');
        INSERT INTO query_storage VALUES (4, 1677664803, 1, 2, NULL, '10.1.1.2');
    """)
    con.commit()
    con.close()
    r = scan(db)
    assert r.format == "pihole-ftl" and (r.read, r.matched, r.unmatched, r.rejected) == (4, 2, 1, 1)
    assert only(r)[0] == ("tiktok", "10.1.1.1", 1, datetime(2023, 3, 1, 10, tzinfo=UTC).isoformat())


def test_every_reader_has_an_example_that_it_reads(tmp_path: Path) -> None:
    for name, cls in readers.items():
        if cls.whole_file:
            continue
        p = tmp_path / f"{name}.log"
        if name in ("zeek-dns", "zeek-ssl"):
            fields = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto trans_id rtt query qclass qclass_name "
                      "qtype qtype_name rcode rcode_name AA TC RD RA Z answers TTLs rejected") if name == "zeek-dns" \
                else ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p version cipher curve server_name resumed "
                      "last_alert next_protocol established ssl_history cert_chain_fps client_cert_chain_fps "
                      "sni_matches_cert validation_status")
            p.write_text(f"#path\t{name[5:]}\n#fields\t" + fields.replace(" ", "\t") + "\n" + cls.example + "\n")
        else:
            p.write_text(cls.example + "\n")
        r = scan(p, DomainMatcher({"tiktok.com": "t", "wrccdc.org": "w"}))
        assert r.format == name and r.matched == 1 and r.rejected == 0, (name, r.rejections)


LINE_BYTES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda s: s.encode("utf-8", "surrogatepass") if s else b""),
    st.sampled_from([v.splitlines()[0].encode() for v in SYNTHETIC.values()]).flatmap(
        lambda line: st.integers(0, len(line)).map(lambda cut: line[:cut])),  # every truncation of a real line
)


@settings(max_examples=100, deadline=None)
@given(LINE_BYTES)
def test_no_reader_raises_anything_but_a_line_error(line: bytes) -> None:
    ctx = FileContext("fuzz.log", datetime(2023, 3, 2, tzinfo=UTC))
    for _name, cls in readers.items():
        if cls.whole_file:
            continue
        reader = cls(ctx)
        reader.start([line])
        try:
            event = reader.parse(line)
        except LineError:
            continue
        if event is not None:
            with contextlib.suppress(LineError):
                reader.when(event.stamp)
