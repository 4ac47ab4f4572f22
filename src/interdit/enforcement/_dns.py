"""What the DNS and proxy targets share: the name list (normalised, minimal), the serial and the caveats.

The names follow the same rule as detection (`interdit.network.match`): a listed domain covers itself and
every subdomain, labels are compared whole, case does not matter, international names become punycode.

Every value that reaches a generated file is made safe for the file's syntax here: names are DNS names,
addresses are parsed as IP addresses, numbers are numbers, paths hold only plain characters, Lua strings are
escaped, and text from the policy (the organisation's name, family ids) is written into comments only after
losing control characters and line breaks. The options are declared here once (`SINKHOLE`, `TTL`, ...) and
checked by `base.checks_options`: an option a target does not declare or read is refused, not ignored.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import date

from interdit.errors import EnforcementError, OptionError

from .base import EnforcementRequest, Option, comment_text

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")

# what a banned name gets, in the generated files' header comments
ANSWERS = {"nxdomain": "NXDOMAIN", "nodata": "NODATA (no address)", "sinkhole": "a sinkhole address"}

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
        shown = ", ".join(repr(comment_text(b, 80)) for b in sorted(bad)[:10])
        raise EnforcementError(f"these names cannot be put in a DNS configuration: {shown} / ces noms ne peuvent "
                               "pas figurer dans une configuration DNS",
                               fix="correct them in the catalogue or the policy's own domain list / corrigez-les "
                                   "dans le catalogue ou dans la liste de domaines de la politique")
    out = []
    for d in sorted(names):
        labels = d.split(".")
        if not any(".".join(labels[i:]) in names for i in range(1, len(labels))):
            out.append(d)
    if not out:
        raise EnforcementError("the policy prohibits no family with network names; there is nothing to block / "
                               "la politique n'interdit aucune famille ayant des noms de réseau : rien à bloquer",
                               fix="add a rule for a family whose catalogue entry lists domains / ajoutez une règle "
                                   "pour une famille dont l'entrée du catalogue liste des domaines")
    return out


# -- options: the declarations the targets share (checked by `checks_options` in base) -------------------


def policy_option(*allowed: str) -> Option:
    return Option("policy", "what a banned name gets", allowed[0], "choice", allowed)


SINKHOLE = Option("sinkhole", "the IPv4 answer with policy=sinkhole", "0.0.0.0", "ipv4")
SINKHOLE6 = Option("sinkhole6", "the IPv6 answer with policy=sinkhole", "::", "ipv6")
TTL = Option("ttl", "seconds the answers may be cached (zones and sinkhole answers)", "60", "integer",
             maximum=2**31 - 1)
SERIAL = Option("serial", "the zone's SOA serial [default: YYYYMMDD01 from the policy date]", None, "integer",
                minimum=1, maximum=2**32 - 1)
ZONE = Option("zone", "the response policy zone's name, also its file's name", "rpz.local")


def mode_option(*allowed: str) -> Option:
    return Option("mode", "what is generated (see the target's documentation)", allowed[0], "choice", allowed)


def dir_option(default: str) -> Option:
    return Option("dir", "the absolute folder the server reads the files from (written into the Lua)", default)


def policy_date(request: EnforcementRequest) -> date:
    """The policy's date: the latest effective date of its rules (or the catalogue's build date if later)."""
    dates = [r.effective for r in request.policy.rules] + [request.catalogue.build_date]
    return max(dates)


def serial(request: EnforcementRequest) -> int:
    """An SOA serial YYYYMMDDnn from the policy date (`--option serial=N` overrides)."""
    if "serial" in request.options:
        raw = request.options["serial"]
        if not re.fullmatch(r"[0-9]{1,10}", raw):
            raise OptionError(f"--option serial={comment_text(raw, 40)!r} is not a number / n'est pas un "
                                   "nombre", fix="pass --option serial=2023022801 / passez --option "
                                                 "serial=2023022801")
        value = int(raw)
        if not 0 < value < 2**32:
            raise OptionError("the serial must be between 1 and 4294967295 / le numéro de série doit être "
                                   "compris entre 1 et 4294967295", fix="use YYYYMMDDnn / utilisez AAAAMMJJnn")
        return value
    d = policy_date(request)
    return int(d.strftime("%Y%m%d")) * 100 + 1


def ttl(request: EnforcementRequest) -> int:
    """The TTL of the answers written (`--option ttl=60`): 0 to 2147483647 seconds (RFC 2181)."""
    raw = request.options.get("ttl", "60")
    if not re.fullmatch(r"[0-9]{1,10}", raw) or int(raw) > 2**31 - 1:
        raise OptionError(f"--option ttl={comment_text(raw, 40)!r} is not a number of seconds / n'est pas un "
                               "nombre de secondes",
                               fix="pass --option ttl=60 (0 to 2147483647) / passez --option ttl=60 (0 à "
                                   "2147483647)")
    return int(raw)


def address(request: EnforcementRequest, key: str, default: str, version: int | None = None) -> str:
    """An IP address option, written back in its canonical form (no zone index: `fe80::1%eth0` is refused)."""
    raw = request.options.get(key, default)
    kind = {4: "an IPv4 address / une adresse IPv4", 6: "an IPv6 address / une adresse IPv6"}.get(
        version or 0, "an IP address / une adresse IP")
    try:
        ip = ipaddress.ip_address(raw)
        if (version is not None and ip.version != version) or getattr(ip, "scope_id", None):
            raise ValueError(raw)
    except ValueError:
        raise OptionError(f"--option {key}={comment_text(raw, 60)!r} is not {kind}",
                               fix=f"pass --option {key}={default} / passez --option {key}={default}") from None
    return str(ip)


def sinkhole_address(request: EnforcementRequest) -> tuple[str, str]:
    """The sinkhole IPv4 and IPv6 answers (`--option sinkhole=0.0.0.0 --option sinkhole6=::`)."""
    return address(request, "sinkhole", "0.0.0.0", 4), address(request, "sinkhole6", "::", 6)


def zone_name(request: EnforcementRequest, default: str = "rpz.local") -> str:
    """The RPZ zone's name (`--option zone=rpz.local`): a DNS name, also the zone file's name."""
    raw = request.options.get("zone", default)
    s = raw.lower()
    s = s[:-1] if s.endswith(".") else s
    if len(s) > 200 or not all(_LABEL.match(label) for label in s.split(".")):
        raise OptionError(f"--option zone={comment_text(raw, 60)!r} is not a DNS zone name / n'est pas un nom "
                               "de zone DNS",
                               fix="use letters, digits, hyphens and dots, e.g. --option zone=rpz.local / utilisez "
                                   "lettres, chiffres, tirets et points, par exemple --option zone=rpz.local")
    return s


_PATH = re.compile(r"/[A-Za-z0-9._+@,=/-]*")


def directory(request: EnforcementRequest, default: str) -> str:
    """The folder the generated Lua refers to (`--option dir=/etc/powerdns`), without a trailing slash.

    It is written into Lua strings and into the instructions, so only plain path characters are accepted.
    """
    raw = request.options.get("dir", default)
    if not _PATH.fullmatch(raw):
        raise OptionError(
            f"--option dir={comment_text(raw, 60)!r} is not an absolute path made only of letters, digits, slashes "
            "and . _ - + @ , = / n'est pas un chemin absolu fait uniquement de lettres, de chiffres, de barres "
            "obliques et de . _ - + @ , =",
            fix=f"pass the folder the server reads the files from, e.g. --option dir={default} (rename a folder "
                f"whose name has spaces, quotes or other characters) / passez le dossier où le serveur lit les "
                f"fichiers, par exemple --option dir={default}")
    return raw.rstrip("/")


# -- text written into files -------------------------------------------------------------------------


def _listing(items: Iterable[str], limit: int) -> str:
    """Items joined by commas, as many as fit in `limit` characters, then "and N more"."""
    parts = [comment_text(i, 60) for i in items]
    for n in range(len(parts), 0, -1):
        text = ", ".join(parts[:n]) + (f" and {len(parts) - n} more" if n < len(parts) else "")
        if len(text) <= limit:
            return text
    return f"{len(parts)} families"


def header(request: EnforcementRequest, comment: str, title: str, count: int) -> str:
    """A comment block saying what generated the file, from which policy, and when.

    Each line is one comment line whatever the policy holds: see `comment_text`."""
    lines = [
        title,
        f"generated by interdit for {comment_text(request.policy.organisation, 100)} on "
        f"{request.now.date().isoformat()}",
        f"families: {_listing(request.families, 160)}; {count} domains, each with every subdomain",
        f"catalogue {comment_text(request.catalogue.version, 40)}",
    ]
    return "".join(f"{comment} {comment_text(line, 240)}\n" for line in lines)


def lua_string(value: str, quote: str = '"') -> str:
    """A Lua (5.1, LuaJIT) string literal: backslash and the quote escaped, anything else not printable ASCII
    written as decimal byte escapes (`\\010`), so the literal stays on one line and means exactly `value`."""
    out = []
    for ch in value:
        if ch in ("\\", quote):
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        else:
            out.extend(f"\\{b:03d}" for b in ch.encode("utf-8", "surrogatepass"))
    return quote + "".join(out) + quote


# -- the response policy zone ------------------------------------------------------------------------


def rpz_zone(request: EnforcementRequest, names: list[str], zone: str = "rpz.local", action: str = "nxdomain"
             ) -> str:
    """An RPZ zone: NXDOMAIN (`CNAME .`), NODATA (`CNAME *.`) or a sinkhole (A/AAAA). Apex and wildcard both.

    Every owner name must fit in a DNS name once the zone's name is appended (`*.NAME.ZONE.`, 255 bytes):
    BIND and PowerDNS Recursor do not load a zone with one name too long (and then resolve unfiltered), so
    such names are refused here."""
    seconds = ttl(request)
    too_long = [d for d in names if len(f"*.{d}.{zone}") > 253]
    if too_long:
        shown = ", ".join(comment_text(d, 60) for d in too_long[:3])
        raise EnforcementError(
            f"{len(too_long)} name(s) too long for a response policy zone named {zone} ({shown}): with the zone's "
            f"name appended they exceed 255 bytes / {len(too_long)} nom(s) trop long(s) pour une zone RPZ nommée "
            f"{zone} : avec le nom de la zone, ils dépassent 255 octets",
            fix="use a shorter zone name (rpz: --option zone=rpz), or a target or mode without a zone file "
                "(unbound, dnsmasq, pdns mode=lua, knot mode=suffix) / utilisez un nom de zone plus court (rpz : "
                "--option zone=rpz), ou une cible ou un mode sans fichier de zone (unbound, dnsmasq, pdns "
                "mode=lua, knot mode=suffix)")
    if action == "sinkhole":
        v4, v6 = sinkhole_address(request)
        rdata = [f"A {v4}", f"AAAA {v6}"]
    else:
        rdata = ["CNAME ." if action == "nxdomain" else "CNAME *."]
    out = [header(request, ";", f"Response policy zone {zone} ({action})", len(names)),
           f"$TTL {seconds}\n",
           f"@ IN SOA localhost. hostmaster.localhost. ( {serial(request)} 3600 600 86400 {seconds} )\n",
           "@ IN NS localhost.\n"]
    for d in names:
        for owner in (d, f"*.{d}"):
            out.extend(f"{owner} {r}\n" for r in rdata)
    return "".join(out)
