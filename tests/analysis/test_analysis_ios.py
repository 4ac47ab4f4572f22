"""iOS app archives: the real corpus in ../shared/data/ipa checked against corpus.tsv, SDKs found in archives
built from the recorded facts (TikTok OpenSDK) and from real SDK binaries (Facebook Login), an encrypted build,
and hostile archives (truncated, bombs, bad profiles, bad Mach-O): a report with problems, never a crash."""

from __future__ import annotations

import csv
import io
import json
import plistlib
import re
import struct
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from analysis_builders import info_plist, macho, rebuild_zip, zip_bytes
from analysis_shared import SHARED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interdit.analysis.apk import analyze
from interdit.analysis.batch import AnalysisSettings, analyze_one, make_context
from interdit.analysis.ios_bundle import read_profile
from interdit.analysis.macho import read_macho
from interdit.analysis.report import AppReport, Limits
from interdit.analysis.sdks import builtin_signatures

IPA = SHARED / "data" / "ipa"
needs_ipa = pytest.mark.skipif(not IPA.is_dir(), reason=f"the iOS corpus is not present at {IPA} "
                               "(../shared beside the checkout, or set INTERDIT_SHARED)")
ROWS = list(csv.DictReader((IPA / "corpus.tsv").open(encoding="utf-8"), delimiter="\t")) if IPA.is_dir() else []
SIGS = builtin_signatures()
FB = IPA / "frameworks" / "FacebookSDK-4.27.1-Carthage"


def run(path: Path) -> AppReport:
    return analyze(path, signatures=SIGS)


def codes(report: AppReport) -> set[str]:
    return {p.code for p in report.problems}


@needs_ipa
@pytest.mark.parametrize("row", [r for r in ROWS if r["bundle_id"] != "-"], ids=lambda r: r["file"])
def test_corpus_archive_agrees_with_corpus_tsv(row: dict[str, str]) -> None:
    r = run(IPA / row["file"])
    assert r.identity.sha256 == row["sha256"] and r.identity.size == int(row["size_bytes"])
    assert r.identity.package == row["bundle_id"]
    assert r.identity.min_os == row["min_os"]
    assert r.identity.platform == ("tvos" if "tvOS" in row["notes"] else
                                   "ios-simulator" if row["platform_arch"].startswith("simulator") else "ios")
    assert r.ios["bundle"] == row["app"]
    assert "analysis.failed" not in codes(r)
    sig = r.ios["signing"]
    if row["signing"].startswith("signed (CMS"):
        assert r.signing.schemes == ("CMS",) and sig["code_signature"]["cms"]
        found = re.search(r"team ([A-Z0-9]{10})", row["signing"])
        team = found.group(1) if found else ""
        assert sig["code_signature"]["team_id"] == team
        kind = row["signing"].split("embedded.mobileprovision ")[1].split(" ")[0]
        assert sig["profile"]["type"] == {"in-house": "enterprise"}.get(kind, kind)
    elif row["signing"] == "unsigned":
        assert r.signing.unsigned and sig["code_signature"] is None
    elif "ad-hoc" in row["signing"]:
        assert r.signing.schemes == ("ad-hoc",)
    if row["entitlements"] != "-":
        assert {e["key"] for e in sig["entitlements"]} == {k.strip() for k in row["entitlements"].split(",")}
    manifests = int(row["privacy_manifest"].split(" ")[0]) if row["privacy_manifest"][0].isdigit() else 0
    assert len(r.ios["privacy_manifests"]) == manifests
    if row["ats"] not in ("-", ""):
        for key, value in json.loads(row["ats"]).items():
            assert r.ios["network"]["ats"][key] == value
        assert "ios.ats-disabled" in {w.id for w in r.weaknesses}
    if row["usage_descriptions"] not in ("-", ""):
        assert {p.name for p in r.permissions} == set(row["usage_descriptions"].split(", "))
    if row["encryption"].startswith("cryptid="):
        slices = r.ios["binary"]["slices"]
        assert [s["encrypted"] for s in slices] == [False] * len(row["encryption"].split(","))


