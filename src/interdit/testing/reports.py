"""A fixed `ReportData` to render a report format from: a small catalogue, findings in every state, two earlier
summaries, exceptions (one in force, one expired), review items, two inventory sources and network sightings
(two devices seen using a prohibited app, two addresses no device could be matched to). Figures are consistent
with each other, so a format's golden file reads like a real report.

    report_data() -> ReportData      the whole report; catalogue(), findings(), summary(), ... its parts
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from interdit.model import (
    AppFamily,
    AppId,
    Catalogue,
    Device,
    Directive,
    Finding,
    FindingKind,
    FindingState,
    Management,
    Ownership,
    Platform,
    PolicyException,
    Rule,
    RuleSummary,
    Scope,
    ScopeUnknown,
    Sighting,
    Source,
    SourceSummary,
    Summary,
    Vendor,
)
from interdit.reporting.base import ReportData

AS_OF = datetime(2023, 3, 15, tzinfo=UTC)
GENERATED = datetime(2023, 3, 15, 9, 30, tzinfo=UTC)
TIKTOK_ANDROID = AppId(Platform.ANDROID, "com.zhiliaoapp.musically")
TIKTOK_IOS = AppId(Platform.IOS, "com.zhiliaoapp.musically")
WECHAT_ANDROID = AppId(Platform.ANDROID, "com.tencent.mm")


def catalogue() -> Catalogue:
    vendors = {
        "bytedance": Vendor("bytedance", "ByteDance Ltd.", "CN"),
        "tencent": Vendor("tencent", "Tencent Holdings Ltd.", "CN"),
    }
    families = {
        "tiktok": AppFamily("tiktok", "TikTok", "bytedance", identifiers=(TIKTOK_ANDROID, TIKTOK_IOS),
                            domains=("tiktok.com",), category="social"),
        "wechat": AppFamily("wechat", "WeChat", "tencent", identifiers=(WECHAT_ANDROID,), category="messaging"),
    }
    directives = {
        "ca-tbs-2023-tiktok": Directive(
            id="ca-tbs-2023-tiktok", issuer="Treasury Board of Canada Secretariat", jurisdiction="CA",
            title={"en": "Removal and blocking of TikTok on government-issued mobile devices",
                   "fr": "Suppression et blocage de TikTok sur les appareils mobiles fournis par le gouvernement"},
            announced=date(2023, 2, 27), effective=date(2023, 2, 28), families=("tiktok",),
            sources=(Source("https://www.canada.ca/en/treasury-board-secretariat/news/2023/02/statement.html"),),
        ),
    }
    return Catalogue(schema_version=1, version="2023.03.1", build_date=date(2023, 3, 1), vendors=vendors,
                     families=families, directives=directives)


def rules() -> tuple[Rule, ...]:
    return (
        Rule("tiktok-ban", ("tiktok",), date(2023, 2, 28), directive="ca-tbs-2023-tiktok", scope=Scope()),
        Rule("wechat-interim", ("wechat",), date(2023, 3, 10), grace_days=14, interim=True,
             review_by=date(2023, 3, 20), description="Interim ban pending a security assessment"),
    )


def exceptions() -> tuple[PolicyException, ...]:
    return (
        PolicyException("EX-SOCIAL", ("tiktok",), approver="Director General, Communications",
                        reason="Official social media account", expires=date(2023, 6, 30),
                        devices=("mdm:D-0007",), safeguards=("dedicated device",), granted=date(2023, 2, 27),
                        review_by=date(2023, 4, 1)),
        PolicyException("EX-OLD", ("tiktok",), approver="Chief Information Officer", reason="Pilot",
                        expires=date(2023, 3, 10), devices=("mdm:D-0005",)),
    )


def finding(state: FindingState, device: str, rule: str, family: str | None, app: AppId | None, unit: str,
            *, deadline: date | None, first: datetime, exception: str | None = None,
            resolved: datetime | None = None, last: datetime | None = None, evidence: tuple[str, ...] = (),
            kind: FindingKind = FindingKind.INSTALLED) -> Finding:
    return Finding(
        id=Finding.make_id(kind, "mdm", device, rule, family, app, first), kind=kind, state=state, source="mdm",
        device_id=device, rule=rule, family=family, directive="ca-tbs-2023-tiktok" if family == "tiktok" else None,
        first_seen=first, last_seen=last or resolved or AS_OF, deadline=deadline,
        resolved_at=resolved, app=app, org_unit=unit, exception=exception, evidence=evidence,
    )


def findings() -> tuple[Finding, ...]:
    march1 = datetime(2023, 3, 1, tzinfo=UTC)
    tiktok_deadline, wechat_deadline = date(2023, 2, 28), date(2023, 3, 24)
    return (
        finding(FindingState.VIOLATION, "D-0001", "tiktok-ban", "tiktok", TIKTOK_ANDROID, "/Finance",
                deadline=tiktok_deadline, first=march1, evidence=("installed 1.2.3, seen 2023-03-15",)),
        finding(FindingState.VIOLATION, "D-0002", "wechat-interim", "wechat", WECHAT_ANDROID, "/Operations",
                deadline=wechat_deadline, first=march1),
        finding(FindingState.BLOCKED_PRESENT, "D-0003", "tiktok-ban", "tiktok", TIKTOK_IOS, "/Finance",
                deadline=tiktok_deadline, first=march1, evidence=("blocked by MDM, still installed",)),
        finding(FindingState.EXCEPTED, "D-0007", "tiktok-ban", "tiktok", TIKTOK_IOS, "/Communications",
                deadline=tiktok_deadline, first=march1, exception="EX-SOCIAL"),
        finding(FindingState.NOT_EVALUABLE, "D-0008", "tiktok-ban", None, None, "/Operations",
                deadline=tiktok_deadline, first=march1, evidence=("work profile: personal apps not visible",)),
        finding(FindingState.STALE, "D-0009", "tiktok-ban", None, None, "/Communications",
                deadline=tiktok_deadline, first=datetime(2023, 3, 2, tzinfo=UTC),
                last=datetime(2023, 3, 2, tzinfo=UTC)),
        finding(FindingState.VIOLATION, "D-0001", "tiktok-ban", "tiktok", None, "/Finance",
                deadline=tiktok_deadline, first=datetime(2023, 3, 13, 9, tzinfo=UTC),
                last=datetime(2023, 3, 13, 11, tzinfo=UTC), kind=FindingKind.USED,
                evidence=("7 look-up(s) of api.tiktokv.com from 10.10.0.21 in dnsmasq logs",)),
        finding(FindingState.VIOLATION, "D-0002", "wechat-interim", "wechat", None, "/Operations",
                deadline=wechat_deadline, first=datetime(2023, 3, 14, 8, tzinfo=UTC),
                last=datetime(2023, 3, 14, 8, 5, tzinfo=UTC), kind=FindingKind.USED),
        finding(FindingState.RESOLVED, "D-0004", "tiktok-ban", "tiktok", TIKTOK_ANDROID, "/Finance",
                deadline=tiktok_deadline, first=march1, resolved=datetime(2023, 3, 8, tzinfo=UTC)),
    )


def summary() -> Summary:
    return Summary(
        at=AS_OF, devices_total=1310, devices_in_scope=1240, compliant=1235,
        by_state={"violation": 2, "blocked_present": 1, "excepted": 1, "not_evaluable": 1, "stale": 1},
        by_family={"tiktok": 1, "wechat": 1},
        by_org_unit={"/Finance": (600, 598), "/Communications": (400, 399), "/Operations": (240, 238)},
        by_source={
            "jamf-gac": SourceSummary(devices=110, in_scope=90, compliant=90, violations=0, not_evaluable=0,
                                      stale=0, last_observed=datetime(2023, 3, 14, 22, 5, tzinfo=UTC),
                                      by_coverage={"full": 90}),
            "mdm": SourceSummary(devices=1200, in_scope=1150, compliant=1145, violations=2, not_evaluable=1,
                                 stale=1, last_observed=datetime(2023, 3, 14, 21, 40, tzinfo=UTC),
                                 by_coverage={"full": 1149, "partial": 1},
                                 not_evaluable_by_reason={"work_profile": 1}),
        },
        by_rule={
            "tiktok-ban": RuleSummary(directive="ca-tbs-2023-tiktok", effective=date(2023, 2, 28),
                                      deadline=date(2023, 2, 28), in_scope=1240, compliant=1236, violations=1,
                                      blocked_present=1, not_evaluable=1, stale=1),
            "wechat-interim": RuleSummary(directive=None, effective=date(2023, 3, 10), deadline=date(2023, 3, 24),
                                          in_scope=1240, compliant=1239, violations=1, blocked_present=0,
                                          not_evaluable=0, stale=0),
        },
        by_coverage={"full": 1239, "partial": 1}, not_evaluable_by_reason={"work_profile": 1},
        out_of_scope={"personal": 50, "scope_unknown": 18, "platform": 2},
        scope_unknown=(ScopeUnknown("tiktok", "intune-iphones", (("unit", "Communications"),), 1),
                       ScopeUnknown("tiktok", "csv", (), 1)),
    )


def sightings() -> tuple[Sighting, ...]:
    def seen(day: int, client: str, family: str, count: int, device: str | None = None) -> Sighting:
        at = datetime(2023, 3, day, 9, tzinfo=UTC)
        return Sighting(family, at.date(), client, at, at, count, "dnsmasq", f"api.{family}.example",
                        "mdm" if device else None, device)

    return (
        seen(13, "10.10.0.21", "tiktok", 7, "D-0001"),
        seen(14, "10.10.0.34", "wechat", 2, "D-0002"),
        seen(12, "192.0.2.77", "tiktok", 12),
        seen(14, "192.0.2.77", "tiktok", 3),
        seen(14, "198.51.100.9", "wechat", 4),
        seen(16, "198.51.100.200", "tiktok", 99),  # after the as-of date: not in this report
    )


def history() -> tuple[Summary, ...]:
    def point(day: int, in_scope: int, compliant: int) -> Summary:
        return Summary(at=datetime(2023, 3, day, tzinfo=UTC), devices_total=in_scope + 70,
                       devices_in_scope=in_scope, compliant=compliant, by_state={}, by_family={}, by_org_unit={})

    return (point(1, 1230, 1150), point(8, 1236, 1201))


def devices() -> dict[tuple[str, str], Device]:
    """Who holds the findings' devices, as an MDM tells it (D-0009 it told nothing of; D-0008 no owner)."""
    seen = datetime(2023, 3, 14, tzinfo=UTC)

    def device(device_id: str, platform: Platform, user: str | None, name: str, model: str | None,
               os_version: str | None) -> Device:
        return Device("mdm", device_id, platform, Ownership.CORPORATE, Management.FULLY_MANAGED, seen,
                      user=user, name=name, model=model, os_version=os_version)

    found = [device("D-0001", Platform.ANDROID, "marie.tremblay@finances.example.gouv.qc.ca", "FIN-PIXEL-0001",
                    "Pixel 7", "14"),
             device("D-0002", Platform.ANDROID, "Jean-François Côté", "OPS-GALAXY-0002", "Galaxy S23", "14"),
             device("D-0003", Platform.IOS, "a.nguyen@example.gc.ca", "iPhone de A. Nguyen", "iPhone 14", "17.3"),
             device("D-0004", Platform.ANDROID, "p.roy@example.gc.ca", "FIN-PIXEL-0004", "Pixel 6a", "13"),
             device("D-0007", Platform.IOS, "comms@example.gc.ca", "COMMS-IPAD-07", "iPad Air", "17.1"),
             device("D-0008", Platform.ANDROID, None, "OPS-WORK-0008", None, None)]
    return {d.key: d for d in found}


def report_data() -> ReportData:
    cat = catalogue()
    return ReportData(
        generated_at=GENERATED, as_of=AS_OF, organisation="Department of Examples", summary=summary(),
        history=history(), findings=findings(), rules=rules(), exceptions=exceptions(), catalogue=cat,
        review=(
            ("exception", "EX-OLD", date(2023, 3, 10), "expired on 2023-03-10"),
            ("rule", "wechat-interim", date(2023, 3, 20), "interim rule: review by 2023-03-20"),
            ("exception", "EX-SOCIAL", date(2023, 4, 1), "review by 2023-04-01"),
        ),
        catalogue_version=cat.version, sightings=sightings(), devices=devices(),
    )
