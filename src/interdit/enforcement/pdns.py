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
            # The Recursor only logs an RPZ file it cannot open and then resolves unfiltered: fail closed.
            lua = (header(request, "--", "PowerDNS Recursor lua-config-file: load the RPZ", len(names))
                   + f'local interdit_rpz = "{directory}/rpz.local.db"\n'
                   + "local interdit_file = io.open(interdit_rpz, \"r\")\n"
                   + "if interdit_file == nil then\n"
                   + "  error(\"cannot read \" .. interdit_rpz .. \": refusing to resolve without the block list\")\n"
                   + "end\n"
                   + "interdit_file:close()\n"
                   + 'rpzFile(interdit_rpz, {policyName="interdit-banned-apps"})\n')
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
