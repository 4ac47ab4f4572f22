"""`jamf`: the Restrictions profile as a Jamf Pro mobile device configuration profile (Classic API XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from interdit.enforcement._mdm import bi, dump_plist
from interdit.enforcement.apple import apple_caveats, restrictions_profile
from interdit.enforcement.base import EnforcementRequest, Payload, targets


@targets.register("jamf")
class JamfTarget:
    name = "jamf"
    summary = "Jamf Pro configuration profile (Restrictions, blockedAppBundleIDs) for the Classic API"

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
        caveats = [
            *apple_caveats(request),
            bi("POST the XML to /JSSResource/mobiledeviceconfigurationprofiles/id/0, then scope it to a smart group of "
               "supervised devices (the scope is left empty on purpose).", "Envoyez le XML (POST) à "
               "/JSSResource/mobiledeviceconfigurationprofiles/id/0, puis ciblez un groupe intelligent d'appareils "
               "supervisés (la portée est laissée vide exprès)."),
            bi("To remove managed copies, send RemoveApplication from Jamf Pro (mass action) or use the 'apple' "
               "target.", "Pour supprimer les copies gérées, envoyez RemoveApplication depuis Jamf Pro (action de "
               "masse) ou utilisez la cible « apple »."),
        ]
        return Payload("jamf", {"jamf-configuration-profile.xml": xml, "prohibited-apps.mobileconfig": profile},
                       tuple(caveats), "application/xml")
