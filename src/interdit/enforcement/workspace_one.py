"""`workspace-one`: Workspace ONE UEM blocklisted app groups (compliance) and the iOS Restrictions profile.

An app group of type Blocklist, with a compliance policy "Application list contains blocklisted apps", REPORTS
and can act on the device (notify, block e-mail, enterprise wipe); it does not remove a user's app. The
Restrictions profile (a custom settings profile on supervised iOS) hides and blocks launch.
"""

from __future__ import annotations

from interdit.enforcement._mdm import IDENTIFIER, apps_for, bi, dump_json, dump_plist, exception_note, prefixes_for
from interdit.enforcement.apple import restrictions_profile
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, targets
from interdit.model import Platform

PLATFORMS = {Platform.IOS: "Apple", Platform.ANDROID: "Android"}


@targets.register
class WorkspaceOneTarget:
    name = "workspace-one"
    kind = "mdm"
    summary = "Workspace ONE UEM blocklisted app groups and the iOS Restrictions profile"
    options: tuple[Option, ...] = (
        IDENTIFIER,
        Option("organization_group_id", "the organization group that manages the app groups (its id)",
               None, "integer", minimum=1),
    )

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        files: dict[str, str | bytes] = {}
        for platform, label in PLATFORMS.items():
            apps = apps_for(request, platform)
            files[f"app-group-{platform.value}.json"] = dump_json({
                "Name": f"Prohibited apps ({label}) — {request.policy.organisation}",
                "AppGroupType": "Blacklist", "Platform": label,
                "ManagedByOrganizationGroupId": request.options.get("organization_group_id", ""),
                "Applications": [{"ApplicationName": a.name, "BundleId": a.app.identifier} for a in apps],
            })
        files["ios-restrictions.mobileconfig"] = dump_plist(restrictions_profile(request))
        caveats = [
            bi("The app groups only REPORT unless a compliance policy ('Application list contains blocklisted apps') "
               "acts on them; no action uninstalls an app the user installed.", "Les groupes d'applications ne font "
               "que SIGNALER, sauf si une stratégie de conformité agit sur eux ; aucune action ne désinstalle une "
               "application installée par l'utilisateur."),
            bi("POST each app group to /API/mdm/applicationgroups (field names per the UEM API help of your version; "
               "verify them there), then create the compliance policy in the console.", "Envoyez (POST) chaque groupe "
               "à /API/mdm/applicationgroups (vérifiez les noms de champs dans l'aide de l'API de votre version), puis "
               "créez la stratégie de conformité dans la console."),
            bi("ios-restrictions.mobileconfig: upload as a custom settings profile; supervised devices only; hides and "
               "blocks launch, does not remove.", "ios-restrictions.mobileconfig : à téléverser comme profil de "
               "paramètres personnalisés ; appareils supervisés seulement ; masque et bloque, ne supprime pas."),
            bi("Employee-owned devices: privacy settings usually hide personal apps; the group cannot match them.",
               "Appareils des employés : la confidentialité masque d'ordinaire les applications personnelles ; le "
               "groupe ne peut pas les voir."),
        ]
        prefixes = ", ".join(prefixes_for(request, Platform.IOS) + prefixes_for(request, Platform.ANDROID))
        if prefixes:
            caveats.append(bi(f"Not covered (vendor prefixes): {prefixes}",
                              f"Non couverts (préfixes d'éditeur) : {prefixes}"))
        note = exception_note(request)
        if note:
            caveats.append(note)
        return Payload("workspace-one", files, tuple(caveats), "application/json")
