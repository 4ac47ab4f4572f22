"""SDKs recognised with no flag and no download (the built-in rules), `interdit signatures update` against a
local server, and the built-in rules against Exodus on the APK corpus."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from analysis_builders import dex_with_classes, zip_bytes
from analysis_shared import SHARED
from test_analysis_hostile import _axml_manifest
from typer.testing import CliRunner

from interdit.analysis.apk import analyze
from interdit.analysis.sdk_rules import LIBCHECKER_NOTICE, RULES_FILE, builtin_rule_set
from interdit.analysis.sdks import (
    EXODUS_FILE,
    EXODUS_META,
    SignatureSet,
    builtin_signatures,
    load_signatures,
    match_rule_indicators,
)
from interdit.errors import InputError
from interdit.pipeline.analysis import update_signatures

APKS = SHARED / "data" / "apk"
SIGNATURES = SHARED / "data" / "sdk-signatures"
RECORDED = Path(__file__).parent / "data" / "exodus_api_trackers.json"
FB_CLASSES = ["com.facebook.appevents.AppEventsLogger", "com.facebook.login.LoginManager",
              "com.facebook.FacebookSdk", "com.google.firebase.crashlytics.FirebaseCrashlytics",
              "com.google.firebase.analytics.FirebaseAnalytics", "com.google.android.gms.measurement.AppMeasurement",
              "org.example.app.MainActivity"]
# public entry-point classes of common SDKs (from each SDK's integration guide)
MORE_CLASSES = ["com.appsflyer.AppsFlyerLib", "com.adjust.sdk.Adjust", "com.onesignal.OneSignal",
                "io.sentry.Sentry", "com.unity3d.ads.UnityAds", "com.applovin.sdk.AppLovinSdk",
                "io.branch.referral.Branch", "com.mixpanel.android.mpmetrics.MixpanelAPI",
                "com.amplitude.api.Amplitude", "com.segment.analytics.Analytics", "com.bugsnag.android.Bugsnag",
                "com.braze.Braze", "com.ironsource.mediationsdk.IronSource", "com.yandex.metrica.YandexMetrica",
                "com.tencent.bugly.crashreport.CrashReport", "com.facebook.ads.AdView",
                "com.google.android.gms.ads.MobileAds", "com.huawei.hms.analytics.HiAnalytics",
                "com.adobe.marketing.mobile.MobileCore", "com.flurry.android.FlurryAgent"]
WANTED = {"Facebook Analytics (app events)", "Facebook Login", "Google Firebase Crashlytics",
          "Google Firebase Analytics"}


def _app() -> Any:
    from interdit.cli import analysis_cmd
    from interdit.cli.main import app

    if "analyze" not in {c.name for c in app.registered_commands}:
        analysis_cmd.register(app)
    return app


def fb_apk(tmp_path: Path) -> Path:
    """A store-like build that embeds Facebook Analytics and Login, Crashlytics and Firebase Analytics."""
    dex = dex_with_classes(FB_CLASSES, ["com.appsflyer.AppsFlyerLib"], ["https://graph.facebook.com/v17.0/"])
    path = tmp_path / "fb.apk"
    path.write_bytes(zip_bytes([("AndroidManifest.xml", _axml_manifest("org.example.app")), ("classes.dex", dex)]))
    return path


def test_rule_file_gives_vendor_country_and_source_for_every_sdk() -> None:
    rules = builtin_rule_set()
    assert rules.version and rules.label.startswith("interdit SDK rules ")
    ids = [r.id for r in rules.rules]
    assert len(ids) == len(set(ids)) and len(ids) >= 50
    for r in rules.rules:
        assert r.sources and all(s.strip() for s in r.sources), r.id
        assert r.vendor.name and len(r.vendor.country) == 2 and r.vendor.country.isupper(), r.id
        assert r.android or r.frameworks or r.classes or r.pods, r.id
    for wanted in ("firebase-analytics", "firebase-crashlytics", "firebase-messaging", "facebook-core",
                   "facebook-login", "facebook-analytics", "facebook-audience-network", "google-admob", "appsflyer",
                   "adjust", "branch", "amplitude", "mixpanel", "segment", "sentry", "bugsnag", "onesignal", "braze",
                   "unity-ads", "applovin", "ironsource", "huawei-hms", "wechat-sdk", "tencent-bugly",
                   "yandex-appmetrica", "adobe-experience", "twitter-kit", "snap-kit", "tiktok-opensdk-ios",
                   "pangle-ios"):
        assert wanted in ids, wanted


def test_analyze_with_no_flag_names_the_sdks_and_says_only_builtin_rules(tmp_path: Path) -> None:
    apk = fb_apk(tmp_path)
    runner = CliRunner()
    result = runner.invoke(_app(), ["analyze", str(apk), "--no-cache", "-q", "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)["apps"][0]
    bundled = {s["name"] for s in report["sdks"] if s["strength"] == "bundled"}
    assert bundled >= WANTED
    by_name = {s["name"]: s for s in report["sdks"]}
    assert by_name["Facebook Login"]["vendor"] == "Meta" and by_name["Facebook Login"]["country"] == "US"
    assert by_name["AppsFlyer"]["strength"] == "referenced"
    assert report["signature_sets"] == [builtin_rule_set().label]
    text = runner.invoke(_app(), ["analyze", str(apk), "--no-cache", "-q"]).stdout
    assert "signatures update" in text and "Facebook Login" in text
    owners = {e["host"]: e["owner"] for e in report["endpoints"]}
    assert owners["graph.facebook.com"] == "Meta"


@pytest.mark.skipif(not SIGNATURES.is_dir(), reason=f"signature files not present at {SIGNATURES}")
def test_with_exodus_each_sdk_is_named_once(tmp_path: Path) -> None:
    report = analyze(fb_apk(tmp_path), signatures=load_signatures(SIGNATURES))
    names = [s.name for s in report.sdks]
    assert set(names) >= WANTED
    assert not {"Google Firebase Analytics", "Facebook Login"} & {s.name for s in report.sdks if s.source == "exodus"}
    assert len([n for n in names if "Crashlytics" in n or "CrashLytics" in n]) == 1


class _Server:
    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.headers.append(dict(self.headers))
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            def log_message(self, *args: object) -> None:
                return

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/trackers"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[_Server]:
    s = _Server()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def test_signatures_update_then_analyze_uses_the_list(server: _Server, tmp_path: Path,
                                                      _own_data_folder: Path) -> None:
    server.body = RECORDED.read_bytes()
    runner = CliRunner()
    result = runner.invoke(_app(), ["signatures", "update", "--url", server.url, "--token", "k3y"])
    assert result.exit_code == 0, result.output
    assert "13 trackers" in result.stdout and "Exodus Privacy" in result.stdout
    assert server.headers[-1]["Authorization"] == "Token k3y"
    folder = _own_data_folder / "signatures"
    assert (folder / EXODUS_FILE).read_bytes() == RECORDED.read_bytes()
    meta = json.loads((folder / EXODUS_META).read_text("utf-8"))
    assert meta["source"] == server.url and meta["trackers"] == 13 and "Exodus Privacy" in meta["credit"]
    result = runner.invoke(_app(), ["analyze", str(fb_apk(tmp_path)), "--no-cache", "-q", "--format", "json"])
    report = json.loads(result.stdout)["apps"][0]
    assert report["signature_sets"][0] == builtin_rule_set().label
    assert report["signature_sets"][1] == f"Exodus Privacy trackers of {meta['downloaded'][:10]} (13 trackers)"
    shown = runner.invoke(_app(), ["signatures", "show"]).stdout
    assert "Exodus Privacy trackers of" in shown and "only the built-in" not in shown


@pytest.mark.parametrize("body,status,why", [
    (b"<html>maintenance</html>", 200, "not JSON"),
    (b'{"trackers": {}}', 200, "no \"trackers\""),
    (b'{"trackers": {"1": {"name": "X", "code_signature": "com.(x", "network_signature": ""}}}', 200,
     "not a valid pattern"),
    (b'{"trackers": {"1": {"code_signature": "com.x", "network_signature": ""}}}', 200, "no name"),
    (b'{"detail": "Authentication credentials were not provided."}', 401, "HTTP 401"),
])
def test_a_bad_download_is_refused_and_changes_nothing(server: _Server, tmp_path: Path, body: bytes, status: int,
                                                       why: str) -> None:
    dest = tmp_path / "sigs"
    server.body = RECORDED.read_bytes()
    update_signatures(server.url, dest=dest)
    before = {p.name: p.read_bytes() for p in dest.iterdir()}
    server.body, server.status = body, status
    with pytest.raises(InputError) as info:
        update_signatures(server.url, dest=dest)
    fix = str(info.value.fix)
    assert why in str(info.value) and ("nothing was changed" in fix or "kept" in fix)
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == before


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        update_signatures("http://127.0.0.1:9/api/trackers", dest=tmp_path / "s", timeout=2)
    assert "cannot download" in str(info.value) and not (tmp_path / "s" / EXODUS_FILE).exists()


@pytest.mark.skipif(not (APKS.is_dir() and SIGNATURES.is_dir()), reason=f"the APK corpus or signatures are not "
                    f"present under {SHARED}")
def test_builtin_rules_name_most_of_what_exodus_names(tmp_path: Path) -> None:
    """On the APK corpus (plus a store-like build), the built-in rules name at least 90 % of the trackers the
    Exodus signatures find in defined classes, and never call the TikTok login SDK Pangle."""
    full = load_signatures(SIGNATURES)
    exodus_only = SignatureSet(signatures=[s for s in full.signatures if s.source == "exodus"])
    builtin = builtin_signatures()
    many = tmp_path / "many.apk"
    many.write_bytes(zip_bytes([("AndroidManifest.xml", _axml_manifest("org.example.many")), ("classes.dex",
                                dex_with_classes([*FB_CLASSES, *MORE_CLASSES]))]))
    files = [*sorted(APKS.glob("*.apk")), many]
    found = named = 0
    missing: list[str] = []
    for apk in files:
        theirs = [m for m in analyze(apk, signatures=exodus_only).sdks if m.bundled]
        ours = [m for m in analyze(apk, signatures=builtin).sdks if m.bundled]
        covered = {c for s in builtin.signatures for c in s.covers if any(m.id == s.id for m in ours)}
        for m in theirs:
            found += 1
            if m.name == "Pangle":  # Exodus's over-broad ByteDance signature: ours name the exact ByteDance SDK
                assert any(o.vendor_id == "bytedance" and "Pangle" not in o.name for o in ours), apk.name
                named += 1
            elif m.id in covered:
                named += 1
            else:
                missing.append(f"{apk.name}: {m.name}")
    assert found >= 15
    assert named / found >= 0.9, missing


def test_manifest_components_and_native_libraries_survive_obfuscation(tmp_path: Path) -> None:
    sigs = builtin_signatures()
    found = match_rule_indicators([("activity", "com.facebook.FacebookActivity"), ("activity", "a.b.C")],
                                  ["lib/arm64-v8a/libBugly.so", "lib/arm64-v8a/libfbjni.so"], sigs, [])
    by = {m.name: m for m in found}
    assert set(by) == {"Facebook SDK (core)", "Tencent Bugly"}  # React Native's libfbjni.so is not the SDK
    assert by["Facebook SDK (core)"].bundled == ("AndroidManifest.xml activity com.facebook.FacebookActivity",)
    assert by["Tencent Bugly"].bundled == ("lib/arm64-v8a/libBugly.so",) and by["Tencent Bugly"].country == "CN"
    # an obfuscated build: no SDK class name is left, the native library still names the SDK
    apk = tmp_path / "obf.apk"
    apk.write_bytes(zip_bytes([("AndroidManifest.xml", _axml_manifest("org.example.obf")),
                               ("classes.dex", dex_with_classes(["a.a", "a.b", "b.a"])),
                               ("lib/arm64-v8a/libBugly.so", b"\x7fELF")]))
    report = analyze(apk, signatures=sigs)
    assert [(s.name, s.strength) for s in report.sdks] == [("Tencent Bugly", "bundled")]


def test_libchecker_entries_are_marked_and_their_licence_ships_beside_them() -> None:
    data = json.loads(RULES_FILE.read_text("utf-8"))
    marked = [e for e in data["sdks"] if "libchecker" in e]
    assert marked and all(e["libchecker"]["labels"] for e in marked)
    assert {r.id for r in builtin_rule_set().rules if r.components or r.native_libs} == {e["id"] for e in marked}
    notice = LIBCHECKER_NOTICE.read_text("utf-8")
    assert "LibChecker-Rules" in notice and "Apache License" in notice and "Version 2.0" in notice
    assert "LibChecker-Rules" in data["about"]


def test_an_oversized_list_is_refused_without_reading_it_all(server: _Server, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from interdit.analysis import sdks

    monkeypatch.setattr(sdks, "MAX_EXODUS_SIZE", 1000)
    server.body = RECORDED.read_bytes()
    with pytest.raises(InputError) as info:
        update_signatures(server.url, dest=tmp_path / "s")
    assert "over the 1000 bytes" in str(info.value) and not (tmp_path / "s").exists()
