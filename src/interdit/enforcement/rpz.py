"""Response Policy Zone (RPZ): loaded by BIND 9, Unbound, PowerDNS Recursor, Knot Resolver and Infoblox."""

from __future__ import annotations

from interdit.enforcement._dns import DNS_CAVEATS, domains, option, rpz_zone
from interdit.enforcement.base import EnforcementRequest, Payload, targets


@targets.register("rpz")
class Rpz:
    name = "rpz"
    summary = "RPZ zone file (NXDOMAIN, NODATA or sinkhole; serial from the policy date)"

    def build(self, request: EnforcementRequest) -> Payload:
        names = domains(request)
        zone = option(request, "zone", "rpz.local")
        bind_snippet = (
            "// named.conf: inside options { }\n"
            f'response-policy {{ zone "{zone}" policy given; }} qname-wait-recurse no break-dnssec yes;\n'
            f'// and at the top level\nzone "{zone}" {{ type primary; file "/etc/bind/{zone}.db"; '
            "allow-query { none; }; };\n")
        return Payload(self.name, {f"{zone}.db": rpz_zone(request, names, zone), "named-rpz.conf": bind_snippet},
                       (*DNS_CAVEATS,
                           "Check the zone before loading it: named-checkzone rpz.local rpz.local.db. / Vérifiez "
                           "la zone avant de la charger : named-checkzone rpz.local rpz.local.db.",),
                       "text/dns")
