"""Requests to build an enforcement payload from, one per kind of target, fixed so payloads are reproducible.

    dns_request(**options)   names to block: an apex with its www, a mixed-case name with a trailing dot, a
                             CDN name, a short brand domain and an internationalised name (for punycode)
    mdm_request(options=...) apps to block: TikTok, WeChat (Android and iOS) and a Kaspersky vendor prefix,
                             with an exception in force (by device and group) and an expired one
    request_for(kind)        the request the golden files of a target of that kind (`Target.kind`) are built from
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from interdit.enforcement.base import EnforcementRequest
from interdit.model import AppFamily, AppId, Catalogue, Platform, Policy, PolicyException, Rule, Vendor

AND, IOS = Platform.ANDROID, Platform.IOS

DOMAINS = ("tiktok.com", "www.tiktok.com", "TikTokV.com.", "tiktokcdn.com", "musical.ly", "bücher-tiktok.example")


def dns_request(domains: tuple[str, ...] = DOMAINS, *, organisation: str = "Ministère de l'Exemple",
                families: tuple[str, ...] = ("tiktok",), version: str = "2026.11",
                **options: str) -> EnforcementRequest:
    cat = Catalogue(schema_version=1, version=version, build_date=date(2023, 1, 15), vendors={}, families={},
                    directives={})
    policy = Policy(organisation, (Rule("tiktok-ban", families, date(2023, 2, 28)),))
    return EnforcementRequest(policy, cat, datetime(2023, 3, 1, 12, tzinfo=UTC), families, (), (), domains,
                              options)


def mdm_catalogue() -> Catalogue:
    families = {
        "tiktok": AppFamily("tiktok", "TikTok", "bytedance", identifiers=(
            AppId(AND, "com.zhiliaoapp.musically"), AppId(IOS, "com.zhiliaoapp.musically"),
            AppId(AND, "com.ss.android.ugc.trill"), AppId(IOS, "com.ss.iphone.ugc.Ame"))),
        "wechat": AppFamily("wechat", "WeChat", "tencent", identifiers=(AppId(AND, "com.tencent.mm"),
                                                                        AppId(IOS, "com.tencent.xin"))),
        "kaspersky": AppFamily("kaspersky", "Kaspersky", "kaspersky", identifiers=(AppId(AND, "com.kms.free"),),
                               prefixes=(AppId(AND, "com.kaspersky"),)),
    }
    vendors = {v: Vendor(v, v.title(), "CN") for v in ("bytedance", "tencent", "kaspersky")}
    return Catalogue(1, "test", date(2025, 1, 1), vendors, families, {})


def mdm_request(*, exceptions: tuple[PolicyException, ...] | None = None, options: dict[str, str] | None = None,
                extra_ios: int = 0) -> EnforcementRequest:
    cat = mdm_catalogue()
    if exceptions is None:
        exceptions = (PolicyException("EXC-1", ("tiktok",), "Deputy Minister", "official account",
                                      date(2026, 1, 1), devices=("intune:I0000042",), groups=("/Comms/Social",),
                                      safeguards=("location off",)),
                      PolicyException("EXC-OLD", ("wechat",), "CIO", "expired", date(2024, 1, 1), users=("a@b",)))
    policy = Policy("Example Department", (Rule("r1", ("tiktok", "wechat", "kaspersky"), date(2023, 2, 28)),),
                    exceptions)
    apps = sorted({a for f in cat.families.values() for a in f.identifiers})
    apps += [AppId(IOS, f"com.example.banned{i:03d}") for i in range(extra_ios)]
    prefixes = tuple(p for f in cat.families.values() for p in f.prefixes)
    return EnforcementRequest(policy, cat, datetime(2025, 3, 1, tzinfo=UTC), ("kaspersky", "tiktok", "wechat"),
                              tuple(apps), prefixes, ("tiktok.com",), options or {})


def request_for(kind: str) -> EnforcementRequest:
    """The request golden files are built from for a target of `kind` ("dns" or "mdm")."""
    return mdm_request() if kind == "mdm" else dns_request()
