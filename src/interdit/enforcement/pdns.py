"""PowerDNS Recursor: an RPZ loaded with `rpzFile()` (default), or a Lua `preresolve` hook (`mode=lua`)."""

from __future__ import annotations

from interdit.enforcement._dns import DNS_CAVEATS, domains, header, option, rpz_zone
from interdit.enforcement.base import EnforcementRequest, Payload, targets


@targets.register("pdns")
class PowerDnsRecursor:
    name = "pdns"
    summary = "PowerDNS Recursor: RPZ via rpzFile() (lua-config-file), or a Lua preresolve script"

    def build(self, request: EnforcementRequest) -> Payload:
        names = domains(request)
        mode = option(request, "mode", "rpz", ("rpz", "lua"))
        directory = option(request, "dir", "/etc/powerdns")
        if mode == "rpz":
            lua = (header(request, "--", "PowerDNS Recursor lua-config-file: load the RPZ", len(names))
                   + f'rpzFile("{directory}/rpz.local.db", {{policyName="interdit-banned-apps"}})\n')
            files: dict[str, str | bytes] = {"pdns-recursor-rpz.lua": lua, "rpz.local.db": rpz_zone(request, names)}
            how = "recursor.conf: lua-config-file=" + directory + "/pdns-recursor-rpz.lua"
        else:
            entries = "".join(f'  "{d}",\n' for d in names)
            lua = (header(request, "--", "PowerDNS Recursor lua-dns-script: NXDOMAIN for banned names", len(names))
                   + "interdit_banned = newDS()\ninterdit_banned:add({\n" + entries + "})\n\n"
                   + "function preresolve(dq)\n"
                   + "  if interdit_banned:check(dq.qname) then\n"
                   + "    dq.rcode = pdns.NXDOMAIN\n"
                   + "    return true\n"
                   + "  end\n"
                   + "  return false\n"
                   + "end\n")
            files = {"pdns-recursor-block.lua": lua}
            how = "recursor.conf: lua-dns-script=" + directory + "/pdns-recursor-block.lua"
        return Payload(self.name, files, (*DNS_CAVEATS, f"Load it with {how}. / Chargez-le avec {how}.",))