@needs_ipa
@pytest.mark.parametrize("name,code", [("fastlane__no-app-bundle.ipa", "ios.no-app"),
                                       ("isign__NotAnApp.ipa", "ios.no-app"),
                                       ("fastlane__not-an-ipa.ipa", "zip.not-a-zip")])
def test_negative_archives_say_what_is_wrong(name: str, code: str) -> None:
    r = run(IPA / name)
    assert code in codes(r) and r.identity.package is None
    assert r.score is not None and r.score.verdict != "acceptable"


@needs_ipa
def test_nested_payload_and_macosx_junk_find_the_app() -> None:
    r = run(IPA / "fastlane__ContainsWatchApp.ipa")
    assert r.identity.package == "com.example.Sample" and r.ios["bundle"] == "ContainsWatchApp/Payload/Sample.app"
    assert any(e["kind"] == "watch app" for e in r.ios["extensions"])


@needs_ipa
def test_cocoapods_and_extensions_and_tv_endpoints() -> None:
    pods = run(IPA / "fastlane__ExampleProductName-cocoapods.ipa")
    assert {"TSMessages", "HexColors"} <= set(pods.ios["pods"])
    ext = run(IPA / "appinfo__embedded.ipa")
    assert [e["where"].rsplit("/", 1)[-1] for e in ext.ios["extensions"]] == ["Notification.appex"]
    assert any(f["name"] == "CarPlay.framework" for f in ext.ios["frameworks"])
    tv = run(IPA / "appinfo__apple-tv.ipa")
    assert "api.bilibili.com" in {e.host for e in tv.endpoints}
    assert all(e.where.startswith("BilibiliLive string #") for e in tv.endpoints if e.host == "api.bilibili.com")


def _capable() -> dict[str, Any]:
    r = run(IPA / "fastlane__very-capable-app.ipa")
    return {e["key"]: e for e in r.ios["signing"]["entitlements"]}


@needs_ipa
def test_entitlements_are_explained_in_both_languages() -> None:
    ents = _capable()
    assert "health" in ents["com.apple.developer.healthkit"]["en"].lower()
    assert "santé" in ents["com.apple.developer.healthkit"]["fr"]
    assert "VPN" in ents["com.apple.developer.networking.vpn.api"]["en"]
    assert ents["com.apple.developer.associated-domains"]["value"] == "webcredentials:example.com"


def _tiktok_ipa(tmp_path: Path, cryptid: int = 0) -> Path:
    """A real app (ipaserver) re-packaged with the TikTok OpenSDK as its facts describe it: a dynamic framework
    (org.cocoapods.TikTokOpenSDK) whose binary holds the OAuth URL, its resource bundle, TikTokAppID and the
    queried schemes. (The real binary is proprietary and not redistributable.)"""
    src = (IPA / "ipaserver__ipa.ipa").read_bytes()
    app = "Payload/Test.app/"
    with zipfile.ZipFile(io.BytesIO(src)) as zf:
        info = plistlib.loads(zf.read(app + "Info.plist"))
        exe = zf.read(app + info["CFBundleExecutable"])
    info.update({"TikTokAppID": "1234567890", "LSApplicationQueriesSchemes": ["snssdk1233", "tiktokopensdk"],
                 "NSUserTrackingUsageDescription": "ads"})
    if cryptid:
        exe = _set_cryptid(exe, cryptid)
    fw = app + "Frameworks/TikTokOpenSDK.framework/"
    binary = macho(["https://open-api.tiktok.com/platform/oauth/connect/index.html", "TikTokOpenSDKAuthRequest"],
                   cryptid=cryptid)
    out = tmp_path / ("tiktok-enc.ipa" if cryptid else "tiktok.ipa")
    out.write_bytes(rebuild_zip(src, {app + "Info.plist": plistlib.dumps(info, fmt=plistlib.FMT_BINARY),
                                      app + info["CFBundleExecutable"]: exe}, [
        (fw + "Info.plist", info_plist("org.cocoapods.TikTokOpenSDK", "TikTokOpenSDK")),
        (fw + "TikTokOpenSDK", binary),
        (app + "TikTokOpenSDK.bundle/Info.plist", info_plist("org.cocoapods.TikTokOpenSDK-res", "x"))]))
    return out


