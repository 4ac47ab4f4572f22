"""What "no app list" means for each connector, and the documented enum values of Workspace ONE, Ivanti, Google
Workspace, BlackBerry UEM, Headwind and Apple MDM, with a note for any other value."""

from __future__ import annotations

import json
import plistlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from interdit.inventory.base import Tally, readers
from interdit.model import AppId, Coverage, CoverageReason, Device, InstalledApp, Management, Ownership, Platform

NOW = datetime(2025, 3, 5, tzinfo=UTC)
T = "2025-03-01T00:00:00Z"


def _read(fmt: str, files: list[Path]) -> tuple[dict[str, Device], list[InstalledApp], Tally]:
    reader = readers.get(fmt)("s", files, now=NOW)
    records = list(reader.records())
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected
    return ({r.device_id: r for r in records if isinstance(r, Device)},
            [r for r in records if isinstance(r, InstalledApp)], reader.tally)


def _json(tmp_path: Path, name: str, body: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(body), "utf-8")
    return path


# -- Workspace ONE -------------------------------------------------------------------------------------------

def _ws1(**fields: Any) -> dict[str, Any]:
    return {"Id": {"Value": 1}, "Platform": "Apple", "Model": "iPhone", "Ownership": "C",
            "EnrollmentStatus": "Enrolled", "LastSeen": T, **fields}


@pytest.mark.parametrize("code,ownership,management", [
    ("C", Ownership.CORPORATE, Management.FULLY_MANAGED), ("S", Ownership.CORPORATE, Management.FULLY_MANAGED),
    ("E", Ownership.PERSONAL, Management.USER_ENROLMENT), ("Undefined", Ownership.UNKNOWN, Management.UNKNOWN),
    ("Corporate - Dedicated", Ownership.CORPORATE, Management.FULLY_MANAGED),
    ("Corporate - Shared", Ownership.CORPORATE, Management.FULLY_MANAGED),
    ("Employee Owned", Ownership.PERSONAL, Management.USER_ENROLMENT),
])
def test_workspace_one_ownership(tmp_path: Path, code: str, ownership: Ownership, management: Management) -> None:
    devices, _, tally = _read("workspace-one", [_json(tmp_path, "d.json", {"Devices": [_ws1(Ownership=code)]})])
    assert (devices["1"].ownership, devices["1"].management) == (ownership, management) and not tally.notes


@pytest.mark.parametrize("status,management", [("Enrolled", Management.FULLY_MANAGED),
                                               ("EnterpriseWipePending", Management.FULLY_MANAGED),
                                               ("Unenrolled", Management.UNMANAGED), ("Retired", Management.UNMANAGED),
                                               ("Discovered", Management.UNMANAGED),
                                               ("Registered", Management.UNMANAGED),
                                               ("EnrollmentInProgress", Management.UNMANAGED),
                                               ("Cyborg", Management.UNKNOWN)])
def test_workspace_one_enrollment_status(tmp_path: Path, status: str, management: Management) -> None:
    page = _json(tmp_path, "d.json", {"Devices": [_ws1(EnrollmentStatus=status)]})
    devices, _, tally = _read("workspace-one", [page])
    assert devices["1"].management is management
    assert bool(tally.notes) is (status == "Cyborg")


def test_workspace_one_apps_page_or_not(tmp_path: Path) -> None:
    devices_page = _json(tmp_path, "d.json", {"Devices": [_ws1(), _ws1(Id={"Value": 2})]})
    apps = _json(tmp_path, "apps-1.json", {"DeviceApps": [{"ApplicationName": "TikTok", "Status": "Installed"}]})
    devices, got, _ = _read("workspace-one", [devices_page, apps])
    assert devices["1"].coverage_gap is CoverageReason.DISPLAY_NAMES_ONLY
    assert got[0].app == AppId.named(Platform.IOS, "TikTok")
    assert devices["2"].coverage_gap is CoverageReason.NOT_REPORTED  # no apps page: never "nothing installed"


def test_an_undocumented_workspace_one_ownership_has_a_note(tmp_path: Path) -> None:
    devices, _, tally = _read("workspace-one", [_json(tmp_path, "d.json", {"Devices": [_ws1(Ownership="X")]})])
    assert devices["1"].ownership is Ownership.UNKNOWN and "'X'" in next(iter(tally.notes))


# -- Ivanti, Google Workspace, Headwind, BlackBerry, Apple MDM -------------------------------------------------

def test_ivanti_device_without_inventory_is_not_reported(tmp_path: Path) -> None:
    page = {"results": [{"common.uuid": "u1", "common.platform": "iOS", "common.owner": "COMPANY",
                         "common.last_connected_at": T},
                        {"common.uuid": "u2", "common.platform": "Android", "common.owner": "EMPLOYEE",
                         "common.last_connected_at": T}]}
    inventory = {"results": [{"deviceUuid": "u1", "appInventory": []}]}
    devices, _, tally = _read("ivanti", [_json(tmp_path, "d.json", page), _json(tmp_path, "a.json", inventory)])
    assert devices["u1"].coverage == (Coverage.FULL, None)
    assert devices["u2"].ownership is Ownership.PERSONAL and devices["u2"].coverage_gap is CoverageReason.NOT_REPORTED
    assert not tally.notes


