"""Targets for the MDM readers, on 100,000 devices and 6,000,000 app rows:

- recorded Microsoft Graph pages (`intune-graph`: managedDevices pages, one detectedApps page per device) and
- an `AppInvRawData` export CSV with the managedDevices pages (`intune-appinv`),

each read through its reader in ≤ 90 s with peak memory ≤ 1 GB. The floor is a plain read of the same files
(`json.loads` of every page, `csv.reader` over the export) without building records. Rows per second are
reported for both. Set INTERDIT_BENCH_DEVICES to try another size (60 apps per device).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.measure import measure_peak

DEVICES = int(os.environ.get("INTERDIT_BENCH_DEVICES", "100000"))
APPS = 60
PAGE = 1000
AT = datetime(2023, 3, 15, 6, 0, tzinfo=UTC)
OWNERS = ("company", "company", "company", "personal", "unknown")
ENROLMENT = {"company": "appleBulkWithUser", "personal": "appleUserEnrollment", "unknown": "unknown"}

READ = """
import sys, time
from datetime import datetime
from pathlib import Path
from interdit.inventory.base import readers
fmt, files = sys.argv[1], [Path(p) for p in sys.argv[2:]]
reader = readers.get(fmt)("bench", files, now=datetime.fromisoformat("{now}"))
t0 = time.perf_counter()
n = sum(1 for _ in reader.records())
print(n, reader.tally.accepted, reader.tally.rejected, time.perf_counter() - t0)
"""

FLOOR = """
import csv, json, sys, time
t0 = time.perf_counter()
rows = 0
for p in sys.argv[1:]:
    if p.endswith(".jsonl"):
        with open(p, "rb") as fh:
            for line in fh:
                rows += len(json.loads(line).get("value", []))
    else:
        with open(p, newline="", encoding="utf-8") as fh:
            rows += sum(1 for _ in csv.reader(fh)) - 1
print(rows, time.perf_counter() - t0)
"""


def _app(j: int) -> tuple[str, str, str]:
    name = f"App {j:04d}"
    return hashlib.sha256(name.encode()).hexdigest(), name, f"{j % 9 + 1}.{j % 7}"


def _write(work: Path) -> tuple[Path, Path, Path, int]:
    """managedDevices pages, detectedApps pages (one per device), and the AppInvRawData CSV."""
    devices_path, apps_path, csv_path = work / "managedDevices.jsonl", work / "detectedApps.jsonl", work / "appinv.csv"
    apps = [_app(j) for j in range(2000)]
    rows = 0
    with devices_path.open("w") as fd, apps_path.open("w") as fa, csv_path.open("w", newline="") as fc:
        fc.write("ApplicationKey,ApplicationName,ApplicationPublisher,ApplicationShortVersion,ApplicationVersion,"
                 "DeviceId,DeviceName,OSDescription,OSVersion,Platform,UserId,EmailAddress,UserName\n")
        page: list[dict[str, Any]] = []
        for i in range(DEVICES):
            did = f"0b1c2d3e-0000-4000-8000-{i:012d}"
            owner = OWNERS[i % len(OWNERS)]
            seen = (AT - timedelta(minutes=i % 5000)).strftime("%Y-%m-%dT%H:%M:%SZ")
            page.append({"id": did, "deviceName": f"GC-iPhone-{i:06d}", "managedDeviceOwnerType": owner,
                         "operatingSystem": "iOS", "osVersion": "16.3.1", "userPrincipalName": f"user{i}@dept.example",
                         "lastSyncDateTime": seen, "isSupervised": owner == "company",
                         "deviceEnrollmentType": ENROLMENT[owner], "model": "iPhone 14",
                         "deviceCategoryDisplayName": "/TBS/Finance"})
            if len(page) == PAGE:
                fd.write(json.dumps({"@odata.context": "#deviceManagement/managedDevices", "value": page}) + "\n")
                page = []
            mine = [apps[(i * 7 + k * 31) % len(apps)] for k in range(APPS)]
            fa.write(json.dumps({"@odata.context": f"#deviceManagement/managedDevices('{did}')/detectedApps",
                                 "value": [{"id": key, "displayName": name, "version": version, "sizeInByte": 0,
                                            "deviceCount": 1, "publisher": "", "platform": "ios"}
                                           for key, name, version in mine]}) + "\n")
            fc.writelines(f"{key},{name},,{version},{version},{did},GC-iPhone-{i:06d},iOS,16.3.1,iOS,"
                          f"u{i},user{i}@dept.example,User {i}\n" for key, name, version in mine)
            rows += len(mine)
        if page:
            fd.write(json.dumps({"@odata.context": "#deviceManagement/managedDevices", "value": page}) + "\n")
    return devices_path, apps_path, csv_path, rows


def _reader(fmt: str, files: list[Path]) -> dict[str, Any]:
    run = measure_peak([sys.executable, "-c", READ.replace("{now}", AT.isoformat()), fmt, *map(str, files)])
    if run.returncode != 0:
        raise RuntimeError(run.output[-2000:])
    records, accepted, rejected, inner = run.output.split()[:4]
    return {"seconds": round(run.seconds, 1), "read_seconds": round(float(inner), 1), "peak_mb": round(run.peak_mb),
            "records": int(records), "rejected": int(rejected), "accepted": int(accepted)}


def _floor(files: list[Path]) -> dict[str, Any]:
    run = measure_peak([sys.executable, "-c", FLOOR, *map(str, files)])
    if run.returncode != 0:
        raise RuntimeError(run.output[-2000:])
    rows, inner = run.output.split()[:2]
    return {"seconds": round(run.seconds, 1), "rows": int(rows), "read_seconds": round(float(inner), 1)}


def run(results_dir: Path) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="interdit-bench-connectors-"))
    try:
        devices_path, apps_path, csv_path, rows = _write(work)
        graph = _reader("intune-graph", [devices_path, apps_path])
        appinv = _reader("intune-appinv", [devices_path, csv_path])
        graph_floor = _floor([apps_path])
        csv_floor = _floor([csv_path])
        out: dict[str, Any] = {
            "devices": DEVICES, "app_rows": rows,
            "graph_pages_mb": round((devices_path.stat().st_size + apps_path.stat().st_size) / 2**20),
            "appinv_csv_mb": round(csv_path.stat().st_size / 2**20),
            "intune_graph": {**graph, "rows_per_s": round(rows / graph["seconds"])},
            "intune_appinv": {**appinv, "rows_per_s": round(rows / appinv["seconds"])},
            "floor_json_loads": {**graph_floor, "rows_per_s": round(rows / graph_floor["seconds"])},
            "floor_csv_reader": {**csv_floor, "rows_per_s": round(rows / csv_floor["seconds"])},
        }
        for key in ("intune_graph", "intune_appinv"):
            if out[key]["rejected"] or out[key]["accepted"] != DEVICES + rows:
                raise RuntimeError(f"{key}: expected {DEVICES + rows} records, got {out[key]}")
        out["targets"] = {
            "intune-graph ≤ 90 s": {"value": graph["seconds"], "met": graph["seconds"] <= 90},
            "intune-graph peak ≤ 1 GB": {"value": graph["peak_mb"], "met": graph["peak_mb"] <= 1024},
            "intune-appinv ≤ 90 s": {"value": appinv["seconds"], "met": appinv["seconds"] <= 90},
            "intune-appinv peak ≤ 1 GB": {"value": appinv["peak_mb"], "met": appinv["peak_mb"] <= 1024},
        }
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)