def _set_cryptid(exe: bytes, cryptid: int) -> bytes:
    """Every LC_ENCRYPTION_INFO(_64) of a thin or fat Mach-O with `cryptid` set, as in an App Store download."""
    m = read_macho(exe, "x")
    buf = bytearray(exe)
    for sl in m.slices:
        ncmds = struct.unpack_from("<I", buf, sl.offset + 16)[0]
        pos = sl.offset + (32 if struct.unpack_from("<I", buf, sl.offset)[0] == 0xFEEDFACF else 28)
        for _ in range(ncmds):
            cmd, size = struct.unpack_from("<II", buf, pos)
            if cmd in (0x21, 0x2C):
                struct.pack_into("<I", buf, pos + 16, cryptid)
            pos += size
    return bytes(buf)


@needs_ipa
def test_tiktok_opensdk_is_named_a_bytedance_login_sdk_and_flagged(tmp_path: Path) -> None:
    ctx = make_context(AnalysisSettings())
    r = analyze_one(_tiktok_ipa(tmp_path), ctx)
    tiktok = [s for s in r.sdks if s.vendor_id == "bytedance"]
    assert [s.name for s in tiktok] == ["TikTok OpenSDK (login and sharing)"]
    sdk = tiktok[0]
    assert sdk.strength == "bundled" and sdk.prohibited and sdk.country == "CN"
    assert "Payload/Test.app/Frameworks/TikTokOpenSDK.framework" in sdk.bundled
    assert not any("Pangle" in s.name for s in r.sdks)
    hosts = {e.host: e for e in r.endpoints}
    assert hosts["open-api.tiktok.com"].owner_id == "bytedance" and hosts["open-api.tiktok.com"].prohibited
    assert hosts["open-api.tiktok.com"].where == "Frameworks/TikTokOpenSDK.framework/TikTokOpenSDK string #0"
    assert r.score is not None and r.score.verdict == "unacceptable"
    assert {"sdk.bytedance-bundled", "permission.tracking"} <= {h.id for h in r.score.hits}
    assert r.matches.families, "a bundled ByteDance SDK matches the catalogue's TikTok family or vendor"


@needs_ipa
def test_encrypted_build_says_so_and_still_finds_frameworks(tmp_path: Path) -> None:
    plain = run(_tiktok_ipa(tmp_path))
    enc = run(_tiktok_ipa(tmp_path, cryptid=1))
    assert "ios.encrypted" in codes(enc) and "ios.encrypted" not in codes(plain)
    assert all(s["encrypted"] for s in enc.ios["binary"]["slices"])
    assert "TikTok OpenSDK (login and sharing)" in {s.name for s in enc.sdks}
    # the code strings of encrypted binaries are not read (nor guessed at): the host is gone, the framework stays
    assert "open-api.tiktok.com" in {e.host for e in plain.endpoints}
    assert "open-api.tiktok.com" not in {e.host for e in enc.endpoints}


