"""Ivanti EPMM: v2 devices and app inventory (recorded), 25 devices per app-inventory call, live faults."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from interdit.inventory import ConnectorConfig, Limits
from interdit.inventory.base import readers
from interdit.inventory.ivanti import IvantiConnector
from interdit.model import Device, InstalledApp, Management, Ownership
from interdit.testing import MdmServer, Reply, Request, same_records

REC = Path(__file__).parent / "recorded" / "ivanti"
NOW = datetime(2025, 3, 5, tzinfo=UTC)


def _read(files: list[Path]) -> list[Any]:
    reader = readers.get("ivanti")("epmm", files, now=NOW)
    records = list(reader.records())
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected == len(records)
    return records


def test_devices_and_app_inventory() -> None:
    records = _read([REC / "devices.json", REC / "appinventory.json"])
    devices = {r.device_id: r for r in records if isinstance(r, Device)}
    d1, d2 = devices["5e0b3a64-0001"], devices["5e0b3a64-0002"]
    assert (d1.ownership, d1.management, d1.supervised) == (Ownership.CORPORATE, Management.FULLY_MANAGED, True)
    assert (d2.ownership, d2.management) == (Ownership.PERSONAL, Management.WORK_PROFILE)
    assert sorted(r.app.identifier for r in records if isinstance(r, InstalledApp)) == [
        "com.microsoft.Office.Outlook", "com.microsoft.teams", "com.tencent.xin"]
    # app inventory before the devices: rejected, with the fix
    reversed_ = _read([REC / "appinventory.json", REC / "devices.json"])
    assert sum(1 for r in reversed_ if isinstance(r, InstalledApp)) == 0


def _fleet(n: int) -> dict[str, Any]:
    return {"results": [{"common.uuid": f"u{i:03d}", "common.platform": "Android", "common.owner": "COMPANY",
                         "common.last_connected_at": "2025-03-01T10:00:00Z"} for i in range(n)], "totalCount": n}


def test_live_batches_25_devices_per_app_inventory_call() -> None:
    calls: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v2/devices":
            offset = int(request.url.params["offset"])
            page = _fleet(60)
            page["results"] = page["results"][offset:offset + int(request.url.params["limit"])]
            return httpx.Response(200, json=page)
        uuids = request.url.params["deviceUuids"].split(",")
        calls.append(len(uuids))
        return httpx.Response(200, json={"results": [{"deviceUuid": u, "appInventory": [
            {"name": "X", "identifier": "com.example.x", "version": "1"}]} for u in uuids]})

    config = ConnectorConfig("epmm", "ivanti", {"base_url": "https://core.test"}, "admin:pw")
    connector = IvantiConnector(config, httpx.Client(transport=httpx.MockTransport(handle)), now=NOW)
    connector.page_size = 40
    records = list(connector.records())
    assert calls == [25, 25, 10]
    assert sum(isinstance(r, Device) for r in records) == 60 and sum(isinstance(r, InstalledApp) for r in records) == 60


def test_live_local_server_matches_recorded() -> None:
    with MdmServer() as server:
        script = [Reply(500, {}), Reply(drop=True)]

        def devices(request: Request) -> Reply:
            return script.pop(0) if script else Reply(200, json.loads((REC / "devices.json").read_text()))

        server.route("GET", "/api/v2/devices", devices)
        inventory = json.loads((REC / "appinventory.json").read_text())
        server.route("GET", "/api/v2/devices/appinventory", [Reply(200, inventory)])
        config = ConnectorConfig("epmm", "ivanti", {"base_url": server.url}, "admin:pw",
                                 Limits(attempts=3, backoff=0.01, timeout=5))
        with httpx.Client() as client:
            live = list(IvantiConnector(config, client, now=NOW, sleep=lambda s: None).records())
    assert same_records(live, _read([REC / "devices.json", REC / "appinventory.json"]))
