"""The policy file's shape, as a JSON Schema (draft 2020-12).

The same schema validates `policy.yaml` when it is loaded and is published as `policy.schema.json` next to this
module, so an editor's YAML support can complete keys and flag mistakes while the file is being written.
Meaning (which directive, family or vendor exists, dates in order, ...) is checked by `load.py`.
"""

from __future__ import annotations

import copy
from typing import Any

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
APP_ID_PATTERN = r"^(android|ios|macos|windows|web):[^\s:]+$"
OWNERSHIP = ("corporate", "personal", "unknown")
PLATFORMS = ("android", "ios", "macos", "windows", "web")
MANAGEMENT = ("fully_managed", "work_profile", "user_enrolment", "unmanaged", "unknown")
LANGUAGES = ("en", "fr")
MATCH_KINDS = ("exact", "glob", "regex")
LABEL_KEYS = (
    ("category", "Intune device category (deviceCategoryDisplayName)."),
    ("site", "Jamf Pro site."),
    ("department", "Jamf Pro department."),
    ("building", "Jamf Pro building."),
    ("enrollment_data", "Android Management API enrollment-token data (additionalData), e.g. dept=finance."),
    ("policy", "Android Management API policy name (the last part of enterprises/.../policies/NAME)."),
    ("organization_group", "Workspace ONE organization group (LocationGroupName)."),
    ("org_unit_path", "Google Workspace org unit path (orgUnitPath)."),
    ("unit", "The org unit a source reported as it is, when it is not a path (CSV, JSONL, Ivanti, ...)."),
    ("group", "A group the device (or its user) belongs to, as the source names it."),
)
_EVIDENCE_VENDORS = ("Vendor ids (their subsidiaries count too), or 'prohibited': the vendors of every family "
                     "the policy's rules prohibit.")


def _strings(description: str, *, min_items: int = 0, item: dict[str, Any] | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"type": "array", "items": item or {"type": "string", "minLength": 1},
                             "description": description}
    if min_items:
        value["minItems"] = min_items
    return value


def _enums(values: tuple[str, ...], description: str) -> dict[str, Any]:
    return _strings(description, item={"enum": list(values)})


