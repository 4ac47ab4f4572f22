"""Analysis reports to render an analysis output from: one APK with a claim of every kind, and one file that is
not an APK at all (no identity, one problem, a verdict all the same).

    sample_app_report(), broken_app_report() -> AppReport
"""

from __future__ import annotations

from dataclasses import replace

from interdit.analysis.permissions import describe
from interdit.analysis.report import (
    AppReport,
    Certificate,
    Component,
    DirectiveMatch,
    Endpoint,
    FamilyMatch,
    Identity,
    Matches,
    Problem,
    SdkMatch,
    Signing,
    VendorMatch,
    Weakness,
)
from interdit.analysis.score import load_rules, score


def sample_app_report() -> AppReport:
    """An APK's report with a claim of every kind: a debug certificate, permissions, a prohibited vendor's SDK
    and endpoint, weaknesses, problems, catalogue matches, and its score."""
    cert = Certificate("C=CN, O=Example, CN=Android Debug", "C=CN, O=Example, CN=Android Debug", "1f",
                       "2020-01-01T00:00:00+00:00", "2050-01-01T00:00:00+00:00", "ab" * 32, "rsa",
                       "META-INF/CERT.RSA", debug=True)
    report = AppReport(
        identity=Identity("org.example.share", 42, "4.2 <beta>", 21, 34, "cd" * 32, 123456, "share.apk"),
        signing=Signing(schemes=("v1",), certificates=(cert,), v1_files=("META-INF/CERT.RSA",), janus=True,
                        debug=True),
        permissions=(describe("android.permission.ACCESS_FINE_LOCATION", where="AndroidManifest.xml:7"),
                     describe("android.permission.INTERNET", where="AndroidManifest.xml:8"),
                     describe("org.example.permission.C2D", where="AndroidManifest.xml:9")),
        components=(Component("activity", "org.example.share.Main", True, True, None, (("a.MAIN",),), line=12),),
        sdks=(SdkMatch("bytedance:com.bytedance.sdk.open", "TikTok OpenSDK", "ByteDance", "CN",
                       ("Login and sharing (TikTok/Douyin OpenSDK)",), ("com.bytedance.sdk.open.tiktok.Api",), (),
                       "bytedance-indicators", vendor_id="bytedance", prohibited=True),
              SdkMatch("exodus:49", "Google Firebase Analytics", "Google", "US", ("Analytics",), (),
                       ("com.google.firebase.analytics.FirebaseAnalytics",), "exodus", vendor_id="google",
                       parent_id="alphabet", parent="Alphabet")),
        endpoints=(Endpoint("https://open.tiktokapis.com/v2/oauth", "open.tiktokapis.com", "url",
                            "classes.dex string #12", "ByteDance", "bytedance", "CN", prohibited=True),
                   Endpoint("example.org", "example.org", "host", "resources.arsc string #3")),
        weaknesses=(Weakness("manifest.debuggable", "high", "the application is debuggable", "AndroidManifest.xml:5",
                             'android:debuggable="true"'),
                    Weakness("sig.janus", "high", "v1 only", "META-INF/", "schemes v1; minSdkVersion 21")),
        problems=(Problem("zip.duplicate-entry", "high", "the name appears more than once", "classes.dex"),
                  Problem("axml.attribute-namespace", "low", "attribute in another namespace",
                          "AndroidManifest.xml")),
        matches=Matches(
            families=(FamilyMatch("tiktok", "TikTok", "tiktok-pte", "endpoint",
                                  ("endpoint https://open.tiktokapis.com/v2/oauth (classes.dex string #12)",)),),
            vendors=(VendorMatch("bytedance", "ByteDance Ltd.", "CN"),
                     VendorMatch("tiktok-pte", "TikTok Pte. Ltd.", "SG", "bytedance")),
            directives=(DirectiveMatch("ca-tbs-2023-tiktok", "Treasury Board of Canada Secretariat",
                                       {"en": "Ban on the use of TikTok on government mobile devices",
                                        "fr": "Interdiction de l'utilisation de TikTok sur les appareils mobiles du "
                                              "gouvernement"}, "2023-02-28", ("tiktok",)),
                        DirectiveMatch("us-fed-2022-no-tiktok-act", "Congress",
                                       {"en": "No TikTok on Government Devices Act"}, "2023-03-29", ("tiktok",),
                                       ("bytedance",))),
            catalogue_version="2026.11.1"),
    )
    return replace(report, score=score(report, load_rules()))


def broken_app_report() -> AppReport:
    """A file that is not an APK at all: no identity, one problem, a verdict all the same."""
    report = AppReport(identity=Identity(None, None, None, None, None, "00" * 32, 4, "junk.apk"),
                       signing=Signing(unsigned=True), permissions=(), components=(), sdks=(), endpoints=(),
                       weaknesses=(), problems=(Problem("zip.not-a-zip", "high", "no end-of-central-directory "
                                                        "record", "archive"),))
    return replace(report, score=score(report, load_rules()))
