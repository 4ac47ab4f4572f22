"""`interdit orgunits` and `interdit status` over a three-MDM fleet whose org units come in each vendor's own
form (Intune categories, Jamf departments, AMAPI enrollment-token data), stored on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from interdit import pipeline
from interdit.cli.main import app

runner = CliRunner()
AT = datetime(2025, 3, 1, 12, tzinfo=UTC)
SEEN = "2025-03-01T10:00:00Z"
TIKTOK_ANDROID = {"packageName": "com.zhiliaoapp.musically", "displayName": "TikTok", "versionName": "34.1.3",
                  "state": "INSTALLED"}

POLICY = """\
organisation: MCN
adopt:
  - directive: ca-tbs-2023-tiktok
    scope: {org_units: [/MCN]}
org_units:
  - source: jamf
    unit: Comms
    org_unit: /MCN/Communications
  - source: amapi
    unit: Finances
    org_unit: /MCN/Finances
  - source: amapi
    match: glob
    unit: "Fin*"
    org_unit: /MCN/Finances/Paie
"""


def _intune(category: str | None, n: int) -> dict[str, Any]:
    return {"id": f"i-{n}", "deviceName": f"iPhone-{n}", "managedDeviceOwnerType": "company", "operatingSystem": "iOS",
            "osVersion": "17.5", "userPrincipalName": f"u{n}@mcn.example", "lastSyncDateTime": SEEN,
            "isSupervised": True, "deviceEnrollmentType": "appleBulkWithUser", "deviceCategoryDisplayName": category,
            "detectedApps": [{"displayName": "Microsoft Outlook", "version": "4.2"}]}


def _amapi(n: int, token: str, tiktok: bool) -> dict[str, Any]:
    apps = [TIKTOK_ANDROID] if tiktok else []
    return {"name": f"enterprises/E1/devices/a-{n}", "managementMode": "DEVICE_OWNER", "ownership": "COMPANY_OWNED",
            "lastStatusReportTime": SEEN, "hardwareInfo": {"model": "Pixel 8", "serialNumber": f"S{n}"},
            "softwareInfo": {"androidVersion": "14"}, "applicationReports": apps, "enrollmentTokenData": token}


def _jamf(n: int, department: str) -> dict[str, Any]:
    return {"mobileDeviceId": str(n), "deviceType": "iPad",
            "general": {"displayName": f"iPad-{n}", "lastInventoryUpdateDate": SEEN, "managed": True,
                        "supervised": True, "deviceOwnershipType": "Institutional"},
            "userAndLocation": {"emailAddress": f"j{n}@mcn.example", "department": department},
            "groups": [{"groupId": "1", "groupName": "iPads Comms"}],
            "applications": [{"identifier": "com.microsoft.Office.Outlook", "name": "Outlook", "version": "4"}]}


@pytest.fixture()
def ws(tmp_path: Path, db_url: str) -> dict[str, Any]:
    files = {
        "intune": ("intune-graph", {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#deviceManagement/"
                                                      "managedDevices", "value": [
            _intune("/MCN/DRH", 1), _intune("Unknown", 2), _intune("/MCN/DRH", 3)]}),
        "jamf": ("jamf", {"totalCount": 2, "results": [_jamf(1, "Comms"), _jamf(2, "Comms")]}),
        "amapi": ("amapi", {"devices": [_amapi(1, '{"org_unit": "Finances"}', True),
                                        _amapi(2, '{"org_unit": "Communications"}', True),
                                        _amapi(3, '{"org_unit": "Communications"}', False),
                                        _amapi(4, '{"org_unit": "Finances2"}', False)]}),
    }
    repo = pipeline.open_repository(db_url)
    for source, (fmt, body) in files.items():
        path = tmp_path / f"{source}.json"
        path.write_text(json.dumps(body), "utf-8")
        _, tally = pipeline.import_inventory(repo, fmt, source, [path], at=AT, clock=lambda: AT)
        assert tally.rejected == 0
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, "utf-8")
    return {"db": db_url, "policy": policy}


def _cli(ws: dict[str, Any], *args: str) -> Any:
    result = runner.invoke(app, ["--db", ws["db"], "--policy", str(ws["policy"]), *args])
    assert result.exit_code in (0, 1), result.output
    return result


def test_one_tree_across_three_mdms_with_counts_per_source_and_the_unmapped_labels(ws: dict[str, Any]) -> None:
    doc = json.loads(_cli(ws, "orgunits", "--as-of", "2025-03-02", "--format", "json").output)
    assert doc["schema_version"] == 1
    units = {u["path"]: (u["devices"], u["devices_below"]) for u in doc["units"]}
    assert units["/MCN"] == ({}, {"amapi": 2, "intune": 2, "jamf": 2})
    assert units["/MCN/DRH"] == ({"intune": 2}, {"intune": 2})
    assert units["/MCN/Communications"] == ({"jamf": 2}, {"jamf": 2})
    assert units["/MCN/Finances"] == ({"amapi": 1}, {"amapi": 2})
    assert units["/MCN/Finances/Paie"] == ({"amapi": 1}, {"amapi": 1})  # a glob; the exact entry ranks first
    assert {"source": "amapi", "kind": "unit", "value": "Communications", "devices": 2} in doc["unmapped"]
    assert doc["no_org_unit"] == {"intune": 1}  # Intune's "Unknown" category places no device
    text = _cli(ws, "orgunits", "--as-of", "2025-03-02").output
    assert "Communications" in text and "org_units:" in text and "intune 2" in text
    french = _cli(ws, "orgunits", "--as-of", "2025-03-02", "--lang", "fr").output
    assert "Étiquettes sans correspondance" in french


def test_status_names_the_phones_that_cannot_be_placed_and_counts_every_device_outside(ws: dict[str, Any]) -> None:
    doc = json.loads(_cli(ws, "status", "--as-of", "2025-03-02", "--format", "json").output)
    sm = doc["summary"]
    assert sm["scope_unknown"] == [{"family": "tiktok", "source": "amapi", "devices": 1,
                                    "labels": [{"kind": "unit", "value": "Communications"}]}]
    # not evaluable: the unplaced phone holding TikTok, and the two placed iPhones, whose Graph app lists give
    # display names only
    assert sm["by_state"]["violation"] == 1 and sm["by_state"]["not_evaluable"] == 3
    assert sm["not_evaluable_by_reason"] == {"display_names_only": 2, "scope_unknown": 1}
    assert sm["devices_in_scope"] == 7 and sm["compliant"] == 3  # never counted compliant
    assert sm["out_of_scope"] == {"scope_unknown": 2}  # the other unplaced phone and the "Unknown" iPhone
    assert sm["devices_total"] == sm["devices_in_scope"] + sum(sm["out_of_scope"].values())
    text = " ".join(_cli(ws, "status", "--as-of", "2025-03-02").output.split())  # as read, whatever the wrapping
    assert "1 device holding TikTok cannot be placed in your organisation: org unit `Communications`" in text
    assert "(amapi, 1)" in text and "map it in policy.yaml" in text
    assert "2 devices are outside every rule: scope unknown" in text


def test_policy_check_counts_the_mappings_and_names_the_line_of_a_bad_one(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, "utf-8")
    ok = runner.invoke(app, ["--policy", str(policy), "policy", "check"])
    assert ok.exit_code == 0 and "3 org-unit mapping(s)" in ok.output, ok.output
    policy.write_text(POLICY + "  - source: intune\n    category: Unknown\n    org_unit: /MCN/X\n", "utf-8")
    bad = runner.invoke(app, ["--policy", str(policy), "policy", "check"])
    assert bad.exit_code == 2 and f"{policy}:17" in bad.output and "Unknown" in bad.output, bad.output