@needs_ipa
@pytest.mark.skipif(not FB.is_dir(), reason="Facebook SDK frameworks not present")
def test_real_facebook_login_framework_is_found(tmp_path: Path) -> None:
    src = (IPA / "ipaserver__ipa.ipa").read_bytes()
    add = []
    for fw in ("FBSDKLoginKit.framework", "Bolts.framework"):
        for f in sorted((FB / fw).rglob("*")):
            if f.is_file():
                add.append((f"Payload/Test.app/Frameworks/{fw}/{f.relative_to(FB / fw)}", f.read_bytes()))
    path = tmp_path / "fb.ipa"
    path.write_bytes(rebuild_zip(src, {}, add))
    r = run(path)
    by = {s.name: s for s in r.sdks}
    login = by["Facebook Login"]
    assert login.vendor == "Meta" and login.strength == "bundled"
    assert any(e.startswith("FBSDKLoginManager") for e in login.bundled)  # read from the real binary's classes
    assert "Bolts (Facebook helper library)" in by
    assert any(f.get("bundle_id") == "com.facebook.sdk.FBSDKLoginKit" for f in r.ios["frameworks"])


# ------------------------------------------------------------------------------------------------
# hostile archives


def _ipa(tmp_path: Path, entries: list[tuple[str, bytes]], name: str = "x.ipa") -> Path:
    path = tmp_path / name
    path.write_bytes(zip_bytes(entries))
    return path


