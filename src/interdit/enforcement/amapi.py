"""`amapi`: Android Management API policy changes: `installType: BLOCKED` for every prohibited package.

BLOCKED uninstalls copies installed under an earlier policy and prevents installation. Excepted devices get a
separate policy in which the excepted apps are allowed but denied location, camera, microphone and contacts
(`permissionGrants`), the safeguards an exception usually requires.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from interdit import i18n
from interdit.enforcement._mdm import active_exceptions, apps_for, dump_json, prefixes_for
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, count, say, targets
from interdit.model import Platform

DENIED_PERMISSIONS = (
    "android.permission.ACCESS_FINE_LOCATION", "android.permission.ACCESS_COARSE_LOCATION",
    "android.permission.ACCESS_BACKGROUND_LOCATION", "android.permission.CAMERA",
    "android.permission.RECORD_AUDIO", "android.permission.READ_CONTACTS", "android.permission.WRITE_CONTACTS",
    "android.permission.GET_ACCOUNTS",
)
MAX_APPLICATIONS = 3000


@targets.register
class AmapiTarget:
    name = "amapi"
    kind = "mdm"
    summary = "Android Management API policy: applications[] installType BLOCKED, safeguards for exceptions"
    options: tuple[Option, ...] = (
        Option("playStoreMode", "the policy's Play Store mode (WHITELIST removes every app not listed)",
               "BLACKLIST", "choice", ("BLACKLIST", "WHITELIST")),
    )

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        apps = apps_for(request, Platform.ANDROID)
        blocked = [{"packageName": a.app.identifier, "installType": "BLOCKED"} for a in apps]
        mode = request.options["playStoreMode"]
        patch: dict[str, Any] = {"applications": blocked}
        if mode == "BLACKLIST":
            patch["playStoreMode"] = "BLACKLIST"
        patch["statusReportingSettings"] = {"applicationReportsEnabled": True, "softwareInfoEnabled": True,
                                            "applicationReportingSettings": {"includeRemovedApps": True}}
        files: dict[str, str | bytes] = {
            "policy-patch.json": dump_json(patch),
            "modifyPolicyApplications.json": dump_json({"changes": [
                {"application": b, "updateMask": "installType"} for b in blocked]}),
            "personal-profile-patch.json": dump_json({"personalUsagePolicies": {
                "personalPlayStoreMode": "BLOCKLIST", "personalApplications": blocked}}),
        }
        lang = request.lang
        caveats = [say(lang, "amapi.patch"), say(lang, "amapi.blocked"), say(lang, "amapi.personal-profile")]
        if mode != "BLACKLIST":
            caveats.insert(0, say(lang, "amapi.allowlist", mode=mode))
        if len(blocked) > MAX_APPLICATIONS:
            caveats.append(count(lang, "amapi.too-many", len(blocked),
                                   limit=i18n.number(MAX_APPLICATIONS, lang)))
        prefixes = ", ".join(prefixes_for(request, Platform.ANDROID))
        if prefixes:
            caveats.append(say(lang, "amapi.prefixes", prefixes=prefixes))
        for exc in active_exceptions(request):
            allowed = [a for a in apps if a.family in exc.families]
            policy = {"applications": [
                {"packageName": a.app.identifier, "installType": "AVAILABLE", "defaultPermissionPolicy": "PROMPT",
                 "permissionGrants": [{"permission": p, "policy": "DENY"} for p in DENIED_PERMISSIONS]}
                for a in allowed]}
            files[f"exception-{exc.id}.json"] = dump_json(policy)
            who = ", ".join((*exc.devices, *exc.users, *exc.groups)) or "-"
            caveats.append(say(lang, "amapi.exception", file=f"exception-{exc.id}.json", who=who,
                               expires=i18n.date(exc.expires, lang)))
        return Payload("amapi", files, tuple(caveats), "application/json")


def plan(current: Mapping[str, Any], payload: Payload) -> tuple[list[str], list[dict[str, Any]]]:
    """Compare a policy, as `enterprises.policies.get` returns it, with an `amapi` payload.

    Returns the lines a person reads before anything is pushed (a dry run) and the `modifyPolicyApplications`
    changes still needed (apps already BLOCKED are left alone, and so is every other app of the policy).
    """
    wanted = json.loads(payload.files["modifyPolicyApplications.json"])["changes"]
    apps = current.get("applications")
    have = {a.get("packageName"): a for a in (apps if isinstance(apps, list) else []) if isinstance(a, dict)}
    lines: list[str] = []
    changes: list[dict[str, Any]] = []
    for change in wanted:
        package = change["application"]["packageName"]
        before = have.get(package, {}).get("installType")
        if before == "BLOCKED":
            continue
        lines.append(say(payload.lang, "amapi.plan.block", package=package, before=before or "-"))
        changes.append(change)
    mode = str(current.get("playStoreMode") or "PLAY_STORE_MODE_UNSPECIFIED")
    if mode != "BLACKLIST":
        lines.insert(0, say(payload.lang, "amapi.plan.allowlist", mode=mode))
    return lines, changes
