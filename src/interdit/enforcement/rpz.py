"""Response Policy Zone (RPZ): loaded by BIND 9, Unbound, PowerDNS Recursor, Knot Resolver and Infoblox."""

from __future__ import annotations

from interdit.enforcement._dns import (
    SERIAL,
    SINKHOLE,
    SINKHOLE6,
    TTL,
    ZONE,
    dns_caveats,
    domains,
    policy_option,
    rpz_zone,
    zone_name,
)
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, say, targets


@targets.register
class Rpz:
    name = "rpz"
    kind = "dns"
    summary = "RPZ zone file (NXDOMAIN, NODATA or sinkhole; serial from the policy date)"

    options: tuple[Option, ...] = (policy_option("nxdomain", "nodata", "sinkhole"), SINKHOLE, SINKHOLE6, TTL,
                                   SERIAL, ZONE)

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        names = domains(request)
        zone = zone_name(request)
        action = request.options["policy"]
        # BIND checks the owner names of A and AAAA records as host names (check-names primary fail): a
        # sinkhole entry for a name with an underscore would stop the zone from loading.
        checks = " check-names ignore;" if action == "sinkhole" else ""
        bind_snippet = (
            "// named.conf: inside options { }\n"
            f'response-policy {{ zone "{zone}" policy given; }} qname-wait-recurse no break-dnssec yes;\n'
            f'// and at the top level\nzone "{zone}" {{ type primary; file "/etc/bind/{zone}.db"; '
            f"allow-query {{ none; }};{checks} }};\n")
        return Payload(self.name, {f"{zone}.db": rpz_zone(request, names, zone, action),
                                   "named-rpz.conf": bind_snippet},
                       (*dns_caveats(request), say(request.lang, "rpz.check", zone=zone)),
                       "text/dns")
