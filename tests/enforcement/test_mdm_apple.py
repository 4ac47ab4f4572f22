"""`apple`: the Restrictions profile and RemoveApplication commands (golden files; plists round-trip)."""

from __future__ import annotations

from mdm_request import request, roundtrip_plist

from interdit.enforcement.base import targets

IOS = ["com.ss.iphone.ugc.Ame", "com.tencent.xin", "com.zhiliaoapp.musically"]


def test_profile_and_commands() -> None:
    payload = targets.get("apple")().build(request())
    profile = roundtrip_plist(payload.files["prohibited-apps.mobileconfig"])
    inner = profile["PayloadContent"][0]
    assert inner["PayloadType"] == "com.apple.applicationaccess" and inner["blockedAppBundleIDs"] == IOS
    assert profile["PayloadType"] == "Configuration" and profile["PayloadRemovalDisallowed"] is True
    legacy = roundtrip_plist(payload.files["prohibited-apps-ios9-14.mobileconfig"])
    assert legacy["PayloadContent"][0]["blacklistedAppBundleIDs"] == IOS
    assert legacy["PayloadUUID"] != profile["PayloadUUID"]
    commands = sorted(k for k in payload.files if k.startswith("commands/"))
    assert commands == [f"commands/RemoveApplication-{i}.plist" for i in IOS]
    cmd = roundtrip_plist(payload.files[commands[0]])
    assert cmd["Command"] == {"RequestType": "RemoveApplication", "Identifier": IOS[0]}
    text = " ".join(payload.caveats)
    assert "supervised" in text and "does not remove" in text and "EXC-1" in text and "EXC-OLD" not in text


def test_reproducible_and_options() -> None:
    a = targets.get("apple")().build(request())
    b = targets.get("apple")().build(request())
    assert a.files == b.files
    c = targets.get("apple")().build(request(options={"identifier": "ca.gc.tbs.mdm"}))
    assert roundtrip_plist(c.files["prohibited-apps.mobileconfig"])["PayloadIdentifier"] == "ca.gc.tbs.mdm"
