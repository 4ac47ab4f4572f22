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

from typing import Any

from interdit.enforcement._mdm import App, apps_for, bi, dump_json, exception_note, prefixes_for
from interdit.enforcement.base import EnforcementRequest, Payload, targets
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


@targets.register("intune")
class IntuneTarget:
    name = "intune"
    summary = "Intune (Graph) iOS/Android configuration and compliance policies (restrictedApps, hidden apps)"

    def build(self, request: EnforcementRequest) -> Payload:
        ios = [_item(a) for a in apps_for(request, Platform.IOS)]
        android = [_item(a) for a in apps_for(request, Platform.ANDROID)]
        title = f"Prohibited apps — {request.policy.organisation}"
        families = ", ".join(request.families)
        grace = int(request.options.get("grace_hours", "0"))
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
