"""Real DNS servers load OUR generated configs and block: BIND 9 (RPZ), Unbound (local-zone and RPZ), dnsmasq,
PowerDNS Recursor (rpzFile() and a Lua preresolve hook) and Knot Resolver (policy.rpz and policy.suffix).

Each server is started on 127.0.0.1 inside a private network namespace (`unshare -n`: only loopback exists,
so no query can leave the machine), behind a fake upstream (dnsmasq answering every name with 192.0.2.1).
The servers are queried with dnspython: banned names, deep subdomains and mixed case must be NXDOMAIN (or
the sinkhole answer, or NODATA); look-alikes (`nottiktok.com`, `tiktok.com.evil.example`) must get the upstream
answer. The banned names include the awkward ones a catalogue can hold: underscores, 63-byte labels, a name as
long as a response policy zone allows, digit-only and deep labels, punycode below the top level.

This module is also the runner: the tests call `unshare -n python test_dns_servers.py GEN RUN` once, which
starts a server for each payload folder in GEN, queries them, stops them and prints the answers as JSON.
Servers come from the Debian packages bind9, unbound, dnsmasq-base, pdns-recursor and knot-resolver
(scripts/system-deps.sh); each group of servers is skipped on its own when its packages are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

# Names a response policy zone must still load with: one owner name they refuse and BIND or PowerDNS Recursor
# drop the whole zone (and resolve unfiltered).
UNDERSCORE = "_tracker.under_score.example"
LONG_LABEL = "x" * 63 + ".long-label.example"
LONGEST = f"{'a' * 63}.{'b' * 63}.{'c' * 63}.{'d' * 41}.example"  # 241: `*.NAME.rpz.local` is 253, the most
DEEP = "1.2.3.4.5.6.7.8.9.0.deep-names.example"
PUNYCODE = "münchen.bücher.example"
TRICKY = (UNDERSCORE, LONG_LABEL, LONGEST, DEEP, PUNYCODE, "ab--cd.example")
BANNED = ["tiktok.com", "www.tiktok.com", "WWW.TikTok.COM", "a.b.c.d.e.tiktokv.com",
          "api16-normal-c-useast1a.tiktokv.com", "p16-sign-va.tiktokcdn.com", "mon.musical.ly",
          "tiktök.com".encode("idna").decode(),
          UNDERSCORE, f"_x.{UNDERSCORE}", LONG_LABEL, f"www.{LONG_LABEL}", LONGEST, f"x.{LONGEST}",
          f"a.b.c.d.e.f.{LONGEST}", DEEP, f"_a.b.{DEEP}", PUNYCODE.encode("idna").decode(),
          f"www.{PUNYCODE}".encode("idna").decode(), "ab--cd.example"]
ALLOWED = ["nottiktok.com", "tiktok.com.evil.example", "example.org", "tiktokv.co", "www.nottiktokv.com",
           "under_score.example", "long-label.example", "deep-names.example", "bücher.example".encode("idna").decode()]
DOMAINS = ("tiktok.com", "tiktokv.com", "tiktokcdn.com", "musical.ly", "www.tiktok.com", "TIKTÖK.com", *TRICKY)
AAAA_ASKED = ["tiktok.com", "a.b.c.d.e.tiktokv.com", UNDERSCORE, f"x.{LONGEST}"]  # also asked for AAAA
UPSTREAM_ANSWER = "192.0.2.1"
SINKHOLE, SINKHOLE6 = "198.51.100.7", "2001:db8::7"  # not the defaults: the options must reach the answers


# -- the runner (inside the namespace) --------------------------------------------------------------


_PORTS = iter(range(15300, 16300))


def _free_port() -> int:
    """A port free for UDP and TCP, never handed out twice, below the kernel's ephemeral range (32768 up).

    Asking the kernel for a free port (bind to port 0) would draw from the range the servers' own outgoing
    queries use: a server started first could take the port of one that binds later, and two draws can
    return the same port once the first socket is closed.
    """
    for port in _PORTS:
        try:
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                with socket.socket(socket.AF_INET, kind) as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port in 15300-16299")


def _configs(gen: Path, run: Path, short: Path) -> dict[str, tuple[list[str], int]]:
    """Server name -> (command, port), for each payload folder in GEN. Configs follow ../shared/data/dns-servers.

    SHORT is a directory with a short path for the servers' control sockets (a socket path has at most 107
    bytes, and test directories can be deep).
    """
    up = _free_port()
    (run / "upstream.conf").write_text(
        f"port={up}\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\n"
        f"address=/#/{UPSTREAM_ANSWER}\npid-file={run}/upstream.pid\nuser=root\n")
    servers: dict[str, tuple[list[str], int]] = {"upstream": (
        ["dnsmasq", "--keep-in-foreground", "-C", str(run / "upstream.conf")], up)}
    for name, zone in (("bind-rpz", "rpz"), ("bind-rpz-sinkhole", "rpz-sinkhole")):
        if not (gen / zone).is_dir():
            continue
        port = _free_port()
        d = run / name
        d.mkdir()
        # our named-rpz.conf snippet, with the zone file where the test wrote it
        snippet = (gen / zone / "named-rpz.conf").read_text().splitlines()
        response_policy = next(line for line in snippet if line.startswith("response-policy "))
        zone_statement = next(line for line in snippet if line.startswith("zone ")).replace(
            '"/etc/bind/', f'"{gen}/{zone}/')
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
    {response_policy}
}};
controls {{ }};
{zone_statement}
""")
        servers[name] = (["named", "-g", "-c", str(d / "named.conf")], port)
    for name, sub, extra in (
            ("unbound-localzone", "unbound", f'include: "{gen}/unbound/unbound-blocklist.conf"\n'),
            ("unbound-sinkhole", "unbound-sinkhole", f'include: "{gen}/unbound-sinkhole/unbound-blocklist.conf"\n'),
            ("unbound-rpz", "rpz", f'rpz:\n    name: "rpz.local"\n    zonefile: "{gen}/rpz/rpz.local.db"\n')):
        if not (gen / sub).is_dir():
            continue
        port = _free_port()
        (run / "unbound").mkdir(exist_ok=True)
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
        if not (gen / sub).is_dir():
            continue
        port = _free_port()
        conf = run / f"{name}.conf"
        conf.write_text(f"port={port}\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\n"
                        f"server=127.0.0.1#{up}\nconf-file={gen}/{sub}/dnsmasq-blocklist.conf\n"
                        f"pid-file={run}/{name}.pid\nuser=root\n")
        servers[name] = (["dnsmasq", "--keep-in-foreground", "-C", str(conf)], port)
    # PowerDNS Recursor 4.8: the RPZ through lua-config-file, or the preresolve hook through lua-dns-script.
    # The upstream is on 127.0.0.1, which dont-query refuses by default.
    for name, sub, lua in (("pdns-rpz", "pdns", "lua-config-file=pdns-recursor-rpz.lua"),
                           ("pdns-rpz-sinkhole", "pdns-sinkhole", "lua-config-file=pdns-recursor-rpz.lua"),
                           ("pdns-lua", "pdns-lua", "lua-dns-script=pdns-recursor-block.lua"),
                           ("pdns-lua-sinkhole", "pdns-lua-sinkhole", "lua-dns-script=pdns-recursor-block.lua"),
                           ("pdns-lua-nodata", "pdns-lua-nodata", "lua-dns-script=pdns-recursor-block.lua")):
        if not (gen / sub).is_dir():
            continue
        port = _free_port()
        d = run / name
        d.mkdir()
        sockets = short / name
        sockets.mkdir()
        key, file = lua.split("=")
        (d / "recursor.conf").write_text(
            f"local-address=127.0.0.1\nlocal-port={port}\nallow-from=127.0.0.0/8\n"
            f"forward-zones-recurse=.=127.0.0.1:{up}\ndont-query=\ndnssec=off\nsecurity-poll-suffix=\n"
            f"{key}={gen}/{sub}/{file}\nsocket-dir={sockets}\ndaemon=no\ndisable-syslog=yes\nthreads=1\n")
        servers[name] = (["pdns_recursor", f"--config-dir={d}"], port)
    # Knot Resolver 5: our policy file first, then forward everything else (policy rules apply in order).
    for name, sub in (("knot-rpz", "knot"), ("knot-rpz-sinkhole", "knot-sinkhole"), ("knot-suffix", "knot-suffix"),
                      ("knot-suffix-sinkhole", "knot-suffix-sinkhole"), ("knot-suffix-nodata", "knot-suffix-nodata")):
        if not (gen / sub).is_dir():
            continue
        port = _free_port()
        rundir = short / name  # kresd's working directory: its cache and control socket
        rundir.mkdir()
        conf = run / f"{name}.lua"
        conf.write_text(f"net.listen('127.0.0.1', {port}, {{ kind = 'dns' }})\n"
                        "trust_anchors.remove('.')\n"
                        f"cache.open(10 * MB, 'lmdb://{rundir}')\n"
                        f"dofile('{gen}/{sub}/kresd-policy.lua')\n"
                        f"policy.add(policy.all(policy.FORWARD('127.0.0.1@{up}')))\n")
        servers[name] = (["kresd", "-n", "-c", str(conf), str(rundir)], port)
    return servers


