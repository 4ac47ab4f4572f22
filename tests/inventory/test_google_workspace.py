"""Google Workspace mobile devices with Cloud Identity ownership (recorded), and the live connector."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from interdit.inventory import ConnectorConfig, Limits
from interdit.inventory.base import readers
from interdit.inventory.google_workspace import GoogleWorkspaceConnector
from interdit.model import Device, InstalledApp, Management, Ownership, Platform, Rejection
from interdit.testing import MdmServer, Reply, Request, same_records

REC = Path(__file__).parent / "recorded" / "google_workspace"
NOW = datetime(2025, 3, 5, tzinfo=UTC)
FILES = [REC / "cloudidentity-devices.json", REC / "mobiledevices-page1.json", REC / "mobiledevices-page2.json"]
PEM = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def _read(files: list[Path]) -> list[Any]:
    reader = readers.get("google-workspace")("workspace", files, now=NOW)
    records = list(reader.records())
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected == len(records)
    return records


def test_ownership_from_cloud_identity_and_visibility() -> None:
    records = _read(FILES)
    devices = {r.device_id: r for r in records if isinstance(r, Device)}
    a1, a2, a3 = devices["AQx7Km2b1"], devices["AQx7Km2b2"], devices["AQx7Km2b3"]
    assert (a1.ownership, a1.management) == (Ownership.CORPORATE, Management.FULLY_MANAGED)
    assert (a2.ownership, a2.management) == (Ownership.PERSONAL, Management.WORK_PROFILE)
    assert (a3.platform, a3.management) == (Platform.IOS, Management.UNMANAGED)  # no app inventory for iOS
    assert a1.user == "jane.doe@example.org"
    assert [(r.device_id, r.app.identifier) for r in records if isinstance(r, InstalledApp)] == [
        ("AQx7Km2b1", "com.zhiliaoapp.musically"), ("AQx7Km2b2", "com.microsoft.teams")]
    assert [r.reason for r in records if isinstance(r, Rejection)] == [
        "device type 'WINDOWS_PHONE' is not Android or iOS"]
    # without Cloud Identity, ownership is unknown, never guessed
    assert {r.ownership for r in _read(FILES[1:]) if isinstance(r, Device)} == {Ownership.UNKNOWN}


def _key(token_uri: str) -> str:
    return json.dumps({"client_email": "sa@proj.iam.gserviceaccount.com", "private_key": PEM, "token_uri": token_uri})


def test_live_mock_transport() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "ya29", "expires_in": 3600})
        if request.url.path == "/v1/devices":
            return httpx.Response(200, json=json.loads(FILES[0].read_text()))
        assert request.url.path == "/admin/directory/v1/customer/my_customer/devices/mobile"
        assert request.url.params["projection"] == "FULL"
        n = 2 if request.url.params.get("pageToken") == "NEXT" else 1
        return httpx.Response(200, json=json.loads((REC / f"mobiledevices-page{n}.json").read_text()))

    config = ConnectorConfig("workspace", "google-workspace", {
        "subject": "admin@example.org", "cloud_identity": "yes", "token_url": "https://g.test/token",
        "api_url": "https://g.test/admin/directory/v1", "cloud_identity_url": "https://g.test/v1"},
        _key("https://g.test/token"))
    connector = GoogleWorkspaceConnector(config, httpx.Client(transport=httpx.MockTransport(handle)), now=NOW)
    assert same_records(list(connector.records()), _read(FILES))


def test_live_local_server_500_then_success() -> None:
    with MdmServer() as server:
        server.route("POST", "/token", lambda r: Reply(200, {"access_token": "ya29", "expires_in": 3600}))
        script = [Reply(500, {"error": {"code": 500}}), Reply(503, b"")]

        def mobile(request: Request) -> Reply:
            if script:
                return script.pop(0)
            n = 2 if request.query.get("pageToken") == ["NEXT"] else 1
            return Reply(200, json.loads((REC / f"mobiledevices-page{n}.json").read_text()))

        server.route("GET", "/admin/directory/v1/customer/my_customer/devices/mobile", mobile)
        config = ConnectorConfig("workspace", "google-workspace", {
            "subject": "admin@example.org", "token_url": f"{server.url}/token",
            "api_url": f"{server.url}/admin/directory/v1"}, _key(f"{server.url}/token"),
            Limits(attempts=3, backoff=0.01, timeout=5))
        with httpx.Client() as client:
            records = list(GoogleWorkspaceConnector(config, client, now=NOW, sleep=lambda s: None).records())
    assert len([r for r in records if isinstance(r, Device)]) == 3


# -- org-unit paths and groups ------------------------------------------------------------------------


PEOPLE = [REC / "users.json", REC / "groups-jane.json"]


def test_users_org_unit_paths_and_groups_place_their_devices() -> None:
    devices = {r.device_id: r for r in _read([*PEOPLE, *FILES]) if isinstance(r, Device)}
    jane, joe = devices["AQx7Km2b1"], devices["AQx7Km2b2"]
    assert (jane.org_unit, jane.org_labels) == ("/MCN/Communications", (("org_unit_path", "/MCN/Communications"),))
    assert jane.groups == ("Tous les employés", "Équipe médias sociaux")
    assert (joe.org_unit, joe.groups) == ("/Ventes", ())
    # without the users' pages, nothing is guessed
    assert all(d.org_unit is None and d.groups == () for d in _read(FILES) if isinstance(d, Device))


def test_live_reads_org_unit_paths_and_each_user_s_groups_once() -> None:
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/token":
            return httpx.Response(200, json={"access_token": "ya29", "expires_in": 3600})
        if path == "/admin/directory/v1/users":
            assert request.url.params["customer"] == "my_customer"
            return httpx.Response(200, json=json.loads(PEOPLE[0].read_text()))
        if path == "/admin/directory/v1/groups":
            user = request.url.params["userKey"]
            asked.append(user)
            body = json.loads(PEOPLE[1].read_text()) if user == "jane.doe@example.org" else {"kind": "x"}
            body.pop("userKey", None)  # Google does not echo it: the connector knows whom it asked about
            return httpx.Response(200, json=body)
        assert path == "/admin/directory/v1/customer/my_customer/devices/mobile"
        n = 2 if request.url.params.get("pageToken") == "NEXT" else 1
        return httpx.Response(200, json=json.loads((REC / f"mobiledevices-page{n}.json").read_text()))

    config = ConnectorConfig("workspace", "google-workspace", {
        "subject": "admin@example.org", "org_units": "yes", "groups": "yes", "token_url": "https://g.test/token",
        "api_url": "https://g.test/admin/directory/v1"}, _key("https://g.test/token"))
    connector = GoogleWorkspaceConnector(config, httpx.Client(transport=httpx.MockTransport(handle)), now=NOW)
    live = {r.device_id: r for r in connector.records() if isinstance(r, Device)}
    assert live == {r.device_id: r for r in _read([*PEOPLE, *FILES[1:]]) if isinstance(r, Device)}
    users = {d["email"][0] for f in FILES[1:] for d in json.loads(f.read_text())["mobiledevices"] if d.get("email")}
    assert len(users) >= 2 and sorted(asked) == sorted(users)  # each device's user, once
