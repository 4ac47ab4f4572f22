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

from interdit.enforcement._mdm import App, apps_for, bi, dump_json, exception_note, prefixes_for
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, targets
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
        caveats = [
            bi("REPORTS ONLY: compliantAppsList and every restrictedApps list mark devices non-compliant; they do not "
               "remove or block the app. Pair them with Conditional Access, or use a blocking payload.",
               "SIGNALE SEULEMENT : compliantAppsList et toute liste restrictedApps rendent l'appareil non conforme ; "
               "elles ne suppriment ni ne bloquent l'application. Associez-les à l'accès conditionnel."),
            bi("BLOCKS: appsVisibilityList (hidden apps) hides the app and blocks its launch on supervised iOS devices "
               "only; it does not remove it. Assign device-restriction profiles to user groups.",
               "BLOQUE : appsVisibilityList (applications masquées) masque l'application et bloque son lancement, sur "
               "les appareils iOS supervisés seulement ; elle ne la supprime pas. Affectez le profil à des groupes "
               "d'utilisateurs."),
            bi("BLOCKS and REMOVES: android-cope-personal-profile.json, on company-owned devices with a work profile.",
               "BLOQUE et SUPPRIME : android-cope-personal-profile.json, sur les appareils de l'organisation avec "
               "profil professionnel."),
            bi("Fully managed Android devices: block through managed Google Play (the 'amapi' target describes the "
               "same policy Intune applies); Android Enterprise compliance policies have no restrictedApps.",
               "Android entièrement géré : bloquez par Google Play géré (la cible « amapi » décrit la même "
               "politique) ; les stratégies de conformité Android Enterprise n'ont pas de restrictedApps."),
            bi("POST the bodies to /deviceManagement/deviceConfigurations or "
               "/deviceManagement/deviceCompliancePolicies (permission DeviceManagementConfiguration.ReadWrite.All), "
               "then assign them.",
               "Envoyez (POST) les corps à /deviceManagement/deviceConfigurations ou "
               "/deviceManagement/deviceCompliancePolicies, puis affectez-les."),
        ]
        for name, items in (("iOS", ios), ("Android", android)):
            if len(items) > MAX_RESTRICTED:
                caveats.append(bi(f"{len(items)} {name} apps exceed the {MAX_RESTRICTED} a restrictedApps list holds; "
                                  f"the compliance policy lists the first {MAX_RESTRICTED}.",
                                  f"{len(items)} applications {name} dépassent les {MAX_RESTRICTED} d'une liste "
                                  f"restrictedApps ; la stratégie liste les {MAX_RESTRICTED} premières."))
        prefixes = ", ".join(prefixes_for(request, Platform.IOS) + prefixes_for(request, Platform.ANDROID))
        if prefixes:
            caveats.append(bi(f"Intune lists take exact ids, not vendor prefixes; not covered: {prefixes}",
                              f"Les listes Intune prennent des identifiants exacts ; non couverts : {prefixes}"))
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
    lines: list[str] = []
    changes: list[dict[str, Any]] = []
    for file, body in push_objects(payload, name).items():
        kind = body["@odata.type"]
        label = f"{COLLECTIONS[file]} {body['displayName']!r} ({kind.rsplit('.', 1)[-1]})"
        have = current.get(file)
        change = {"file": file, "collection": COLLECTIONS[file], "displayName": body["displayName"]}
        if have is None:
            count = ", ".join(f"{len(body[f])} in {f}" for f, *_ in LISTS[kind] if body.get(f))
            lines.append(bi(f"{label}: create ({count}), not assigned", f"{label} : création ({count}), sans "
                            "affectation"))
            changes.append({**change, "id": None, "body": body})
            continue
        if have.get("@odata.type") not in (None, kind):
            lines.append(bi(f"{label}: skipped, the object found is a {have.get('@odata.type')}",
                            f"{label} : ignoré, l'objet trouvé est un {have.get('@odata.type')}"))
            continue
        patch: dict[str, Any] = {}
        for field, mode_key, block, allow in LISTS[kind]:
            mode = have.get(mode_key) if mode_key else None
            if mode_key and mode == allow:
                lines.append(bi(f"{label} {field}: left alone, its {mode_key} is {allow} (an allowlist: adding the "
                                "apps would allow them)", f"{label} {field} : inchangé, son {mode_key} vaut {allow} "
                                "(liste d'autorisation : y ajouter les applications les autoriserait)"))
                continue
            items = have.get(field)
            kept = [i for i in (items if isinstance(items, list) else []) if isinstance(i, dict)]
            present = {str(i.get("appId")) for i in kept}
            missing = [i for i in body.get(field, []) if i["appId"] not in present]
            room = MAX_ITEMS.get(field, len(kept) + len(missing)) - len(kept)
            if len(missing) > room:
                lines.append(bi(f"{label} {field}: full; not added: "
                                + ", ".join(i["appId"] for i in missing[max(room, 0):]),
                                f"{label} {field} : liste pleine ; non ajoutées : "
                                + ", ".join(i["appId"] for i in missing[max(room, 0):])))
                missing = missing[:max(room, 0)]
            if mode_key and mode != block and (missing or kept):
                lines.append(f"{label} {mode_key}: {mode or '-'} -> {block}")
                patch[mode_key] = block
            if missing:
                lines.extend(f"{label} {field}: + {i['appId']}" for i in missing)
                patch[field] = kept + missing
        if patch:
            changes.append({**change, "id": have.get("id"), "body": {"@odata.type": kind, **patch}})
    return lines, changes
