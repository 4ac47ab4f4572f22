"""What the MDM targets share: the apps to block per platform with their names, exceptions, stable UUIDs."""

from __future__ import annotations

import json
import plistlib
import uuid
from dataclasses import dataclass
from typing import Any

from interdit.enforcement.base import EnforcementRequest, Option, say
from interdit.model import AppId, Platform, PolicyException

IDENTIFIER = Option("identifier", "the reverse-DNS prefix of the profile's identifiers",
                    "org.interdit.prohibited-apps", pattern=r"[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63}){1,10}",
                    expected="expected.reverse-dns")

NAMESPACE = uuid.UUID("6f3a2b1c-5e1d-4c6a-9a1f-696e74657264")  # fixed: the same request gives the same UUIDs


@dataclass(frozen=True)
class App:
    app: AppId
    name: str  # the family's name, for people reading the payload
    family: str


def apps_for(request: EnforcementRequest, platform: Platform) -> list[App]:
    out = []
    for app in sorted(a for a in request.apps if a.platform == platform):
        family = next((f for f in request.families if f in request.catalogue.families
                       and request.catalogue.families[f].matches(app)), "")
        name = request.catalogue.families[family].name if family else app.identifier
        out.append(App(app, name, family))
    return out


def prefixes_for(request: EnforcementRequest, platform: Platform) -> list[str]:
    return sorted(p.identifier for p in request.prefixes if p.platform == platform)


def active_exceptions(request: EnforcementRequest) -> list[PolicyException]:
    return [e for e in request.policy.exceptions if e.active(request.now) and set(e.families) & set(request.families)]


def stable_uuid(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts))).upper()


def dump_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def dump_plist(value: Any) -> bytes:
    return plistlib.dumps(value, fmt=plistlib.FMT_XML, sort_keys=True)


def org_prefix(request: EnforcementRequest) -> str:
    """A reverse-DNS prefix for payload identifiers (`--option identifier=org.example.mdm`)."""
    return request.options.get("identifier", IDENTIFIER.default or "")


def exception_note(request: EnforcementRequest) -> str | None:
    excepted = active_exceptions(request)
    if not excepted:
        return None
    who = "; ".join(say(request.lang, "mdm.exception-who", id=e.id, who=", ".join((*e.devices, *e.users, *e.groups)))
                    for e in excepted)
    return say(request.lang, "mdm.exceptions", who=who)
