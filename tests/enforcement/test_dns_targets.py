"""The DNS and proxy targets: golden files, matching semantics shared with detection, options and caveats.

Golden files live in tests/enforcement/golden/; regenerate them after an intended change with
    INTERDIT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -p no:xdist tests/enforcement/test_dns_targets.py
and read the diff before keeping it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interdit.enforcement._dns import normalise as enforcement_normalise
from interdit.enforcement.base import EnforcementRequest, Payload, targets
from interdit.errors import EnforcementError
from interdit.model import Catalogue, Policy, Rule
from interdit.network.match import DomainMatcher
from interdit.network.match import normalise as detection_normalise

GOLDEN = Path(__file__).parent / "golden"
DNS_TARGETS = ("rpz", "unbound", "dnsmasq", "hosts", "adguard", "squid", "pdns", "knot")
DOMAINS = ("tiktok.com", "www.tiktok.com", "TikTokV.com.", "tiktokcdn.com", "musical.ly", "bücher-tiktok.example")


def request(domains: tuple[str, ...] = DOMAINS, **options: str) -> EnforcementRequest:
    cat = Catalogue(schema_version=1, version="2026.11", build_date=date(2023, 1, 15), vendors={}, families={},
                    directives={})
    policy = Policy("Ministère de l'Exemple", (Rule("tiktok-ban", ("tiktok",), date(2023, 2, 28)),))
    return EnforcementRequest(policy, cat, datetime(2023, 3, 1, 12, tzinfo=UTC), ("tiktok",), (), (), domains,
                              options)


def build(name: str, **options: str) -> Payload:
    return targets.get(name)().build(request(**options))


@pytest.mark.parametrize("name", DNS_TARGETS)
def test_golden(name: str) -> None:
    payload = build(name)
    assert payload.target == name
    for fname, content in payload.files.items():
        path = GOLDEN / name / fname
        if os.environ.get("INTERDIT_UPDATE_GOLDEN"):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(str(content), encoding="utf-8")
        assert path.exists(), f"no golden file {path}: run with INTERDIT_UPDATE_GOLDEN=1"
        assert str(content) == path.read_text(encoding="utf-8"), f"{name}/{fname} differs from its golden file"


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
