"""What the DNS and proxy targets share: the name list (normalised, minimal), the serial and the caveats.

The names follow the same rule as detection (`interdit.network.match`): a listed domain covers itself and
every subdomain, labels are compared whole, case does not matter, international names become punycode.
"""

from __future__ import annotations

import re
from datetime import date

from interdit.errors import EnforcementError

from .base import EnforcementRequest

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")

DNS_CAVEATS = (
    "DNS blocking does not stop DNS over HTTPS or DNS over TLS to outside resolvers: block those resolvers "
    "(and port 853) and push a managed DNS setting. / Le blocage DNS n'arrête pas le DNS sur HTTPS ou sur TLS "
    "vers des résolveurs externes : bloquez-les (et le port 853) et imposez un DNS géré.",
    "Apps that connect to hard-coded IP addresses bypass DNS entirely. / Les applications qui se connectent à "
    "des adresses IP codées en dur contournent entièrement le DNS.",
    "Encrypted Client Hello (ECH) hides the real name from TLS (SNI) filters. / L'Encrypted Client Hello (ECH) "
    "cache le vrai nom aux filtres TLS (SNI).",
    "Devices off this network (mobile data, home Wi-Fi) are not covered: enforce on the devices too (MDM "
    "targets). / Les appareils hors de ce réseau (données mobiles, Wi-Fi personnel) ne sont pas couverts : "
    "appliquez aussi l'interdiction sur les appareils (cibles MDM).",
    "Shared CDN and cloud hosts are never blocked whole; content served through them may still load. / Les "
    "hôtes partagés (CDN, nuage) ne sont jamais bloqués en entier ; du contenu servi par eux peut encore passer.",
)


def normalise(name: str) -> str | None:
    s = name.strip().lower()
    if s.endswith("."):
        s = s[:-1]
    if s.startswith("*."):
        s = s[2:]
    if not s.isascii():
        try:
            s = s.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = s.split(".")
    if len(s) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    return s


def domains(request: EnforcementRequest) -> list[str]:
    """The names to block: normalised, deduplicated, without entries a listed parent already covers."""
    names: set[str] = set()
    bad = []
    for raw in request.domains:
        n = normalise(raw)
        if n is None:
            bad.append(raw)
        else:
            names.add(n)
    if bad:
        raise EnforcementError(f"these names cannot be put in a DNS configuration: {', '.join(sorted(bad)[:10])}",
                               fix="correct them in the catalogue or the policy's own domain list")
    out = []
    for d in sorted(names):
        labels = d.split(".")
        if not any(".".join(labels[i:]) in names for i in range(1, len(labels))):
            out.append(d)
    if not out:
        raise EnforcementError("the policy prohibits no family with network names; there is nothing to block",
                               fix="add a rule for a family whose catalogue entry lists domains")
    return out


def policy_date(request: EnforcementRequest) -> date:
    """The policy's date: the latest effective date of its rules (or the catalogue's build date if later)."""
    dates = [r.effective for r in request.policy.rules] + [request.catalogue.build_date]
    return max(dates)


def serial(request: EnforcementRequest) -> int:
    """An SOA serial YYYYMMDDnn from the policy date (`--option serial=N` overrides)."""
    if "serial" in request.options:
        try:
            value = int(request.options["serial"])
        except ValueError:
            raise EnforcementError(f"serial {request.options['serial']!r} is not a number",
                                   fix="pass --option serial=2023022801") from None
        if not 0 < value < 2**32:
            raise EnforcementError("the serial must be between 1 and 4294967295", fix="use YYYYMMDDnn")
        return value
    d = policy_date(request)
    return int(d.strftime("%Y%m%d")) * 100 + 1


def option(request: EnforcementRequest, key: str, default: str, allowed: tuple[str, ...] | None = None) -> str:
    value = request.options.get(key, default)
    if allowed is not None and value not in allowed:
        raise EnforcementError(f"--option {key}={value} is not known", fix=f"use one of: {', '.join(allowed)}")
    return value


def sinkhole_address(request: EnforcementRequest) -> tuple[str, str]:
    """The sinkhole IPv4 and IPv6 answers (`--option sinkhole=0.0.0.0`)."""
    import ipaddress

    v4 = request.options.get("sinkhole", "0.0.0.0")
    v6 = request.options.get("sinkhole6", "::")
    try:
        if ipaddress.ip_address(v4).version != 4 or ipaddress.ip_address(v6).version != 6:
            raise ValueError
    except ValueError:
        raise EnforcementError(f"sinkhole addresses {v4!r} / {v6!r} are not an IPv4 and an IPv6 address",
                               fix="pass --option sinkhole=0.0.0.0 --option sinkhole6=::") from None
    return v4, v6


def header(request: EnforcementRequest, comment: str, title: str, count: int) -> str:
    """A comment block saying what generated the file, from which policy, and when."""
    lines = [
        f"{title}",
        f"generated by interdit for {request.policy.organisation} on {request.now.date().isoformat()}",
        f"families: {', '.join(request.families)}; {count} domains, each with every subdomain",
        f"catalogue {request.catalogue.version}",
    ]
    return "".join(f"{comment} {line}\n" for line in lines)


def rpz_zone(request: EnforcementRequest, names: list[str], zone: str = "rpz.local") -> str:
    """An RPZ zone: NXDOMAIN (`CNAME .`), NODATA (`CNAME *.`) or a sinkhole (A/AAAA). Apex and wildcard both."""
    action = option(request, "policy", "nxdomain", ("nxdomain", "nodata", "sinkhole"))
    ttl = option(request, "ttl", "60")
    if not ttl.isdigit():
        raise EnforcementError(f"ttl {ttl!r} is not a number of seconds", fix="pass --option ttl=60")
    if action == "sinkhole":
        v4, v6 = sinkhole_address(request)
        rdata = [f"A {v4}", f"AAAA {v6}"]
    else:
        rdata = ["CNAME ." if action == "nxdomain" else "CNAME *."]
    out = [header(request, ";", f"Response policy zone {zone} ({action})", len(names)),
           f"$TTL {ttl}\n",
           f"@ IN SOA localhost. hostmaster.localhost. ( {serial(request)} 3600 600 86400 {ttl} )\n",
           "@ IN NS localhost.\n"]
    for d in names:
        for owner in (d, f"*.{d}"):
            out.extend(f"{owner} {r}\n" for r in rdata)
    return "".join(out)
