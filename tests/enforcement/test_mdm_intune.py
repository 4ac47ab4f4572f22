"""`intune`: Graph configuration and compliance bodies (golden files, JSON Schema), and what only reports."""

from __future__ import annotations

from mdm_request import INTUNE, request, validate

from interdit.enforcement.base import targets


def test_bodies_validate_and_say_what_only_reports() -> None:
    payload = targets.get("intune")().build(request())
    bodies = {name: validate(payload.files[name], schema) for name, schema in INTUNE.items()}
    ios = [a["appId"] for a in bodies["ios-device-restrictions.json"]["appsVisibilityList"]]
    assert ios == ["com.ss.iphone.ugc.Ame", "com.tencent.xin", "com.zhiliaoapp.musically"]
    assert [a["appId"] for a in bodies["ios-compliance-policy.json"]["restrictedApps"]] == ios
    assert bodies["android-cope-personal-profile.json"]["personalProfilePlayStoreMode"] == "blockedApps"
    text = "\n".join(payload.caveats)
    assert "REPORTS ONLY" in text and "supervised" in text


def test_restricted_apps_are_capped_at_100() -> None:
    payload = targets.get("intune")().build(request(extra_ios=120))
    body = validate(payload.files["ios-compliance-policy.json"], INTUNE["ios-compliance-policy.json"])
    assert len(body["restrictedApps"]) == 100
    assert any("exceed the 100" in c for c in payload.caveats)
