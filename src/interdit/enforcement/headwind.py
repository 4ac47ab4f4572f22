"""`headwind`: Headwind MDM configuration applications with action 2 (do not install, remove if installed)."""

from __future__ import annotations

from interdit.enforcement._mdm import apps_for, dump_json, exception_note, prefixes_for
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, say, targets
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
        lang = request.lang
        caveats = [say(lang, "headwind.hide" if hide else "headwind.remove"), say(lang, "headwind.configurations")]
        prefixes = ", ".join(prefixes_for(request, Platform.ANDROID))
        if prefixes:
            caveats.append(say(lang, "mdm.prefixes", prefixes=prefixes))
        note = exception_note(request)
        if note:
            caveats.append(note)
        return Payload("headwind", {"configuration-applications.json": dump_json(apps)}, tuple(caveats),
                       "application/json")
