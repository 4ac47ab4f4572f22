"""Unbound `local-zone` blocklist (always_nxdomain, or redirect to a sinkhole)."""

from __future__ import annotations

from interdit.enforcement._dns import DNS_CAVEATS, domains, header, option, sinkhole_address
from interdit.enforcement.base import EnforcementRequest, Payload, targets


@targets.register("unbound")
class Unbound:
    name = "unbound"
    summary = "Unbound local-zone configuration (always_nxdomain, or redirect to a sinkhole)"

    def build(self, request: EnforcementRequest) -> Payload:
        names = domains(request)
        action = option(request, "policy", "nxdomain", ("nxdomain", "refuse", "sinkhole"))
        out = [header(request, "#", f"Unbound local-zone blocklist ({action}); include it in unbound.conf",
                      len(names)), "server:\n"]
        v4, v6 = sinkhole_address(request) if action == "sinkhole" else ("", "")
        for d in names:
            if action == "sinkhole":
                out.append(f'    local-zone: "{d}." redirect\n')
                out.append(f'    local-data: "{d}. 60 IN A {v4}"\n')
                out.append(f'    local-data: "{d}. 60 IN AAAA {v6}"\n')
            else:
                kind = "always_nxdomain" if action == "nxdomain" else "always_refuse"
                out.append(f'    local-zone: "{d}." {kind}\n')
        return Payload(self.name, {"unbound-blocklist.conf": "".join(out)}, (*DNS_CAVEATS,
            "Load it with include: \"/etc/unbound/unbound-blocklist.conf\" and check with unbound-checkconf. / "
            "Chargez-le avec include: et vérifiez avec unbound-checkconf.",))
