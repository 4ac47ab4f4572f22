"""`intune`: Microsoft Graph device-configuration and compliance-policy bodies for iOS and Android.

What each does, plainly:
- `ios-device-restrictions.json` (iosGeneralDeviceConfiguration): `appsVisibilityList` HIDES the apps and blocks
  their launch on supervised devices; `compliantAppsList` ("prohibited apps") only REPORTS.
- `ios-compliance-policy.json` and `android-compliance-policy-da.json` (`restrictedApps`): only REPORT — the
  device becomes non-compliant (Conditional Access can then cut access to work data); nothing is removed.
- `android-cope-personal-profile.json` (androidDeviceOwnerGeneralDeviceConfiguration): BLOCKS and removes the
  apps in the personal profile of company-owned devices with a work profile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from interdit.enforcement._mdm import App, apps_for, dump_json, exception_note, prefixes_for
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, count, say, targets
from interdit.model import Platform

MAX_RESTRICTED = 100  # restrictedApps holds at most 100 entries


def _item(app: App) -> dict[str, Any]:
    store = (f"https://play.google.com/store/apps/details?id={app.app.identifier}"
             if app.app.platform is Platform.ANDROID else None)
    return {"@odata.type": "microsoft.graph.appListItem", "name": app.name, "publisher": None,
            "appStoreUrl": store, "appId": app.app.identifier}


def _actions(grace_hours: int) -> list[dict[str, Any]]:
    return [{"ruleName": "PasswordRequired", "scheduledActionConfigurations": [
        {"actionType": "block", "gracePeriodHours": grace_hours, "notificationTemplateId": "",
         "notificationMessageCCList": []}]}]


@targets.register
class IntuneTarget:
    name = "intune"
    kind = "mdm"
    summary = "Intune (Graph) iOS/Android configuration and compliance policies (restrictedApps, hidden apps)"
    options: tuple[Option, ...] = (
        Option("grace_hours", "hours before a non-compliant device is blocked (compliance grace period)",
               "0", "integer", maximum=8760),
    )

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        ios = [_item(a) for a in apps_for(request, Platform.IOS)]
        android = [_item(a) for a in apps_for(request, Platform.ANDROID)]
        title = f"Prohibited apps — {request.policy.organisation}"
        families = ", ".join(request.families)
        grace = int(request.options["grace_hours"])
        files: dict[str, str | bytes] = {
            "ios-device-restrictions.json": dump_json({
                "@odata.type": "#microsoft.graph.iosGeneralDeviceConfiguration", "displayName": title,
                "description": f"Hides prohibited apps (supervised devices) and reports them: {families}",
                "compliantAppListType": "appsNotInListCompliant", "compliantAppsList": ios,
                "appsVisibilityListType": "appsNotInListCompliant", "appsVisibilityList": ios}),
            "ios-compliance-policy.json": dump_json({
                "@odata.type": "#microsoft.graph.iosCompliancePolicy", "displayName": title,
                "description": f"Marks devices holding prohibited apps non-compliant: {families}",
                "restrictedApps": ios[:MAX_RESTRICTED], "scheduledActionsForRule": _actions(grace)}),
            "android-compliance-policy-da.json": dump_json({
                "@odata.type": "#microsoft.graph.androidCompliancePolicy", "displayName": f"{title} (device admin)",
                "description": f"Legacy device administrator only: {families}",
                "restrictedApps": android[:MAX_RESTRICTED], "scheduledActionsForRule": _actions(grace)}),
            "android-cope-personal-profile.json": dump_json({
                "@odata.type": "#microsoft.graph.androidDeviceOwnerGeneralDeviceConfiguration",
                "displayName": f"{title} (personal profile of company-owned devices)",
                "personalProfilePlayStoreMode": "blockedApps", "personalProfilePersonalApplications": android}),
        }
        lang = request.lang
        caveats = [say(lang, key) for key in ("intune.reports", "intune.hides", "intune.removes",
                                              "intune.fully-managed", "intune.post")]
        for name, items in (("iOS", ios), ("Android", android)):
            if len(items) > MAX_RESTRICTED:
                caveats.append(count(lang, "intune.too-many", len(items), platform=name, limit=MAX_RESTRICTED))
        prefixes = ", ".join(prefixes_for(request, Platform.IOS) + prefixes_for(request, Platform.ANDROID))
        if prefixes:
            caveats.append(say(lang, "intune.prefixes", prefixes=prefixes))
        note = exception_note(request)
        if note:
            caveats.append(note)
        return Payload("intune", files, tuple(caveats), "application/json")


# -- push: what `interdit enforce intune --push SOURCE` changes (pure: the pipeline makes the requests) --------

COLLECTIONS = {  # file -> the Graph collection under /deviceManagement its object lives in
    "ios-device-restrictions.json": "deviceConfigurations",
    "ios-compliance-policy.json": "deviceCompliancePolicies",
    "android-compliance-policy-da.json": "deviceCompliancePolicies",
    "android-cope-personal-profile.json": "deviceConfigurations",
}
# per Graph type: (app list, the property saying how the list is read or None, the value that makes it a
# blocklist, the value that would make our apps ALLOWED instead)
LISTS: dict[str, tuple[tuple[str, str | None, str, str], ...]] = {
    "#microsoft.graph.iosGeneralDeviceConfiguration": (
        ("compliantAppsList", "compliantAppListType", "appsNotInListCompliant", "appsInListCompliant"),
        ("appsVisibilityList", "appsVisibilityListType", "appsNotInListCompliant", "appsInListCompliant")),
    "#microsoft.graph.iosCompliancePolicy": (("restrictedApps", None, "", ""),),
    "#microsoft.graph.androidCompliancePolicy": (("restrictedApps", None, "", ""),),
    "#microsoft.graph.androidDeviceOwnerGeneralDeviceConfiguration": (
        ("personalProfilePersonalApplications", "personalProfilePlayStoreMode", "blockedApps", "allowedApps"),),
}
MAX_ITEMS = {"restrictedApps": MAX_RESTRICTED, "personalProfilePersonalApplications": 500}


def push_objects(payload: Payload, name: str | None = None) -> dict[str, dict[str, Any]]:
    """The objects a push finds by displayName (file -> body), empty app lists left out.

    With `name`, it replaces the payload's title in every displayName, e.g. NAME, NAME (device admin).
    """
    import json

    bodies = {f: json.loads(payload.files[f]) for f in COLLECTIONS if f in payload.files}
    title = str(bodies.get("ios-device-restrictions.json", {}).get("displayName", ""))
    out: dict[str, dict[str, Any]] = {}
    for file, body in bodies.items():
        if not any(body.get(field) for field, *_ in LISTS[body["@odata.type"]]):
            continue
        shown = str(body["displayName"])
        if name:
            body["displayName"] = name + shown[len(title):] if title and shown.startswith(title) else name
        out[file] = body
    return out


def plan(current: Mapping[str, Mapping[str, Any] | None], payload: Payload,
         name: str | None = None) -> tuple[list[str], list[dict[str, Any]]]:
    """Compare the Intune objects found by displayName (file -> the object as Graph returns it, or None when
    there is none) with an `intune` payload.

    Returns the lines a person reads before anything is pushed and the requests still needed, each
    `{"file", "collection", "displayName", "id", "body"}`: `id` None means create (POST the whole body); otherwise
    PATCH `body`, which holds only the app lists that lack a prohibited app, the entries already there kept,
    and the list's type when it was not set. Every other setting of the object is left as it is.
    """
    lang = payload.lang
    lines: list[str] = []
    changes: list[dict[str, Any]] = []
    for file, body in push_objects(payload, name).items():
        kind = body["@odata.type"]
        label = f"{COLLECTIONS[file]} {body['displayName']!r} ({kind.rsplit('.', 1)[-1]})"
        have = current.get(file)
        change = {"file": file, "collection": COLLECTIONS[file], "displayName": body["displayName"]}
        if have is None:
            counts = ", ".join(count(lang, "intune.plan.in", len(body[f]), field=f) for f, *_ in LISTS[kind]
                               if body.get(f))
            lines.append(say(lang, "intune.plan.create", label=label, counts=counts))
            changes.append({**change, "id": None, "body": body})
            continue
        if have.get("@odata.type") not in (None, kind):
            lines.append(say(lang, "intune.plan.skipped", label=label, found=have.get("@odata.type")))
            continue
        patch: dict[str, Any] = {}
        for field, mode_key, block, allow in LISTS[kind]:
            mode = have.get(mode_key) if mode_key else None
            if mode_key and mode == allow:
                lines.append(say(lang, "intune.plan.allowlist", label=label, field=field, key=mode_key, value=allow))
                continue
            items = have.get(field)
            kept = [i for i in (items if isinstance(items, list) else []) if isinstance(i, dict)]
            present = {str(i.get("appId")) for i in kept}
            missing = [i for i in body.get(field, []) if i["appId"] not in present]
            room = MAX_ITEMS.get(field, len(kept) + len(missing)) - len(kept)
            if len(missing) > room:
                lines.append(say(lang, "intune.plan.full", label=label, field=field,
                                 ids=", ".join(i["appId"] for i in missing[max(room, 0):])))
                missing = missing[:max(room, 0)]
            if mode_key and mode != block and (missing or kept):
                lines.append(say(lang, "intune.plan.mode", label=label, key=mode_key, before=mode or "-", after=block))
                patch[mode_key] = block
            if missing:
                lines.extend(say(lang, "intune.plan.add", label=label, field=field, id=i["appId"]) for i in missing)
                patch[field] = kept + missing
        if patch:
            changes.append({**change, "id": have.get("id"), "body": {"@odata.type": kind, **patch}})
    return lines, changes
