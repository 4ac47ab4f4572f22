"""From an analysis report to what the policy needs (`model.AppEvidence`), and catalogue owners for endpoints.

Vendor ids are the catalogue's (`bytedance`, `tencent`, ...). A vendor with a parent in the catalogue
(`tiktok-pte` under `bytedance`) also counts as its parents, so a rule naming the parent catches it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from interdit.analysis.report import AppReport, Endpoint
from interdit.catalogue import owner_of_domain, vendor_chain
from interdit.model import AppEvidence, AppId, Catalogue, Platform

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


def flag_report(report: AppReport, cat: Catalogue | None, prohibited: frozenset[str]) -> AppReport:
    """The report with catalogue owners on endpoints and prohibited vendors flagged on SDKs and endpoints."""
    sdks = []
    for s in report.sdks:
        if cat is not None and s.vendor_id in cat.vendors:
            vendor = cat.vendors[s.vendor_id]
            s = replace(s, vendor=vendor.name, country=vendor.country)
        sdks.append(replace(s, prohibited=bool(prohibited & set(_chain(cat, s.vendor_id)))))
    return replace(report, sdks=tuple(sdks), endpoints=with_catalogue_owners(report.endpoints, cat, prohibited))


def app_id(report: AppReport) -> AppId:
    """The app a report is about: its package name, or `sha256:<digest>` when the manifest names none."""
    return AppId(Platform.ANDROID, report.identity.package or f"sha256:{report.identity.sha256}")


def evidence(report: AppReport, catalogue: Catalogue | None, *, analyzed_at: datetime | None = None) -> AppEvidence:
    """What the policy needs from a report: the vendor ids of the SDKs the APK bundles (not those it merely
    references) and of the owners of its endpoints, each with the vendor's parents in the catalogue."""
    sdk_vendors: set[str] = set()
    for s in report.sdks:
        if s.bundled and s.vendor_id:
            sdk_vendors.update(_chain(catalogue, s.vendor_id))
    endpoint_vendors: set[str] = set()
    for e in with_catalogue_owners(report.endpoints, catalogue, frozenset()):
        endpoint_vendors.update(_chain(catalogue, e.owner_id))
    version = report.identity.version_name or (
        str(report.identity.version_code) if report.identity.version_code is not None else None)
    return AppEvidence(app=app_id(report), sha256=report.identity.sha256, version=version,
                       verdict=report.score.verdict if report.score else "needs_review",
                       sdk_vendors=tuple(sorted(sdk_vendors)), endpoint_vendors=tuple(sorted(endpoint_vendors)),
                       analyzed_at=analyzed_at)
