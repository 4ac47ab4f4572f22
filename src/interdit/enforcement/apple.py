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
    dump_plist,
    exception_note,
    org_prefix,
    prefixes_for,
    stable_uuid,
)
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, say, targets
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
    lang = request.lang
    caveats = [say(lang, key) for key in ("apple.supervised", "apple.hides", "apple.remove", "apple.unsigned")]
    prefixes = ", ".join(prefixes_for(request, Platform.IOS))
    if prefixes:
        caveats.append(say(lang, "apple.prefixes", prefixes=prefixes))
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
