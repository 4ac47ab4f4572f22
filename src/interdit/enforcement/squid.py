"""Squid: `dstdomain` ACLs (CONNECT and plain HTTP) and `ssl::server_name` ACLs (the TLS SNI, with ssl_bump peek)."""

from __future__ import annotations

from interdit.enforcement._dns import domains, header
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, targets


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
        return Payload(self.name, {"squid-banned.conf": dst, "squid-banned-sni.conf": sni}, (
            "Only traffic sent through the proxy is filtered: devices that reach the internet directly, or apps "
            "that ignore the proxy setting, are not. / Seul le trafic qui passe par le mandataire est filtré.",
            "The SNI file needs a Squid built with OpenSSL (Debian: squid-openssl) and an ssl-bump http_port; "
            "with Encrypted Client Hello the SNI shows only the outer name. / Le fichier SNI exige Squid avec "
            "OpenSSL (squid-openssl) ; avec ECH, le SNI ne montre que le nom externe.",
            "Check with squid -k parse. / Vérifiez avec squid -k parse.",
        ))
