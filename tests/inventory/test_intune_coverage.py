"""Intune: what each documented enum value means for what the inventory shows, the tenant-wide detectedApps list
refused with the right command, apps known only by display name kept, and devices whose apps never came."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from interdit.cli.main import app as cli
from interdit.errors import InputError
from interdit.inventory._intune_map import ENROLLMENT_TYPES, MANAGEMENT_AGENTS, OWNER_TYPES, device_from_graph
from interdit.inventory.base import Tally, readers
from interdit.model import AppId, Coverage, CoverageReason, Device, InstalledApp, Management, Ownership, Platform

REC = Path(__file__).parent / "recorded" / "intune"
EXAMPLES = Path("/work/shared/data/mdm-api-examples/intune")
NOW = datetime(2025, 3, 5, tzinfo=UTC)
D1 = "5f3a9c10-1111-4111-8111-000000000001"


def _device(**fields: Any) -> tuple[Device, Tally]:
    tally = Tally()
    item = {"id": "d", "operatingSystem": "iOS", "lastSyncDateTime": "2025-03-01T00:00:00Z",
            "managedDeviceOwnerType": "company", "deviceEnrollmentType": "appleBulkWithUser", **fields}
    return device_from_graph("intune", item, NOW, tally.note), tally


# -- every documented value, on purpose -----------------------------------------------------------------------

@pytest.mark.parametrize("value,expected", [("company", Ownership.CORPORATE), ("personal", Ownership.PERSONAL),
                                            ("unknown", Ownership.UNKNOWN)])
def test_owner_type_values(value: str, expected: Ownership) -> None:
    device, tally = _device(managedDeviceOwnerType=value)
    assert device.ownership is expected and not tally.notes
    assert set(OWNER_TYPES) == {"company", "personal", "unknown"}


# (enrollment type, platform) -> management of a company-owned device, and its coverage gap
COMPANY = {
    ("unknown", "iOS"): (Management.FULLY_MANAGED, None),  # Intune keys its inventory on ownership
    ("unknown", "Windows"): (Management.FULLY_MANAGED, None),
    ("unknown", "Android"): (Management.WORK_PROFILE, None),  # v1.0 has no Android Enterprise values
    ("userEnrollment", "iOS"): (Management.FULLY_MANAGED, None),
    ("userEnrollment", "Android"): (Management.WORK_PROFILE, None),
    ("deviceEnrollmentManager", "iOS"): (Management.FULLY_MANAGED, None),
    ("appleBulkWithUser", "iOS"): (Management.FULLY_MANAGED, None),
    ("appleBulkWithoutUser", "iOS"): (Management.FULLY_MANAGED, None),
    ("windowsAzureADJoin", "Windows"): (Management.FULLY_MANAGED, None),
    ("windowsBulkUserless", "Windows"): (Management.FULLY_MANAGED, None),
    ("windowsAutoEnrollment", "Windows"): (Management.FULLY_MANAGED, None),
    ("windowsBulkAzureDomainJoin", "Windows"): (Management.FULLY_MANAGED, None),
    ("windowsCoManagement", "Windows"): (Management.FULLY_MANAGED, None),
    ("windowsAzureADJoinUsingDeviceAuth", "Windows"): (Management.FULLY_MANAGED, None),
    ("azureAdJoinUsingAzureVmExtension", "Windows"): (Management.FULLY_MANAGED, None),
    ("appleUserEnrollment", "iOS"): (Management.USER_ENROLMENT, None),
    ("appleUserEnrollmentWithServiceAccount", "iOS"): (Management.USER_ENROLMENT, None),
    ("appleAccountDrivenUserEnrollment", "iOS"): (Management.USER_ENROLMENT, None),
    ("androidEnterpriseDedicatedDevice", "Android"): (Management.FULLY_MANAGED, None),
    ("androidEnterpriseFullyManaged", "Android"): (Management.FULLY_MANAGED, None),
    ("androidEnterpriseCorporateWorkProfile", "Android"): (Management.WORK_PROFILE, None),
    ("androidEnterpriseWorkProfile", "Android"): (Management.WORK_PROFILE, None),
    ("androidAOSPUserOwnedDeviceEnrollment", "Android"): (Management.FULLY_MANAGED, CoverageReason.NOT_REPORTED),
    ("androidAOSPUserlessDeviceEnrollment", "Android"): (Management.FULLY_MANAGED, CoverageReason.NOT_REPORTED),
    ("unknownFutureValue", "iOS"): (Management.FULLY_MANAGED, None),
}


@pytest.mark.parametrize("enrollment,os_name", sorted(COMPANY))
def test_enrollment_type_values_of_company_devices(enrollment: str, os_name: str) -> None:
    device, tally = _device(deviceEnrollmentType=enrollment, operatingSystem=os_name)
    assert (device.management, device.coverage_gap) == COMPANY[(enrollment, os_name)]
    assert not tally.notes


def test_every_documented_enrollment_type_has_a_case() -> None:
    assert {e for e, _ in COMPANY} == set(ENROLLMENT_TYPES)


@pytest.mark.parametrize("os_name,expected", [("iOS", Management.USER_ENROLMENT), ("macOS", Management.USER_ENROLMENT),
                                              ("Android", Management.WORK_PROFILE), ("Windows", Management.UNKNOWN)])
def test_personal_devices_show_only_managed_apps(os_name: str, expected: Management) -> None:
    device, _ = _device(managedDeviceOwnerType="personal", deviceEnrollmentType="userEnrollment",
                        operatingSystem=os_name)
    assert device.management is expected and device.coverage[0] is not Coverage.FULL


AGENTS = {
    "eas": (Management.UNMANAGED, None), "mdm": (Management.FULLY_MANAGED, None),
    "easMdm": (Management.FULLY_MANAGED, None), "intuneClient": (Management.FULLY_MANAGED, None),
    "easIntuneClient": (Management.FULLY_MANAGED, None),
    "configurationManagerClient": (Management.FULLY_MANAGED, CoverageReason.NOT_REPORTED),
    "configurationManagerClientMdm": (Management.FULLY_MANAGED, None),
    "configurationManagerClientMdmEas": (Management.FULLY_MANAGED, None),
    "unknown": (Management.FULLY_MANAGED, None), "jamf": (Management.FULLY_MANAGED, CoverageReason.NOT_REPORTED),
    "googleCloudDevicePolicyController": (Management.FULLY_MANAGED, None),
    "microsoft365ManagedMdm": (Management.FULLY_MANAGED, None), "msSense": (Management.UNMANAGED, None),
    "intuneAosp": (Management.FULLY_MANAGED, CoverageReason.NOT_REPORTED), "google": (Management.FULLY_MANAGED, None),
    "unknownFutureValue": (Management.FULLY_MANAGED, None),
}


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_management_agent_values(agent: str) -> None:
    device, tally = _device(managementAgent=agent)
    assert (device.management, device.coverage_gap) == AGENTS[agent] and not tally.notes
    assert set(AGENTS) == set(MANAGEMENT_AGENTS)


@pytest.mark.parametrize("os_name,platform", [("iOS", Platform.IOS), ("iPadOS", Platform.IOS),
                                              ("Android", Platform.ANDROID), ("AndroidEnterprise", Platform.ANDROID),
                                              ("AndroidForWork", Platform.ANDROID), ("macOS", Platform.MACOS),
                                              ("Windows", Platform.WINDOWS)])
def test_operating_system_values(os_name: str, platform: Platform) -> None:
    assert _device(operatingSystem=os_name)[0].platform is platform


@pytest.mark.parametrize("field,value", [("managedDeviceOwnerType", "shared"), ("deviceEnrollmentType", "appleMagic"),
                                         ("managementAgent", "quantumMdm")])
def test_an_undocumented_value_is_unknown_with_a_note_naming_it(field: str, value: str) -> None:
    device, tally = _device(**{field: value})
    assert device.coverage[0] is Coverage.NONE
    (note,) = tally.notes
    assert field in note and value in note


# -- the tenant's detectedApps list ---------------------------------------------------------------------------

def test_the_tenant_list_alone_is_refused_naming_the_file_and_the_right_export() -> None:
    reader = readers.get("intune-graph")("intune", [*sorted(REC.glob("managedDevices-*.json")),
                                                    REC / "detectedApps.json"], now=NOW)
    with pytest.raises(InputError) as refused:
        list(reader.records())
    text = str(refused.value)
    assert str(REC / "detectedApps.json") in text and "deviceCount" in text
    assert "managedDevices/{id}/detectedApps" in refused.value.fix and "AppInvRawData" in refused.value.fix


def test_the_vendor_example_of_the_tenant_list_is_refused_by_the_cli(tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "graph_list_managedDevices_response.json", tmp_path / "managedDevices.json")
    shutil.copy(EXAMPLES / "graph_list_detectedApps_response.json", tmp_path / "detectedApps.json")
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'db.sqlite'}", "import", "intune-graph",
                                      str(tmp_path / "managedDevices.json"), str(tmp_path / "detectedApps.json"),
                                      "--source", "intune"])
    assert result.exit_code == 2, result.output
    assert "detectedApps.json" in result.output and "AppInvRawData" in result.output


def test_the_aggregate_export_is_refused(tmp_path: Path) -> None:
    agg = tmp_path / "AppInvAggregate.csv"
    agg.write_text("ApplicationKey,ApplicationName,ApplicationPublisher,ApplicationShortVersion,ApplicationVersion,"
                   "DeviceCount,Platform\nk,TikTok,,34.1.0,34.1.0,3,iOS\n", "utf-8")
    with pytest.raises(InputError, match="AppInvAggregate") as refused:
        list(readers.get("intune-appinv")("intune", [agg], now=NOW).records())
    assert "AppInvRawData" in refused.value.fix


# -- what the supported formats give ------------------------------------------------------------------------

def _records(fmt: str, files: list[Path]) -> tuple[dict[str, Device], list[InstalledApp]]:
    reader = readers.get(fmt)("intune", files, now=NOW)
    records = list(reader.records())
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected
    return ({r.device_id: r for r in records if isinstance(r, Device)},
            [r for r in records if isinstance(r, InstalledApp)])


def test_per_device_pages_keep_names_and_mark_devices_without_pages() -> None:
    devices, apps = _records("intune-graph", [*sorted(REC.glob("managedDevices-*.json")),
                                              REC / "detectedApps-device1.json"])
    tiktok = next(a for a in apps if a.name == "TikTok")
    assert tiktok.app == AppId.named(Platform.IOS, "TikTok")  # never dropped, never guessed
    assert devices[D1].coverage == (Coverage.PARTIAL, CoverageReason.DISPLAY_NAMES_ONLY)
    others = [d for k, d in devices.items() if k != D1]
    assert others and all(d.coverage[0] is not Coverage.FULL for d in others)
    company_without_page = [d for d in others if d.management is Management.FULLY_MANAGED]
    assert all(d.coverage_gap is CoverageReason.NOT_REPORTED for d in company_without_page)


def test_an_empty_per_device_page_is_a_real_empty_list(tmp_path: Path) -> None:
    page = tmp_path / "apps.json"
    page.write_text(json.dumps({"@odata.context": "https://graph.microsoft.com/beta/$metadata#deviceManagement/"
                                                  f"managedDevices('{D1}')/detectedApps", "value": []}), "utf-8")
    devices, apps = _records("intune-graph", [*sorted(REC.glob("managedDevices-*.json")), page])
    assert not apps and devices[D1].coverage == (Coverage.FULL, None)


def test_the_appinv_export_is_read_with_its_names(tmp_path: Path) -> None:
    devices, apps = _records("intune-appinv", [*sorted(REC.glob("managedDevices-*.json")), REC / "AppInvRawData.csv"])
    assert any(a.app == AppId.named(Platform.IOS, "TikTok") for a in apps)
    assert devices[D1].coverage_gap is CoverageReason.DISPLAY_NAMES_ONLY
    # the vendor's own sample, saved by Excel as UTF-16 with tabs, reads the same
    sample = (EXAMPLES / "AppInvRawData_sample.csv").read_text("utf-8").splitlines()
    utf16 = tmp_path / "AppInvRawData.csv"
    utf16.write_bytes("\r\n".join(line.replace(",", "\t") for line in sample[:2]).encode("utf-16"))
    again, apps16 = _records("intune-appinv", [utf16])
    assert [(a.device_id, a.name, a.version) for a in apps16] == [
        ("0b1c2d3e-0000-4000-8000-000000000001", "TikTok", "34.1.0")]
    assert [d.coverage_gap for d in again.values()] == [CoverageReason.DISPLAY_NAMES_ONLY]
