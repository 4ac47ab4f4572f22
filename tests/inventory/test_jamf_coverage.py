"""Jamf Pro: every documented ownership type mapped on purpose, a device without its application list is not
reported, an undocumented value is unknown with a note."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from interdit.inventory.base import readers
from interdit.inventory.jamf import OWNERSHIP_TYPES
from interdit.model import Coverage, CoverageReason, Device, Management, Ownership

NOW = datetime(2025, 3, 5, tzinfo=UTC)


def _v2(tmp_path: Path, **general: Any) -> tuple[Device, list[str]]:
    item: dict[str, Any] = {"mobileDeviceId": "7", "deviceType": "iOS",
                            "general": {"managed": True, "lastInventoryUpdateDate": "2025-03-01T00:00:00Z",
                                        "deviceOwnershipType": "Institutional"},
                            "applications": [{"identifier": "com.zhiliaoapp.musically", "name": "TikTok"}]}
    apps = general.pop("applications", item["applications"])
    item["general"].update(general)
    if apps is None:
        del item["applications"]
    else:
        item["applications"] = apps
    path = tmp_path / "page.json"
    path.write_text(json.dumps({"totalCount": 1, "results": [item]}), "utf-8")
    reader = readers.get("jamf")("jamf", [path], now=NOW)
    records = list(reader.records())
    return next(r for r in records if isinstance(r, Device)), list(reader.tally.notes)


TYPES = {
    "Institutional": (Ownership.CORPORATE, Management.FULLY_MANAGED),
    "AccountDrivenDeviceEnrollment": (Ownership.CORPORATE, Management.FULLY_MANAGED),  # lists every app
    "PersonalDeviceProfile": (Ownership.PERSONAL, Management.USER_ENROLMENT),
    "UserEnrollment": (Ownership.PERSONAL, Management.USER_ENROLMENT),
    "AccountDrivenUserEnrollment": (Ownership.PERSONAL, Management.USER_ENROLMENT),
    "Personal": (Ownership.PERSONAL, Management.USER_ENROLMENT),  # Classic device_ownership_level
    "User Enrollment": (Ownership.PERSONAL, Management.USER_ENROLMENT),  # Classic
}


@pytest.mark.parametrize("value", sorted(TYPES))
def test_ownership_types(tmp_path: Path, value: str) -> None:
    device, notes = _v2(tmp_path, deviceOwnershipType=value)
    assert (device.ownership, device.management) == TYPES[value] and not notes
    assert {v.replace(" ", "").lower() for v in TYPES} == set(OWNERSHIP_TYPES)


def test_account_driven_device_enrollment_is_fully_covered(tmp_path: Path) -> None:
    device, _ = _v2(tmp_path, deviceOwnershipType="AccountDrivenDeviceEnrollment")
    assert device.coverage == (Coverage.FULL, None)


def test_an_unmanaged_device_shows_nothing(tmp_path: Path) -> None:
    device, _ = _v2(tmp_path, managed=False)
    assert device.management is Management.UNMANAGED and device.coverage[0] is Coverage.NONE


def test_no_application_list_is_not_reported_and_an_empty_one_is_empty(tmp_path: Path) -> None:
    assert _v2(tmp_path, applications=None)[0].coverage_gap is CoverageReason.NOT_REPORTED
    assert _v2(tmp_path, applications=[])[0].coverage == (Coverage.FULL, None)


def test_an_undocumented_ownership_type_is_unknown_with_a_note(tmp_path: Path) -> None:
    device, notes = _v2(tmp_path, deviceOwnershipType="SharedIpadGuest")
    assert device.management is Management.UNKNOWN and "SharedIpadGuest" in notes[0]
    assert "deviceOwnershipType" in notes[0]


def test_classic_without_applications_is_not_reported(tmp_path: Path) -> None:
    xml = ("<mobile_device><general><id>9</id><os_type>iOS</os_type><managed>true</managed>"
           "<device_ownership_level>Institutional</device_ownership_level>"
           "<last_inventory_update_utc>2025-03-01T00:00:00Z</last_inventory_update_utc></general></mobile_device>")
    path = tmp_path / "9.xml"
    path.write_text(xml, "utf-8")
    records = list(readers.get("jamf-classic")("jamf", [path], now=NOW).records())
    (device,) = [r for r in records if isinstance(r, Device)]
    assert device.coverage_gap is CoverageReason.NOT_REPORTED
    path.write_text(xml.replace("</general>", "</general><applications/>"), "utf-8")
    records = list(readers.get("jamf-classic")("jamf", [path], now=NOW).records())
    assert next(r for r in records if isinstance(r, Device)).coverage == (Coverage.FULL, None)
