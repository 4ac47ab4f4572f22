"""`workspace-one`: Workspace ONE UEM blocklisted app groups (compliance) and the iOS Restrictions profile.

An app group of type Blocklist, with a compliance policy "Application list contains blocklisted apps", REPORTS
and can act on the device (notify, block e-mail, enterprise wipe); it does not remove a user's app. The
Restrictions profile (a custom settings profile on supervised iOS) hides and blocks launch.
"""

from __future__ import annotations

from interdit.enforcement._mdm import IDENTIFIER, apps_for, dump_json, dump_plist, exception_note, prefixes_for
from interdit.enforcement.apple import restrictions_profile
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, say, targets
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
        lang = request.lang
        caveats = [say(lang, key) for key in ("workspace-one.reports", "workspace-one.post",
                                              "workspace-one.restrictions", "workspace-one.employee-owned")]
        prefixes = ", ".join(prefixes_for(request, Platform.IOS) + prefixes_for(request, Platform.ANDROID))
        if prefixes:
            caveats.append(say(lang, "mdm.prefixes", prefixes=prefixes))
        note = exception_note(request)
        if note:
            caveats.append(note)
        return Payload("workspace-one", files, tuple(caveats), "application/json")