def test_truncated_ipa(tmp_path: Path) -> None:
    data = zip_bytes([("Payload/A.app/Info.plist", info_plist()), ("Payload/A.app/App", macho())])
    for cut in (len(data) // 2, len(data) - 10, 30):
        r = analyze(_ipa_bytes(tmp_path, data[:cut]), signatures=SIGS)
        assert r.problems and "analysis.failed" not in codes(r)


def _ipa_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "t.ipa"
    path.write_bytes(data)
    return path


def test_zip_bomb_info_plist_is_stopped(tmp_path: Path) -> None:
    bomb = b"\x00" * (64 * 1024 * 1024)
    path = _ipa(tmp_path, [("Payload/A.app/Info.plist", bomb)])
    start = time.monotonic()
    r = analyze(path, signatures=SIGS, limits=Limits(max_manifest_size=1024 * 1024))
    assert time.monotonic() - start < 10
    assert r.identity.package is None and r.problems


def test_huge_plist_and_traversal_names(tmp_path: Path) -> None:
    many = {f"Key{i}": ["x" * 50] * 20 for i in range(2000)}
    path = _ipa(tmp_path, [("Payload/A.app/Info.plist", info_plist(**many)), ("Payload/A.app/App", macho()),
                           ("Payload/A.app/../../etc/passwd", b"root")])
    r = run(path)
    assert r.identity.package == "org.example.app" and "zip.path-traversal" in codes(r)


@needs_ipa
@pytest.mark.parametrize("profile", sorted(p.name for p in (IPA / "provisioning-profiles").glob("*"))
                         if IPA.is_dir() else [])
def test_every_provisioning_profile_is_read_or_refused_clearly(tmp_path: Path, profile: str) -> None:
    raw = (IPA / "provisioning-profiles" / profile).read_bytes()
    path = _ipa(tmp_path, [("Payload/A.app/Info.plist", info_plist()), ("Payload/A.app/App", macho()),
                           ("Payload/A.app/embedded.mobileprovision", raw)])
    r = run(path)
    prof = r.ios["signing"]["profile"]
    # the "invalid" ones and two whose <data> holds invalid base64 (plistlib refuses them) are refused
    if "invalid" in profile or profile in ("appinfo__plist.mobileprovision", "appinfo__signed_plist.mobileprovision"):
        assert prof is None and "ios.profile-unreadable" in codes(r)
    else:
        assert prof is not None and prof["type"] in ("development", "ad-hoc", "enterprise", "app-store")
        assert prof["expires"]


@given(st.binary(max_size=4096))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_profile_bytes(data: bytes) -> None:
    problems: list[Any] = []
    read_profile(data, "p", problems)


@given(st.binary(max_size=2048))
@settings(max_examples=200, deadline=None)
def test_fuzz_macho_random_bytes(data: bytes) -> None:
    read_macho(data, "x")
    read_macho(b"\xcf\xfa\xed\xfe" + data, "x")
    read_macho(b"\xca\xfe\xba\xbe" + data, "x")


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_fuzz_macho_mutations(data: st.DataObject) -> None:
    buf = bytearray(macho(["https://a.example.com"], entitlements={"get-task-allow": True}))
    for _ in range(data.draw(st.integers(1, 8))):
        buf[data.draw(st.integers(0, len(buf) - 1))] = data.draw(st.integers(0, 255))
    read_macho(bytes(buf), "x")


def test_built_macho_reads_back() -> None:
    m = read_macho(macho(["https://a.example.com/x"], cryptid=0, dylibs=["@rpath/X.framework/X"],
                         entitlements={"get-task-allow": True}), "x")
    sl = m.slices[0]
    assert (sl.arch, sl.platform, sl.min_os, sl.cryptid, sl.pie) == ("arm64", "ios", "15.0", 0, True)
    assert sl.dylibs == [("load", "@rpath/X.framework/X")] and b"https://a.example.com/x" in sl.strings
    assert m.signature is not None and m.signature.identifier == "org.example.app"
    assert m.signature.entitlements == {"get-task-allow": True} and not m.signature.cms


def test_malformed_macho_executable_gives_problems(tmp_path: Path) -> None:
    exe = bytearray(macho())
    struct.pack_into("<I", exe, 20, 0xFFFFFF)  # sizeofcmds far past the file
    path = _ipa(tmp_path, [("Payload/A.app/Info.plist", info_plist()), ("Payload/A.app/App", bytes(exe))])
    r = run(path)
    assert r.identity.package == "org.example.app"
    assert any(c.startswith("macho.") for c in codes(r)) and "analysis.failed" not in codes(r)


@needs_ipa
def test_sealed_resources_tell_a_repackaged_app() -> None:
    flagged = {r["file"] for r in ROWS if "ios.code-resources-mismatch" in codes(run(IPA / r["file"]))}
    # qma's app carries "embedded copy.mobileprovision", added after signing, and a changed (truncated) profile
    assert flagged == {"qma__iphone.ipa"}
    qma = next(p for p in run(IPA / "qma__iphone.ipa").problems if p.code == "ios.code-resources-mismatch")
    assert "embedded copy.mobileprovision" in qma.message and "~embedded.mobileprovision" in qma.message


@needs_ipa
def test_added_and_changed_files_are_reported(tmp_path: Path) -> None:
    src = (IPA / "ipaserver__ipa.ipa").read_bytes()
    with zipfile.ZipFile(io.BytesIO(src)) as zf:
        car = zf.read("Payload/Test.app/Assets.car")
    path = tmp_path / "repack.ipa"
    path.write_bytes(rebuild_zip(src, {"Payload/Test.app/Assets.car": car + b"x"},
                                 [("Payload/Test.app/Frameworks/Evil.framework/Evil", macho())]))
    r = run(path)
    problem = next(p for p in r.problems if p.code == "ios.code-resources-mismatch")
    assert "Frameworks/Evil.framework/Evil" in problem.message and "~Assets.car" in problem.message
    assert r.score is not None and "ios.repackaged" in {h.id for h in r.score.hits}


@needs_ipa
def test_stored_ios_analysis_feeds_a_ban_by_evidence_rule(tmp_path: Path, db_url: str) -> None:
    """An IPA analysed with --store: its bundle id is an iOS app in the policy evidence, and a rule
    `evidence: {bundles_sdk_of: [bytedance]}` makes it a risky app on an iPhone that has it; once a build
    without the SDK is the latest analysis of that bundle id, it no longer is."""
    from datetime import UTC, datetime

    from interdit import pipeline
    from interdit.catalogue import load_catalogue
    from interdit.model import AppId, Device, DeviceState, FindingKind, Management, Ownership, Platform
    from interdit.model import AppInterval as Interval
    from interdit.policy import evaluate, load_policy

    repo = pipeline.open_repository(db_url)
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text("organisation: Test\nrules:\n  - id: no-bytedance-sdk\n"
                           "    evidence: {bundles_sdk_of: [bytedance]}\n    effective: 2024-01-01\n", "utf-8")
    cat = load_catalogue()
    policy = load_policy(policy_path, cat)
    at = datetime(2025, 1, 1, tzinfo=UTC)
    app = AppId(Platform.IOS, "com.ineva.test-rtmp.Test")
    device = Device("mdm", "i1", Platform.IOS, Ownership.CORPORATE, Management.FULLY_MANAGED, at)
    states = [DeviceState(device, (Interval("mdm", "i1", app, at, at),))]

    def risky() -> list[str]:
        result = evaluate(policy, cat, states, at, evidence=pipeline.app_evidence(repo))
        return [f.app.identifier for f in result.findings if f.kind is FindingKind.RISKY_APP and f.app]

    reports = pipeline.analyze_apks([_tiktok_ipa(tmp_path)], repo=repo, jobs=1)
    evidence = pipeline.app_evidence(repo)
    assert evidence[app].sha256 == reports[0].identity.sha256 and "bytedance" in evidence[app].sdk_vendors
    assert risky() == ["com.ineva.test-rtmp.Test"]
    pipeline.analyze_apks([IPA / "ipaserver__ipa.ipa"], repo=repo, jobs=1)
    assert risky() == []


def test_folders_expand_to_ipa_and_zipped_app_files(tmp_path: Path) -> None:
    from interdit.analysis.batch import collect

    for name in ("a.apk", "b.ipa", "sub/c.app.zip", "d.txt", "e.zip"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in collect([tmp_path])] == ["a.apk", "b.ipa", "sub/c.app.zip"]


@pytest.mark.parametrize("seed", range(12))
def test_fuzz_ipa_mutations(tmp_path: Path, seed: int) -> None:
    """Random byte flips anywhere in a small IPA: a report (maybe with problems), never a crash."""
    import random

    rng = random.Random(seed)
    data = bytearray(zip_bytes([
        ("Payload/A.app/Info.plist", info_plist(NSAppTransportSecurity={"NSAllowsArbitraryLoads": True})),
        ("Payload/A.app/App", macho(["https://a.example.com"], entitlements={"get-task-allow": True})),
        ("Payload/A.app/PrivacyInfo.xcprivacy", plistlib.dumps({"NSPrivacyTracking": True})),
        ("Payload/A.app/embedded.mobileprovision", plistlib.dumps({"Name": "x", "ProvisionsAllDevices": True}))],
        method=zipfile.ZIP_STORED))
    for _ in range(rng.randint(1, 40)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    r = analyze(_ipa_bytes(tmp_path, bytes(data)), signatures=SIGS)
    assert "analysis.failed" not in codes(r)
    assert r.to_json()["schema_version"] == 3


def test_store_download_metadata_is_read_without_the_buyer(tmp_path: Path) -> None:
    meta = plistlib.dumps({"itemId": 835599320, "itemName": "TikTok", "artistName": "TikTok Ltd.",
                           "softwareVersionBundleId": "com.zhiliaoapp.musically",
                           "com.apple.iTunesStore.downloadInfo": {"accountInfo": {"AppleID": "buyer@example.com"}}})
    path = _ipa(tmp_path, [("Payload/A.app/Info.plist", info_plist("com.zhiliaoapp.musically", "App")),
                           ("Payload/A.app/App", macho(cryptid=1)), ("iTunesMetadata.plist", meta)])
    r = run(path)
    assert r.ios["store"] == {"item_id": "835599320", "name": "TikTok", "seller": "TikTok Ltd.",
                              "bundle_id": "com.zhiliaoapp.musically"}
    assert "buyer@example.com" not in json.dumps(r.to_json())
    assert "ios.encrypted" in codes(r)


def test_the_content_decides_android_or_ios_not_the_name(tmp_path: Path) -> None:
    from test_analysis_hostile import _axml_manifest

    ipa_as_apk = tmp_path / "app.apk"
    ipa_as_apk.write_bytes(zip_bytes([("Payload/A.app/Info.plist", info_plist()), ("Payload/A.app/App", macho())]))
    assert run(ipa_as_apk).identity.platform == "ios"
    apk_as_ipa = tmp_path / "app.ipa"
    apk_as_ipa.write_bytes(zip_bytes([("AndroidManifest.xml", _axml_manifest("org.example.x"))]))
    r = run(apk_as_ipa)
    assert (r.identity.platform, r.identity.package) == ("android", "org.example.x")


_PLIST_VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-5, 2**40), st.text(max_size=20),
                                       st.binary(max_size=8)),
                             lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                             max_leaves=12)