def _ask(port: int, name: str, tries: int = 1, rdtype: str = "A") -> tuple[str, list[str]]:
    """The rcode and the answers of type RDTYPE; a query that times out is sent again up to TRIES times, as stub
    resolvers do."""
    import dns.exception
    import dns.message
    import dns.query
    import dns.rcode
    import dns.rdatatype

    q = dns.message.make_query(name, rdtype)
    for attempt in range(tries):
        try:
            r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1.5)
            break
        except dns.exception.Timeout as e:
            if attempt == tries - 1:
                return f"error:{type(e).__name__}", []
        except OSError as e:
            return f"error:{type(e).__name__}", []
    answers = [item.to_text() for rrset in r.answer for item in rrset
               if rrset.rdtype == dns.rdatatype.from_text(rdtype)]
    return dns.rcode.to_text(r.rcode()), answers


PROBE = "ready-probe.tiktok.com"  # not among the asserted names: it only tells when a server is ready


def _wait_ready(name: str, port: int, proc: subprocess.Popen[bytes], deadline: float) -> bool:
    """Wait until the server answers, and, for a blocking server, until its policy is in force.

    A server may answer before its block list is loaded: BIND answers recursive queries while it applies a
    response-policy zone it has just loaded. So a blocking server is ready when a probe name under a banned
    domain (not one of the asserted names) stops getting the upstream's answer. If it never does, the asserts
    on the real names fail and say so. Returns whether the server answered at all (one that has exited or
    never answers is not asked the real names: each would only time out).
    """
    answered = False
    while proc.poll() is None:  # at least one try, even past the deadline another server used up
        if _ask(port, "example.org")[0] == "NOERROR":
            answered = True
            if name == "upstream" or _ask(port, PROBE) != ("NOERROR", [UPSTREAM_ANSWER]):
                return True
        if time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    return answered


