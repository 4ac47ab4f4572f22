"""From an analysis report to what the policy needs (`model.AppEvidence`), and catalogue owners for endpoints.

Vendor ids are the catalogue's (`bytedance`, `tencent`, ...). A vendor with a parent in the catalogue
(`tiktok-pte` under `bytedance`) also counts as its parents, so a rule naming the parent catches it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from interdit.analysis.report import (
    AppReport,
    DirectiveMatch,
    Endpoint,
    FamilyMatch,
    Matches,
    SdkMatch,
    VendorMatch,
)
from interdit.catalogue import family_for_app, owner_of_domain, vendor_chain
from interdit.model import AppEvidence, AppId, Catalogue, Platform

_EVIDENCE = 5  # evidence pointers kept per family match

# The vendors whose SDKs and endpoints are flagged when no catalogue says otherwise: those of the
# directives interdit was built for (TikTok/ByteDance, WeChat/Tencent, Kaspersky, DeepSeek).
DEFAULT_PROHIBITED = frozenset(("bytedance", "tencent", "kaspersky", "deepseek"))


def prohibited_vendors(cat: Catalogue) -> frozenset[str]:
    """Vendor ids whose apps some directive of the catalogue prohibits (and their parents)."""
    out: set[str] = set()
    for directive in cat.directives.values():
        for vid in directive.vendors:
            out.update(vendor_chain(cat, vid) or (vid,))
        for fid in directive.families:
            family = cat.families.get(fid)
            if family is not None:
                out.update(vendor_chain(cat, family.vendor) or (family.vendor,))
    return frozenset(out)


def with_catalogue_owners(endpoints: Iterable[Endpoint], cat: Catalogue | None,
                          prohibited: frozenset[str]) -> tuple[Endpoint, ...]:
    """Fill each endpoint's owner and country from the catalogue where the signature data did not, and flag
    the endpoints of prohibited vendors."""
    out = []
    for e in endpoints:
        if cat is not None and not e.owner_id:
            owner = owner_of_domain(cat, e.host)
            if owner is not None:
                e = replace(e, owner=owner[1], owner_id=owner[1])
        if cat is not None and e.owner_id in cat.vendors:  # the catalogue's name and country for its vendors
            vendor = cat.vendors[e.owner_id]
            e = replace(e, owner=vendor.name, country=vendor.country)
        chain = _chain(cat, e.owner_id)
        out.append(replace(e, prohibited=bool(prohibited & set(chain)), owner_chain=chain))
    return tuple(out)


def _chain(cat: Catalogue | None, vendor_id: str) -> tuple[str, ...]:
    if not vendor_id:
        return ()
    if cat is None:
        return (vendor_id,)
    return vendor_chain(cat, vendor_id) or (vendor_id,)


def _sdk_chain(cat: Catalogue | None, sdk: SdkMatch) -> tuple[str, ...]:
    """The SDK's vendor, its parents in the catalogue, and the parent company the vendor table names."""
    chain = _chain(cat, sdk.vendor_id)
    parents = _chain(cat, sdk.parent_id)
    return chain + tuple(p for p in parents if p not in chain)


def flag_report(report: AppReport, cat: Catalogue | None, prohibited: frozenset[str]) -> AppReport:
    """The report with catalogue owners on endpoints, prohibited vendors flagged on SDKs and endpoints, and
    the catalogue families, vendors and directives the app matches."""
    sdks = []
    for s in report.sdks:
        if cat is not None and s.vendor_id in cat.vendors:
            vendor = cat.vendors[s.vendor_id]
            s = replace(s, vendor=vendor.name, country=vendor.country)
        sdks.append(replace(s, prohibited=bool(prohibited & set(_sdk_chain(cat, s)))))
    flagged = replace(report, sdks=tuple(sdks), endpoints=with_catalogue_owners(report.endpoints, cat, prohibited))
    return replace(flagged, matches=match_catalogue(flagged, cat)) if cat is not None else flagged


