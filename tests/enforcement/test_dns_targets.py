"""The DNS and proxy targets: matching semantics shared with detection, options and caveats (their golden
files: test_golden.py)."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import replace
from pathlib import Path

import dns.name
import dns.zone
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from interdit.enforcement._dns import normalise as enforcement_normalise
from interdit.enforcement.base import EnforcementRequest, Payload, targets
from interdit.errors import EnforcementError
from interdit.network.match import DomainMatcher
from interdit.network.match import normalise as detection_normalise
from interdit.testing import DOMAINS
from interdit.testing import dns_request as request

DNS_TARGETS = tuple(name for name, target in targets.items() if target.kind == "dns")


def build(name: str, lang: str = "en", **options: str) -> Payload:
    return targets.get(name)().build(replace(request(**options), lang=lang))


@pytest.mark.parametrize("name", DNS_TARGETS)
def test_every_target_lists_each_minimal_domain_once_and_says_what_it_cannot_do(name: str) -> None:
    payload = build(name)
    text = "\n".join(str(c) for c in payload.files.values())
    assert "www.tiktok.com" not in text.replace("0.0.0.0 www.tiktok.com", "")  # covered by tiktok.com
    assert "bücher-tiktok.example".encode("idna").decode() in text  # punycode
    assert "tiktokv.com" in text and "TikTokV" not in text
    joined = " ".join(payload.caveats)
    if name != "squid":
        assert "DNS over HTTPS" in joined and "hard-coded IP" in joined and "ECH" in joined
    assert "off this network" in joined or "through the proxy" in joined


def test_rpz_has_apex_and_wildcard_and_serial_from_policy_date() -> None:
    zone = str(build("rpz").files["rpz.local.db"])
    assert re.search(r"^tiktok\.com CNAME \.$", zone, re.M)
    assert re.search(r"^\*\.tiktok\.com CNAME \.$", zone, re.M)
    assert " 2023022801 " in zone  # latest rule effective date (2023-02-28) beats the catalogue's 2023-01-15
    sinkhole = str(build("rpz", policy="sinkhole", sinkhole="10.9.9.9").files["rpz.local.db"])
    assert "*.tiktok.com A 10.9.9.9" in sinkhole and "CNAME" not in sinkhole
    assert " 77 " in str(build("rpz", serial="77").files["rpz.local.db"])


def test_hosts_warns_it_cannot_cover_subdomains() -> None:
    payload = build("hosts")
    assert "cannot cover subdomains" in payload.caveats[0]
    assert "0.0.0.0 tiktok.com\n" in str(payload.files["hosts"])


def test_bad_options_and_empty_lists_are_refused_with_a_fix() -> None:
    with pytest.raises(EnforcementError) as e:
        build("unbound", policy="explode")
    assert e.value.fix and "nxdomain" in e.value.fix
    with pytest.raises(EnforcementError):
        build("rpz", serial="soon")
    with pytest.raises(EnforcementError):
        targets.get("rpz")().build(request(()))
    with pytest.raises(EnforcementError):
        targets.get("rpz")().build(request(("bad name.com",)))


def test_pdns_lua_and_knot_suffix_modes() -> None:
    lua = str(build("pdns", mode="lua").files["pdns-recursor-block.lua"])
    assert 'interdit_banned:check(dq.qname)' in lua and '"tiktok.com",' in lua
    knot = str(build("knot", mode="suffix").files["kresd-policy.lua"])
    assert "policy.suffix(policy.DENY_MSG" in knot and "'tiktokv.com'" in knot


@settings(max_examples=100, deadline=None)
@given(st.lists(st.from_regex(r"[a-zA-Z0-9]{1,8}(\.[a-zA-Z0-9]{1,8}){0,3}", fullmatch=True), min_size=1, max_size=4),
       st.from_regex(r"[a-zA-Z0-9]{1,8}(\.[a-zA-Z0-9]{1,8}){0,4}\.?", fullmatch=True))
def test_detection_and_enforcement_agree_on_what_is_covered(listed: list[str], name: str) -> None:
    """A name is reported as used exactly when the generated zone (apex + wildcard) would block it."""
    listed2 = [d + ".example" for d in listed]
    matcher = DomainMatcher(dict.fromkeys(listed2, "f"))
    zone_names = {enforcement_normalise(d) for d in listed2}
    n = detection_normalise(name)
    assert n is not None
    labels = n.split(".")
    blocked = any(".".join(labels[i:]) in zone_names for i in range(len(labels)))
    assert (matcher.family_of(n) is not None) == blocked


@pytest.mark.skipif(shutil.which("named-checkzone") is None, reason="named-checkzone (bind9-utils) not installed")
def test_named_checkzone_accepts_the_zone(tmp_path: Path) -> None:
    for opts in ({}, {"policy": "sinkhole"}, {"policy": "nodata"}):
        f = tmp_path / "rpz.db"
        f.write_text(str(build("rpz", **opts).files["rpz.local.db"]))
        proc = subprocess.run(["named-checkzone", "rpz.local", str(f)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0 and "2023022801" in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("unbound-checkconf") is None, reason="unbound-checkconf not installed")
def test_unbound_checkconf_accepts_the_blocklist(tmp_path: Path) -> None:
    for opts in ({}, {"policy": "sinkhole"}):
        (tmp_path / "block.conf").write_text(str(build("unbound", **opts).files["unbound-blocklist.conf"]))
        conf = tmp_path / "unbound.conf"
        conf.write_text(f'server:\n    username: ""\n    chroot: ""\n    directory: "{tmp_path}"\n'
                        f'include: "{tmp_path}/block.conf"\n')
        proc = subprocess.run(["unbound-checkconf", str(conf)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.skipif(shutil.which("dnsmasq") is None, reason="dnsmasq not installed")
def test_dnsmasq_test_accepts_the_blocklist(tmp_path: Path) -> None:
    f = tmp_path / "block.conf"
    f.write_text(str(build("dnsmasq").files["dnsmasq-blocklist.conf"]))
    proc = subprocess.run(["dnsmasq", "--test", "-C", str(f)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "syntax check OK" in proc.stdout + proc.stderr, proc.stdout + proc.stderr


# -- every policy a target offers is carried out; what it cannot do is refused ------------------------


def test_pdns_lua_answers_the_policy_asked() -> None:
    def lua(**options: str) -> str:
        return str(build("pdns", mode="lua", **options).files["pdns-recursor-block.lua"])

    assert "dq.rcode = pdns.NXDOMAIN" in lua()
    sink = lua(policy="sinkhole", sinkhole="10.9.9.9", sinkhole6="2001:db8::9", ttl="30")
    assert 'dq:addAnswer(pdns.A, "10.9.9.9", 30)' in sink and 'dq:addAnswer(pdns.AAAA, "2001:db8::9", 30)' in sink
    assert "dq.rcode = pdns.NOERROR" in sink and "NXDOMAIN" not in sink
    nodata = lua(policy="nodata")
    assert "dq.rcode = pdns.NOERROR" in nodata and "addAnswer" not in nodata and "NXDOMAIN" not in nodata
    for mode in ("rpz", "lua"):
        with pytest.raises(EnforcementError) as e:
            build("pdns", mode=mode, policy="refuse")
        assert "policy=" in e.value.message and e.value.fix and "sinkhole" in e.value.fix


def test_knot_suffix_answers_the_policy_asked() -> None:
    def lua(**options: str) -> str:
        return str(build("knot", mode="suffix", **options).files["kresd-policy.lua"])

    assert "policy.suffix(policy.DENY_MSG('blocked by policy'), " in lua()
    sink = lua(policy="sinkhole", sinkhole="10.9.9.9", sinkhole6="2001:db8::9", ttl="30")
    assert ("policy.ANSWER({[kres.type.A] = {rdata=kres.str2ip('10.9.9.9'), ttl=30}, "
            "[kres.type.AAAA] = {rdata=kres.str2ip('2001:db8::9'), ttl=30}}, true)") in sink
    assert "DENY" not in sink and "answer a sinkhole address" in sink
    nodata = lua(policy="nodata")
    assert "policy.suffix(policy.ANSWER({}, true), " in nodata and "DENY" not in nodata
    assert "NODATA" in build("knot", policy="nodata").files["kresd-policy.lua"]  # the header says what happens
    assert "CNAME *." in str(build("knot", policy="nodata").files["rpz.local.db"])


@pytest.mark.parametrize(("name", "options", "unused"), [
    ("hosts", {"policy": "sinkhole"}, "policy"),  # a hosts file has no policy: address= is its answer
    ("adguard", {"policy": "nodata"}, "policy"),
    ("squid", {"sinkhole": "10.0.0.1"}, "sinkhole"),
    ("unbound", {"sinkhole": "10.0.0.1"}, "sinkhole"),  # without policy=sinkhole
    ("dnsmasq", {"sinkhole6": "::1"}, "sinkhole6"),
    ("dnsmasq", {"policy": "sinkhole", "ttl": "30"}, "ttl"),  # dnsmasq has no TTL to set
    ("rpz", {"polciy": "sinkhole"}, "polciy"),  # a typo
    ("pdns", {"mode": "lua", "serial": "7"}, "serial"),  # no zone, no serial
    ("pdns", {"zone": "other.rpz"}, "zone"),  # pdns names its zone file itself
    ("knot", {"mode": "suffix", "ttl": "30"}, "ttl"),  # NXDOMAIN: no TTL written
])
def test_an_option_the_target_does_not_use_is_refused(name: str, options: dict[str, str], unused: str) -> None:
    with pytest.raises(EnforcementError) as e:
        build(name, **options)
    with pytest.raises(EnforcementError) as fr:
        build(name, "fr", **options)
    assert f"--option {unused}=" in e.value.message and e.value.fix and "remove it" in e.value.fix
    assert f"--option {unused}=" in fr.value.message and fr.value.fix and "retirez-la" in fr.value.fix.lower()
    assert "retirez" not in e.value.fix and "remove it" not in fr.value.fix  # one language each


# -- values written into files: validated, escaped, or kept in comments ----------------------------------

NASTY = ("x\n$INCLUDE /etc/passwd", "x\r\nserver:\n  local-zone: \"evil.\" transparent", "a\u2028b\u0085c\x00d",
         "end\\", "\"'; os.execute('id') --", "]]--[[", "\ud800 lone surrogate", "\u202eevil", "x" * 500)


@pytest.mark.parametrize("name", DNS_TARGETS)
@pytest.mark.parametrize("text", NASTY)
def test_policy_text_reaches_files_only_as_one_comment_line(name: str, text: str) -> None:
    plain = targets.get(name)().build(request(organisation="Plain"))
    payload = targets.get(name)().build(request(organisation=text, families=("tiktok", text), version=text))
    for fname, content in payload.files.items():
        lines, reference = str(content).split("\n"), str(plain.files[fname]).split("\n")
        assert str(content).splitlines() == lines[:-1] and lines[-1] == ""  # no line break but \n
        assert not [c for c in str(content) if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Cs")]
        assert len(lines) == len(reference)
        for line, ref in zip(lines, reference, strict=True):
            if line != ref:  # only the header's comment lines differ, and they stay comments of sensible length
                assert line.split(" ")[0] == ref.split(" ")[0] in (";", "#", "--", "!"), (fname, line)
                assert len(line) <= 250


@pytest.mark.parametrize(("name", "options"), [
    ("pdns", {"dir": '/etc/x"; os.execute("id") --'}), ("pdns", {"dir": "/etc/a\nb"}), ("pdns", {"dir": "/a\\b"}),
    ("knot", {"dir": "/etc/x'); os.execute('id') --"}), ("knot", {"dir": "relative/path"}),
    ("knot", {"dir": "/with space"}), ("pdns", {"mode": "lua", "dir": ""}),
    ("rpz", {"zone": "../../etc/cron.d/x"}), ("rpz", {"zone": 'rpz"; }; include "/etc/passwd'}),
    ("rpz", {"zone": "a..b"}), ("rpz", {"zone": "-a.b"}),
    ("rpz", {"ttl": "60\n@ NS evil."}), ("rpz", {"ttl": "²"}), ("rpz", {"ttl": "2147483648"}),
    ("rpz", {"serial": "1\n"}), ("rpz", {"serial": "١٢"}),
    ("rpz", {"policy": "sinkhole", "sinkhole6": "fe80::1%x\n*.a CNAME rpz-passthru."}),
    ("unbound", {"policy": "sinkhole", "sinkhole": "10.0.0.1\" transparent"}),
    ("dnsmasq", {"policy": "sinkhole", "sinkhole": "::1"}), ("hosts", {"address": "0.0.0.0 evil.example\n127.0.0.1"}),
    ("hosts", {"address": "fe80::1%eth0"}), ("knot", {"mode": "suffix", "policy": "sinkhole", "sinkhole": "1.2.3"}),
])
def test_unsafe_option_values_are_refused_with_a_fix(name: str, options: dict[str, str]) -> None:
    with pytest.raises(EnforcementError) as e:
        build(name, **options)
    with pytest.raises(EnforcementError) as fr:
        build(name, "fr", **options)
    assert e.value.fix and "\n" not in e.value.message and fr.value.fix and "\n" not in fr.value.message
    assert re.search(r"\b(pass|use)\b", e.value.fix) and re.search(r"\b(passez|utilisez)\b", fr.value.fix)
    assert fr.value.message != e.value.message and " / " not in e.value.fix + fr.value.fix


def test_accepted_values_are_written_in_canonical_form() -> None:
    caveats = " ".join(build("pdns", mode="lua", dir="/srv/dns/").caveats)
    assert "lua-dns-script=/srv/dns/pdns-recursor-block.lua" in caveats
    zone = build("rpz", zone="Blocked.RPZ.", policy="sinkhole", sinkhole6="2001:DB8:0:0::1")
    assert set(zone.files) == {"blocked.rpz.db", "named-rpz.conf"}
    assert "AAAA 2001:db8::1\n" in str(zone.files["blocked.rpz.db"])
    assert "0:0:0:0:0:0:0:0 tiktok.com\n" not in str(build("hosts", address="0:0:0:0:0:0:0:0").files["hosts"])
    assert ":: tiktok.com\n" in str(build("hosts", address="0:0:0:0:0:0:0:0").files["hosts"])


def test_lua_string_escapes_what_would_end_or_change_the_string() -> None:
    from interdit.enforcement._dns import lua_string

    assert lua_string("/etc/powerdns/rpz.local.db") == '"/etc/powerdns/rpz.local.db"'
    assert lua_string('a"b\\c\nd') == '"a\\"b\\\\c\\010d"'
    assert lua_string("it's", "'") == "'it\\'s'" and lua_string("é") == '"\\195\\169"'


def test_names_too_long_for_the_zone_are_refused_and_the_longest_that_fit_load(tmp_path: Path) -> None:
    fits = f"{'a' * 63}.{'b' * 63}.{'c' * 63}.{'d' * 41}.example"  # *.NAME.rpz.local: 253 characters
    assert len(f"*.{fits}.rpz.local") == 253
    zone = str(targets.get("rpz")().build(request((fits, "_dmarc.x_y.example", "1.2.3.example"))).files[
        "rpz.local.db"])
    parsed = dns.zone.from_text(zone, origin="rpz.local", relativize=False)
    assert dns.name.from_text(f"*.{fits}.rpz.local") in parsed.nodes
    too_long = "e." + fits
    for name, options in (("rpz", {}), ("pdns", {}), ("knot", {}), ("rpz", {"zone": "a-longer-zone-name.rpz"})):
        with pytest.raises(EnforcementError) as e:
            targets.get(name)().build(request((too_long,), **options))
        assert "too long" in e.value.message and e.value.fix and "mode=lua" in e.value.fix
    assert "rpz.db" in targets.get("rpz")().build(request((too_long,), zone="rpz")).files  # a short zone fits it
    for name in ("unbound", "dnsmasq", "hosts", "adguard", "squid"):  # no zone: the name fits
        targets.get(name)().build(request((too_long,)))
    for name, options in (("pdns", {"mode": "lua"}), ("knot", {"mode": "suffix"})):
        targets.get(name)().build(request((too_long,), **options))


# -- whatever the policy and the options hold, a file is refused or parses for its server -------------


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30)


def _lua_skeleton(lines: list[str]) -> list[str]:
    """Lua lines with their string literals and numbers replaced: what the generator wrote, whatever the values."""
    out = []
    for line in lines:
        line = re.sub(r'"(?:[^"\\]|\\.)*"' + r"|'(?:[^'\\]|\\.)*'", "S", line)
        out.append(re.sub(r"\b[0-9]+\b", "N", line))
    return out


def check_files(name: str, req: EnforcementRequest, payload: Payload, tmp: Path) -> None:
    """Every file of the payload parses for its server (the real checker when it is installed) and holds only
    lines the generator writes: the policy's text only in the header comments."""
    options = dict(req.options)
    plain = targets.get(name)().build(request(tuple(req.domains), **options))
    skeleton_options = {k: v for k, v in options.items() if k in ("mode", "policy")}
    skeleton = targets.get(name)().build(request(tuple(req.domains), **skeleton_options))
    for fname, content in payload.files.items():
        text = str(content)
        lines = text.split("\n")
        assert text.endswith("\n") and text.splitlines() == lines[:-1], fname
        assert not [c for c in text if c != "\n" and unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp")]
        body = [line for line in lines if not re.match(r"(;|#|--|!) ", line)]
        assert body == [line for line in str(plain.files[fname]).split("\n") if not re.match(r"(;|#|--|!) ", line)]
        path = tmp / fname
        path.write_text(text, encoding="utf-8")
        if fname.endswith(".db"):
            origin = fname.removesuffix(".db")
            zone = dns.zone.from_text(text, origin=origin, relativize=False)
            assert len(zone.nodes) == 1 + 2 * len({n.split(" ")[0] for n in lines if n and n[0] not in ";$@*"})
            if shutil.which("named-checkzone"):
                proc = _run(["named-checkzone", origin, str(path)])
                assert proc.returncode == 0, proc.stdout + proc.stderr
        elif fname == "named-rpz.conf":
            statements = [line for line in lines if line and not line.startswith("//")]
            assert len(statements) == 2 and statements[0].startswith("response-policy ")
            zone_file = tmp / f"{statements[1].split(chr(34))[1]}.db"
            if shutil.which("named-checkconf"):  # the snippet as named reads it, loading the zone (-z)
                conf = tmp / "named.conf"
                conf.write_text(f'options {{\n    directory "{tmp}";\n    {statements[0]}\n}};\n'
                                + statements[1].replace('"/etc/bind/', f'"{tmp}/') + "\n")
                assert zone_file.name in payload.files
                zone_file.write_text(str(payload.files[zone_file.name]), encoding="utf-8")
                proc = _run(["named-checkconf", "-z", str(conf)])
                assert proc.returncode == 0, proc.stdout + proc.stderr
        elif fname == "unbound-blocklist.conf" and shutil.which("unbound-checkconf"):
            conf = tmp / "unbound.conf"
            conf.write_text(f'server:\n    username: ""\n    chroot: ""\n    directory: "{tmp}"\ninclude: "{path}"\n')
            proc = _run(["unbound-checkconf", str(conf)])
            assert proc.returncode == 0, proc.stdout + proc.stderr
        elif fname == "dnsmasq-blocklist.conf" and shutil.which("dnsmasq"):
            proc = _run(["dnsmasq", "--test", "-C", str(path)])
            assert proc.returncode == 0 and "syntax check OK" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
        elif fname.endswith(".lua"):
            assert _lua_skeleton(body) == _lua_skeleton(
                [line for line in str(skeleton.files[fname]).split("\n") if not line.startswith("-- ")])
            if shutil.which("luajit"):  # the Lua both PowerDNS Recursor and Knot Resolver embed
                proc = _run(["luajit", "-b", str(path), str(tmp / "out.luac")])
                assert proc.returncode == 0, proc.stdout + proc.stderr
        elif fname == "hosts":
            for line in body[:-1]:
                ip, host = line.split(" ")
                assert ipaddress.ip_address(ip) and enforcement_normalise(host) == host
        else:
            name_ = r"[a-z0-9_-]+(\.[a-z0-9_-]+)+"
            pattern = {
                "adguard-blocklist.txt": rf"\|\|{name_}\^",
                "pihole-regex.list": r"\(\\\.\|\^\)[a-z0-9_-]+(\\\.[a-z0-9_-]+)+\$",
                "squid-banned.conf": rf"acl interdit_banned dstdomain \.{name_}|http_access deny interdit_banned",
                "squid-banned-sni.conf": rf"acl interdit_banned_sni ssl::server_name \.{name_}|acl interdit_step1 "
                                         r"at_step SslBump1|ssl_bump (peek interdit_step1|terminate "
                                         r"interdit_banned_sni|splice all)"}[fname]
            assert all(re.fullmatch(pattern, line) and re.compile(line) for line in body[:-1]), fname


_TARGET_MODES = [("rpz", {}), ("unbound", {}), ("dnsmasq", {}), ("pdns", {}), ("pdns", {"mode": "lua"}), ("knot", {}),
                 ("knot", {"mode": "suffix"})]
_CASES = [(name, {**mode, "policy": policy}) for name, mode in _TARGET_MODES
          for policy in ("nxdomain", "nodata", "sinkhole", "refuse")]
_CASES += [(name, {}) for name in ("hosts", "adguard", "squid")]  # no policy= to choose


@pytest.mark.parametrize(("name", "options"), _CASES)
def test_every_target_mode_and_policy_parses_for_its_server(name: str, options: dict[str, str],
                                                             tmp_path: Path) -> None:
    req = request((*DOMAINS, "_dmarc.x_y.example", "x" * 63 + ".example"), **options)
    try:
        payload = targets.get(name)().build(req)
    except EnforcementError as e:
        assert "is not available for" in e.message and e.fix, e  # this target cannot answer so: said, not ignored
        return
    check_files(name, req, payload, tmp_path)


_LABELS = st.from_regex(r"[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?", fullmatch=True)
_OPTION_VALUES = st.one_of(
    st.sampled_from(["nxdomain", "nodata", "sinkhole", "refuse", "rpz", "lua", "suffix", "/etc/dns", "/srv/a-b_c.d/",
                     "rpz.local", "block.example", "60", "0", "2023022801", "10.1.2.3", "::", "2001:db8::1",
                     "fe80::1%eth0", "/a'b", '/a"b', "/a\\b", "/a\nb", "a b", "-x", "*.x", "1.2.3.4 x"]),
    st.text(max_size=20))
_OPTIONS = st.dictionaries(st.sampled_from(["policy", "mode", "dir", "zone", "ttl", "serial", "sinkhole", "sinkhole6",
                                            "address"]), _OPTION_VALUES, max_size=4)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(DNS_TARGETS), st.text(st.characters(exclude_categories=()), max_size=200),
       st.lists(st.text(max_size=30), max_size=3), _OPTIONS,
       st.lists(st.lists(_LABELS, min_size=2, max_size=6).map(".".join), min_size=1, max_size=4))
def test_arbitrary_policy_text_and_options_are_refused_or_parse(name: str, organisation: str, families: list[str],
                                                                options: dict[str, str], names: list[str]) -> None:
    req = request(tuple(names), organisation=organisation, families=("tiktok", *families), **options)
    try:
        payload = targets.get(name)().build(req)
    except EnforcementError as e:
        assert e.fix and "\n" not in e.message, e  # refused, saying how to fix it
        event("refused")
        return
    event("built")
    with tempfile.TemporaryDirectory() as tmp:
        check_files(name, req, payload, Path(tmp))
