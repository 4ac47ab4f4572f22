"""`workspace-one`: blocklisted app groups and the iOS Restrictions profile (golden files, JSON Schema)."""

from __future__ import annotations

from mdm_request import WS1_APP_GROUP, request, roundtrip_plist, validate

from interdit.enforcement.base import targets


def test_app_groups_and_profile() -> None:
    payload = targets.get("workspace-one")().build(request())
    android = validate(payload.files["app-group-android.json"], WS1_APP_GROUP)
    ios = validate(payload.files["app-group-ios.json"], WS1_APP_GROUP)
    assert (android["Platform"], ios["Platform"]) == ("Android", "Apple")
    assert "com.tencent.mm" in {a["BundleId"] for a in android["Applications"]}
    assert "com.tencent.mm" not in {a["BundleId"] for a in ios["Applications"]}
    assert roundtrip_plist(payload.files["ios-restrictions.mobileconfig"])["PayloadType"] == "Configuration"
