"""Each source's own organisational labels, as `Device.org_labels`: Jamf sites, departments and buildings, AMAPI
enrollment data and policy names, Workspace ONE organization groups (docs/policy.md, "Org units across
sources")."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from interdit.inventory._common import MAX_LABEL, label
from interdit.inventory.amapi import device_from_amapi
from interdit.inventory.jamf import device_from_classic, device_from_v2
from interdit.inventory.workspace_one import device_from_ws1

NOW = datetime(2025, 3, 5, tzinfo=UTC)
SEEN = "2025-03-01T10:00:00Z"


def test_jamf_pro_api_site_department_and_building() -> None:
    item = {"mobileDeviceId": "7", "deviceType": "iOS", "lastInventoryUpdateTimestamp": SEEN,
            "general": {"site": {"id": "3", "name": "Québec"}},
            "userAndLocation": {"department": "Comms", "building": "Tour A", "emailAddress": "a@x.org"},
            "groups": [{"groupName": "iPads Comms"}]}
    device, _ = device_from_v2("jamf", item, NOW)
    assert device.org_labels == (("site", "Québec"), ("department", "Comms"), ("building", "Tour A"))
    assert device.groups == ("iPads Comms",)


def test_jamf_says_nothing_with_the_none_site_and_numeric_ids() -> None:
    item = {"mobileDeviceId": "7", "deviceType": "iOS", "lastInventoryUpdateTimestamp": SEEN,
            "general": {"site": {"id": "-1", "name": "None"}},
            "userAndLocation": {"departmentId": "4", "department": "4"}}
    device, _ = device_from_v2("jamf", item, NOW)
    assert device.org_labels == ()


def test_jamf_classic_site_department_and_building() -> None:
    node = ET.fromstring(
        "<mobile_device><general><id>9</id><os_type>iOS</os_type><last_inventory_update_utc>2025-03-01T10:00:00.000+0000</last_inventory_update_utc><site><id>2</id><name>Montréal</name></site>"
        "</general><location><department>Finances</department><building>B</building></location>"
        "<mobile_device_groups><mobile_device_group><name>Tous les iPad</name></mobile_device_group>"
        "</mobile_device_groups></mobile_device>")
    device = device_from_classic("jamf", node, NOW)
    assert device.org_labels == (("site", "Montréal"), ("department", "Finances"), ("building", "B"))
    assert device.groups == ("Tous les iPad",)


def test_amapi_enrollment_data_and_policy_name() -> None:
    item = {"name": "enterprises/E1/devices/D1", "enrollmentTokenData": "dept=finance",
            "policyName": "enterprises/E1/policies/policy-comms-2023", "managementMode": "DEVICE_OWNER",
            "ownership": "COMPANY_OWNED", "lastStatusReportTime": "2025-03-01T10:00:00Z"}
    device = device_from_amapi("amapi", item, NOW)
    assert device.org_labels == (("enrollment_data", "dept=finance"), ("policy", "policy-comms-2023"))
    assert device.org_unit is None


def test_workspace_one_organization_group() -> None:
    item = {"Id": {"Value": 1}, "Platform": "Apple", "Model": "iPhone", "LocationGroupName": "MCN Finances",
            "Ownership": "C", "LastSeen": "2025-03-01T10:00:00"}
    device = device_from_ws1("ws1", item, NOW)
    assert device.org_labels == (("organization_group", "MCN Finances"),)


@given(st.text(max_size=2000))
def test_a_label_is_bounded_one_line_text_or_nothing(value: str) -> None:
    found = label("site", value)
    assert len(found) <= 1
    for kind, text in found:
        assert kind == "site" and text and len(text) <= MAX_LABEL and "\n" not in text and text == text.strip()
