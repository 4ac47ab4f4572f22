"""Squid: `dstdomain` ACLs (CONNECT and plain HTTP) and `ssl::server_name` ACLs (the TLS SNI, with ssl_bump peek)."""

from __future__ import annotations

from interdit.enforcement._dns import domains, header
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, say, targets


@targets.register
class Squid:
    name = "squid"
    kind = "dns"
    summary = "Squid dstdomain deny ACL, and an SNI (ssl::server_name) ACL for squid-openssl"

    options: tuple[Option, ...] = ()

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        names = domains(request)
        acl = "".join(f"acl interdit_banned dstdomain .{d}\n" for d in names)
        dst = header(request, "#", "Squid: deny banned names (include before your http_access allow lines)",
                     len(names)) + acl + "http_access deny interdit_banned\n"
        sni = (header(request, "#", "Squid with OpenSSL (squid-openssl): refuse TLS by SNI after peeking",
                      len(names))
               + "".join(f"acl interdit_banned_sni ssl::server_name .{d}\n" for d in names)
               + "acl interdit_step1 at_step SslBump1\n"
               + "ssl_bump peek interdit_step1\n"
               + "ssl_bump terminate interdit_banned_sni\n"
               + "ssl_bump splice all\n")
        return Payload(self.name, {"squid-banned.conf": dst, "squid-banned-sni.conf": sni}, tuple(
            say(request.lang, key) for key in ("squid.proxy-only", "squid.sni", "squid.check")))
