"""Catalogue matches (families, vendors, directives) and the shipped SDK vendor table (data/sdk-vendors.json)."""

from __future__ import annotations

import json
import re
from functools import cache

import pytest
from analysis_shared import SHARED as SHARED_ROOT

from interdit.analysis.batch import AnalysisSettings, analyze_one, make_context
from interdit.analysis.report import AppReport, report_from_json
from interdit.analysis.sdks import VENDOR_TABLE, load_signatures, load_vendor_table

DATA = SHARED_ROOT / "data"
APKS = DATA / "apk"
SIGNATURES = DATA / "sdk-signatures"
needs_corpus = pytest.mark.skipif(not APKS.is_dir() or not SIGNATURES.is_dir(), reason="shared corpus absent")


@cache
def _report(name: str) -> AppReport:
    ctx = make_context(AnalysisSettings(signatures_dir=str(SIGNATURES)))
    return analyze_one(APKS / name, ctx)


def _tiktok_like() -> list[str]:
    """Corpus files whose package, notes or previous tracker scan point at TikTok/ByteDance."""
    names = []
    for line in (APKS / "corpus.tsv").read_text("utf-8").splitlines()[1:]:
        if re.search(r"tiktok|bytedance|douyin|pangle", line, re.IGNORECASE):
            names.append(line.split("\t", 1)[0])
    return names


@needs_corpus
def test_tiktok_like_apks_match_the_bytedance_family_their_endpoints_belong_to() -> None:
    names = _tiktok_like()
    assert names, "the corpus has TikTok-like APKs"
    bytedance_families = {"tiktok", "douyin", "bytedance-infrastructure"}
    for name in names:
        m = _report(name).matches
        families = {f.family_id for f in m.families}
        assert families & bytedance_families, name
        assert {f.kind for f in m.families if f.family_id in bytedance_families} <= {"package", "vendor-prefix",
                                                                                     "endpoint"}
        assert all(f.evidence for f in m.families)
        # the bundled SDK names its vendor, never a family by itself: the app is not TikTok for carrying it
        report = _report(name)
        assert any(s.bundled and s.vendor_id in ("bytedance", "tiktok-pte") for s in report.sdks)
        endpoint = next(f for f in m.families if f.kind == "endpoint")
        assert endpoint.evidence[0].startswith("endpoint ")
        vendors = {v.id: v for v in m.vendors}
        assert vendors["bytedance"].country == "CN"
        # ByteDance's shared hosts (api.snssdk.com) are a family of their own: the Canadian directive, which bans
        # TikTok alone, is matched only by an app that talks to TikTok's own names
        directives = {d.id: d for d in m.directives}
        assert ("ca-tbs-2023-tiktok" in directives) == ("tiktok" in families), name
        assert any(set(d.families) & families or "bytedance" in d.vendors for d in directives.values()), name


@needs_corpus
@pytest.mark.parametrize("name", ["ag__hello-world.apk", "fd__urzip.apk", "qk__diva.apk"])
def test_benign_apk_matches_nothing(name: str) -> None:
    m = _report(name).matches
    assert m.catalogue_version and not m.families and not m.vendors and not m.directives


@needs_corpus
def test_matches_survive_json_and_show_in_every_format() -> None:
    from interdit.analysis.render import render

    report = _report("tt__opensdk-OpenSdkDemo.apk")
    assert report_from_json(json.loads(json.dumps(report.to_json()))) == report
    for lang, heading in (("en", "Catalogue matches"), ("fr", "Correspondances dans le catalogue")):
        for fmt in ("table", "html"):
            text = render([report], fmt, lang)
            assert heading in text and "douyin" in text and "tw-2022-prc-apps" in text, (fmt, lang)
        sarif = json.loads(render([report], "sarif", lang))
        assert any(r["ruleId"] == "catalogue.family" and r["properties"]["family_id"] == "douyin"
                   for r in sarif["runs"][0]["results"])


@needs_corpus
def test_package_and_vendor_prefix_matches() -> None:
    from dataclasses import replace

    from interdit.analysis.evidence import match_catalogue
    from interdit.catalogue import load_catalogue

    cat = load_catalogue()
    base = _report("ag__hello-world.apk")
    tiktok_id = next(a.identifier for a in cat.families["tiktok"].identifiers if a.platform.value == "android")
    for package, family, kind in ((tiktok_id, "tiktok", "package"),
                                  ("com.kaspersky.example.app", "kaspersky", "vendor-prefix")):
        m = match_catalogue(replace(base, identity=replace(base.identity, package=package)), cat)
        assert [(f.family_id, f.kind) for f in m.families] == [(family, kind)]
        assert m.families[0].evidence == (f"package {package} (AndroidManifest.xml)",)
        assert any(family in d.families for d in m.directives)


