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

from .base import EnforcementRequest, Option, comment_text, count, say

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")

# what a banned name gets, in the generated files' header comments
ANSWERS = {"nxdomain": "NXDOMAIN", "nodata": "NODATA (no address)", "sinkhole": "a sinkhole address"}

_DNS_CAVEATS = ("dns.doh", "dns.hard-coded-ip", "dns.ech", "dns.off-network", "dns.shared-hosts")


def dns_caveats(request: EnforcementRequest) -> tuple[str, ...]:
    """What every DNS target's person must know (DNS over HTTPS, hard-coded addresses, ECH, devices off the
    network, shared hosts), in the request's language."""
    return tuple(say(request.lang, key) for key in _DNS_CAVEATS)


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
        raise EnforcementError(say(request.lang, "dns.bad-names", names=shown),
                               fix=say(request.lang, "dns.bad-names.fix"))
    out = []
    for d in sorted(names):
        labels = d.split(".")
        if not any(".".join(labels[i:]) in names for i in range(1, len(labels))):
            out.append(d)
    if not out:
        raise EnforcementError(say(request.lang, "dns.nothing"), fix=say(request.lang, "dns.nothing.fix"))
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
            raise OptionError(say(request.lang, "dns.serial", value=repr(comment_text(raw, 40))),
                              fix=say(request.lang, "option.pass", name="serial", example="2023022801"))
        value = int(raw)
        if not 0 < value < 2**32:
            raise OptionError(say(request.lang, "dns.serial-range"), fix=say(request.lang, "dns.serial-range.fix"))
        return value
    d = policy_date(request)
    return int(d.strftime("%Y%m%d")) * 100 + 1


def ttl(request: EnforcementRequest) -> int:
    """The TTL of the answers written (`--option ttl=60`): 0 to 2147483647 seconds (RFC 2181)."""
    raw = request.options.get("ttl", "60")
    if not re.fullmatch(r"[0-9]{1,10}", raw) or int(raw) > 2**31 - 1:
        raise OptionError(say(request.lang, "dns.ttl", value=repr(comment_text(raw, 40))),
                          fix=say(request.lang, "dns.ttl.fix"))
    return int(raw)


def address(request: EnforcementRequest, key: str, default: str, version: int | None = None) -> str:
    """An IP address option, written back in its canonical form (no zone index: `fe80::1%eth0` is refused)."""
    raw = request.options.get(key, default)
    kind = say(request.lang, {4: "expected.ipv4", 6: "expected.ipv6"}.get(version or 0, "expected.ip"))
    try:
        ip = ipaddress.ip_address(raw)
        if (version is not None and ip.version != version) or getattr(ip, "scope_id", None):
            raise ValueError(raw)
    except ValueError:
        raise OptionError(say(request.lang, "option.not-expected", shown=f"--option {key}={comment_text(raw, 60)!r}",
                              expected=kind),
                          fix=say(request.lang, "option.pass", name=key, example=default)) from None
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
        raise OptionError(say(request.lang, "dns.zone", value=repr(comment_text(raw, 60))),
                          fix=say(request.lang, "dns.zone.fix"))
    return s


_PATH = re.compile(r"/[A-Za-z0-9._+@,=/-]*")


def directory(request: EnforcementRequest, default: str) -> str:
    """The folder the generated Lua refers to (`--option dir=/etc/powerdns`), without a trailing slash.

    It is written into Lua strings and into the instructions, so only plain path characters are accepted.
    """
    raw = request.options.get("dir", default)
    if not _PATH.fullmatch(raw):
        raise OptionError(say(request.lang, "dns.dir", value=repr(comment_text(raw, 60))),
                          fix=say(request.lang, "dns.dir.fix", default=default))
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
        raise EnforcementError(count(request.lang, "dns.too-long", len(too_long), zone=zone, names=shown),
                               fix=say(request.lang, "dns.too-long.fix"))
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
