"""A hosts file: the last resort, for a machine with no DNS server to configure."""

from __future__ import annotations

from interdit.enforcement._dns import address, dns_caveats, domains, header
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, say, targets


@targets.register
class Hosts:
    name = "hosts"
    kind = "dns"
    summary = "hosts file (exact names only: cannot cover subdomains)"

    options: tuple[Option, ...] = (Option("address", "the address every banned name resolves to", "0.0.0.0", "ip"),)

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        names = domains(request)
        ip = address(request, "address", "0.0.0.0")
        out = [header(request, "#", "hosts entries (exact names only)", len(names))]
        for d in names:
            out.append(f"{ip} {d}\n")
            if len(d) <= 249:  # www. and the name must stay a DNS name (253 characters)
                out.append(f"{ip} www.{d}\n")
        return Payload(self.name, {"hosts": "".join(out)}, (
            say(request.lang, "hosts.exact"), *dns_caveats(request)))