_KEYS = ["UIDeviceFamily", "CFBundleSupportedPlatforms", "UIBackgroundModes", "SKAdNetworkItems", "CFBundleURLTypes",
         "LSApplicationQueriesSchemes", "NSAppTransportSecurity", "DTPlatformName", "MinimumOSVersion",
         "CFBundleVersion", "CFBundleExecutable", "NSCameraUsageDescription", "CFBundleIdentifier"]


@given(st.dictionaries(st.sampled_from(_KEYS), _PLIST_VALUES, max_size=len(_KEYS)),
       st.dictionaries(st.sampled_from(["NSPrivacyTracking", "NSPrivacyTrackingDomains", "NSPrivacyCollectedDataTypes",
                                        "NSPrivacyAccessedAPITypes"]), _PLIST_VALUES, max_size=4))
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
def test_fuzz_plist_value_types(tmp_path: Path, info: dict[str, Any], manifest: dict[str, Any]) -> None:
    """Any type under any key an analyzer reads (an integer UIDeviceFamily, a string where an array belongs,
    None values...): a report, never a crash."""
    def clean(v: Any) -> Any:  # plists hold no None
        if isinstance(v, list):
            return [clean(x) for x in v if x is not None]
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items() if x is not None}
        return v
    raw_info = plistlib.dumps(clean({k: v for k, v in info.items() if v is not None}), fmt=plistlib.FMT_BINARY)
    raw_manifest = plistlib.dumps(clean({k: v for k, v in manifest.items() if v is not None}),
                                  fmt=plistlib.FMT_BINARY)
    path = _ipa(tmp_path, [("Payload/A.app/Info.plist", raw_info), ("Payload/A.app/App", macho()),
                           ("Payload/A.app/PrivacyInfo.xcprivacy", raw_manifest)])
    r = run(path)
    json.dumps(r.to_json())
    from interdit.analysis.render import render

    render([r], "table", "fr")