def match_catalogue(report: AppReport, cat: Catalogue) -> Matches:
    """The catalogue families the app matches, the vendors involved and the directives prohibiting them.

    A family matches by the app's package (an identifier of the family, kind `package`, or under one of its
    vendor prefixes such as `com.kaspersky`, kind `vendor-prefix`), or by an endpoint on one of the family's
    own domains (kind `endpoint`). A bundled SDK or an endpoint owned by a vendor names the VENDOR (and its
    parents), not the vendor's apps: an app that bundles ByteDance's ad SDK is not TikTok, but ByteDance code
    in it is reported, and a directive that bans the vendor's products wholesale (as the Kaspersky ones do)
    is listed. SDKs only referenced are weaker evidence and name no vendor here. Endpoints must carry their
    catalogue owner (`with_catalogue_owners`).
    """
    found: dict[tuple[str, str], list[str]] = {}  # (family id, kind) -> evidence

    def add(fid: str, kind: str, pointer: str) -> None:
        evidence = found.setdefault((fid, kind), [])
        if pointer not in evidence and len(evidence) < _EVIDENCE:
            evidence.append(pointer)

    vendor_ids: set[str] = set()
    package = report.identity.package
    if package:
        app = AppId(platform_of(report), package)
        family = family_for_app(cat, app)
        if family is not None:
            add(family.id, "package" if app in family.identifiers else "vendor-prefix",
                f"package {package} (AndroidManifest.xml)")
    for s in report.sdks:
        if s.bundled and s.vendor_id:
            vendor_ids.update(v for v in _sdk_chain(cat, s) if v in cat.vendors)
    for e in report.endpoints:
        vendor_ids.update(v for v in e.owner_chain if v in cat.vendors)
        owner = owner_of_domain(cat, e.host)
        if owner is not None:
            add(owner[0], "endpoint", f"endpoint {e.value} ({e.where})")
    families = tuple(FamilyMatch(fid, cat.families[fid].name, cat.families[fid].vendor, kind, tuple(evidence))
                     for (fid, kind), evidence in sorted(found.items()))
    family_ids = {f.family_id for f in families}
    for f in families:
        vendor_ids.update(vendor_chain(cat, f.vendor_id))
    vendors = tuple(VendorMatch(v.id, v.name, v.country, v.parent)
                    for v in sorted((cat.vendors[i] for i in vendor_ids), key=lambda v: v.id))
    directives = []
    for d in sorted(cat.directives.values(), key=lambda d: (d.effective, d.id)):
        fams = tuple(f for f in d.families if f in family_ids)
        vends = tuple(v for v in d.vendors if v in vendor_ids)
        if fams or vends:
            directives.append(DirectiveMatch(d.id, d.issuer, dict(d.title), d.effective.isoformat(), fams, vends))
    return Matches(families, vendors, tuple(directives), cat.version)


def app_id(report: AppReport) -> AppId:
    """The app a report is about: its package name, or `sha256:<digest>` when the manifest names none."""
    return AppId(platform_of(report), report.identity.package or f"sha256:{report.identity.sha256}")


def platform_of(report: AppReport) -> Platform:
    """The inventory platform of a report's app: iOS for every Apple platform (iPhone, iPad, TV, watch)."""
    return Platform.ANDROID if report.identity.platform == "android" else Platform.IOS


def evidence(report: AppReport, catalogue: Catalogue | None, *, analyzed_at: datetime | None = None) -> AppEvidence:
    """What the policy needs from a report: the vendor ids of the SDKs the APK bundles (not those it merely
    references) and of the owners of its endpoints, each with the vendor's parents in the catalogue."""
    sdk_vendors: set[str] = set()
    for s in report.sdks:
        if s.bundled and s.vendor_id:
            sdk_vendors.update(_sdk_chain(catalogue, s))
    endpoint_vendors: set[str] = set()
    for e in with_catalogue_owners(report.endpoints, catalogue, frozenset()):
        endpoint_vendors.update(_chain(catalogue, e.owner_id))
    version = report.identity.version_name or (
        str(report.identity.version_code) if report.identity.version_code is not None else None)
    return AppEvidence(app=app_id(report), sha256=report.identity.sha256, version=version,
                       verdict=report.score.verdict if report.score else "needs_review",
                       sdk_vendors=tuple(sorted(sdk_vendors)), endpoint_vendors=tuple(sorted(endpoint_vendors)),
                       analyzed_at=analyzed_at)
