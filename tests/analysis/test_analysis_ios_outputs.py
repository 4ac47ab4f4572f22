"""An iOS report in every format and language, against golden files; built from a synthetic IPA so it needs no
shared data (INTERDIT_UPDATE_GOLDEN=1 rewrites the files after a reviewed change)."""

from __future__ import annotations

import json
import os
import plistlib
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from analysis_builders import info_plist, macho, zip_bytes

from interdit.analysis import outputs
from interdit.analysis.apk import analyze
from interdit.analysis.evidence import DEFAULT_PROHIBITED, flag_report
from interdit.analysis.render import render
from interdit.analysis.report import AppReport, report_from_json
from interdit.analysis.sdks import builtin_signatures

GOLDEN = Path(__file__).parent / "golden"
APP = "Payload/Demo.app/"


def _profile() -> bytes:
    return plistlib.dumps({
        "Name": "Demo Development", "TeamIdentifier": ["ABCDE12345"], "TeamName": "Example Team",
        "AppIDName": "Demo", "CreationDate": datetime(2019, 1, 1), "ExpirationDate": datetime(2020, 1, 1),
        "ProvisionedDevices": ["00008030-000000000000001E"],
        "Entitlements": {"get-task-allow": True, "application-identifier": "ABCDE12345.org.example.demo"}})


def demo_ipa(tmp_path: Path) -> Path:
    """An iPhone app with the TikTok login SDK declared, Facebook's core framework, a tracking permission, ATS
    off with an insecure exception domain, a hard-coded Google API key, privacy manifests and an extension."""
    info = info_plist(
        "org.example.demo", "Demo", CFBundleDisplayName="Demo",
        NSCameraUsageDescription="Scan receipts", NSUserTrackingUsageDescription="Personalised ads",
        NSLocationAlwaysAndWhenInUseUsageDescription="Nearby shops",
        NSAppTransportSecurity={"NSAllowsArbitraryLoads": True, "NSExceptionDomains": {
            "legacy.example.net": {"NSExceptionAllowsInsecureHTTPLoads": True, "NSIncludesSubdomains": True}}},
        CFBundleURLTypes=[{"CFBundleURLSchemes": ["demo", "fb1234567890"]}],
        LSApplicationQueriesSchemes=["snssdk1233", "tiktokopensdk", "fbauth2"], TikTokAppID="awxyz",
        FacebookAppID="1234567890", UIBackgroundModes=["location"],
        SKAdNetworkItems=[{"SKAdNetworkIdentifier": "22mmun2rn5.skadnetwork"}])
    exe = macho(["https://api.example.com/v2/login", "https://graph.facebook.com/v17.0/me", "Demo %@"],
                dylibs=["@rpath/FBSDKCoreKit.framework/FBSDKCoreKit",
                        "/System/Library/Frameworks/UIKit.framework/UIKit"],
                entitlements={"get-task-allow": True, "keychain-access-groups": ["ABCDE12345.*"],
                              "com.apple.developer.associated-domains": ["applinks:example.com"]})
    collected = {"NSPrivacyCollectedDataType": "NSPrivacyCollectedDataTypeDeviceID",
                 "NSPrivacyCollectedDataTypeLinked": True, "NSPrivacyCollectedDataTypeTracking": True,
                 "NSPrivacyCollectedDataTypePurposes": ["NSPrivacyCollectedDataTypePurposeAnalytics"]}
    manifest = plistlib.dumps({"NSPrivacyTracking": True, "NSPrivacyTrackingDomains": ["t.example.com"],
                               "NSPrivacyCollectedDataTypes": [collected],
                               "NSPrivacyAccessedAPITypes": [{
                                   "NSPrivacyAccessedAPIType": "NSPrivacyAccessedAPICategoryUserDefaults",
                                   "NSPrivacyAccessedAPITypeReasons": ["CA92.1"]}]})
    ext = plistlib.dumps({"CFBundleIdentifier": "org.example.demo.share",
                          "NSExtension": {"NSExtensionPointIdentifier": "com.apple.share-services"}})
    path = tmp_path / "demo.ipa"
    path.write_bytes(zip_bytes([
        (APP + "Info.plist", info), (APP + "Demo", exe), (APP + "embedded.mobileprovision", _profile()),
        (APP + "PrivacyInfo.xcprivacy", manifest),
        (APP + "Config.plist", plistlib.dumps({"MapsKey": "AIzaSyA1234567890abcdefghijklmnopqrstuv"})),
        (APP + "Frameworks/FBSDKCoreKit.framework/Info.plist", info_plist("com.facebook.sdk.FBSDKCoreKit",
                                                                          "FBSDKCoreKit")),
        (APP + "Frameworks/FBSDKCoreKit.framework/FBSDKCoreKit", macho(["https://graph.facebook.com"])),
        (APP + "PlugIns/Share.appex/Info.plist", ext),
    ]))
    return path


