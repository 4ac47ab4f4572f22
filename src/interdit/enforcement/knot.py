"""Knot Resolver 5: `policy.rpz` over a generated zone (default) or `policy.suffix` rules (`mode=suffix`)."""

from __future__ import annotations

from interdit.enforcement._dns import DNS_CAVEATS, domains, header, option, rpz_zone
from interdit.enforcement.base import EnforcementRequest, Payload, targets


@targets.register("knot")
class KnotResolver:
    name = "knot"
    summary = "Knot Resolver policy (policy.rpz over the generated zone, or policy.suffix)"

    def build(self, request: EnforcementRequest) -> Payload:
        names = domains(request)
        mode = option(request, "mode", "rpz", ("rpz", "suffix"))
        directory = option(request, "dir", "/etc/knot-resolver")
        head = header(request, "--", "Knot Resolver policy: answer NXDOMAIN for banned names", len(names))
        files: dict[str, str | bytes]
        if mode == "rpz":
            lua = head + (f"policy.add(policy.rpz(policy.DENY_MSG('blocked by policy'), "
                          f"'{directory}/rpz.local.db', false))\n")
            files = {"kresd-policy.lua": lua, "rpz.local.db": rpz_zone(request, names)}
        else:
            quoted = ", ".join(f"'{d}'" for d in names)
            lua = head + (f"policy.add(policy.suffix(policy.DENY_MSG('blocked by policy'), "
                          f"policy.todnames({{{quoted}}})))\n")
            files = {"kresd-policy.lua": lua}
        return Payload(self.name, files, (*DNS_CAVEATS,
            f"Load it from kresd.conf with dofile('{directory}/kresd-policy.lua') before any forwarding policy; "
            "the third argument false of policy.rpz turns off file watching (needs lua-cqueues otherwise). / "
            "Chargez-le depuis kresd.conf avec dofile() avant toute règle de transfert.",))
