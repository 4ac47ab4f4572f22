"""Unbound `local-zone` blocklist (always_nxdomain, or redirect to a sinkhole)."""

from __future__ import annotations

from interdit.enforcement._dns import (
    SINKHOLE,
    SINKHOLE6,
    TTL,
    dns_caveats,
    domains,
    header,
    policy_option,
    sinkhole_address,
    ttl,
)
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, say, targets


@targets.register
class Unbound:
    name = "unbound"
    kind = "dns"
    summary = "Unbound local-zone configuration (always_nxdomain, or redirect to a sinkhole)"

    options: tuple[Option, ...] = (policy_option("nxdomain", "refuse", "sinkhole"), SINKHOLE, SINKHOLE6, TTL)

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        names = domains(request)
        action = request.options["policy"]
        out = [header(request, "#", f"Unbound local-zone blocklist ({action}); include it in unbound.conf",
                      len(names)), "server:\n"]
        if action == "sinkhole":
            v4, v6 = sinkhole_address(request)
            seconds = ttl(request)
            for d in names:
                out.append(f'    local-zone: "{d}." redirect\n')
                out.append(f'    local-data: "{d}. {seconds} IN A {v4}"\n')
                out.append(f'    local-data: "{d}. {seconds} IN AAAA {v6}"\n')
        else:
            kind = "always_nxdomain" if action == "nxdomain" else "always_refuse"
            out.extend(f'    local-zone: "{d}." {kind}\n' for d in names)
        return Payload(self.name, {"unbound-blocklist.conf": "".join(out)}, (
            *dns_caveats(request), say(request.lang, "unbound.load")))
