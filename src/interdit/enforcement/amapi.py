"""`amapi`: Android Management API policy changes: `installType: BLOCKED` for every prohibited package.

BLOCKED uninstalls copies installed under an earlier policy and prevents installation. Excepted devices get a
separate policy in which the excepted apps are allowed but denied location, camera, microphone and contacts
(`permissionGrants`), the safeguards an exception usually requires.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from interdit.enforcement._mdm import active_exceptions, apps_for, bi, dump_json, prefixes_for
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, targets
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
        caveats = [
            bi("PATCH the policy with ?updateMask=applications,playStoreMode,statusReportingSettings, or POST "
               "modifyPolicyApplications.json to :modifyPolicyApplications so other apps of the policy are kept.",
               "Appliquez le PATCH avec ?updateMask=applications,playStoreMode,statusReportingSettings, ou envoyez "
               "modifyPolicyApplications.json à :modifyPolicyApplications pour garder les autres applications."),
            bi("installType BLOCKED uninstalls copies already installed and prevents new installs.",
               "installType BLOCKED désinstalle les copies déjà installées et empêche toute nouvelle installation."),
            bi("personal-profile-patch.json applies to company-owned devices with a work profile only; nothing can be "
               "blocked on the personal side of a personally-owned device.", "personal-profile-patch.json ne "
               "s'applique qu'aux appareils de l'organisation avec profil professionnel ; rien ne peut être bloqué du "
               "côté personnel d'un appareil personnel."),
        ]
        if mode != "BLACKLIST":
            caveats.insert(0, bi(f"playStoreMode is {mode}, not BLACKLIST: with an allowlist, every app not listed in "
                                 "the policy is removed, not only the prohibited ones.", f"playStoreMode vaut {mode}, "
                                 "pas BLACKLIST : avec une liste d'autorisation, toute application absente de la "
                                 "politique est supprimée, pas seulement les applications interdites."))
        if len(blocked) > MAX_APPLICATIONS:
            caveats.append(bi(f"{len(blocked)} applications exceed the {MAX_APPLICATIONS} a policy may hold.",
                              f"{len(blocked)} applications dépassent les {MAX_APPLICATIONS} qu'une politique "
                              "peut contenir."))
        prefixes = ", ".join(prefixes_for(request, Platform.ANDROID))
        if prefixes:
            caveats.append(bi(f"AMAPI takes exact package names, not vendor prefixes; not covered: {prefixes}",
                              f"AMAPI prend des noms de paquets exacts, pas des préfixes d'éditeur ; non couverts : "
                              f"{prefixes}"))
        for exc in active_exceptions(request):
            allowed = [a for a in apps if a.family in exc.families]
            policy = {"applications": [
                {"packageName": a.app.identifier, "installType": "AVAILABLE", "defaultPermissionPolicy": "PROMPT",
                 "permissionGrants": [{"permission": p, "policy": "DENY"} for p in DENIED_PERMISSIONS]}
                for a in allowed]}
            files[f"exception-{exc.id}.json"] = dump_json(policy)
            who = ", ".join((*exc.devices, *exc.users, *exc.groups)) or "-"
            caveats.append(bi(
                f"exception-{exc.id}.json: apply it (merged into their policy) to the excepted devices only ({who}); "
                "it allows the excepted apps with location, camera, microphone and contacts denied; it expires "
                f"{exc.expires.isoformat()}.", f"exception-{exc.id}.json : à appliquer (fusionné dans leur politique) "
                f"aux seuls appareils visés ({who}) ; il autorise les applications de l'exception en refusant "
                f"localisation, caméra, micro et contacts ; il expire le {exc.expires.isoformat()}."))
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
        lines.append(f"{package}: {before or '-'} -> BLOCKED")
        changes.append(change)
    mode = str(current.get("playStoreMode") or "PLAY_STORE_MODE_UNSPECIFIED")
    if mode != "BLACKLIST":
        lines.insert(0, bi(f"warning: the policy's playStoreMode is {mode} (an allowlist): apps outside the policy "
                           "are already removed; BLOCKED entries change nothing for them.",
                           f"attention : le playStoreMode de la politique est {mode} (liste d'autorisation) : les "
                           "applications absentes de la politique sont déjà supprimées."))
    return lines, changes
