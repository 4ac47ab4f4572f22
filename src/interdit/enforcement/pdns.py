"""PowerDNS Recursor: an RPZ loaded with `rpzFile()` (default), or a Lua `preresolve` hook (`mode=lua`)."""

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
class PowerDnsRecursor:
    name = "pdns"
    kind = "dns"
    summary = "PowerDNS Recursor: RPZ via rpzFile() (lua-config-file), or a Lua preresolve script"

    options: tuple[Option, ...] = (mode_option("rpz", "lua"), dir_option("/etc/powerdns"),
               policy_option("nxdomain", "nodata", "sinkhole"), SINKHOLE, SINKHOLE6, TTL, SERIAL)

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        names = domains(request)
        mode = request.options["mode"]
        folder = directory(request, "/etc/powerdns")
        action = request.options["policy"]
        files: dict[str, str | bytes]
        if mode == "rpz":
            # The Recursor only logs an RPZ file it cannot open and then resolves unfiltered: fail closed.
            lua = (header(request, "--", "PowerDNS Recursor lua-config-file: load the RPZ", len(names))
                   + f"local interdit_rpz = {lua_string(folder + '/rpz.local.db')}\n"
                   + "local interdit_file = io.open(interdit_rpz, \"r\")\n"
                   + "if interdit_file == nil then\n"
                   + "  error(\"cannot read \" .. interdit_rpz .. \": refusing to resolve without the block list\")\n"
                   + "end\n"
                   + "interdit_file:close()\n"
                   + 'rpzFile(interdit_rpz, {policyName="interdit-banned-apps"})\n')
            files = {"pdns-recursor-rpz.lua": lua, "rpz.local.db": rpz_zone(request, names, action=action)}
            how = "recursor.conf: lua-config-file=" + folder + "/pdns-recursor-rpz.lua"
        else:
            entries = "".join(f"  {lua_string(d)},\n" for d in names)
            if action == "sinkhole":
                v4, v6 = sinkhole_address(request)
                seconds = ttl(request)
                answer = ("    dq.rcode = pdns.NOERROR\n"
                          "    if dq.qtype == pdns.A then\n"
                          f"      dq:addAnswer(pdns.A, {lua_string(v4)}, {seconds})\n"
                          "    elseif dq.qtype == pdns.AAAA then\n"
                          f"      dq:addAnswer(pdns.AAAA, {lua_string(v6)}, {seconds})\n"
                          "    end\n")
            else:
                answer = f"    dq.rcode = pdns.{'NXDOMAIN' if action == 'nxdomain' else 'NOERROR'}\n"
            lua = (header(request, "--", f"PowerDNS Recursor lua-dns-script: {ANSWERS[action]} for banned names",
                          len(names))
                   + "interdit_banned = newDS()\ninterdit_banned:add({\n" + entries + "})\n\n"
                   + "function preresolve(dq)\n"
                   + "  if interdit_banned:check(dq.qname) then\n"
                   + answer
                   + "    return true\n"
                   + "  end\n"
                   + "  return false\n"
                   + "end\n")
            files = {"pdns-recursor-block.lua": lua}
            how = "recursor.conf: lua-dns-script=" + folder + "/pdns-recursor-block.lua"
        return Payload(self.name, files, (*dns_caveats(request), say(request.lang, "pdns.load", how=how)))
