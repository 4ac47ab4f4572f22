"""AdGuard Home and Pi-hole: an adblock-style list (`||domain^`) and Pi-hole regex filters."""

from __future__ import annotations

import re

from interdit.enforcement._dns import dns_caveats, domains, header
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, say, targets


@targets.register
class AdGuard:
    name = "adguard"
    kind = "dns"
    summary = "AdGuard Home / Pi-hole block list (||domain^) and Pi-hole regex filters"

    options: tuple[Option, ...] = ()

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        names = domains(request)
        abp = [header(request, "!", "AdGuard Home / Pi-hole v6 block list (each rule covers subdomains)",
                      len(names))]
        abp.extend(f"||{d}^\n" for d in names)
        regex = [header(request, "#", "Pi-hole regex deny filters (one a line)", len(names))]
        regex.extend(f"(\\.|^){re.escape(d)}$\n".replace("\\-", "-") for d in names)
        return Payload(self.name, {"adguard-blocklist.txt": "".join(abp), "pihole-regex.list": "".join(regex)},
                       (*dns_caveats(request), say(request.lang, "adguard.load")))