def test_swift_classes_name_their_module() -> None:
    from interdit.analysis.macho import swift_class

    assert swift_class("_TtC6Sentry9SentrySDK") == ("Sentry", "SentrySDK")
    assert swift_class("_TtC14AmplitudeSwift9Amplitude") == ("AmplitudeSwift", "Amplitude")
    assert swift_class("_TtC6Sentry99X") is None and swift_class("FBSDKLoginManager") is None
    assert swift_class("_TtCx") is None


def test_static_swift_sdk_is_found_from_the_executables_classes(tmp_path: Path) -> None:
    exe = macho(["https://o1.ingest.sentry.io/api/1/envelope/"],
                classes=["_TtC6Sentry9SentrySDK", "SentryCrashReportSink", "_TtC4Demo12AppDelegate",
                         "PodsDummy_Sentry"])
    r = run(_ipa(tmp_path, [("Payload/A.app/Info.plist", info_plist()), ("Payload/A.app/App", exe)]))
    sentry = next(s for s in r.sdks if s.name == "Sentry")
    assert sentry.strength == "bundled" and {"Swift module Sentry", "PodsDummy_Sentry", "SentrySDK"} <= set(
        sentry.bundled)
    assert {e.host: e.owner for e in r.endpoints}["o1.ingest.sentry.io"] == "Functional Software (Sentry)"
    assert r.ios["pods"] == ["Sentry"]
