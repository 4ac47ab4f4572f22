"""`apple`: an iOS/iPadOS Restrictions profile (`blockedAppBundleIDs`) and `RemoveApplication` commands.

The profile hides prohibited apps and blocks their launch on supervised devices (iOS 15+; the legacy key
`blacklistedAppBundleIDs` ships in a second profile for iOS 9.3 to 14); it does not remove them. The
`RemoveApplication` commands remove copies the MDM manages; a copy the user installed must first be taken
under management, or stays hidden by the profile.
"""

from __future__ import annotations

from typing import Any

from interdit.enforcement._mdm import (
    IDENTIFIER,
    apps_for,
    bi,
    dump_plist,
    exception_note,
    org_prefix,
    prefixes_for,
    stable_uuid,
)
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, targets
from interdit.model import Platform


def restrictions_profile(request: EnforcementRequest, key: str = "blockedAppBundleIDs",
                         label: str = "") -> dict[str, Any]:
    ids = [a.app.identifier for a in apps_for(request, Platform.IOS)]
    prefix = org_prefix(request)
    base = f"{prefix}{label}"
    name = request.policy.organisation
    return {
        "PayloadContent": [{
            "PayloadType": "com.apple.applicationaccess", "PayloadVersion": 1,
            "PayloadIdentifier": f"{base}.restrictions", "PayloadUUID": stable_uuid(base, "restrictions", *ids),
            "PayloadDisplayName": "Prohibited apps (blocked bundle IDs)", key: ids,
        }],
        "PayloadDisplayName": f"Prohibited apps — {name}",
        "PayloadDescription": "Hides and blocks the launch of apps prohibited by policy: "
                              + ", ".join(request.families),
        "PayloadIdentifier": base, "PayloadOrganization": name,
        "PayloadType": "Configuration", "PayloadUUID": stable_uuid(base, "profile", *ids), "PayloadVersion": 1,
        "PayloadRemovalDisallowed": True, "PayloadScope": "System",
    }


def remove_command(identifier: str) -> dict[str, Any]:
    return {"CommandUUID": stable_uuid("RemoveApplication", identifier),
            "Command": {"RequestType": "RemoveApplication", "Identifier": identifier}}


def apple_caveats(request: EnforcementRequest) -> list[str]:
    caveats = [
        bi("blockedAppBundleIDs works on supervised devices only (iOS/iPadOS 15+) and is refused under User "
           "Enrollment.", "blockedAppBundleIDs ne s'applique qu'aux appareils supervisés (iOS/iPadOS 15 et plus) et "
           "est refusé en inscription utilisateur (User Enrollment)."),
        bi("The profile hides the app and blocks its launch; it does not remove it: the copy stays on the device "
           "(it shows as blocked_present until removed).", "Le profil masque l'application et bloque son lancement ; "
           "il ne la supprime pas : la copie reste sur l'appareil (signalée blocked_present jusqu'à sa suppression)."),
        bi("RemoveApplication removes managed copies only; a user-installed copy must first be taken under "
           "management (InstallApplication with ChangeManagementState=Managed) or stays hidden by the profile.",
           "RemoveApplication ne supprime que les copies gérées ; une copie installée par l'utilisateur doit d'abord "
           "passer sous gestion (InstallApplication avec ChangeManagementState=Managed), sinon elle reste masquée."),
        bi("The profile is unsigned: sign it before distribution, or let the MDM sign it.",
           "Le profil n'est pas signé : signez-le avant de le distribuer, ou laissez le MDM le signer."),
    ]
    prefixes = ", ".join(prefixes_for(request, Platform.IOS))
    if prefixes:
        caveats.append(bi(f"Apple profiles take exact bundle ids, not vendor prefixes; not covered: {prefixes}. Add "
                          "the vendor's apps by id to the policy.", "Les profils Apple prennent des identifiants "
                          f"exacts, pas des préfixes d'éditeur ; non couverts : {prefixes}. Ajoutez ces applications "
                          "à la politique par identifiant."))
    note = exception_note(request)
    if note:
        caveats.append(note)
    return caveats


@targets.register
class AppleTarget:
    name = "apple"
    kind = "mdm"
    summary = "iOS Restrictions profile (blockedAppBundleIDs) and RemoveApplication commands"
    options: tuple[Option, ...] = (IDENTIFIER,)

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        files: dict[str, str | bytes] = {
            "prohibited-apps.mobileconfig": dump_plist(restrictions_profile(request)),
            "prohibited-apps-ios9-14.mobileconfig": dump_plist(
                restrictions_profile(request, "blacklistedAppBundleIDs", ".legacy")),
        }
        for app in apps_for(request, Platform.IOS):
            files[f"commands/RemoveApplication-{app.app.identifier}.plist"] = dump_plist(
                remove_command(app.app.identifier))
        return Payload("apple", files, tuple(apple_caveats(request)), "application/x-apple-aspen-config")
