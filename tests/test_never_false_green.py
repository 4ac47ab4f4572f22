"""Never a false "compliant": each road by which ordinary input used to give an unearned green, driven through the
CLI as a user would, on SQLite and PostgreSQL. A device interdit could not see is never counted compliant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from interdit.cli.main import app

runner = CliRunner()
AT1 = "2023-03-01T06:00:00Z"
AT2 = "2023-03-08T06:00:00Z"
AS_OF = "2023-03-09"
POLICY = "organisation: Ministère\nadopt:\n  - directive: ca-tbs-2023-tiktok\n"
TIKTOK = "com.zhiliaoapp.musically"


@pytest.fixture()
def ws(tmp_path: Path, db_url: str) -> dict[str, Any]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, "utf-8")
    return {"db": db_url, "policy": policy, "dir": tmp_path}


def cli(ws: dict[str, Any], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", ws["db"], "--policy", str(ws["policy"]), *args])
    return result.exit_code, result.output


def summary(ws: dict[str, Any]) -> dict[str, Any]:
    code, output = cli(ws, "status", "--as-of", AS_OF, "--format", "json")
    assert code in (0, 1), output
    doc: dict[str, Any] = json.loads(output)["summary"]
    return doc


def findings(ws: dict[str, Any], *extra: str) -> list[dict[str, Any]]:
    code, output = cli(ws, "findings", "--as-of", AS_OF, "--format", "json", *extra)
    assert code in (0, 1), output
    doc = json.loads(output)
    rows: list[dict[str, Any]] = doc["findings"] if isinstance(doc, dict) else doc
    return rows


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def csv_snapshot(ws: dict[str, Any], name: str, devices: list[str], apps: list[str], *, sep: str = ",",
                 encoding: str = "utf-8") -> tuple[Path, Path]:
    head_d = sep.join(("device_id", "platform", "ownership", "management", "observed_at", "org_unit"))
    head_a = sep.join(("device_id", "platform", "identifier", "name", "version", "observed_at"))
    d = write(ws["dir"] / f"{name}-devices.csv", "\r\n".join([head_d, *devices]) + "\r\n", encoding)
    a = write(ws["dir"] / f"{name}-apps.csv", "\r\n".join([head_a, *apps]) + "\r\n", encoding)
    return d, a


def import_csv(ws: dict[str, Any], files: tuple[Path, Path], at: str, *extra: str) -> tuple[int, str]:
    return cli(ws, "import", "csv", str(files[0]), str(files[1]), "--source", "mdm", "--at", at, "--quiet", *extra)


# 1. The tenant-wide detectedApps list is refused with the command that works, and nothing is imported.

def test_the_intune_tenant_list_is_refused_not_read_as_no_apps(ws: dict[str, Any]) -> None:
    devices = write(ws["dir"] / "managedDevices.json", json.dumps({"value": [{
        "id": "i-1", "deviceName": "iPhone-1", "managedDeviceOwnerType": "company", "operatingSystem": "iOS",
        "lastSyncDateTime": AT1, "deviceEnrollmentType": "appleBulkWithUser", "isSupervised": True}]}))
    tenant = write(ws["dir"] / "detectedApps.json", json.dumps({"value": [
        {"id": "a1", "displayName": "TikTok", "version": "37.4.0", "deviceCount": 1, "platform": "ios"}]}))
    code, output = cli(ws, "import", "intune-graph", str(devices), str(tenant), "--source", "intune")
    assert code == 2, output
    assert "detectedApps" in output and "AppInvRawData" in output
    sm = summary(ws)
    assert sm["devices_total"] == 0 and sm["rate"] is None  # nothing came in: no rate, never 100 %


# 2. A device whose row could not be read in a later snapshot keeps its last state and is never compliant.

def test_an_unreadable_row_in_a_later_snapshot_does_not_remove_the_device(ws: dict[str, Any]) -> None:
    first = csv_snapshot(ws, "s1", [f"A1,android,corporate,fully_managed,{AT1},/MCN",
                                    f"A2,android,corporate,fully_managed,{AT1},/MCN"],
                         [f"A1,android,{TIKTOK},TikTok,37.4.0,{AT1}"])
    assert import_csv(ws, first, AT1)[0] == 0
    # the same export, A1's row damaged (a NUL in its org unit): that row is rejected, A1 is not "gone"
    second = csv_snapshot(ws, "s2", [f"A1,android,corporate,fully_managed,{AT2},/MCN\x00",
                                     f"A2,android,corporate,fully_managed,{AT2},/MCN"],
                          [f"A1,android,{TIKTOK},TikTok,37.4.0,{AT2}"])
    code, output = import_csv(ws, second, AT2)
    assert code == 2 and "refused" in output  # 1 of 3 records: over the default limit, nothing changed
    code, output = import_csv(ws, second, AT2, "--max-rejected", "5")
    assert code == 3, output
    sm = summary(ws)
    assert (sm["devices_in_scope"], sm["compliant"]) == (2, 1)
    a1 = {f["state"] for f in findings(ws) if f["device_id"] == "A1"}
    assert "violation" in a1 and "resolved" not in a1


# 3. No rate without a denominator.

def test_an_empty_fleet_and_an_empty_scope_have_no_rate(ws: dict[str, Any]) -> None:
    sm = summary(ws)
    assert sm["devices_in_scope"] == 0 and sm["rate"] is None
    code, output = cli(ws, "status", "--as-of", AS_OF)
    assert code == 0 and "100" not in output and "no device in scope" in output, output
    personal = csv_snapshot(ws, "p", [f"P1,android,personal,fully_managed,{AT1},/MCN"], [])
    assert import_csv(ws, personal, AT1)[0] == 0
    sm = summary(ws)
    assert (sm["devices_total"], sm["devices_in_scope"], sm["rate"]) == (1, 0, None)


# 4. An app update is not a removal: the violation keeps its id and its first-seen time.

def test_an_app_update_keeps_the_violation(ws: dict[str, Any]) -> None:
    device = "A1,android,corporate,fully_managed,{at},/MCN"
    assert import_csv(ws, csv_snapshot(ws, "v1", [device.format(at=AT1)],
                                       [f"A1,android,{TIKTOK},TikTok,37.4.0,{AT1}"]), AT1)[0] == 0
    before = [f for f in findings(ws) if f.get("app")]
    assert import_csv(ws, csv_snapshot(ws, "v2", [device.format(at=AT2)],
                                       [f"A1,android,{TIKTOK},TikTok,37.6.1,{AT2}"]), AT2)[0] == 0
    after = [f for f in findings(ws) if f.get("app")]
    assert [f["state"] for f in after] == ["violation"]
    assert (after[0]["id"], after[0]["first_seen"]) == (before[0]["id"], before[0]["first_seen"])
    assert "37.6.1" in " ".join(after[0]["evidence"])


# 5. An inventory that names apps by display name only: TikTok is found by its store name, and a device whose
#    list holds no banned name is not evaluable, never compliant.

def _intune_device(n: int, apps: list[str]) -> dict[str, Any]:
    return {"id": f"i-{n}", "deviceName": f"iPhone-{n}", "managedDeviceOwnerType": "company", "operatingSystem": "iOS",
            "osVersion": "17.5", "lastSyncDateTime": AT2, "isSupervised": True,
            "deviceEnrollmentType": "appleBulkWithUser",
            "detectedApps": [{"displayName": name, "version": "1.0"} for name in apps]}


def test_display_names_are_matched_and_never_prove_absence(ws: dict[str, Any]) -> None:
    page = {"value": [_intune_device(1, ["TikTok - Videos, Music & LIVE", "Microsoft Outlook"]),
                      _intune_device(2, ["TIKTOK™"]), _intune_device(3, ["Microsoft Outlook"])]}
    path = write(ws["dir"] / "managedDevices.json", json.dumps(page))
    code, output = cli(ws, "import", "intune-graph", str(path), "--source", "intune", "--at", AT1, "--quiet")
    assert code == 0, output
    rows = findings(ws)
    violations = {f["device_id"] for f in rows if f["state"] == "violation"}
    assert violations == {"i-1", "i-2"}
    assert all("display name" in " ".join(f["evidence"]) for f in rows if f["state"] == "violation")
    assert {f["state"] for f in rows if f["device_id"] == "i-3"} == {"not_evaluable"}
    sm = summary(ws)
    assert sm["compliant"] == 0 and sm["not_evaluable_by_reason"] == {"display_names_only": 1}


# 6. An Android Management API device that sent no application report is not evaluable.

def _amapi(n: int, **extra: Any) -> dict[str, Any]:
    return {"name": f"enterprises/E1/devices/a-{n}", "managementMode": "DEVICE_OWNER", "ownership": "COMPANY_OWNED",
            "state": "ACTIVE", "lastStatusReportTime": AT2, "hardwareInfo": {"model": "Pixel 8"}, **extra}


def test_an_amapi_device_without_application_reports_is_not_evaluable(ws: dict[str, Any]) -> None:
    outlook = {"packageName": "com.microsoft.office.outlook", "displayName": "Outlook", "state": "INSTALLED"}
    page = {"devices": [_amapi(1), _amapi(2, state="PROVISIONING"), _amapi(3, applicationReports=[outlook])]}
    path = write(ws["dir"] / "devices.json", json.dumps(page))
    code, output = cli(ws, "import", "amapi", str(path), "--source", "android", "--at", AT1, "--quiet")
    assert code == 0, output
    states = {f["device_id"]: f["state"] for f in findings(ws)}
    assert states == {"a-1": "not_evaluable", "a-2": "not_evaluable"}  # a-3 reported its list: compliant
    sm = summary(ws)
    assert (sm["devices_in_scope"], sm["compliant"]) == (3, 1)
    assert sm["not_evaluable_by_reason"] == {"not_reported": 2}
    evidence = {f["device_id"]: " ".join(f["evidence"]) for f in findings(ws)}
    assert "no app list" in evidence["a-1"] or "app report" in evidence["a-1"], evidence  # words a person acts on


# 7. Fully visible devices are not hidden by over-caution.

def test_account_driven_device_enrollment_and_an_unknown_intune_enrolment_are_fully_visible(
        ws: dict[str, Any]) -> None:
    jamf = {"totalCount": 1, "results": [{
        "mobileDeviceId": "7", "deviceType": "iPhone",
        "general": {"displayName": "iPhone-7", "lastInventoryUpdateDate": AT2, "managed": True, "supervised": False,
                    "deviceOwnershipType": "AccountDrivenDeviceEnrollment"},
        "applications": [{"identifier": "com.microsoft.Office.Outlook", "name": "Outlook", "version": "4"}]}]}
    path = write(ws["dir"] / "jamf.json", json.dumps(jamf))
    assert cli(ws, "import", "jamf", str(path), "--source", "jamf", "--at", AT1, "--quiet")[0] == 0
    intune = {"value": [{**_intune_device(9, []), "deviceEnrollmentType": "unknown",
                         "detectedApps": []}]}
    path = write(ws["dir"] / "intune.json", json.dumps(intune))
    assert cli(ws, "import", "intune-graph", str(path), "--source", "intune", "--at", AT1, "--quiet")[0] == 0
    sm = summary(ws)
    assert sm["by_coverage"].get("full") == 2, sm


# 8. Excel's exports: Windows-1252 with ';', and UTF-16, read as such.

@pytest.mark.parametrize(("encoding", "sep"), [("cp1252", ";"), ("utf-16", "\t"), ("utf-16", ";")])
def test_excel_exports_are_read_in_their_own_encoding(ws: dict[str, Any], encoding: str, sep: str) -> None:
    files = csv_snapshot(ws, "x", [sep.join(("A1", "android", "corporate", "fully_managed", AT1, "/MCN/Él"))],
                         [sep.join(("A1", "android", TIKTOK, "TikTok", "37.4.0", AT1))], sep=sep, encoding=encoding)
    code, output = import_csv(ws, files, AT1)
    assert code == 0, output
    sm = summary(ws)
    assert (sm["devices_in_scope"], sm["compliant"]) == (1, 0)
    assert [f["org_unit"] for f in findings(ws) if f.get("app")] == ["/MCN/Él"]


# 9. An apps export cut short (a copy or download that stopped mid-record) never resolves what it did not list.

def test_an_apps_export_cut_short_resolves_nothing(ws: dict[str, Any]) -> None:
    devices = [f"A{i},android,corporate,fully_managed,{{at}},/MCN" for i in range(1, 101)]
    apps = [f"A{i},android,org.example.app{j},App {j},1.0,{{at}}" for i in range(1, 101) for j in range(3)]
    apps += [f"A100,android,{TIKTOK},TikTok,37.4.0,{{at}}"]  # the last device holds TikTok
    first = csv_snapshot(ws, "s1", [d.format(at=AT1) for d in devices], [a.format(at=AT1) for a in apps])
    assert import_csv(ws, first, AT1)[0] == 0
    second = csv_snapshot(ws, "s2", [d.format(at=AT2) for d in devices], [a.format(at=AT2) for a in apps])
    data = second[1].read_bytes()
    second[1].write_bytes(data[: len(data) // 2 + 5])  # cut in the middle of a record, as a stopped download
    code, output = import_csv(ws, second, AT2)
    assert code == 3 and "cut short" in output, output
    sm = summary(ws)
    assert (sm["devices_in_scope"], sm["compliant"]) == (100, 99)  # A100's violation still stands
    a100 = {f["state"] for f in findings(ws) if f["device_id"] == "A100"}
    assert "violation" in a100 and "resolved" not in a100


# 10. A JSON Lines export cut short: the devices and apps after the cut are absent, not gone.

def test_a_json_lines_export_cut_short_removes_and_resolves_nothing(ws: dict[str, Any]) -> None:
    def snapshot(name: str, at: str) -> Path:
        lines = []
        for i in range(1, 101):
            lines.append({"type": "device", "device_id": f"A{i}", "platform": "android", "ownership": "corporate",
                          "management": "fully_managed", "observed_at": at, "org_unit": "/MCN"})
            apps = [f"org.example.app{j}" for j in range(3)] + ([TIKTOK] if i in (50, 100) else [])
            lines += [{"type": "app", "device_id": f"A{i}", "platform": "android", "identifier": a,
                       "observed_at": at} for a in apps]
        return write(ws["dir"] / f"{name}.jsonl", "".join(json.dumps(x) + "\n" for x in lines))

    first = snapshot("s1", AT1)
    code, output = cli(ws, "import", "jsonl", str(first), "--source", "mdm", "--at", AT1, "--quiet")
    assert code == 0, output
    second = snapshot("s2", AT2)
    data = second.read_bytes()
    cut = data.index(b"A50") + 40  # within device A50's records, before its TikTok line and every later device
    assert data[cut - 1: cut] != b"\n"
    second.write_bytes(data[:cut])
    code, output = cli(ws, "import", "jsonl", str(second), "--source", "mdm", "--at", AT2, "--quiet")
    assert code == 3 and "cut short" in output, output
    sm = summary(ws)
    assert sm["devices_in_scope"] == 100 and sm["compliant"] < 99  # no device after the cut vanished
    states = {(f["device_id"], f["state"]) for f in findings(ws) if f.get("app")}
    assert ("A50", "violation") in states and ("A100", "violation") in states
    assert not any(state == "resolved" for _, state in states)


# 11. An Intune AppInvRawData export cut short (its fields are not quoted: the cut row merely looks short).

@pytest.mark.parametrize("zipped", [False, True])
def test_an_intune_export_cut_short_removes_and_resolves_nothing(ws: dict[str, Any], zipped: bool) -> None:
    import zipfile

    head = ("ApplicationKey,ApplicationName,ApplicationPublisher,ApplicationShortVersion,ApplicationVersion,DeviceId,"
            "DeviceName,OSDescription,OSVersion,Platform,UserId,EmailAddress,UserName")

    def export(name: str) -> Path:
        rows = [head]
        for i in range(1, 101):
            apps = [("org.example.app" + str(j), f"App {j}") for j in range(3)]
            apps += [(TIKTOK, "TikTok")] if i in (50, 100) else []
            rows += [f"{key},{label},Example,1.0,1.0,dev-{i:03},Phone {i},Android,14,Android,u{i},u{i}@example.org,"
                     f"User {i}" for key, label in apps]
        data = ("\r\n".join(rows) + "\r\n").encode()
        cut = data.index(b"dev-050") + 10 if name == "s2" else len(data)  # s2 stops within A50's first row
        path = ws["dir"] / f"{name}.csv"
        path.write_bytes(data[:cut])
        if not zipped:
            return path
        with zipfile.ZipFile(ws["dir"] / f"{name}.zip", "w") as zf:
            zf.write(path, "AppInvRawData.csv")
        return ws["dir"] / f"{name}.zip"

    def pages(name: str, at: str) -> Path:
        return write(ws["dir"] / f"{name}-managedDevices.json", json.dumps({"value": [{
            "id": f"dev-{i:03}", "deviceName": f"Phone {i}", "managedDeviceOwnerType": "company",
            "operatingSystem": "Android", "lastSyncDateTime": at,
            "deviceEnrollmentType": "androidEnterpriseFullyManaged"} for i in range(1, 101)]}))

    code, output = cli(ws, "import", "intune-appinv", str(pages("s1", AT1)), str(export("s1")), "--source", "mdm",
                       "--at", AT1, "--quiet")
    assert code == 0, output
    assert summary(ws)["devices_in_scope"] == 100
    code, output = cli(ws, "import", "intune-appinv", str(pages("s2", AT2)), str(export("s2")), "--source", "mdm",
                       "--at", AT2, "--quiet")
    assert code == 3 and "cut short" in " ".join(output.split()), output
    states = {(f["device_id"], f["state"]) for f in findings(ws) if f.get("app")}
    assert ("dev-050", "violation") in states and ("dev-100", "violation") in states
    assert not any(state == "resolved" for _, state in states)
    assert summary(ws)["devices_in_scope"] == 100


# 12. A BlackBerry UEM export cut short: devices after the cut are absent, not gone; apps after it not removed.

@pytest.mark.parametrize("gzipped", [False, True])
def test_a_blackberry_export_cut_short_removes_and_resolves_nothing(ws: dict[str, Any], gzipped: bool) -> None:
    import gzip

    def export(name: str, at: str) -> Path:
        rows = ["Device ID,OS,Ownership,Activation type,Last contact time,App name,App identifier,App version"]
        for i in range(1, 101):
            apps = [(f"App {j}", f"org.example.app{j}") for j in range(3)]
            apps += [("TikTok", TIKTOK)] if i in (50, 100) else []
            rows += [f"bb-{i:03},Android 14,Corporate,MDM controls,{at},{label},{ident},1.0" for label, ident in apps]
        data = ("\r\n".join(rows) + "\r\n").encode()
        if name == "s2":  # stops within bb-050's TikTok row, in the identifier ("com.zhili"): a short row
            data = data[: data.index(b"TikTok,com.zhili", data.index(b"bb-050")) + 16]
        path = ws["dir"] / f"{name}.csv"
        path.write_bytes(gzip.compress(data) if gzipped else data)
        return path

    code, output = cli(ws, "import", "blackberry-uem", str(export("s1", AT1)), "--source", "mdm", "--at", AT1,
                       "--quiet")
    assert code == 0, output
    assert summary(ws)["devices_in_scope"] == 100
    code, output = cli(ws, "import", "blackberry-uem", str(export("s2", AT2)), "--source", "mdm", "--at", AT2,
                       "--quiet", "--allow-shrink")
    assert code == 3 and "cut short" in " ".join(output.split()), output
    states = {(f["device_id"], f["state"]) for f in findings(ws) if f.get("app")}
    assert ("bb-050", "violation") in states and ("bb-100", "violation") in states
    assert not any(state == "resolved" for _, state in states)
    assert summary(ws)["devices_in_scope"] == 100
