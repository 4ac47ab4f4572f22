"""Real DNS servers load OUR generated configs and block: BIND 9 (RPZ), Unbound (local-zone and RPZ), dnsmasq.

Each server is started on 127.0.0.1 inside a private network namespace (`unshare -n`: only loopback exists,
so no query can leave the machine), behind a fake upstream (dnsmasq answering every name with 192.0.2.1).
The servers are queried with dnspython: banned names, deep subdomains and mixed case must be NXDOMAIN (or
the sinkhole answer); look-alikes (`nottiktok.com`, `tiktok.com.evil.example`) must get the upstream answer.

This module is also the runner: the test calls `unshare -n python test_dns_servers.py GEN RUN`, which starts
the servers, queries them, stops them and prints the answers as JSON. Servers come from the Debian packages
bind9, unbound and dnsmasq-base (scripts/system-deps.sh).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

BANNED = ["tiktok.com", "www.tiktok.com", "WWW.TikTok.COM", "a.b.c.d.e.tiktokv.com",
          "api16-normal-c-useast1a.tiktokv.com", "p16-sign-va.tiktokcdn.com", "mon.musical.ly",
          "tiktök.com".encode("idna").decode()]
ALLOWED = ["nottiktok.com", "tiktok.com.evil.example", "example.org", "tiktokv.co", "www.nottiktokv.com"]
DOMAINS = ("tiktok.com", "tiktokv.com", "tiktokcdn.com", "musical.ly", "www.tiktok.com", "TIKTÖK.com")
UPSTREAM_ANSWER = "192.0.2.1"


# -- the runner (inside the namespace) --------------------------------------------------------------


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _configs(gen: Path, run: Path) -> dict[str, tuple[list[str], int]]:
    """Server name -> (command, port). Configs follow ../shared/data/dns-servers (proven there)."""
    up = _free_udp_port()
    (run / "bind").mkdir(parents=True, exist_ok=True)
    (run / "unbound").mkdir(parents=True, exist_ok=True)
    (run / "upstream.conf").write_text(
        f"port={up}\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\n"
        f"address=/#/{UPSTREAM_ANSWER}\npid-file={run}/upstream.pid\nuser=root\n")
    servers: dict[str, tuple[list[str], int]] = {"upstream": (
        ["dnsmasq", "--keep-in-foreground", "-C", str(run / "upstream.conf")], up)}
    for name, zone in (("bind-rpz", "rpz"), ("bind-rpz-sinkhole", "rpz-sinkhole")):
        port = _free_udp_port()
        d = run / name
        d.mkdir()
        (d / "named.conf").write_text(f"""options {{
    directory "{d}";
    pid-file "{d}/named.pid";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion yes;
    allow-query {{ 127.0.0.1; }};
    allow-recursion {{ 127.0.0.1; }};
    forwarders {{ 127.0.0.1 port {up}; }};
    forward only;
    dnssec-validation no;
    response-policy {{ zone "rpz.local" policy given; }} qname-wait-recurse no break-dnssec yes;
}};
controls {{ }};
zone "rpz.local" {{ type primary; file "{gen}/{zone}/rpz.local.db"; allow-query {{ none; }}; }};
""")
        servers[name] = (["named", "-g", "-c", str(d / "named.conf")], port)
    for name, extra in (("unbound-localzone", f'include: "{gen}/unbound/unbound-blocklist.conf"\n'),
                        ("unbound-sinkhole", f'include: "{gen}/unbound-sinkhole/unbound-blocklist.conf"\n'),
                        ("unbound-rpz", f'rpz:\n    name: "rpz.local"\n    zonefile: "{gen}/rpz/rpz.local.db"\n')):
        port = _free_udp_port()
        conf = run / f"{name}.conf"
        conf.write_text(f"""server:
    interface: 127.0.0.1
    port: {port}
    do-ip6: no
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    username: ""
    chroot: ""
    directory: "{run}/unbound"
    pidfile: "{run}/unbound/{name}.pid"
    use-syslog: no
    logfile: "{run}/unbound/{name}.log"
    verbosity: 1
    module-config: "{'respip iterator' if 'rpz' in name else 'iterator'}"
{extra}forward-zone:
    name: "."
    forward-addr: 127.0.0.1@{up}
remote-control:
    control-enable: no
