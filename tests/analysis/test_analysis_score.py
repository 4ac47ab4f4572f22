"""The score: rule files, thresholds, evidence, and the JSON report's shape."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from analysis_shared import SHARED as SHARED_ROOT

from interdit.analysis.permissions import describe
from interdit.analysis.report import (
    SCHEMA_VERSION,
    AppReport,
    Endpoint,
    Identity,
    Problem,
    SdkMatch,
    Signing,
    Weakness,
)
from interdit.analysis.score import DEFAULT_RULES, load_rules, score
from interdit.analysis.sdk_rules import builtin_rule_set
from interdit.analysis.sdks import load_signatures, match_indicators, match_sdks
from interdit.errors import AnalysisError

SIGNATURES = SHARED_ROOT / "data" / "sdk-signatures"


def _report(**kw: object) -> AppReport:
    base: dict[str, object] = {
        "identity": Identity("org.example", 1, "1.0", 24, 34, "0" * 64, 10, "x.apk"),
        "signing": Signing(schemes=("v2",)), "permissions": (), "components": (), "sdks": (), "endpoints": (),
        "weaknesses": (), "problems": ()}
    base.update(kw)
    return AppReport(**base)  # type: ignore[arg-type]


def test_clean_report_is_acceptable() -> None:
    s = score(_report(), load_rules())
    assert (s.total, s.verdict, s.hits) == (0, "acceptable", ())


def test_bytedance_sdk_and_endpoint_are_unacceptable_with_evidence() -> None:
    sdk = SdkMatch("bytedance:x", "Pangle", "ByteDance", "CN", ("Advertisement",), ("com.pangle.ads.A",), (),
                   "bytedance-indicators")
    ep = Endpoint("https://api.snssdk.com/x", "api.snssdk.com", "url", "classes.dex string #3", "ByteDance")
    s = score(_report(sdks=(sdk,), endpoints=(ep,)), load_rules(), lang="fr")
    assert s.verdict == "unacceptable"
    hits = {h.id: h for h in s.hits}
    assert "com.pangle.ads.A" in hits["sdk.bytedance-bundled"].evidence[0]
    assert "classes.dex string #3" in hits["endpoint.bytedance"].evidence[0]
    assert "ByteDance" in hits["sdk.bytedance-bundled"].description  # French text names the vendor too


def test_per_item_rules_are_capped() -> None:
    weak = tuple(Weakness("manifest.exported-component", "medium", f"c{i}", "AndroidManifest.xml:1")
                 for i in range(30))
    s = score(_report(weaknesses=weak), load_rules())
    assert [h.weight for h in s.hits if h.id == "manifest.exported-component"] == [10]


def test_problems_are_not_counted_twice() -> None:
    problems = (Problem("zip.duplicate-entry", "high", "dup", "AndroidManifest.xml"),)
    ids = [h.id for h in score(_report(problems=problems), load_rules()).hits]
    assert ids == ["tamper.archive"]


def test_override_thresholds(tmp_path: Path) -> None:
    text = DEFAULT_RULES.read_text("utf-8").replace("needs_review: 20", "needs_review: 1")
    path = tmp_path / "rules.yaml"
    path.write_text(text, "utf-8")
    weak = (Weakness("manifest.allow-backup", "low", "backup", "AndroidManifest.xml"),)
    assert score(_report(weaknesses=weak), load_rules(path)).verdict == "needs_review"
    assert score(_report(weaknesses=weak), load_rules()).verdict == "acceptable"


HEAD = "schema_version: 1\nthresholds: {needs_review: 1, unacceptable: 2}\n"


@pytest.mark.parametrize("text,needle", [
    ("schema_version: 2\n", "schema_version"),
    ("schema_version: 1\nrules: []\n", "thresholds"),
    (HEAD + "rules:\n  - {id: a, check: nope, weight: 1}\n", "unknown check"),
    (HEAD + "rules:\n  - {id: a, check: weakness, weight: 1}\n", "lacks weakness"),
    (HEAD + "rules: [{id: a, check: permission, names: [], weight: 1}, {id: a, check: permission, names: [], "
     "weight: 1}]\n", "twice"),
    ("{{{", "cannot read"),
])
def test_bad_rule_files_say_where_and_what(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(AnalysisError) as info:
        load_rules(path)
    assert needle in str(info.value) and str(path) in str(info.value)


def test_every_rule_has_both_languages() -> None:
    rules = load_rules()
    for rule in rules.rules:
        assert set(rule["description"]) >= {"en", "fr"}, rule["id"]


def test_json_is_schema_versioned_and_serialisable() -> None:
    sdk = SdkMatch("exodus:1", "T", "", "", ("Analytics",), (), ("a.b.C",), "exodus")
    r = _report(sdks=(sdk,), permissions=(describe("android.permission.CAMERA"),))
    data = json.loads(json.dumps(r.to_json()))
    assert data["schema_version"] == SCHEMA_VERSION == 3
    assert data["sdks"][0]["strength"] == "referenced"
    assert data["permissions"][0] == {**data["permissions"][0], "group": "camera", "protection": "dangerous"}


def test_permission_words() -> None:
    assert describe("android.permission.ACCESS_BACKGROUND_LOCATION").group == "location"
    assert describe("android.permission.READ_CALL_LOG").group == "sms_calls"
    assert describe("com.example.permission.X").protection == "custom"
    assert describe("android.permission.NOT_A_REAL_ONE").protection == "unknown"


@pytest.mark.skipif(not SIGNATURES.is_dir(), reason=f"signature files not present at {SIGNATURES}")
def test_signatures_tell_login_sdk_from_pangle() -> None:
    sigs = load_signatures(SIGNATURES)
    login = match_sdks({"com.bytedance.sdk.open.tiktok.TikTokOpenApi"}, set(), sigs)
    assert [m.vendor for m in login] == ["ByteDance"] and "Pangle" not in login[0].name
    ads = match_sdks({"com.bytedance.sdk.openadsdk.TTAdSdk"}, set(), sigs)
    assert any(m.name == "Pangle" and m.source == "exodus" for m in ads)
    ref = match_sdks(set(), {"com.google.firebase.analytics.FirebaseAnalytics"}, sigs)
    assert ref and all(not m.bundled and m.referenced for m in ref)


@pytest.mark.skipif(not SIGNATURES.is_dir(), reason=f"signature files not present at {SIGNATURES}")
def test_manifest_components_and_native_libraries_are_indicators() -> None:
    sigs = load_signatures(SIGNATURES)
    found = match_indicators(
        [("activity", "com.bytedance.sdk.openadsdk.activity.TTLandingPageActivity"),
         ("activity", "com.bytedance.sdk.open.douyin.ui.DouYinWebAuthorizeActivity"),
         ("activity", "com.yxcorp.gifshow.ad.Foo")],
        ["lib/arm64-v8a/libpangleflipped.so", "lib/arm64-v8a/libvivo_account_sdk.so", "lib/x86/libc++_shared.so"],
        sigs)
    kinds = {m.categories[0]: m for m in found}
    assert set(kinds) == {"Advertisement", "Login and sharing (TikTok/Douyin OpenSDK)"}
    assert "lib/arm64-v8a/libpangleflipped.so" in kinds["Advertisement"].bundled
    assert all("yxcorp" not in e and "vivo" not in e for m in found for e in m.bundled)


def test_without_signature_data_only_the_builtin_rules_apply(tmp_path: Path) -> None:
    sigs = load_signatures(tmp_path)
    assert sigs.signatures and {s.source for s in sigs.signatures} == {"interdit", "interdit-bytedance"}
    assert sigs.sets == (f"interdit SDK rules {builtin_rule_set().version}",)
    assert not sigs.network and not sigs.components
    login = match_sdks({"com.bytedance.sdk.open.tiktok.TikTokOpenApi"}, set(), sigs)
    assert [(m.vendor_id, m.country, m.categories) for m in login] == [
        ("bytedance", "CN", ("Login and sharing (TikTok/Douyin OpenSDK)",))]
    ads = match_sdks({"com.bytedance.sdk.openadsdk.TTAdSdk"}, set(), sigs)
    assert [m.categories for m in ads] == [("Advertisement",)]
    # a prefix matches whole package names only
    assert match_sdks({"com.bytedance.sdk.openadsdkx.A", "com.tiktokfan.A"}, set(), sigs) == []


def test_builtin_bytedance_rules_record_their_sources() -> None:
    from ruamel.yaml import YAML

    from interdit.analysis.sdks import BUILTIN_BYTEDANCE

    data = YAML(typ="safe").load(BUILTIN_BYTEDANCE.read_text("utf-8"))
    for sdk in data["sdks"]:
        assert sdk["sources"] and all(s.startswith("https://") for s in sdk["sources"]), sdk["name"]
