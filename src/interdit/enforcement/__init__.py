"""Enforcement: the policy turned into MDM payloads and DNS or proxy configurations, one module per target.

What a target module may use (see docs/guides/add-an-enforcement-target.md):

    targets                          the registry: `@targets.register` on a class with `name`, `kind`, `summary`,
                                     `options` and `build(request) -> Payload`
    Target, TARGET_KINDS             what a target is; its `kind` is "dns" (a resolver or proxy) or "mdm"
    EnforcementRequest, Payload      what `build` is given (policy, catalogue, now, families, apps, prefixes,
                                     domains, options, lang) and what it returns (files, caveats, media type)
    Option, checks_options           a declared `--option`, and the decorator that checks them around `build`
    comment_text                     a value made safe to write on one line of a comment
    DNS targets:   domains, header, policy_option, sinkhole_address, ttl, SINKHOLE, SINKHOLE6, TTL, dns_caveats
    MDM targets:   apps_for, prefixes_for, active_exceptions, exception_note, stable_uuid, dump_json,
                   dump_plist, IDENTIFIER
    say, count                       a message `enforce.<key>` of the catalogues in the request's language
"""

from interdit.enforcement._dns import (
    SINKHOLE,
    SINKHOLE6,
    TTL,
    dns_caveats,
    domains,
    header,
    policy_option,
    sinkhole_address,
    ttl,
)
from interdit.enforcement._mdm import (
    IDENTIFIER,
    active_exceptions,
    apps_for,
    dump_json,
    dump_plist,
    exception_note,
    prefixes_for,
    stable_uuid,
)
from interdit.enforcement.base import (
    TARGET_KINDS,
    EnforcementRequest,
    Option,
    Payload,
    Target,
    checks_options,
    comment_text,
    count,
    say,
    targets,
)

__all__ = [
    "IDENTIFIER",
    "SINKHOLE",
    "SINKHOLE6",
    "TARGET_KINDS",
    "TTL",
    "EnforcementRequest",
    "Option",
    "Payload",
    "Target",
    "active_exceptions",
    "apps_for",
    "checks_options",
    "comment_text",
    "count",
    "dns_caveats",
    "domains",
    "dump_json",
    "dump_plist",
    "exception_note",
    "header",
    "policy_option",
    "prefixes_for",
    "say",
    "sinkhole_address",
    "stable_uuid",
    "targets",
    "ttl",
]