""")
        servers[name] = (["unbound", "-d", "-c", str(conf)], port)
    for name, sub in (("dnsmasq", "dnsmasq"), ("dnsmasq-sinkhole", "dnsmasq-sinkhole")):
        port = _free_udp_port()
        conf = run / f"{name}.conf"
        conf.write_text(f"port={port}\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\n"
                        f"server=127.0.0.1#{up}\nconf-file={gen}/{sub}/dnsmasq-blocklist.conf\n"
                        f"pid-file={run}/{name}.pid\nuser=root\n")
        servers[name] = (["dnsmasq", "--keep-in-foreground", "-C", str(conf)], port)
    return servers


def _ask(port: int, name: str) -> tuple[str, list[str]]:
    import dns.exception
    import dns.message
    import dns.query
    import dns.rcode

    q = dns.message.make_query(name, "A")
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1.5)
    except (dns.exception.Timeout, OSError) as e:
        return f"error:{type(e).__name__}", []
    answers = [item.to_text() for rrset in r.answer for item in rrset if rrset.rdtype == 1]
    return dns.rcode.to_text(r.rcode()), answers


PROBE = "ready-probe.tiktok.com"  # not among the asserted names: it only tells when a server is ready


def _wait_ready(name: str, port: int, timeout: float = 20.0) -> None:
    """Wait until the server answers, and, for a blocking server, until its policy is in force.

    A server may answer before its block list is loaded: BIND answers recursive queries while it applies a
    response-policy zone it has just loaded. So a blocking server is ready when a probe name under a banned
    domain (not one of the asserted names) stops getting the upstream's answer. If it never does, the asserts
    on the real names fail and say so.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _ask(port, "example.org")[0] == "NOERROR" and (
                name == "upstream" or _ask(port, PROBE) != ("NOERROR", [UPSTREAM_ANSWER])):
            return
        time.sleep(0.2)


def run(gen: Path, run_dir: Path) -> dict[str, dict[str, list[object]]]:
    if shutil.which("ip"):
        subprocess.run(["ip", "link", "set", "lo", "up"], check=False, capture_output=True)
    servers = _configs(gen, run_dir)
    procs: list[subprocess.Popen[bytes]] = []
    results: dict[str, dict[str, list[object]]] = {}
    try:
        for name, (cmd, _) in servers.items():
            log = open(run_dir / f"{name}.out", "wb")  # noqa: SIM115
            procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        for name, (_, port) in servers.items():
            _wait_ready(name, port)
            results[name] = {q: list(_ask(port, q)) for q in BANNED + ALLOWED}
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for p in procs:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    return results


# -- the test ---------------------------------------------------------------------------------------

try:
    import pytest
except ImportError:  # the runner needs only the standard library and dnspython
    pytest = None  # type: ignore[assignment]


def _request(options: dict[str, str]):  # type: ignore[no-untyped-def]
    from interdit.enforcement.base import EnforcementRequest
    from interdit.model import Catalogue, Policy, Rule

    cat = Catalogue(schema_version=1, version="test", build_date=date(2023, 2, 1), vendors={}, families={},
                    directives={})
    policy = Policy("Test org", (Rule("r1", ("tiktok",), date(2023, 2, 28)),))
    return EnforcementRequest(policy, cat, datetime(2023, 3, 1, tzinfo=UTC), ("tiktok",), (), (), DOMAINS, options)


if pytest is not None:
    _missing = [b for b in ("named", "unbound", "dnsmasq") if shutil.which(b) is None
                and not Path(f"/usr/sbin/{b}").exists()]

    @pytest.mark.skipif(bool(_missing), reason=f"DNS servers not installed ({_missing}): apt-get install "
                                               "bind9 unbound dnsmasq-base (scripts/system-deps.sh)")
    def test_real_servers_block_banned_names_and_resolve_look_alikes(tmp_path: Path) -> None:
        from interdit.enforcement.base import targets

        gen = tmp_path / "gen"
        sink = {"policy": "sinkhole"}
        for sub, target, options in (("rpz", "rpz", {}), ("rpz-sinkhole", "rpz", sink), ("unbound", "unbound", {}),
                                     ("unbound-sinkhole", "unbound", sink), ("dnsmasq", "dnsmasq", {}),
                                     ("dnsmasq-sinkhole", "dnsmasq", sink)):
            payload = targets.get(target)().build(_request(options))
            (gen / sub).mkdir(parents=True)
            for fname, content in payload.files.items():
                (gen / sub / fname).write_text(str(content))
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        cmd = [sys.executable, __file__, str(gen), str(run_dir)]
        isolated = os.geteuid() == 0 and shutil.which("unshare") is not None
        if isolated:
            cmd = ["unshare", "-n", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
        results = json.loads(proc.stdout)
        logs = {p.name: p.read_text(errors="replace")[-1500:] for p in run_dir.glob("*.out")}
        for server, answers in results.items():
            log = logs.get(f"{server}.out")
            for name in ALLOWED:
                assert answers[name] == ["NOERROR", [UPSTREAM_ANSWER]], (server, name, answers[name], log)
            if server == "upstream":
                for name in BANNED:  # the fake internet answers everything: the block is the server's doing
                    assert answers[name] == ["NOERROR", [UPSTREAM_ANSWER]], (server, name)
                continue
            for name in BANNED:
                if "sinkhole" in server:
                    assert answers[name] == ["NOERROR", ["0.0.0.0"]], (server, name, answers[name], log)
                else:
                    assert answers[name][0] == "NXDOMAIN", (server, name, answers[name], log)
        assert set(results) == {"upstream", "bind-rpz", "bind-rpz-sinkhole", "unbound-localzone",
                                "unbound-sinkhole", "unbound-rpz", "dnsmasq", "dnsmasq-sinkhole"}


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), Path(sys.argv[2]))))