def test_google_workspace_android_without_applications_is_not_reported(tmp_path: Path) -> None:
    owners = {"devices": [{"serialNumber": "S1", "ownerType": "COMPANY"}, {"serialNumber": "S2",
                                                                           "ownerType": "OWNER_TYPE_UNSPECIFIED"}]}
    mobile = {"mobiledevices": [
        {"resourceId": "r1", "type": "ANDROID", "serialNumber": "S1", "lastSync": T,
         "managedAccountIsOnOwnerProfile": True},
        {"resourceId": "r2", "type": "ANDROID", "serialNumber": "S2", "lastSync": T, "applications": []}]}
    files = [_json(tmp_path, "o.json", owners), _json(tmp_path, "m.json", mobile)]
    devices, _, tally = _read("google-workspace", files)
    assert devices["r1"].ownership is Ownership.CORPORATE and devices["r1"].coverage_gap is CoverageReason.NOT_REPORTED
    assert devices["r2"].ownership is Ownership.UNKNOWN and devices["r2"].coverage_gap is None and not tally.notes


def test_headwind_without_applications_is_not_reported(tmp_path: Path) -> None:
    page = {"status": "OK", "data": {"devices": {"items": [
        {"number": "h1", "lastUpdate": T, "info": {"mdmMode": True}},
        {"number": "h2", "lastUpdate": T, "info": {"mdmMode": True, "applications": []}}]}}}
    devices, _, _ = _read("headwind", [_json(tmp_path, "h.json", page)])
    assert devices["h1"].coverage_gap is CoverageReason.NOT_REPORTED and devices["h2"].coverage == (Coverage.FULL, None)


def test_blackberry_without_app_columns_is_not_reported_and_names_are_kept(tmp_path: Path) -> None:
    bare = tmp_path / "devices.csv"
    bare.write_text("Device ID;OS;Ownership;Activation type;Last contact time\n"
                    f"b1;Android;Corporate;MDM controls;{T}\n", "cp1252")
    devices, _, tally = _read("blackberry-uem", [bare])
    assert devices["b1"].coverage_gap is CoverageReason.NOT_REPORTED
    assert any("semicolon" in n for n in tally.notes)
    full = tmp_path / "apps.csv"
    full.write_text("Device ID,OS,Ownership,Activation type,Last contact time,App name,App identifier\n"
                    f"b1,Android,Corporate,MDM controls,{T},TikTok Lite,\n"
                    f"b2,Android,Corporate,Work and personal - full control,{T},,\n", "utf-8")
    devices, apps, _ = _read("blackberry-uem", [full])
    assert devices["b1"].coverage_gap is CoverageReason.DISPLAY_NAMES_ONLY
    assert apps[0].app == AppId.named(Platform.ANDROID, "TikTok Lite")
    assert devices["b2"].coverage == (Coverage.FULL, None)


def test_blackberry_unknown_activation_type_has_a_note(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(f"Device ID,OS,Activation type,Last contact time\nb1,iOS,Quantum privacy-ish,{T}\n", "utf-8")
    devices, _, tally = _read("blackberry-uem", [path])
    # "privacy" in the text: not every app is visible, even if the wording is new
    assert devices["b1"].management is Management.USER_ENROLMENT
    path.write_text(f"Device ID,OS,Activation type,Last contact time\nb1,iOS,Teleport,{T}\n", "utf-8")
    devices, _, tally = _read("blackberry-uem", [path])
    assert devices["b1"].management is Management.UNKNOWN and "Teleport" in next(iter(tally.notes))


def test_apple_mdm_without_installed_application_list_is_not_reported(tmp_path: Path) -> None:
    info = plistlib.dumps({"UDID": "A1", "Status": "Acknowledged",
                           "QueryResponses": {"IsSupervised": True, "ModelName": "iPhone"}})
    path = tmp_path / "info.plist"
    path.write_bytes(info)
    devices, _, _ = _read("apple-mdm", [path])
    assert devices["A1"].coverage_gap is CoverageReason.NOT_REPORTED
    apps = plistlib.dumps({"UDID": "A1", "Status": "Acknowledged",
                           "InstalledApplicationList": [{"Name": "TikTok"}, {"Identifier": "com.tencent.xin"}]})
    (tmp_path / "apps.plist").write_bytes(apps)
    devices, got, _ = _read("apple-mdm", [path, tmp_path / "apps.plist"])
    assert devices["A1"].coverage_gap is CoverageReason.DISPLAY_NAMES_ONLY
    assert {a.app.identifier for a in got} == {"name:TikTok", "com.tencent.xin"}


# -- neutral formats: the file is the whole list unless the device says otherwise ------------------------------

@pytest.mark.parametrize("gap", ["", "not_reported", "app_reports_disabled", "display_names_only"])
def test_neutral_coverage_gap_column(tmp_path: Path, gap: str) -> None:
    line = {"type": "device", "device_id": "A1", "platform": "android", "ownership": "corporate",
            "management": "fully_managed", "observed_at": T, "coverage_gap": gap}
    devices, _, _ = _read("jsonl", [_json(tmp_path, "s.jsonl", line)])
    assert devices["A1"].coverage_gap is (CoverageReason(gap) if gap else None)


def test_neutral_unknown_coverage_gap_is_rejected_with_the_allowed_values(tmp_path: Path) -> None:
    line = {"type": "device", "device_id": "A1", "platform": "android", "ownership": "corporate",
            "management": "fully_managed", "observed_at": T, "coverage_gap": "partial-ish"}
    reader = readers.get("jsonl")("s", [_json(tmp_path, "s.jsonl", line)], now=NOW)
    (rejection,) = list(reader.records())
    assert "not_reported" in rejection.reason and rejection.device_id == "A1"  # type: ignore[union-attr]
