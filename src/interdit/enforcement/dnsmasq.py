"""dnsmasq `address=/domain/` blocklist (NXDOMAIN, or a sinkhole address)."""

from __future__ import annotations

from interdit.enforcement._dns import (
    SINKHOLE,
    SINKHOLE6,
    dns_caveats,
    domains,
    header,
    policy_option,
    sinkhole_address,
)
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, say, targets


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
        return Payload(self.name, {"dnsmasq-blocklist.conf": "".join(out)}, (
            *dns_caveats(request), say(request.lang, "dnsmasq.check")))
