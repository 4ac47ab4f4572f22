"""Intune: Graph pages and the AppInvRawData export (recorded responses), and the live connector against
`httpx.MockTransport` and against a faulty local server (paging, 429, 500, dropped connections, bad JSON)."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interdit.errors import ConfigError, InputError, InterditError
from interdit.inventory import ConnectorConfig, Limits, connectors
from interdit.inventory.base import Tally, readers
from interdit.inventory.intune import GraphPages, IntuneConnector
from interdit.model import AppId, Device, InstalledApp, Management, Ownership, Platform, Rejection
from interdit.testing import MdmServer, Reply, Request

REC = Path(__file__).parent / "recorded" / "intune"
NOW = datetime(2025, 3, 5, tzinfo=UTC)
D1, D2, D3, D4 = (f"5f3a9c10-1111-4111-8111-00000000000{i}" for i in range(1, 5))
SECRET = "s3cr3t-client-value"


def _read(fmt: str, files: list[Path]) -> tuple[list[Any], Tally]:
    reader = readers.get(fmt)("intune-prod", files, now=NOW)
    records = list(reader.records())
    return records, reader.tally


def _split(records: list[Any]) -> tuple[dict[str, Device], list[InstalledApp], list[Rejection]]:
    devices = {r.device_id: r for r in records if isinstance(r, Device)}
    apps = [r for r in records if isinstance(r, InstalledApp)]
    return devices, apps, [r for r in records if isinstance(r, Rejection)]


def test_graph_pages_map_ownership_management_and_freshness() -> None:
    files = sorted(REC.glob("managedDevices-*.json")) + sorted(REC.glob("detectedApps-device*.json"))
    records, tally = _read("intune-graph", files)
    devices, apps, rejected = _split(records)
    assert tally.read == tally.accepted + tally.rejected == len(records)
    assert set(devices) == {D1, D2, D3, D4}
    assert (devices[D1].ownership, devices[D1].management, devices[D1].supervised) == \
        (Ownership.CORPORATE, Management.FULLY_MANAGED, True)
    assert (devices[D2].ownership, devices[D2].management) == (Ownership.PERSONAL, Management.WORK_PROFILE)
    assert devices[D3].management is Management.WORK_PROFILE and devices[D3].ownership is Ownership.CORPORATE
    assert devices[D4].management is Management.USER_ENROLMENT
    assert devices[D1].org_unit == "/TBS/Communications" and devices[D1].addresses == ("a4:83:e7:00:00:01",)
    assert [r.reason for r in rejected] == ["operatingSystem 'Linux' is not a known platform"]
    # the app inventory is up to 7 days older than the last sync
    for app in apps:
        assert app.observed_at == devices[app.device_id].observed_at - timedelta(days=7)
    by_name = {(a.device_id, a.name): a.app for a in apps}
    assert by_name[(D1, "com.tencent.xin")] == AppId(Platform.IOS, "com.tencent.xin")  # already an identifier
    assert by_name[(D1, "Microsoft Outlook")] == AppId(Platform.IOS, "name:Microsoft Outlook")
    tiktok = by_name[(D1, "TikTok")]
    assert tiktok.identifier in ("com.zhiliaoapp.musically", "name:TikTok")  # catalogue-resolved when present
    assert by_name[(D3, "Outlook")].platform is Platform.ANDROID


def test_app_pages_before_device_pages_still_land() -> None:
    files = sorted(REC.glob("detectedApps-device*.json")) + sorted(REC.glob("managedDevices-*.json"))
    _, tally_after = _read("intune-graph", files)
    in_order = sorted(REC.glob("managedDevices-*.json")) + sorted(REC.glob("detectedApps-device*.json"))
    _, tally_before = _read("intune-graph", in_order)
    assert (tally_after.accepted, tally_after.rejected) == (tally_before.accepted, tally_before.rejected)


def test_reverse_relationship_pages_and_orphans() -> None:
    files = [*sorted(REC.glob("managedDevices-*.json")), REC / "detectedApps.json",
             REC / "detectedApp-managedDevices.json"]
    records, _ = _read("intune-graph", files)
    _, apps, rejected = _split(records)
    assert [(a.device_id, a.version) for a in apps] == [(D4, "34.1.0")]
    assert any("5f3a9c10-1111-4111-8111-0000000000ff" in r.reason for r in rejected)
    # without the detectedApps list, the reverse page cannot be read: a rejection, never a guess
    records, _ = _read("intune-graph", [*sorted(REC.glob("managedDevices-*.json")),
                                        REC / "detectedApp-managedDevices.json"])
    assert not [r for r in records if isinstance(r, InstalledApp)]


def test_appinv_export_with_device_pages_plain_and_zipped(tmp_path: Path) -> None:
    pages = sorted(REC.glob("managedDevices-*.json"))
    records, tally = _read("intune-appinv", [*pages, REC / "AppInvRawData.csv"])
    _, apps, rejected = _split(records)
    assert tally.read == tally.accepted + tally.rejected
    assert {(a.device_id, a.name) for a in apps} == {
        (D1, "TikTok"), (D1, "Microsoft Outlook"), (D3, "WeChat"), (D3, "Teams, Microsoft"), (D4, "Calculator")}
    assert any("5f3a9c10-1111-4111-8111-0000000000ee" in r.reason for r in rejected)
    wechat = next(a for a in apps if a.name == "WeChat")
    assert wechat.app.platform is Platform.ANDROID and wechat.version == "8.0.49"
    zipped = tmp_path / "AppInvRawData.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(REC / "AppInvRawData.csv", "AppInvRawData_0000.csv")
    again, _ = _read("intune-appinv", [*pages, zipped])
    assert again == records[: len(again)] or [type(r) for r in again] == [type(r) for r in records]
    assert _split(again)[1] == apps


def test_appinv_export_alone_gives_unknown_ownership() -> None:
    records, tally = _read("intune-appinv", [REC / "AppInvRawData.csv"])
    devices, apps, _ = _split(records)
    assert len(devices) == 4 and all(d.ownership is Ownership.UNKNOWN for d in devices.values())
    assert all(d.observed_at == NOW - timedelta(days=7) for d in devices.values())
    assert tally.rejected == 0 and len(apps) == 6


def test_truncated_export_fails_the_whole_read(tmp_path: Path) -> None:
    bad = tmp_path / "AppInvRawData.csv"
    bad.write_text((REC / "AppInvRawData.csv").read_text() + '9e1c,"unterminated,x\n', "utf-8")
    with pytest.raises(InputError) as e:
        _read("intune-appinv", [bad])
    assert str(bad) in str(e.value)
    page = tmp_path / "page.json"
    page.write_text('{"value": [', "utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        _read("intune-graph", [page])


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=4),
                    max_leaves=25))
def test_graph_pages_never_crash_on_hostile_json(page: Any) -> None:
    tally = Tally()
    pages = GraphPages("s", tally, NOW)
    for candidate in (page, {"value": page}, {"value": [page]},
                      {"@odata.context": "#deviceManagement/managedDevices('x')/detectedApps", "value": [page]}):
        try:
            list(pages.feed("p", candidate))
            list(pages.finish())
        except InterditError:
            pass
    assert tally.read == tally.accepted + tally.rejected


# -- live ---------------------------------------------------------------------------------------------


def _config(base: str, **extra: str) -> ConnectorConfig:
    settings = {"tenant": "contoso.example", "client_id": "app-id", "graph_url": base, "login_url": base,
                "groups": "off", **extra}  # Entra ID groups: test_intune_groups.py
    return ConnectorConfig("intune-prod", "intune", settings, SECRET,
                           Limits(attempts=4, backoff=0.01, total_seconds=30, timeout=5))


def _graph_handler(base: str, export_polls: int = 1) -> Any:
    polls = {"n": 0}
    zip_bytes = _zip_of(REC / "AppInvRawData.csv")

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/oauth2/v2.0/token"):
            form = dict(x.split("=", 1) for x in request.content.decode().split("&"))
            assert form["grant_type"] == "client_credentials" and form["client_secret"] == SECRET
            return httpx.Response(200, json={"access_token": "tok-1", "expires_in": 3599, "token_type": "Bearer"})
        assert request.headers.get("authorization") == "Bearer tok-1" or path.endswith(".zip")
        if path == "/v1.0/deviceManagement/managedDevices":
            page = "PAGE2" in str(request.url)
            body = json.loads((REC / f"managedDevices-{2 if page else 1}.json").read_text())
            if "@odata.nextLink" in body:
                body["@odata.nextLink"] = f"{base}/v1.0/deviceManagement/managedDevices?$skiptoken=PAGE2"
            return httpx.Response(200, json=body)
        if path == "/beta/deviceManagement/reports/exportJobs" and request.method == "POST":
            assert json.loads(request.content)["reportName"] == "AppInvRawData"
            return httpx.Response(201, json={"id": "AppInvRawData_1", "status": "notStarted"})
        if path == "/beta/deviceManagement/reports/exportJobs('AppInvRawData_1')":
            polls["n"] += 1
            if polls["n"] <= export_polls:
                return httpx.Response(200, json={"id": "AppInvRawData_1", "status": "inProgress"})
            return httpx.Response(200, json={"id": "AppInvRawData_1", "status": "completed",
                                             "url": f"{base}/blob/export.zip?sv=2020&sig=SECRETSAS"})
        if path == "/blob/export.zip":
            assert "authorization" not in request.headers  # the SAS URL carries its own authority
            return httpx.Response(200, content=zip_bytes)
        if path == "/v1.0/deviceManagement/detectedApps":
            return httpx.Response(200, json=json.loads((REC / "detectedApps.json").read_text()))
        if path.startswith("/v1.0/deviceManagement/detectedApps/") and path.endswith("/managedDevices"):
            assert request.url.params.get("$select") == "id"
            body = json.loads((REC / "detectedApp-managedDevices.json").read_text())
            app_id = path.split("/")[-2]
            if app_id not in body["@odata.context"]:
                return httpx.Response(404, json={"error": app_id})
            body["value"] = [{"id": d["id"]} for d in body["value"]]  # as $select=id answers
            del body["@odata.context"]  # the connector knows what it asked for
            return httpx.Response(200, json=body)
        if path.startswith("/beta/deviceManagement/managedDevices/") and path.endswith("/detectedApps"):
            device = path.split("/")[-2]
            for f in REC.glob("detectedApps-device*.json"):
                body = json.loads(f.read_text())
                if device in body["@odata.context"]:
                    return httpx.Response(200, json=body)
            return httpx.Response(200, json={"value": []})
        return httpx.Response(404, json={"error": path})

    return handle


def _zip_of(path: Path) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.write(path, "AppInvRawData.csv")
    return buf.getvalue()


def test_live_export_mode_matches_the_file_reader() -> None:
    base = "https://graph.test"
    client = httpx.Client(transport=httpx.MockTransport(_graph_handler(base, export_polls=2)))
    sleeps: list[float] = []
    connector = IntuneConnector(_config(base), client, now=NOW, sleep=sleeps.append)
    live = list(connector.records())
    files, _ = _read("intune-appinv", [*sorted(REC.glob("managedDevices-*.json")), REC / "AppInvRawData.csv"])
    strip = [r for r in live if not isinstance(r, Rejection)]
    assert strip == [r for r in files if not isinstance(r, Rejection)]
    assert connector.tally.read == connector.tally.accepted + connector.tally.rejected
    assert sleeps and connectors.get("intune") is IntuneConnector


def test_live_per_device_mode() -> None:
    base = "https://graph.test"
    client = httpx.Client(transport=httpx.MockTransport(_graph_handler(base)))
    connector = IntuneConnector(_config(base, apps="per-device"), client, now=NOW, sleep=lambda s: None)
    apps = [r for r in connector.records() if isinstance(r, InstalledApp)]
    assert {a.device_id for a in apps} == {D1, D3, D4} and len(apps) == 6


def test_live_detected_mode_reads_each_apps_devices_like_the_recorded_pages() -> None:
    base = "https://graph.test"
    client = httpx.Client(transport=httpx.MockTransport(_graph_handler(base)))
    connector = IntuneConnector(_config(base, apps="detected"), client, now=NOW, sleep=lambda s: None)
    live = list(connector.records())
    files, _ = _read("intune-graph", [*sorted(REC.glob("managedDevices-*.json")), REC / "detectedApps.json",
                                      REC / "detectedApp-managedDevices.json"])
    assert [r for r in live if not isinstance(r, Rejection)] == [r for r in files if not isinstance(r, Rejection)]
    assert [(a.device_id, a.version) for a in live if isinstance(a, InstalledApp)] == [(D4, "34.1.0")]
    # the device that is not in managedDevices any more is rejected, never guessed
    assert any("0000000000ff" in r.reason for r in live if isinstance(r, Rejection))
    assert connector.tally.read == connector.tally.accepted + connector.tally.rejected


def test_reverse_pages_listing_a_device_twice_reject_the_repeat() -> None:
    page = json.loads((REC / "detectedApp-managedDevices.json").read_text())
    page["value"] = [page["value"][0], page["value"][0]]
    tally = Tally()
    pages = GraphPages("intune-prod", tally, NOW)
    files = sorted(REC.glob("managedDevices-*.json"))
    records = [r for f in files for r in pages.feed(str(f), json.loads(f.read_text()))]
    records += list(pages.feed("list", json.loads((REC / "detectedApps.json").read_text())))
    records += list(pages.feed("reverse", page))
    assert len([r for r in records if isinstance(r, InstalledApp)]) == 1
    assert [r.reason for r in records if isinstance(r, Rejection)][-1].endswith(f"listed twice for device {D4!r}")


def test_unknown_apps_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="per-device or detected"):
        IntuneConnector(_config("https://graph.test", apps="all"), httpx.Client(), now=NOW)
    with pytest.raises(ConfigError, match="export_timeout"):
        IntuneConnector(_config("https://graph.test", export_timeout="soon"), httpx.Client(), now=NOW)


def test_next_link_to_another_host_is_refused() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"value": [], "@odata.nextLink": "https://evil.test/steal"})

    connector = IntuneConnector(_config("https://graph.test"), httpx.Client(transport=httpx.MockTransport(handle)),
                                now=NOW, sleep=lambda s: None)
    with pytest.raises(InputError, match="another host"):
        list(connector.records())


def _serve_graph(server: MdmServer, faults: list[Reply]) -> None:
    server.route("POST", "/contoso.example/oauth2/v2.0/token",
                 lambda r: Reply(200, {"access_token": "tok-1", "expires_in": 3599}))
    script = [*faults]

    def devices(request: Request) -> Reply:
        if script:
            return script.pop(0)
        second = "$skiptoken" in "".join(request.query)
        body = json.loads((REC / f"managedDevices-{2 if second else 1}.json").read_text())
        if "@odata.nextLink" in body:
            body["@odata.nextLink"] = f"{server.url}/v1.0/deviceManagement/managedDevices?$skiptoken=PAGE2"
        return Reply(200, body)

    server.route("GET", "/v1.0/deviceManagement/managedDevices", devices)
    for device in (D1, D2, D3, D4):
        server.route("GET", f"/beta/deviceManagement/managedDevices/{device}/detectedApps", [Reply(200, {"value": []})])


def test_local_server_faults_are_retried_within_bounds() -> None:
    faults = [Reply(500, {"error": "busy"}), Reply(drop=True), Reply(429, {"error": "slow down"},
                                                                    {"Retry-After": "2"}),
              Reply(200, b'{"value": [')]
    with MdmServer() as server:
        _serve_graph(server, faults)
        sleeps: list[float] = []
        with httpx.Client() as client:
            connector = IntuneConnector(_config(server.url, apps="per-device"), client, now=NOW, sleep=sleeps.append)
            connector.api.limits = Limits(attempts=5, backoff=0.01, total_seconds=30, timeout=5)
            devices = [r for r in connector.records() if isinstance(r, Device)]
    assert len(devices) == 4
    assert 2.0 in sleeps  # Retry-After honoured
    assert server.hits("/v1.0/deviceManagement/managedDevices") == 4 + 2


def test_local_server_that_keeps_failing_fails_cleanly_without_a_snapshot() -> None:
    with MdmServer() as server:
        _serve_graph(server, [])
        pages = {"n": 0}

        def second_page_fails(request: Request) -> Reply:
            pages["n"] += 1
            if pages["n"] == 1:
                body = json.loads((REC / "managedDevices-1.json").read_text())
                body["@odata.nextLink"] = f"{server.url}/v1.0/deviceManagement/managedDevices?$skiptoken=PAGE2"
                return Reply(200, body)
            return Reply(503, {"error": "unavailable"})

        server.route("GET", "/v1.0/deviceManagement/managedDevices", second_page_fails)
        with httpx.Client() as client:
            connector = IntuneConnector(_config(server.url), client, now=NOW, sleep=lambda s: None)
            stream: Iterator[Any] = connector.records()
            got: list[Any] = []
            with pytest.raises(InputError) as e:
                for r in stream:
                    got.append(r)
    text = str(e.value)
    assert "intune-prod" in text and "HTTP 503" in text and "fix:" in text
    assert SECRET not in text and "tok-1" not in text
    assert not [r for r in got if isinstance(r, Device)]  # raised before the end, where devices are yielded
    assert pages["n"] == 1 + 4  # the first page, then four attempts, as the limits allow


def test_refused_credentials_are_a_config_error_and_never_echo_the_secret() -> None:
    with MdmServer() as server:
        server.route("POST", "/contoso.example/oauth2/v2.0/token", [Reply(401, {"error": "invalid_client"})])
        with httpx.Client() as client:
            connector = IntuneConnector(_config(server.url), client, now=NOW, sleep=lambda s: None)
            with pytest.raises(ConfigError) as e:
                connector.check()
    assert "HTTP 401" in str(e.value) and SECRET not in str(e.value)
    assert SECRET not in repr(_config("x"))


def test_missing_settings_say_how_to_add_them() -> None:
    config = ConnectorConfig("intune-prod", "intune", {"client_id": "x"}, SECRET)
    with pytest.raises(ConfigError, match=r"--setting tenant=\.\.\."):
        IntuneConnector(config, httpx.Client(), now=NOW)
