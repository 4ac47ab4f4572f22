"""`jamf`: the Restrictions profile wrapped for the Jamf Pro Classic API (golden files)."""

from __future__ import annotations

import plistlib
import xml.etree.ElementTree as ET

from mdm_request import request, roundtrip_plist

from interdit.enforcement.base import targets


def test_classic_api_body_carries_the_profile() -> None:
    payload = targets.get("jamf")().build(request())
    root = ET.fromstring(payload.files["jamf-configuration-profile.xml"])
    assert root.tag == "configuration_profile"
    embedded = root.findtext("general/payloads") or ""
    assert plistlib.loads(embedded.encode()) == roundtrip_plist(payload.files["prohibited-apps.mobileconfig"])
    assert root.findtext("scope/all_mobile_devices") == "false"
    assert any("scope it" in c for c in payload.caveats)