_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "interdit policy",
    "description": "Which apps are prohibited on which devices, from when, and the approved exceptions.",
    "type": "object",
    "additionalProperties": False,
    "required": ["organisation"],
    "properties": {
        "version": {"const": 1, "description": "Format version of this file (1)."},
        "organisation": {"type": "string", "minLength": 1, "description": "Shown on every report."},
        "language": {"enum": list(LANGUAGES), "description": "Language of reports and messages: en or fr."},
        "stale_after_days": {
            "type": "integer", "minimum": 1, "maximum": 3650,
            "description": "A device whose inventory is older than this many days is 'stale' (default 8).",
        },
        "adopt": {"type": "array", "items": {"$ref": "#/$defs/adoption"},
                  "description": "Directives from the catalogue that this organisation applies."},
        "rules": {"type": "array", "items": {"$ref": "#/$defs/rule"},
                  "description": "The organisation's own prohibitions."},
        "exceptions": {"type": "array", "items": {"$ref": "#/$defs/exception"},
                       "description": "Approved, time-limited exceptions."},
        "org_units": {"type": "array", "items": {"$ref": "#/$defs/org_unit_map"},
                      "description": "How each source's own labels (Intune categories, Jamf sites and departments, "
                                     "AMAPI enrollment data, ...) map to the organisation's org units."},
    },
    "$defs": {
        "date": {"type": "string", "pattern": DATE_PATTERN, "description": "A calendar day, YYYY-MM-DD (UTC)."},
        "app_id": {"type": "string", "pattern": APP_ID_PATTERN,
                   "description": "PLATFORM:IDENTIFIER, e.g. android:com.example.app or ios:com.example.App"},
        "scope": {
            "type": "object",
            "additionalProperties": False,
            "description": "Which devices the rule covers. A missing key means 'any'.",
            "properties": {
                "ownership": _enums(OWNERSHIP, "Device ownership the rule covers."),
                "platforms": _enums(PLATFORMS, "Platforms the rule covers (default: all)."),
                "management": _enums(MANAGEMENT, "Management modes the rule covers (default: all)."),
                "groups": _strings("Device groups, or org unit paths such as /Finance (covers /Finance/Payroll)."),
                "org_units": _strings("Org unit paths such as /Finance; each covers the units below it.",
                                      item={"type": "string", "pattern": "^/"}),
                "exclude_groups": _strings("Groups or org unit paths the rule never covers."),
            },
        },
        "evidence": {
            "type": "object",
            "additionalProperties": False,
            "description": "Prohibit any app that analysis shows bundles an SDK of, or talks to, these vendors.",
            "properties": {
                "bundles_sdk_of": _strings(_EVIDENCE_VENDORS),
                "endpoints_of": _strings(_EVIDENCE_VENDORS),
            },
        },
        "adoption": {
            "type": "object",
            "additionalProperties": False,
            "required": ["directive"],
            "properties": {
                "directive": {"type": "string", "minLength": 1, "description": "A directive id from the catalogue."},
                "id": {"type": "string", "minLength": 1, "description": "Rule id (default: the directive id)."},
                "description": {"type": "string"},
                "effective": {"$ref": "#/$defs/date", "description": "Overrides the directive's effective date."},
                "grace_days": {"type": "integer", "minimum": 0, "maximum": 3650,
                               "description": "Days after the effective date before a violation is overdue."},
                "scope": {"$ref": "#/$defs/scope"},
                "interim": {"type": "boolean"},
                "review_by": {"$ref": "#/$defs/date"},
            },
        },
        "rule": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "effective"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "description": {"type": "string"},
                "families": _strings("App family ids from the catalogue."),
                "vendors": _strings("Vendor ids: every family of the vendor and its subsidiaries."),
                "identifiers": _strings("Extra apps, matched exactly.", item={"$ref": "#/$defs/app_id"}),
                "prefixes": _strings("Vendor prefixes: android:com.example matches com.example and com.example.*",
                                     item={"$ref": "#/$defs/app_id"}),
                "evidence": {"$ref": "#/$defs/evidence"},
                "effective": {"$ref": "#/$defs/date"},
                "grace_days": {"type": "integer", "minimum": 0, "maximum": 3650},
                "scope": {"$ref": "#/$defs/scope"},
                "interim": {"type": "boolean"},
                "review_by": {"$ref": "#/$defs/date"},
            },
        },
        "org_unit_map": {
            "type": "object",
            "additionalProperties": False,
            "required": ["source", "org_unit"],
            "description": "Devices of `source` whose labels match every label key given belong to `org_unit`.",
            "properties": {
                "source": {"type": "string", "minLength": 1,
                           "description": "A source name (intune-prod) or a source type (intune, jamf, amapi, "
                                          "workspace_one, google_workspace, csv, ...); '*' for any source."},
                "org_unit": {"type": "string", "pattern": "^/",
                             "description": "The org unit path these devices belong to, e.g. /MCN/DRH."},
                "match": {"enum": list(MATCH_KINDS),
                          "description": "How the label values compare: exact (default), glob (*, ?, [..]) or "
                                         "regex (a Python regular expression matching the whole value)."},
                **{kind: {"type": "string", "minLength": 1, "description": text} for kind, text in LABEL_KEYS},
            },
        },
        "exception": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "families", "approver", "reason", "expires"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "families": _strings("Families the exception allows.", min_items=1),
                "devices": _strings("Devices: SOURCE:DEVICE_ID or a bare device id."),
                "users": _strings("Users (as the inventory reports them)."),
                "groups": _strings("Groups or org unit paths (an org unit covers the units below it)."),
                "approver": {"type": "string", "minLength": 1},
                "reason": {"type": "string", "minLength": 1},
                "granted": {"$ref": "#/$defs/date"},
                "expires": {"$ref": "#/$defs/date"},
                "review_by": {"$ref": "#/$defs/date"},
                "safeguards": _strings("Conditions the approval requires."),
            },
        },
    },
}


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema of the policy file (a fresh copy: callers may change it freely)."""
    return copy.deepcopy(_SCHEMA)


def allowed_keys(kind: str) -> tuple[str, ...]:
    """The keys a mapping of `kind` ("policy", "adoption", "rule", "exception", "scope", "evidence") accepts."""
    node = _SCHEMA if kind == "policy" else _SCHEMA["$defs"][kind]
    return tuple(node["properties"])