# --------------------------------------------------------------------------------------------------
# the SDK vendor table


def _exodus() -> dict[str, dict[str, object]]:
    raw = json.loads((SIGNATURES / "exodus_trackers.json").read_text("utf-8"))
    return dict(raw.get("trackers", raw))


def test_vendor_table_is_well_formed() -> None:
    data = json.loads(VENDOR_TABLE.read_text("utf-8"))
    assert data["schema_version"] == 1 and data["about"]
    ids = [row["exodus_id"] for row in data["trackers"]]
    assert len(ids) == len(set(ids))
    for row in data["trackers"]:
        assert row["vendor"] and re.fullmatch(r"[a-z0-9-]+", row["vendor_id"]), row
        assert row["confidence"] in ("high", "medium", "low"), row
        assert row["source"].startswith(("http://", "https://")), row
        if row["country"]:
            assert re.fullmatch(r"[A-Z]{2}", row["country"]), row
        else:
            assert row["confidence"] == "low" and row["country_unknown"], row
        assert ("parent" in row) == ("parent_id" in row), row


@pytest.mark.skipif(not SIGNATURES.is_dir(), reason="shared signatures absent")
def test_every_exodus_signature_resolves_to_a_vendor_and_country() -> None:
    table = load_vendor_table()
    trackers = _exodus()
    assert set(table) == {int(t.get("id", k)) for k, t in trackers.items()}  # type: ignore[call-overload]
    for key, t in trackers.items():
        row = table[int(t.get("id", key))]  # type: ignore[call-overload]
        assert row.vendor and row.vendor_id, t["name"]
        assert row.country or row.country_unknown, t["name"]
        assert row.source == (t.get("website") or ""), t["name"]
    sigs = load_signatures(SIGNATURES)
    exodus = [s for s in sigs.signatures if s.source == "exodus"]
    assert exodus and all(s.vendor for s in exodus)
    unknown = [s.name for s in exodus if not s.country]
    assert len(unknown) <= 20, unknown


@pytest.mark.skipif(not SIGNATURES.is_dir(), reason="shared signatures absent")
@pytest.mark.parametrize(("tracker", "vendor_id", "country"), [
    ("Google AdMob", "google", "US"), ("Google Firebase Analytics", "google", "US"),
    ("Google CrashLytics", "google", "US"), ("Facebook Ads", "meta", "US"), ("Facebook Login", "meta", "US"),
    ("Pangle", "bytedance", "CN"), ("AppsFlyer", "appsflyer", "IL"), ("Adjust", "adjust", "DE"),
    ("Yandex Ad", "yandex", "RU"), ("AppMetrica", "yandex", "RU"), ("Tencent MTA", "tencent", "CN"),
    ("Bugly", "tencent", "CN"), ("Huawei Mobile Services (HMS) Core", "huawei", "CN"), ("Baidu Maps", "baidu", "CN"),
    ("Umeng Analytics", "umeng", "CN"), ("myTracker", "vk", "RU"), ("Unity3d Ads", "unity", "US"),
    ("Sentry", "sentry", "US"), ("Criteo", "criteo", "FR"), ("InMobi", "inmobi", "IN"),
])
def test_known_vendors(tracker: str, vendor_id: str, country: str) -> None:
    sigs = {s.name.lower(): s for s in load_signatures(SIGNATURES).signatures if s.source == "exodus"}
    sig = sigs[tracker.lower()]
    assert (sig.vendor_id, sig.country) == (vendor_id, country)


@pytest.mark.skipif(not SIGNATURES.is_dir(), reason="shared signatures absent")
def test_parents_are_kept_and_count_for_the_policy() -> None:
    sigs = {s.name: s for s in load_signatures(SIGNATURES).signatures if s.source == "exodus"}
    assert (sigs["Umeng Analytics"].parent_id, sigs["Google AdMob"].parent_id) == ("alibaba", "alphabet")
    assert sigs["Adjust"].parent == "AppLovin"


@needs_corpus
def test_tiktok_login_sdk_is_still_not_pangle() -> None:
    sdks = _report("tt__opensdk-OpenSdkDemo.apk").sdks
    assert [s.name for s in sdks if "pangle" in s.name.lower()] == []
    assert any("OpenSDK" in s.name and s.vendor_id == "bytedance" for s in sdks)
