"""dnsmasq `address=/domain/` blocklist (NXDOMAIN, or a sinkhole address)."""

from __future__ import annotations

from interdit.enforcement._dns import (
    DNS_CAVEATS,
    SINKHOLE,
    SINKHOLE6,
    domains,
    header,
    policy_option,
    sinkhole_address,
)
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, targets


@targets.register
class Dnsmasq:
    name = "dnsmasq"
    kind = "dns"
    summary = "dnsmasq address=/domain/ configuration (NXDOMAIN or sinkhole)"

    options: tuple[Option, ...] = (policy_option("nxdomain", "sinkhole"), SINKHOLE, SINKHOLE6)

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        names = domains(request)
        action = request.options["policy"]
        out = [header(request, "#", f"dnsmasq blocklist ({action}); load with conf-file=", len(names))]
        if action == "sinkhole":
            v4, v6 = sinkhole_address(request)
            for d in names:
                out.append(f"address=/{d}/{v4}\naddress=/{d}/{v6}\n")
        else:
            out.extend(f"address=/{d}/\n" for d in names)
        return Payload(self.name, {"dnsmasq-blocklist.conf": "".join(out)}, (*DNS_CAVEATS,
            "Check with dnsmasq --test -C /etc/dnsmasq.conf; Pi-hole (v5) reads the same lines from "
            "/etc/dnsmasq.d/. / Vérifiez avec dnsmasq --test ; Pi-hole (v5) lit les mêmes lignes dans "
            "/etc/dnsmasq.d/.",))
