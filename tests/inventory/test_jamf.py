"""Jamf Pro: v2 detail pages and Classic XML (recorded), and the live connector (MockTransport, local server)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from interdit.errors import ConfigError, InputError
from interdit.inventory import ConnectorConfig, Limits
from interdit.inventory.base import readers
from interdit.inventory.jamf import JamfConnector
from interdit.model import CoverageReason, Device, InstalledApp, Management, Ownership, Rejection
from interdit.testing import MdmServer, Reply, Request

REC = Path(__file__).parent / "recorded" / "jamf"
NOW = datetime(2025, 3, 5, tzinfo=UTC)


def _same(a: list[Any], b: list[Any]) -> bool:
    """The same records; rejections compared by reason (their place names a URL or a file)."""
    def key(rs: list[Any]) -> list[Any]:
        return [r.reason if isinstance(r, Rejection) else r for r in rs]
    return key(a) == key(b)


def _read(fmt: str, files: list[Path]) -> list[Any]:
    reader = readers.get(fmt)("jamf-ipads", files, now=NOW)
    records = list(reader.records())
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected == len(records)
    return records


def test_v2_detail_pages() -> None:
    records = _read("jamf", sorted(REC.glob("detail-page*.json")))
    devices = {r.device_id: r for r in records if isinstance(r, Device)}
    apps = [r for r in records if isinstance(r, InstalledApp)]
    rejected = [r for r in records if isinstance(r, Rejection)]
    assert set(devices) == {"1", "2", "3"}
    assert (devices["1"].ownership, devices["1"].management, devices["1"].supervised) == \
        (Ownership.CORPORATE, Management.FULLY_MANAGED, True)
    assert (devices["2"].ownership, devices["2"].management) == (Ownership.PERSONAL, Management.USER_ENROLMENT)
    assert devices["1"].org_unit == "/GAC/Consular Services" and devices["1"].groups == ("All Managed iPads",)
    assert devices["1"].user == "user1@dept.example" and "10.1.0.1" in devices["1"].addresses
    assert {(a.device_id, a.app.identifier, a.managed) for a in apps} == {
        ("1", "com.zhiliaoapp.musically", False), ("1", "com.microsoft.Office.Outlook", True),
        ("2", "com.microsoft.skype.teams", True), ("3", "com.tencent.xin", False),
        ("3", "name:Broken", False)}  # no usable bundle id: kept by its name, and the device says so
    assert devices["3"].coverage_gap is CoverageReason.DISPLAY_NAMES_ONLY and devices["1"].coverage_gap is None
    reasons = sorted(r.reason for r in rejected)
    assert reasons == ["device type 'tvOS' is not an iPhone or iPad"]


def test_classic_xml() -> None:
    records = _read("jamf-classic", [REC / "classic-2.xml"])
    device = next(r for r in records if isinstance(r, Device))
    assert (device.device_id, device.org_unit, device.groups) == ("2", "/ESDC/Policy", ("Supervised iPhones",))
    assert device.observed_at == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert [r.app.identifier for r in records if isinstance(r, InstalledApp)] == [
        "com.lemon.lvoverseas", "org.whispersystems.signal"]


def test_classic_xml_with_entities_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
                    "<mobile_device><general><id>&b;</id></general></mobile_device>")
    with pytest.raises(InputError, match="DTD or entities"):
        _read("jamf-classic", [bomb])


def _config(base: str) -> ConnectorConfig:
    return ConnectorConfig("jamf-ipads", "jamf", {"base_url": base, "client_id": "api-client"}, "jamf-secret",
                           Limits(attempts=3, backoff=0.01, total_seconds=30, timeout=5))


def _page(n: int) -> Any:
    return json.loads((REC / f"detail-page{n}.json").read_text())


def test_live_mock_transport_pages_with_a_bearer_token() -> None:
    tokens = {"n": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/oauth/token":
            tokens["n"] += 1
            return httpx.Response(200, json={"access_token": "jamf-token", "expires_in": 1199})
        assert request.headers["authorization"] == "Bearer jamf-token"
        params = request.url.params
        assert params.get_list("section") == ["GENERAL", "APPLICATIONS", "USER_AND_LOCATION", "HARDWARE", "GROUPS"]
        return httpx.Response(200, json=_page(int(params["page"])))

    connector = JamfConnector(_config("https://jamf.test"), httpx.Client(transport=httpx.MockTransport(handle)),
                              now=NOW, sleep=lambda s: None)
    live = list(connector.records())
    assert _same(live, _read("jamf", sorted(REC.glob("detail-page*.json"))))
    assert tokens["n"] == 1  # cached across pages


def test_live_local_server_throttles_then_pages() -> None:
    with MdmServer() as server:
        server.route("POST", "/api/oauth/token", lambda r: Reply(200, {"access_token": "t", "expires_in": 60}))
        faults = [Reply(429, {"httpStatus": 429}, {"Retry-After": "1"}), Reply(502, b"<html>bad gateway</html>")]

        def detail(request: Request) -> Reply:
            if faults:
                return faults.pop(0)
            return Reply(200, _page(int(request.query["page"][0])))

        server.route("GET", "/api/v2/mobile-devices/detail", detail)
        sleeps: list[float] = []
        with httpx.Client() as client:
            connector = JamfConnector(_config(server.url), client, now=NOW, sleep=sleeps.append)
            devices = [r for r in connector.records() if isinstance(r, Device)]
            assert "4 mobile devices" in connector.check()
    assert len(devices) == 3 and sleeps[0] == 1.0


# -- Classic API, live -------------------------------------------------------------------------------------


def _classic_config(base: str, auth: str, secret: str = "auditor:s3cret:pw") -> ConnectorConfig:
    return ConnectorConfig("jamf-ipads", "jamf", {"base_url": base, "api": "classic", "auth": auth}, secret,
                           Limits(attempts=3, backoff=0.01, total_seconds=30, timeout=5))


def _classic_handler(seen: list[tuple[str, str]]) -> Any:
    def handle(request: httpx.Request) -> httpx.Response:
        path, auth = request.url.path, request.headers.get("authorization", "")
        seen.append((path, auth.split()[0] if auth else ""))
        if path == "/api/v1/auth/token":
            assert request.method == "POST" and auth == "Basic " + base64.b64encode(b"auditor:s3cret:pw").decode()
            return httpx.Response(200, json={"token": "jamf-bearer", "expires": "2999-01-01T00:00:00.000Z"})
        assert auth in ("Bearer jamf-bearer", "Basic " + base64.b64encode(b"auditor:s3cret:pw").decode())
        assert request.headers["accept"] == "application/xml"
        if path == "/JSSResource/mobiledevices":
            return httpx.Response(200, content=(REC / "classic-list.xml").read_bytes())
        prefix, _, subsets = path.partition("/subset/")
        assert subsets == "General&Location&Applications&MobileDeviceGroups", path
        device = prefix.rsplit("/", 1)[-1]
        return httpx.Response(200, content=(REC / f"classic-{device}.xml").read_bytes())

    return handle


@pytest.mark.parametrize("auth", ["token", "basic"])
def test_live_classic_api_reads_the_list_then_each_device(auth: str) -> None:
    seen: list[tuple[str, str]] = []
    client = httpx.Client(transport=httpx.MockTransport(_classic_handler(seen)))
    connector = JamfConnector(_classic_config("https://jamf.test", auth), client, now=NOW, sleep=lambda s: None)
    live = list(connector.records())
    assert _same(live, _read("jamf-classic", [REC / "classic-1.xml", REC / "classic-2.xml"]))
    assert {r.device_id for r in live if isinstance(r, Device)} == {"1", "2"}
    paths = [p for p, _ in seen]
    assert paths[-3:] == ["/JSSResource/mobiledevices",
                          "/JSSResource/mobiledevices/id/1/subset/General&Location&Applications&MobileDeviceGroups",
                          "/JSSResource/mobiledevices/id/2/subset/General&Location&Applications&MobileDeviceGroups"]
    if auth == "token":  # one token, then bearer on every call
        assert seen[0] == ("/api/v1/auth/token", "Basic") and {a for _, a in seen[1:]} == {"Bearer"}
    else:
        assert {a for _, a in seen} == {"Basic"} and "/api/v1/auth/token" not in paths
    assert "2 mobile devices (Classic API)" in connector.check()


def test_classic_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="HTTP Basic"):
        JamfConnector(ConnectorConfig("j", "jamf", {"base_url": "https://j.test", "auth": "basic"}, "u:p"),
                      httpx.Client(), now=NOW)
    with pytest.raises(ConfigError, match="api 'v1' is not one of pro, classic"):
        JamfConnector(ConnectorConfig("j", "jamf", {"base_url": "https://j.test", "api": "v1"}, "u:p"),
                      httpx.Client(), now=NOW)


def test_classic_device_ids_that_are_not_numbers_are_rejected_not_requested() -> None:
    listing = b"<mobile_devices><mobile_device><id>../../api</id></mobile_device></mobile_devices>"

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/token"):
            return httpx.Response(200, json={"token": "t", "expires": "not a time"})
        assert request.url.path == "/JSSResource/mobiledevices"
        return httpx.Response(200, content=listing)

    connector = JamfConnector(_classic_config("https://jamf.test", "token"),
                              httpx.Client(transport=httpx.MockTransport(handle)), now=NOW)
    records = list(connector.records())
    assert [r.reason for r in records if isinstance(r, Rejection)] == ["a mobile device without a numeric id"]