def demo_report(tmp_path: Path) -> AppReport:
    sigs = builtin_signatures()
    report = flag_report(analyze(demo_ipa(tmp_path), signatures=sigs), None, DEFAULT_PROHIBITED)
    return replace(report, signature_sets=sigs.sets)


def test_demo_report_reads_every_part(tmp_path: Path) -> None:
    r = demo_report(tmp_path)
    assert (r.identity.package, r.identity.label, r.identity.platform) == ("org.example.demo", "Demo", "ios")
    sdks = {s.name: s for s in r.sdks}
    assert sdks["Facebook SDK (core)"].strength == "bundled"
    tiktok = sdks["TikTok OpenSDK (login and sharing)"]
    assert tiktok.strength == "referenced" and tiktok.prohibited  # declared (schemes, key), no code seen
    assert set(tiktok.referenced) == {"Info.plist TikTokAppID", "LSApplicationQueriesSchemes snssdk1233",
                                      "LSApplicationQueriesSchemes tiktokopensdk"}
    weak = {w.id for w in r.weaknesses}
    assert {"ios.ats-disabled", "ios.ats-insecure-domain", "ios.development-profile", "ios.profile-expired",
            "secret.google-api-key"} <= weak
    assert "ios.debuggable" not in weak  # get-task-allow is expected in a development build
    assert {p.group for p in r.permissions} == {"camera", "apps", "location"}
    assert r.ios["privacy_manifests"][0]["tracking_domains"] == ["t.example.com"]
    assert r.ios["extensions"] == [{"where": APP + "PlugIns/Share.appex", "bundle_id": "org.example.demo.share",
                                    "kind": "com.apple.share-services"}]
    assert {e.host: e.owner for e in r.endpoints}["graph.facebook.com"] == "Meta"
    assert r.score is not None and {"permission.tracking", "permission.background-location", "ios.ats-disabled",
                                    "sdk.bytedance-referenced"} <= {h.id for h in r.score.hits}
    assert report_from_json(json.loads(json.dumps(r.to_json()))) == r


def test_distributed_build_with_get_task_allow_is_debuggable(tmp_path: Path) -> None:
    path = demo_ipa(tmp_path)
    import io
    import zipfile

    from analysis_builders import rebuild_zip

    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zf:
        profile = plistlib.loads(zf.read(APP + "embedded.mobileprovision"))
    del profile["ProvisionedDevices"]
    profile["ProvisionsAllDevices"] = True
    path.write_bytes(rebuild_zip(path.read_bytes(), {APP + "embedded.mobileprovision": plistlib.dumps(profile)}))
    r = analyze(path, signatures=builtin_signatures())
    assert r.ios["signing"]["profile"]["type"] == "enterprise"
    assert "ios.debuggable" in {w.id for w in r.weaknesses}


@pytest.mark.parametrize("fmt", outputs.names())
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_ios_golden(tmp_path: Path, fmt: str, lang: str) -> None:
    text = render([demo_report(tmp_path)], fmt, lang)
    path = GOLDEN / f"ios.{lang}.{outputs.get(fmt).extension}"
    if os.environ.get("INTERDIT_UPDATE_GOLDEN") == "1":
        path.write_text(text, "utf-8")
    assert path.is_file(), f"missing {path}: run with INTERDIT_UPDATE_GOLDEN=1"
    assert text == path.read_text("utf-8"), f"{path} differs: check the change, then INTERDIT_UPDATE_GOLDEN=1"


def test_ios_sarif_is_valid(tmp_path: Path) -> None:
    from test_analysis_outputs import _sarif_validator

    validator = _sarif_validator()
    for lang in ("en", "fr"):
        log = json.loads(render([demo_report(tmp_path)], "sarif", lang))
        assert not sorted(validator.iter_errors(log), key=str)
        assert log["runs"][0]["tool"]["driver"]["properties"]["signature_sets"] == [
            builtin_signatures().sets[0]]


def test_sarif_locations_keep_paths_with_spaces(tmp_path: Path) -> None:
    from analysis_builders import zip_bytes as _zip

    path = tmp_path / "spaces.ipa"
    path.write_bytes(_zip([("Payload/My App.app/Info.plist", info_plist(NSAppTransportSecurity={
        "NSAllowsArbitraryLoads": True})), ("Payload/My App.app/App", macho())]))
    log = json.loads(render([analyze(path, signatures=builtin_signatures())], "sarif", "en"))
    uris = {a["location"]["uri"] for a in log["runs"][0]["artifacts"]}
    assert "Payload/My%20App.app/Info.plist" in uris
