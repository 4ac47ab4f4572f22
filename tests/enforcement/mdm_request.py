"""A small catalogue, policy and request for the MDM target tests; golden-file and schema helpers.

Regenerate the golden files with INTERDIT_UPDATE_GOLDEN=1 after a deliberate change, and read the diff.
"""

from __future__ import annotations

import json
import os
import plistlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import jsonschema

from interdit.enforcement.base import EnforcementRequest, Payload
from interdit.model import AppFamily, AppId, Catalogue, Platform, Policy, PolicyException, Rule, Vendor

GOLDEN = Path(__file__).parent / "golden"
AND, IOS = Platform.ANDROID, Platform.IOS


def catalogue() -> Catalogue:
    families = {
        "tiktok": AppFamily("tiktok", "TikTok", "bytedance", identifiers=(
            AppId(AND, "com.zhiliaoapp.musically"), AppId(IOS, "com.zhiliaoapp.musically"),
            AppId(AND, "com.ss.android.ugc.trill"), AppId(IOS, "com.ss.iphone.ugc.Ame"))),
        "wechat": AppFamily("wechat", "WeChat", "tencent", identifiers=(AppId(AND, "com.tencent.mm"),
                                                                        AppId(IOS, "com.tencent.xin"))),
        "kaspersky": AppFamily("kaspersky", "Kaspersky", "kaspersky", identifiers=(AppId(AND, "com.kms.free"),),
                               prefixes=(AppId(AND, "com.kaspersky"),)),
    }
    vendors = {v: Vendor(v, v.title(), "CN") for v in ("bytedance", "tencent", "kaspersky")}
    return Catalogue(1, "test", date(2025, 1, 1), vendors, families, {})


def request(*, exceptions: tuple[PolicyException, ...] | None = None, options: dict[str, str] | None = None,
            extra_ios: int = 0) -> EnforcementRequest:
    cat = catalogue()
    if exceptions is None:
        exceptions = (PolicyException("EXC-1", ("tiktok",), "Deputy Minister", "official account",
                                      date(2026, 1, 1), devices=("intune:I0000042",), groups=("/Comms/Social",),
                                      safeguards=("location off",)),
                      PolicyException("EXC-OLD", ("wechat",), "CIO", "expired", date(2024, 1, 1), users=("a@b",)))
    policy = Policy("Example Department", (Rule("r1", ("tiktok", "wechat", "kaspersky"), date(2023, 2, 28)),),
                    exceptions)
    apps = sorted({a for f in cat.families.values() for a in f.identifiers})
    apps += [AppId(IOS, f"com.example.banned{i:03d}") for i in range(extra_ios)]
    prefixes = tuple(p for f in cat.families.values() for p in f.prefixes)
    return EnforcementRequest(policy, cat, datetime(2025, 3, 1, tzinfo=UTC), ("kaspersky", "tiktok", "wechat"),
                              tuple(apps), prefixes, ("tiktok.com",), options or {})


def check_golden(payload: Payload, name: str) -> None:
    folder = GOLDEN / name
    update = os.environ.get("INTERDIT_UPDATE_GOLDEN") == "1"
    for file, content in payload.files.items():
        data = content.encode() if isinstance(content, str) else content
        path = folder / file
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        assert path.exists(), f"no golden file {path}: run with INTERDIT_UPDATE_GOLDEN=1 and review it"
        assert path.read_bytes() == data, f"{file} differs from {path} (INTERDIT_UPDATE_GOLDEN=1 to accept)"
    caveats = folder / "CAVEATS.txt"
    text = "\n".join(payload.caveats) + "\n"
    if update:
        caveats.write_text(text, "utf-8")
    assert caveats.read_text("utf-8") == text


def roundtrip_plist(data: str | bytes) -> Any:
    raw = data.encode() if isinstance(data, str) else data
    value = plistlib.loads(raw)
    assert plistlib.loads(plistlib.dumps(value)) == value
    return value


def validate(data: str | bytes, schema: dict[str, Any]) -> Any:
    value = json.loads(data)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(value, schema, cls=jsonschema.Draft202012Validator)
    return value


# -- schemas written from the published API shapes -------------------------------------------------------

APP_LIST_ITEM = {  # microsoft.graph.appListItem
    "type": "object", "required": ["@odata.type", "name", "appId"], "additionalProperties": False,
    "properties": {"@odata.type": {"const": "microsoft.graph.appListItem"}, "name": {"type": "string"},
                   "publisher": {"type": ["string", "null"]}, "appStoreUrl": {"type": ["string", "null"]},
                   "appId": {"type": "string", "pattern": r"^[A-Za-z0-9_.\-]+$"}},
}
SCHEDULED_ACTIONS = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["ruleName", "scheduledActionConfigurations"], "properties": {
        "scheduledActionConfigurations": {"type": "array", "items": {
            "type": "object", "required": ["actionType", "gracePeriodHours"],
            "properties": {"actionType": {"enum": ["noAction", "notification", "block", "retire", "wipe",
                                                   "removeResourceAccessProfiles", "pushNotification",
                                                   "remoteLock"]},
                           "gracePeriodHours": {"type": "integer", "minimum": 0}}}}}}}