def run(gen: Path, run_dir: Path) -> dict[str, dict[str, list[object]]]:
    if shutil.which("ip"):
        subprocess.run(["ip", "link", "set", "lo", "up"], check=False, capture_output=True)
    short = Path(tempfile.mkdtemp(prefix="interdit-dns-"))
    servers = _configs(gen, run_dir, short)
    procs: list[subprocess.Popen[bytes]] = []
    results: dict[str, dict[str, list[object]]] = {}
    try:
        for name, (cmd, _) in servers.items():
            with open(run_dir / f"{name}.out", "wb") as log:
                procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True))
        deadline = time.monotonic() + 20  # the servers start together
        for (name, (_, port)), proc in zip(servers.items(), procs, strict=True):
            if _wait_ready(name, port, proc, deadline):
                results[name] = {q: list(_ask(port, q, tries=2)) for q in BANNED + ALLOWED}
                if name != "upstream":
                    results[name].update({f"AAAA {q}": list(_ask(port, q, tries=2, rdtype="AAAA"))
                                          for q in AAAA_ASKED})
            else:
                state = f"exited with {proc.returncode}" if proc.poll() is not None else "never answered"
                results[name] = {q: [f"error:{state}", []] for q in BANNED + ALLOWED}
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
        shutil.rmtree(short, ignore_errors=True)
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


