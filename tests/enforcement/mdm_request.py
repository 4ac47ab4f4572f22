"""The MDM target tests' request (from interdit.testing), plist and JSON Schema helpers, and the schemas
written from the vendors' published API shapes. Golden files: test_golden.py."""

from __future__ import annotations

import json
import plistlib
from typing import Any

import jsonschema

from interdit.testing import mdm_request as request

__all__ = ["request", "roundtrip_plist", "validate"]


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
