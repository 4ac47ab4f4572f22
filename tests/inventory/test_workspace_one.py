"""Workspace ONE UEM: devices search and device apps pages (recorded), and the live connector."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from interdit.errors import InputError
from interdit.inventory import ConnectorConfig, Limits
from interdit.inventory.base import readers
from interdit.inventory.workspace_one import WorkspaceOneConnector
from interdit.model import Device, InstalledApp, Management, Ownership, Rejection
from interdit.testing import MdmServer, Reply, Request, same_records

REC = Path(__file__).parent / "recorded" / "workspace_one"
NOW = datetime(2025, 3, 5, tzinfo=UTC)


def _read(files: list[Path]) -> list[Any]:
    reader = readers.get("workspace-one")("ws1", files, now=NOW)
    records = list(reader.records())
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected == len(records)
    return records


def test_devices_and_apps_pages() -> None:
    records = _read([REC / "devices-page0.json", REC / "apps-12345.json", REC / "apps-99999.json"])
    devices = {r.device_id: r for r in records if isinstance(r, Device)}
    assert (devices["12345"].ownership, devices["12345"].management) == (Ownership.CORPORATE, Management.FULLY_MANAGED)
    assert (devices["12346"].ownership, devices["12346"].management) == (Ownership.PERSONAL, Management.WORK_PROFILE)
    assert devices["12345"].observed_at == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)  # no zone: UTC
    assert devices["12345"].org_unit == "GC"
    apps = [(r.app.identifier, r.managed) for r in records if isinstance(r, InstalledApp)]
    assert apps == [("com.zhiliaoapp.musically", False), ("com.air-watch.boxer", True)]  # pending install skipped
    assert [r.reason for r in records if isinstance(r, Rejection)] == [
        "an app of device '99999', which is not in the devices pages"]


def test_apps_page_without_its_device_fails(tmp_path: Path) -> None:
    page = tmp_path / "page.json"
    page.write_text((REC / "apps-12345.json").read_text())
    with pytest.raises(InputError, match="DeviceId"):
        _read([REC / "devices-page0.json", page])


def _config(base: str) -> ConnectorConfig:
    return ConnectorConfig("ws1", "workspace-one", {"base_url": base, "tenant_code": "APIKEY"}, "svc:pa55",
                           Limits(attempts=3, backoff=0.01, timeout=5))


def test_live_mock_transport_sends_tenant_code_and_basic_auth(tmp_path: Path) -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.headers["aw-tenant-code"] == "APIKEY"
        assert request.headers["authorization"] == "Basic c3ZjOnBhNTU="
        if request.url.path == "/API/mdm/devices/search":
            return httpx.Response(200, json=json.loads((REC / "devices-page0.json").read_text()))
        device = request.url.path.split("/")[-2]
        if device == "12345":
            return httpx.Response(200, json=json.loads((REC / "apps-12345.json").read_text()))
        return httpx.Response(200, json={"DeviceApps": [], "Page": 0, "PageSize": 500, "Total": 0})

    connector = WorkspaceOneConnector(_config("https://as1.test"), httpx.Client(transport=httpx.MockTransport(handle)),
                                      now=NOW)
    empty = tmp_path / "apps-12346.json"  # the second device's (empty) apps page, as the connector reads it
    empty.write_text(json.dumps({"DeviceApps": [], "Page": 0, "PageSize": 500, "Total": 0}), "utf-8")
    assert same_records(list(connector.records()), _read([REC / "devices-page0.json", REC / "apps-12345.json", empty]))


def test_live_local_server_malformed_json_is_retried() -> None:
    with MdmServer() as server:
        script = [Reply(200, b"{not json"), Reply(429, {}, {"Retry-After": "0"})]

        def search(request: Request) -> Reply:
            return script.pop(0) if script else Reply(200, json.loads((REC / "devices-page0.json").read_text()))

        server.route("GET", "/API/mdm/devices/search", search)
        for device in ("12345", "12346"):
            server.route("GET", f"/API/mdm/devices/{device}/apps", [Reply(200, {"DeviceApps": [], "Total": 0})])
        with httpx.Client() as client:
            records = list(WorkspaceOneConnector(_config(server.url), client, now=NOW, sleep=lambda s: None).records())
    assert len(records) == 2 and server.hits("/API/mdm/devices/search") == 3