SINK = {"policy": "sinkhole", "sinkhole": SINKHOLE, "sinkhole6": SINKHOLE6}
# Payload folder -> (target, options); `dir=` points the Lua files at the folder they are written to.
PAYLOADS: dict[str, tuple[str, dict[str, str]]] = {
    "rpz": ("rpz", {}), "rpz-sinkhole": ("rpz", SINK), "unbound": ("unbound", {}),
    "unbound-sinkhole": ("unbound", SINK), "dnsmasq": ("dnsmasq", {}), "dnsmasq-sinkhole": ("dnsmasq", SINK),
    "pdns": ("pdns", {}), "pdns-sinkhole": ("pdns", SINK), "pdns-lua": ("pdns", {"mode": "lua"}),
    "pdns-lua-sinkhole": ("pdns", {"mode": "lua", **SINK}),
    "pdns-lua-nodata": ("pdns", {"mode": "lua", "policy": "nodata"}),
    "knot": ("knot", {}), "knot-sinkhole": ("knot", SINK), "knot-suffix": ("knot", {"mode": "suffix"}),
    "knot-suffix-sinkhole": ("knot", {"mode": "suffix", **SINK}),
    "knot-suffix-nodata": ("knot", {"mode": "suffix", "policy": "nodata"}),
}
# Group -> (binaries, Debian packages, payload folders, servers). Every group needs dnsmasq for the upstream.
GROUPS: dict[str, tuple[tuple[str, ...], str, tuple[str, ...], set[str]]] = {
    "bind-unbound-dnsmasq": (
        ("named", "unbound", "dnsmasq"), "bind9 unbound dnsmasq-base",
        ("rpz", "rpz-sinkhole", "unbound", "unbound-sinkhole", "dnsmasq", "dnsmasq-sinkhole"),
        {"bind-rpz", "bind-rpz-sinkhole", "unbound-localzone", "unbound-sinkhole", "unbound-rpz", "dnsmasq",
         "dnsmasq-sinkhole"}),
    "pdns-recursor": (("pdns_recursor", "dnsmasq"), "pdns-recursor dnsmasq-base",
                      ("pdns", "pdns-sinkhole", "pdns-lua", "pdns-lua-sinkhole", "pdns-lua-nodata"),
                      {"pdns-rpz", "pdns-rpz-sinkhole", "pdns-lua", "pdns-lua-sinkhole", "pdns-lua-nodata"}),
    "knot-resolver": (("kresd", "dnsmasq"), "knot-resolver dnsmasq-base",
                      ("knot", "knot-sinkhole", "knot-suffix", "knot-suffix-sinkhole", "knot-suffix-nodata"),
                      {"knot-rpz", "knot-rpz-sinkhole", "knot-suffix", "knot-suffix-sinkhole", "knot-suffix-nodata"}),
}


def _missing(group: str) -> list[str]:
    return [b for b in GROUPS[group][0] if shutil.which(b) is None and not Path(f"/usr/sbin/{b}").exists()]