INTUNE = {
    "ios-device-restrictions.json": {
        "type": "object", "required": ["@odata.type", "displayName", "compliantAppsList", "appsVisibilityList"],
        "properties": {"@odata.type": {"const": "#microsoft.graph.iosGeneralDeviceConfiguration"},
                       "displayName": {"type": "string", "minLength": 1},
                       "compliantAppListType": {"enum": ["none", "appsInListCompliant", "appsNotInListCompliant"]},
                       "appsVisibilityListType": {"enum": ["none", "appsInListCompliant", "appsNotInListCompliant"]},
                       "compliantAppsList": {"type": "array", "items": APP_LIST_ITEM},
                       "appsVisibilityList": {"type": "array", "items": APP_LIST_ITEM}}},
    "ios-compliance-policy.json": {
        "type": "object", "required": ["@odata.type", "displayName", "restrictedApps", "scheduledActionsForRule"],
        "properties": {"@odata.type": {"const": "#microsoft.graph.iosCompliancePolicy"},
                       "restrictedApps": {"type": "array", "maxItems": 100, "items": APP_LIST_ITEM},
                       "scheduledActionsForRule": SCHEDULED_ACTIONS}},
    "android-compliance-policy-da.json": {
        "type": "object", "required": ["@odata.type", "restrictedApps", "scheduledActionsForRule"],
        "properties": {"@odata.type": {"const": "#microsoft.graph.androidCompliancePolicy"},
                       "restrictedApps": {"type": "array", "maxItems": 100, "items": APP_LIST_ITEM},
                       "scheduledActionsForRule": SCHEDULED_ACTIONS}},
    "android-cope-personal-profile.json": {
        "type": "object", "required": ["@odata.type", "personalProfilePlayStoreMode",
                                       "personalProfilePersonalApplications"],
        "properties": {"@odata.type": {"const": "#microsoft.graph.androidDeviceOwnerGeneralDeviceConfiguration"},
                       "personalProfilePlayStoreMode": {"enum": ["notConfigured", "blockedApps", "allowedApps"]},
                       "personalProfilePersonalApplications": {"type": "array", "maxItems": 500,
                                                               "items": APP_LIST_ITEM}}},
}
AMAPI_APP = {  # ApplicationPolicy
    "type": "object", "required": ["packageName", "installType"],
    "properties": {"packageName": {"type": "string", "pattern": r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)+$"},
                   "installType": {"enum": ["INSTALL_TYPE_UNSPECIFIED", "PREINSTALLED", "FORCE_INSTALLED",
                                            "BLOCKED", "AVAILABLE", "REQUIRED_FOR_SETUP", "KIOSK"]},
                   "defaultPermissionPolicy": {"enum": ["PERMISSION_POLICY_UNSPECIFIED", "PROMPT", "GRANT", "DENY"]},
                   "permissionGrants": {"type": "array", "items": {
                       "type": "object", "required": ["permission", "policy"], "additionalProperties": False,
                       "properties": {"permission": {"type": "string"},
                                      "policy": {"enum": ["PERMISSION_POLICY_UNSPECIFIED", "PROMPT", "GRANT",
                                                          "DENY"]}}}}},
}
AMAPI = {
    "policy-patch.json": {"type": "object", "required": ["applications"], "properties": {
        "playStoreMode": {"enum": ["PLAY_STORE_MODE_UNSPECIFIED", "WHITELIST", "BLACKLIST"]},
        "applications": {"type": "array", "maxItems": 3000, "items": AMAPI_APP},
        "statusReportingSettings": {"type": "object"}}},
    "modifyPolicyApplications.json": {"type": "object", "required": ["changes"], "properties": {
        "changes": {"type": "array", "items": {"type": "object", "required": ["application"], "properties": {
            "application": AMAPI_APP, "updateMask": {"type": "string"}}}}}},
    "personal-profile-patch.json": {"type": "object", "required": ["personalUsagePolicies"], "properties": {
        "personalUsagePolicies": {"type": "object", "properties": {
            "personalPlayStoreMode": {"enum": ["PLAY_STORE_MODE_UNSPECIFIED", "BLACKLIST", "BLOCKLIST",
                                               "ALLOWLIST"]},
            "personalApplications": {"type": "array", "items": AMAPI_APP}}}}},
    "exception": {"type": "object", "required": ["applications"], "properties": {
        "applications": {"type": "array", "items": AMAPI_APP}}},
}
HEADWIND = {"type": "array", "items": {
    "type": "object", "required": ["pkg", "action"],
    "properties": {"pkg": {"type": "string"}, "name": {"type": "string"}, "action": {"enum": [0, 1, 2]},
                   "version": {"type": "string"}, "system": {"type": "boolean"}, "showIcon": {"type": "boolean"}}}}
WS1_APP_GROUP = {"type": "object", "required": ["Name", "AppGroupType", "Platform", "Applications"], "properties": {
    "AppGroupType": {"enum": ["Blacklist", "Whitelist", "Required"]}, "Platform": {"enum": ["Apple", "Android"]},
    "Applications": {"type": "array", "items": {"type": "object", "required": ["ApplicationName", "BundleId"]}}}}
