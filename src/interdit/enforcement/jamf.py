"""`jamf`: the Restrictions profile as a Jamf Pro mobile device configuration profile (Classic API XML)."""

from __future__ import annotations

import plistlib
import xml.etree.ElementTree as ET
from typing import Any

from interdit.enforcement._mdm import IDENTIFIER, dump_plist
from interdit.enforcement.apple import apple_caveats, restrictions_profile
from interdit.enforcement.base import EnforcementRequest, Option, Payload, checks_options, count, say, targets


@targets.register
class JamfTarget:
    name = "jamf"
    kind = "mdm"
    summary = "Jamf Pro configuration profile (Restrictions, blockedAppBundleIDs) for the Classic API"
    options: tuple[Option, ...] = (IDENTIFIER,)

    @checks_options
    def build(self, request: EnforcementRequest) -> Payload:
        profile = dump_plist(restrictions_profile(request))
        root = ET.Element("configuration_profile")
        general = ET.SubElement(root, "general")
        ET.SubElement(general, "name").text = f"Prohibited apps — {request.policy.organisation}"
        ET.SubElement(general, "description").text = "Hides and blocks prohibited apps: " + ", ".join(
            request.families)
        ET.SubElement(general, "level").text = "Device Level"
        ET.SubElement(general, "distribution_method").text = "Install Automatically"
        ET.SubElement(general, "redeploy_on_update").text = "Newly Assigned"
        ET.SubElement(general, "payloads").text = profile.decode()
        scope = ET.SubElement(root, "scope")
        ET.SubElement(scope, "all_mobile_devices").text = "false"
        ET.SubElement(scope, "mobile_device_groups")
        xml = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8") + b"\n"
        caveats = [*apple_caveats(request), say(request.lang, "jamf.post"), say(request.lang, "jamf.remove")]
        return Payload("jamf", {"jamf-configuration-profile.xml": xml, "prohibited-apps.mobileconfig": profile},
                       tuple(caveats), "application/xml")


# -- push: what `interdit enforce jamf --push SOURCE` changes (pure: the pipeline makes the requests) ----------

RESTRICTIONS = "com.apple.applicationaccess"


def profile_name(payload: Payload, name: str | None = None) -> str:
    """The name the profile is found by: `name`, or the one in the payload."""
    if name:
        return name
    root = ET.fromstring(payload.files["jamf-configuration-profile.xml"])
    return root.findtext("general/name") or ""


def parse(data: bytes, what: str) -> ET.Element:
    """A Classic API answer as XML; ValueError when it is not well-formed or declares a DTD (Jamf sends none)."""
    if b"<!doctype" in data[:4096].lower() or b"<!entity" in data.lower():
        raise ValueError(f"{what}: the XML declares a DTD or entities, which Jamf never sends")
    try:
        return ET.fromstring(data)
    except ET.ParseError as e:
        raise ValueError(f"{what}: not well-formed XML ({e})") from None


def find_profile(listing: bytes, name: str) -> str | None:
    """The id of the profile named `name` in `GET /JSSResource/mobiledeviceconfigurationprofiles`, or None;
    ValueError when several have that name."""
    root = parse(listing, "mobiledeviceconfigurationprofiles")
    ids = [p.findtext("id") or "" for p in root.iter("configuration_profile") if p.findtext("name") == name]
    if len(ids) > 1:
        raise ValueError(f"{len(ids)} mobile device configuration profiles are named {name!r} (ids "
                         f"{', '.join(ids)}); rename all but one, or name another with --mdm-object")
    return ids[0] if ids else None


def _xml(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"


def plan(current: bytes | None, payload: Payload, name: str | None = None) -> tuple[list[str], dict[str, Any] | None]:
    """Compare a mobile device configuration profile, as the Classic API returns it
    (`GET /JSSResource/mobiledeviceconfigurationprofiles/id/{id}`, or None when no profile has the name), with a
    `jamf` payload.

    Returns the lines a person reads before anything is pushed and the request still needed, or None:
    `{"id": None, "xml": ...}` creates the profile (POST to .../id/0, scope left empty), `{"id": ID, "xml": ...}`
    updates it (PUT) with only `general/payloads`: the profile's own payloads with the missing bundle ids added
    to its Restrictions payload's `blockedAppBundleIDs` (or our Restrictions payload added when it has none).
    Its name, scope, distribution and every other payload are left as they are.
    """
    mobileconfig = payload.files["prohibited-apps.mobileconfig"]
    wanted_profile = plistlib.loads(mobileconfig.encode() if isinstance(mobileconfig, str) else mobileconfig)
    ours = next(p for p in wanted_profile["PayloadContent"] if p.get("PayloadType") == RESTRICTIONS)
    wanted = list(ours.get("blockedAppBundleIDs", []))
    shown = profile_name(payload, name)
    label = f"mobiledeviceconfigurationprofiles {shown!r}"
    if current is None:
        root = ET.fromstring(payload.files["jamf-configuration-profile.xml"])
        node = root.find("general/name")
        if node is not None:
            node.text = shown
        return [count(payload.lang, "jamf.plan.create", len(wanted), label=label)], {"id": None, "xml": _xml(root)}
    root = parse(current, label)
    profile_id = root.findtext("general/id")
    text = root.findtext("general/payloads") or ""
    try:
        profile = plistlib.loads(text.encode()) if text.strip() else {"PayloadContent": []}
        content = profile.setdefault("PayloadContent", [])
        if not isinstance(content, list):
            raise ValueError("PayloadContent is not a list")
    except (ValueError, plistlib.InvalidFileException, AttributeError) as e:
        raise ValueError(f"{label}: its payloads are not a readable property list ({str(e)[:80]}); it may be "
                         "signed or uploaded as a file") from None
    restrictions = [p for p in content if isinstance(p, dict) and p.get("PayloadType") == RESTRICTIONS]
    if restrictions:
        have = restrictions[0].get("blockedAppBundleIDs")
        have = list(have) if isinstance(have, list) else []
        missing = [i for i in wanted if i not in have]
        if not missing:
            return [], None
        restrictions[0]["blockedAppBundleIDs"] = have + missing
        lines = [say(payload.lang, "jamf.plan.add", label=label, id=i) for i in missing]
    else:
        content.append(ours)
        lines = [count(payload.lang, "jamf.plan.restrictions", len(wanted), label=label)]
    update = ET.Element("configuration_profile")
    ET.SubElement(ET.SubElement(update, "general"), "payloads").text = dump_plist(profile).decode()
    return lines, {"id": profile_id, "xml": _xml(update)}