if pytest is not None:

    @pytest.fixture(scope="module")
    def answers(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, list[object]]], dict[str, str]]:
        """Start every installed server once (in one namespace), ask them all; the answers and each server's log."""
        from interdit.enforcement.base import targets

        tmp = tmp_path_factory.mktemp("dns")
        gen = tmp / "gen"
        for group in GROUPS:
            if _missing(group):
                continue
            for sub in GROUPS[group][2]:
                target, options = PAYLOADS[sub]
                if target in ("pdns", "knot"):
                    options = {**options, "dir": str(gen / sub)}
                payload = targets.get(target)().build(_request(options))
                (gen / sub).mkdir(parents=True)
                for fname, content in payload.files.items():
                    (gen / sub / fname).write_text(str(content))
        run_dir = tmp / "run"
        run_dir.mkdir()
        cmd = [sys.executable, __file__, str(gen), str(run_dir)]
        isolated = os.geteuid() == 0 and shutil.which("unshare") is not None
        if isolated:
            cmd = ["unshare", "-n", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
        assert proc.returncode == 0, proc.stderr[-3000:]
        logs = {p.stem: p.read_text(errors="replace")[-1500:] for p in run_dir.glob("*.out")}
        return json.loads(proc.stdout), logs

    @pytest.mark.parametrize("group", [
        pytest.param(g, marks=pytest.mark.skipif(
            bool(_missing(g)), reason=f"DNS servers not installed ({_missing(g)}): apt-get install {GROUPS[g][1]} "
                                      "(scripts/system-deps.sh)"))
        for g in GROUPS])
    def test_real_servers_block_banned_names_and_resolve_look_alikes(
            group: str, answers: tuple[dict[str, dict[str, list[object]]], dict[str, str]]) -> None:
        results, logs = answers
        servers = GROUPS[group][3]
        assert servers | {"upstream"} <= set(results), sorted(results)
        for server in sorted(servers | {"upstream"}):
            answer, log = results[server], logs.get(server)
            for name in ALLOWED:
                assert answer[name] == ["NOERROR", [UPSTREAM_ANSWER]], (server, name, answer[name], log)
            if server == "upstream":
                for name in BANNED:  # the fake internet answers everything: the block is the server's doing
                    assert answer[name] == ["NOERROR", [UPSTREAM_ANSWER]], (server, name)
                continue
            for name in BANNED:
                if "sinkhole" in server:
                    assert answer[name] == ["NOERROR", [SINKHOLE]], (server, name, answer[name], log)
                elif "nodata" in server:
                    assert answer[name] == ["NOERROR", []], (server, name, answer[name], log)
                else:
                    assert answer[name][0] == "NXDOMAIN", (server, name, answer[name], log)
            for name in AAAA_ASKED:
                got = answer[f"AAAA {name}"]
                if "sinkhole" in server:
                    assert got == ["NOERROR", [SINKHOLE6]], (server, name, got, log)
                elif "nodata" in server:
                    assert got == ["NOERROR", []], (server, name, got, log)
                else:
                    assert got[0] == "NXDOMAIN", (server, name, got, log)

    @pytest.mark.skipif(bool(_missing("pdns-recursor")), reason="PowerDNS Recursor not installed: apt-get install "
                                                                "pdns-recursor (scripts/system-deps.sh)")
    def test_pdns_recursor_refuses_to_start_when_it_cannot_read_the_zone(tmp_path: Path) -> None:
        """Left to itself the Recursor logs an unreadable rpzFile() and resolves unfiltered; our Lua stops it."""
        from interdit.enforcement.base import targets

        payload = targets.get("pdns")().build(_request({"dir": str(tmp_path / "absent")}))
        (tmp_path / "pdns-recursor-rpz.lua").write_text(str(payload.files["pdns-recursor-rpz.lua"]))
        sockets = Path(tempfile.mkdtemp(prefix="interdit-dns-"))
        (tmp_path / "recursor.conf").write_text(
            f"local-address=127.0.0.1\nlocal-port={_free_port()}\nlua-config-file={tmp_path}/pdns-recursor-rpz.lua\n"
            f"socket-dir={sockets}\ndaemon=no\ndisable-syslog=yes\nthreads=1\nsecurity-poll-suffix=\n")
        cmd = ["pdns_recursor", f"--config-dir={tmp_path}"]
        if os.geteuid() == 0 and shutil.which("unshare") is not None:
            cmd = ["unshare", "-n", *cmd]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=15, check=False)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"pdns_recursor kept running without its block list: {e.output!r}") from None
        finally:
            shutil.rmtree(sockets, ignore_errors=True)
        assert proc.returncode != 0 and "refusing to resolve without the block list" in proc.stdout + proc.stderr, (
            proc.returncode, proc.stderr[-2000:])


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), Path(sys.argv[2]))))
