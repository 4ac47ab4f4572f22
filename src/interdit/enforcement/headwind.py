"""`headwind`: Headwind MDM configuration applications with action 2 (do not install, remove if installed)."""

from __future__ import annotations

from interdit.enforcement._mdm import apps_for, bi, dump_json, exception_note, prefixes_for
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, targets
from interdit.model import Platform

REMOVE = 2  # 0: do not install and hide if installed; 1: install; 2: do not install and remove if installed


@targets.register
class HeadwindTarget:
    name = "headwind"
    kind = "mdm"
    summary = "Headwind MDM configuration applications (action 2: remove if installed)"
    options: tuple[Option, ...] = (
        Option("action", "remove (action 2: remove if installed) or hide (action 0: hide, no removal)",
               "remove", "choice", ("remove", "hide")),
    )

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        hide = request.options["action"] == "hide"
        apps = [{"pkg": a.app.identifier, "name": a.name, "action": 0 if hide else REMOVE, "version": "0",
                 "system": False, "showIcon": False}
                for a in apps_for(request, Platform.ANDROID)]
        caveats = [
            bi("action 0 hides installed copies and prevents installs; it does not remove them.",
               "action 0 masque les copies installées et empêche l'installation ; elle ne les supprime pas.") if hide
            else bi("action 2 removes installed copies and prevents installs, on devices where the Headwind launcher "
                    "is the device owner.", "action 2 supprime les copies installées et empêche l'installation, sur "
                    "les appareils où le lanceur Headwind est propriétaire de l'appareil (device owner)."),
            bi("Add the applications to every configuration the devices use (Configurations > Applications), or merge "
               "the list into the configuration's 'applications' with the server's REST API.", "Ajoutez les "
               "applications à chaque configuration des appareils (Configurations > Applications), ou fusionnez la "
               "liste dans le champ « applications » avec l'API REST du serveur."),
        ]
        prefixes = ", ".join(prefixes_for(request, Platform.ANDROID))
        if prefixes:
            caveats.append(bi(f"Not covered (vendor prefixes): {prefixes}",
                              f"Non couverts (préfixes d'éditeur) : {prefixes}"))
        note = exception_note(request)
        if note:
            caveats.append(note)
        return Payload("headwind", {"configuration-applications.json": dump_json(apps)}, tuple(caveats),
                       "application/json")
