"""Android Management API: an absent applicationReports list is "not reported" (never "nothing installed"), a
policy that switches reports off says so, and every documented enum value of the Device resource is mapped."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from interdit.inventory import ConnectorConfig
from interdit.inventory.amapi import APP_STATES, MANAGEMENT, OWNERSHIP, STATES, AmapiConnector
from interdit.inventory.base import Tally, readers
from interdit.model import Coverage, CoverageReason, Device, InstalledApp, Management, Ownership

NOW = datetime(2025, 3, 5, tzinfo=UTC)
EXAMPLE = Path("/work/shared/data/mdm-api-examples/amapi/device_with_applicationReports.json")
POLICY = "enterprises/LC1/policies/p"


def _item(**fields: Any) -> dict[str, Any]:
    item = {"name": "enterprises/LC1/devices/d1", "managementMode": "DEVICE_OWNER", "ownership": "COMPANY_OWNED",
            "state": "ACTIVE", "lastStatusReportTime": "2025-03-01T00:00:00Z", "policyName": POLICY,
            "applicationReports": [{"packageName": "com.zhiliaoapp.musically", "state": "INSTALLED"}]}
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


def _read(tmp_path: Path, *pages: Any) -> tuple[list[Any], Tally]:
    files = []
    for n, page in enumerate(pages):
        files.append(tmp_path / f"{n}.json")
        files[-1].write_text(json.dumps(page), "utf-8")
    reader = readers.get("amapi")("android", files, now=NOW)
    records = list(reader.records())
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected
    return records, reader.tally


def _device(tmp_path: Path, *pages: Any) -> Device:
    (device,) = [r for r in _read(tmp_path, *pages)[0] if isinstance(r, Device)]
    return device


def test_without_application_reports_the_device_is_not_reported(tmp_path: Path) -> None:
    device = _device(tmp_path, {"devices": [_item(applicationReports=None)]})
    assert device.coverage == (Coverage.NONE, CoverageReason.NOT_REPORTED)


def test_a_provisioning_device_is_not_reported(tmp_path: Path) -> None:
    device = _device(tmp_path, {"devices": [_item(state="PROVISIONING", applicationReports=None)]})
    assert device.coverage_gap is CoverageReason.NOT_REPORTED


def test_an_empty_list_with_reports_on_is_a_real_empty_list(tmp_path: Path) -> None:
    on = {"name": POLICY, "statusReportingSettings": {"applicationReportsEnabled": True}}
    device = _device(tmp_path, on, {"devices": [_item(applicationReports=[])]})
    assert device.coverage == (Coverage.FULL, None)


@pytest.mark.parametrize("policies", [
    {"name": POLICY, "statusReportingSettings": {"applicationReportsEnabled": False}},
    {"policies": [{"name": POLICY, "statusReportingSettings": {}}]},  # absent is off (the API's default)
])
def test_a_policy_with_reports_off_says_so(tmp_path: Path, policies: dict[str, Any]) -> None:
    device = _device(tmp_path, policies, {"devices": [_item(applicationReports=None)]})
    assert device.coverage == (Coverage.NONE, CoverageReason.APP_REPORTS_DISABLED)


def test_the_vendor_example_is_fully_covered(tmp_path: Path) -> None:
    records, _ = _read(tmp_path, json.loads(EXAMPLE.read_text("utf-8")))
    (device,) = [r for r in records if isinstance(r, Device)]
    assert device.coverage == (Coverage.FULL, None) and any(isinstance(r, InstalledApp) for r in records)


@pytest.mark.parametrize("value", sorted(OWNERSHIP))
def test_ownership_values(tmp_path: Path, value: str) -> None:
    expected = {"COMPANY_OWNED": Ownership.CORPORATE, "PERSONALLY_OWNED": Ownership.PERSONAL,
                "OWNERSHIP_UNSPECIFIED": Ownership.UNKNOWN}[value]
    records, tally = _read(tmp_path, {"devices": [_item(ownership=value)]})
    assert next(r for r in records if isinstance(r, Device)).ownership is expected and not tally.notes


@pytest.mark.parametrize("value", sorted(MANAGEMENT))
def test_management_mode_values(tmp_path: Path, value: str) -> None:
    expected = {"DEVICE_OWNER": Management.FULLY_MANAGED, "PROFILE_OWNER": Management.WORK_PROFILE,
                "MANAGEMENT_MODE_UNSPECIFIED": Management.UNKNOWN}[value]
    records, tally = _read(tmp_path, {"devices": [_item(managementMode=value)]})
    assert next(r for r in records if isinstance(r, Device)).management is expected and not tally.notes


STATE_GAPS = {"ACTIVE": None, "DISABLED": None, "LOST": None, "DEACTIVATED_BY_DEVICE_FINANCE": None,
              "PREPARING_FOR_MIGRATION": CoverageReason.NOT_REPORTED, "PROVISIONING": CoverageReason.NOT_REPORTED,
              "DEVICE_STATE_UNSPECIFIED": CoverageReason.NOT_REPORTED}


@pytest.mark.parametrize("value", sorted(STATES))
def test_state_values(tmp_path: Path, value: str) -> None:
    records, _ = _read(tmp_path, {"devices": [_item(state=value)]})
    devices = [r for r in records if isinstance(r, Device)]
    if value == "DELETED":  # left out on purpose, without naming the device (it did not become unreadable)
        assert not devices and [r.device_id for r in records] == [None]
    else:
        assert devices[0].coverage_gap is STATE_GAPS[value]


@pytest.mark.parametrize("value", sorted(APP_STATES))
def test_application_report_state_values(tmp_path: Path, value: str) -> None:
    item = _item(applicationReports=[{"packageName": "com.zhiliaoapp.musically", "state": value}])
    records, _ = _read(tmp_path, {"devices": [item]})
    assert any(isinstance(r, InstalledApp) for r in records) is (value != "REMOVED")


@pytest.mark.parametrize("field", ["ownership", "managementMode", "state"])
def test_an_undocumented_value_is_unknown_with_a_note(tmp_path: Path, field: str) -> None:
    records, tally = _read(tmp_path, {"devices": [_item(**{field: "SOMETHING_NEW"})]})
    assert next(r for r in records if isinstance(r, Device))
    (note,) = tally.notes
    assert field in note and "SOMETHING_NEW" in note


def test_the_live_connector_reads_the_policies_first() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "ya29.x", "expires_in": 3599})
        if request.url.path == "/v1/enterprises/LC1/policies":
            return httpx.Response(200, json={"policies": [
                {"name": POLICY, "statusReportingSettings": {"applicationReportsEnabled": False}}]})
        return httpx.Response(200, json={"devices": [_item(applicationReports=None)]})

    from test_amapi import _key_json

    config = ConnectorConfig("android", "amapi", {"enterprise": "LC1", "api_url": "https://amapi.test/v1",
                                                  "token_url": "https://oauth2.test/token"},
                             _key_json("https://oauth2.test/token"))
    records = list(AmapiConnector(config, httpx.Client(transport=httpx.MockTransport(handle)), now=NOW).records())
    (device,) = [r for r in records if isinstance(r, Device)]
    assert device.coverage_gap is CoverageReason.APP_REPORTS_DISABLED
