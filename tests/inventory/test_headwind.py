"""Headwind MDM: device search responses (recorded), and the live connector's login and paging."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from interdit.errors import ConfigError
from interdit.inventory import ConnectorConfig, Limits
from interdit.inventory.base import readers
from interdit.inventory.headwind import HeadwindConnector
from interdit.model import Device, InstalledApp, Management, Ownership
from interdit.testing import MdmServer, Reply, Request, same_records

REC = Path(__file__).parent / "recorded" / "headwind"
NOW = datetime(2025, 3, 5, tzinfo=UTC)


def _read(files: list[Path]) -> list[Any]:
    reader = readers.get("headwind")("hmdm", files, now=NOW)
    records = list(reader.records())
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected == len(records)
    return records


def test_device_search() -> None:
    records = _read([REC / "devices-search.json"])
    devices = {r.device_id: r for r in records if isinstance(r, Device)}
    assert devices["FLD-A-017"].management is Management.FULLY_MANAGED
    assert devices["FLD-A-018"].management is Management.UNKNOWN
    assert devices["FLD-A-017"].ownership is Ownership.UNKNOWN
    assert devices["FLD-A-017"].observed_at == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)  # epoch milliseconds
    assert [r.app.identifier for r in records if isinstance(r, InstalledApp)] == [
        "com.zhiliaoapp.musically", "com.hmdm.launcher"]


def _config(base: str) -> ConnectorConfig:
    return ConnectorConfig("hmdm", "headwind", {"base_url": base, "login": "admin", "ownership": "corporate"},
                           "pa55word", Limits(attempts=3, backoff=0.01, timeout=5))


def test_live_local_server_login_and_search() -> None:
    with MdmServer() as server:
        def login(request: Request) -> Reply:
            body = request.json()
            ok = body == {"login": "admin", "password": hashlib.md5(b"pa55word").hexdigest().upper()}
            return Reply(200, {"id_token": "jwt-1"}) if ok else Reply(200, {"status": "ERROR"})

        script = [Reply(502, b"")]

        def search(request: Request) -> Reply:
            assert request.headers["authorization"] == "Bearer jwt-1"
            return script.pop(0) if script else Reply(200, json.loads((REC / "devices-search.json").read_text()))

        server.route("POST", "/rest/public/jwt/login", login)
        server.route("POST", "/rest/private/devices/search", search)
        with httpx.Client() as client:
            live = list(HeadwindConnector(_config(server.url), client, now=NOW, sleep=lambda s: None).records())
    assert {r.ownership for r in live if isinstance(r, Device)} == {Ownership.CORPORATE}
    expected = [dataclasses.replace(r, ownership=Ownership.CORPORATE) if isinstance(r, Device) else r
                for r in _read([REC / "devices-search.json"])]
    assert same_records(live, expected)


def test_live_mock_transport_refused_login() -> None:
    handle = lambda request: httpx.Response(200, json={"status": "ERROR", "message": "error.login"})  # noqa: E731
    connector = HeadwindConnector(_config("https://hmdm.test"), httpx.Client(transport=httpx.MockTransport(handle)),
                                  now=NOW)
    with pytest.raises(ConfigError, match="refused the login"):
        list(connector.records())


def test_live_mock_transport_matches_recorded() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/login"):
            return httpx.Response(200, json={"id_token": "jwt"})
        return httpx.Response(200, json=json.loads((REC / "devices-search.json").read_text()))

    config = ConnectorConfig("hmdm", "headwind", {"base_url": "https://hmdm.test", "login": "admin"}, "pw")
    live = list(HeadwindConnector(config, httpx.Client(transport=httpx.MockTransport(handle)), now=NOW).records())
    assert same_records(live, _read([REC / "devices-search.json"]))
