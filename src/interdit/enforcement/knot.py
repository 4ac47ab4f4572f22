"""Knot Resolver 5: `policy.rpz` over a generated zone (default) or `policy.suffix` rules (`mode=suffix`)."""

from __future__ import annotations

from interdit.enforcement._dns import (
    ANSWERS,
    SERIAL,
    SINKHOLE,
    SINKHOLE6,
    TTL,
    dir_option,
    directory,
    dns_caveats,
    domains,
    header,
    lua_string,
    mode_option,
    policy_option,
    rpz_zone,
    sinkhole_address,
    ttl,
)
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, say, targets


@targets.register
class KnotResolver:
    name = "knot"
    kind = "dns"
    summary = "Knot Resolver policy (policy.rpz over the generated zone, or policy.suffix)"

    options: tuple[Option, ...] = (mode_option("rpz", "suffix"), dir_option("/etc/knot-resolver"),
               policy_option("nxdomain", "nodata", "sinkhole"), SINKHOLE, SINKHOLE6, TTL, SERIAL)

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        names = domains(request)
        mode = request.options["mode"]
        folder = directory(request, "/etc/knot-resolver")
        action = request.options["policy"]
        head = header(request, "--", f"Knot Resolver policy: answer {ANSWERS[action]} for banned names", len(names))
        files: dict[str, str | bytes]
        if mode == "rpz":
            # The zone carries the answer (CNAME . / CNAME *. / A and AAAA); DENY_MSG is what CNAME . means.
            lua = head + (f"policy.add(policy.rpz(policy.DENY_MSG('blocked by policy'), "
                          f"{lua_string(folder + '/rpz.local.db', chr(39))}, false))\n")
            files = {"kresd-policy.lua": lua, "rpz.local.db": rpz_zone(request, names, action=action)}
        else:
            if action == "sinkhole":
                v4, v6 = sinkhole_address(request)
                seconds = ttl(request)
                # nodata=true: a banned name asked for another type gets NODATA, never the real answer
                deny = (f"policy.ANSWER({{[kres.type.A] = {{rdata=kres.str2ip({lua_string(v4, chr(39))}), "
                        f"ttl={seconds}}}, [kres.type.AAAA] = {{rdata=kres.str2ip({lua_string(v6, chr(39))}), "
                        f"ttl={seconds}}}}}, true)")
            elif action == "nodata":
                deny = "policy.ANSWER({}, true)"  # what Knot Resolver 5 does for the RPZ NODATA action (CNAME *.)
            else:
                deny = "policy.DENY_MSG('blocked by policy')"
            quoted = ", ".join(lua_string(d, "'") for d in names)
            lua = head + f"policy.add(policy.suffix({deny}, policy.todnames({{{quoted}}})))\n"
            files = {"kresd-policy.lua": lua}
        load = f"dofile('{folder}/kresd-policy.lua')"
        return Payload(self.name, files, (
            *dns_caveats(request), say(request.lang, "knot.load", load=load)))
