"""Every live connector against the faulty local server, the same way: paging in the vendor's own style (3 pages
or more), 429 with Retry-After, 500/502/503 then success, a dropped connection, malformed answers, and a
persistent failure that fails cleanly, names the source and imports nothing.

Each vendor below serves the same fleet (5 devices, one app each) in its own shapes and paging; the faults are
injected on one route (`fault_route`) after its first `after` answers, so a retry must ask for the same page
again. The server counts every request: the retries stay within the limits.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from interdit import pipeline
from interdit.errors import InputError
from interdit.inventory import ConnectorConfig, Limits, LiveConnector, connectors
from interdit.model import Device, InstalledApp, Rejection
from interdit.testing import MdmServer, Reply, Request

NOW = datetime(2025, 3, 5, tzinfo=UTC)
SEEN = "2025-03-01T10:00:00Z"
N, PAGE = 5, 2  # five devices, two a page: three pages
ATTEMPTS = 4
PEM = rsa.generate_private_key(public_exponent=65537, key_size=1024).private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
CLASSIC_SUBSETS = "General&Location&Applications&MobileDeviceGroups"


def _app(i: int) -> str:
    return f"com.example.app{i}"


def _slice(start: int, size: int = PAGE) -> range:
    return range(start, min(start + size, N))


@dataclass
class Vendor:
    type: str
    settings: Callable[[str], dict[str, str]]  # from the server's URL
    secret: str
    serve: Callable[[MdmServer], None]
    fault_route: tuple[str, str]
    clean_hits: int  # requests on the fault route in a run without faults
    after: int = 1  # answers given before the faults start
    tune: dict[str, Any] = field(default_factory=dict)  # connector attributes (page sizes)

    def __str__(self) -> str:
        return self.type


# -- the vendors ----------------------------------------------------------------------------------------


def _graph_device(i: int) -> dict[str, Any]:
    return {"id": f"dev-{i}", "deviceName": f"phone-{i}", "managedDeviceOwnerType": "company",
            "operatingSystem": "Android", "lastSyncDateTime": SEEN,
            "deviceEnrollmentType": "androidEnterpriseFullyManaged"}


def _graph_page(server: MdmServer, path: str, request: Request, items: Callable[[int], Any]) -> Reply:
    start = int(request.query.get("$skiptoken", ["0"])[0])
    body: dict[str, Any] = {"value": [items(i) for i in _slice(start)]}
    if start + PAGE < N:
        body["@odata.nextLink"] = f"{server.url}{path}?$skiptoken={start + PAGE}"
    return Reply(200, body)


def _serve_graph(server: MdmServer, apps: str) -> None:
    server.route("POST", "/contoso.example/oauth2/v2.0/token",
                 lambda r: Reply(200, {"access_token": "tok", "expires_in": 3599}))
    devices = "/v1.0/deviceManagement/managedDevices"
    server.route("GET", devices, lambda r: _graph_page(server, devices, r, _graph_device))
    if apps == "per-device":
        for i in range(N):
            server.route("GET", f"/beta/deviceManagement/managedDevices/dev-{i}/detectedApps",
                         [Reply(200, {"value": [{"id": f"a{i}", "displayName": _app(i), "version": "1.0"}]})])
    else:
        listing = "/v1.0/deviceManagement/detectedApps"
        server.route("GET", listing, lambda r: _graph_page(server, listing, r, lambda i: {
            "id": f"a{i}", "displayName": _app(i), "version": "1.0", "deviceCount": 1, "platform": "androidOSP"}))
        for i in range(N):
            server.route("GET", f"{listing}/a{i}/managedDevices", [Reply(200, {"value": [{"id": f"dev-{i}"}]})])


def _intune_settings(apps: str) -> Callable[[str], dict[str, str]]:
    return lambda url: {"tenant": "contoso.example", "client_id": "app", "graph_url": url, "login_url": url,
                        "apps": apps}


def _serve_jamf(server: MdmServer) -> None:
    server.route("POST", "/api/oauth/token", lambda r: Reply(200, {"access_token": "tok", "expires_in": 600}))

    def detail(request: Request) -> Reply:
        page, size = int(request.query["page"][0]), int(request.query["page-size"][0])
        results = [{"mobileDeviceId": str(i + 1), "deviceType": "iOS",
                    "general": {"managed": True, "deviceOwnershipType": "Institutional",
                                "lastInventoryUpdateDate": SEEN},
                    "applications": [{"identifier": _app(i), "name": f"App {i}"}]}
                   for i in _slice(page * size, size)]
        return Reply(200, {"totalCount": N, "results": results})

    server.route("GET", "/api/v2/mobile-devices/detail", detail)


def _classic_device(i: int) -> bytes:
    return (f"<?xml version='1.0' encoding='UTF-8'?><mobile_device><general><id>{i + 1}</id>"
            f"<device_name>ipad-{i}</device_name><os_type>iOS</os_type><managed>true</managed>"
            f"<device_ownership_level>Institutional</device_ownership_level>"
            f"<last_inventory_update_utc>2025-03-01T10:00:00.000+0000</last_inventory_update_utc></general>"
            f"<applications><size>1</size><application><application_name>App {i}</application_name>"
            f"<application_version>1.0</application_version><identifier>{_app(i)}</identifier>"
            f"</application></applications></mobile_device>").encode()


def _serve_jamf_classic(server: MdmServer) -> None:
    def token(request: Request) -> Reply:
        assert request.headers["authorization"].startswith("Basic ")
        return Reply(200, {"token": "jamf-user-token", "expires": "2999-01-01T00:00:00.000Z"})

    server.route("POST", "/api/v1/auth/token", token)
    listing = "".join(f"<mobile_device><id>{i + 1}</id><name>ipad-{i}</name></mobile_device>" for i in range(N))
    server.route("GET", "/JSSResource/mobiledevices",
                 [Reply(200, f"<mobile_devices><size>{N}</size>{listing}</mobile_devices>".encode())])
    for i in range(N):
        server.route("GET", f"/JSSResource/mobiledevices/id/{i + 1}/subset/{CLASSIC_SUBSETS}",
                     [Reply(200, _classic_device(i))])


def _key_json(url: str) -> str:
    return json.dumps({"type": "service_account", "client_email": "sa@proj.iam.gserviceaccount.com",
                       "private_key": PEM, "token_uri": f"{url}/token"})


def _token_page(request: Request, key: str, item: Callable[[int], Any]) -> Reply:
    start = int(request.query.get("pageToken", ["0"])[0])
    body: dict[str, Any] = {key: [item(i) for i in _slice(start)]}
    if start + PAGE < N:
        body["nextPageToken"] = str(start + PAGE)
    return Reply(200, body)


def _serve_amapi(server: MdmServer) -> None:
    server.route("POST", "/token", lambda r: Reply(200, {"access_token": "ya29", "expires_in": 3599}))
    server.route("GET", "/v1/enterprises/LC01/devices", lambda r: _token_page(r, "devices", lambda i: {
        "name": f"enterprises/LC01/devices/d{i}", "managementMode": "DEVICE_OWNER", "ownership": "COMPANY_OWNED",
        "lastStatusReportTime": SEEN, "applicationReports": [{"packageName": _app(i), "versionName": "1.0"}]}))


def _serve_workspace(server: MdmServer) -> None:
    server.route("POST", "/token", lambda r: Reply(200, {"access_token": "ya29", "expires_in": 3599}))
    server.route("GET", "/customer/my_customer/devices/mobile", lambda r: _token_page(r, "mobiledevices", lambda i: {
        "resourceId": f"r{i}", "type": "ANDROID", "lastSync": SEEN, "managedAccountIsOnOwnerProfile": True,
        "applications": [{"packageName": _app(i), "versionName": "1.0"}]}))


def _serve_ws1(server: MdmServer) -> None:
    def search(request: Request) -> Reply:
        page, size = int(request.query["page"][0]), int(request.query["pagesize"][0])
        devices = [{"Id": {"Value": i + 1}, "Platform": "Android", "Ownership": "C", "EnrollmentStatus": "Enrolled",
                    "LastSeen": "2025-03-01T10:00:00"} for i in _slice(page * size, size)]
        return Reply(200, {"Devices": devices, "Page": page, "PageSize": size, "Total": N})

    server.route("GET", "/API/mdm/devices/search", search)
    for i in range(N):
        server.route("GET", f"/API/mdm/devices/{i + 1}/apps", [Reply(200, {
            "DeviceApps": [{"ApplicationIdentifier": _app(i), "Status": "Installed", "Version": "1.0"}], "Total": 1})])


def _serve_ivanti(server: MdmServer) -> None:
    def devices(request: Request) -> Reply:
        offset, limit = int(request.query["offset"][0]), int(request.query["limit"][0])
        results = [{"common.uuid": f"u{i}", "common.platform": "Android", "common.owner": "COMPANY",
                    "common.last_connected_at": SEEN} for i in _slice(offset, limit)]
        return Reply(200, {"totalCount": N, "resultCount": len(results), "results": results})

    def inventory(request: Request) -> Reply:
        uuids = request.query["deviceUuids"][0].split(",")
        return Reply(200, {"results": [{"deviceUuid": u, "appInventory": [{"identifier": _app(int(u[1:]))}]}
                                       for u in uuids]})

    server.route("GET", "/api/v2/devices", devices)
    server.route("GET", "/api/v2/devices/appinventory", inventory)


def _serve_headwind(server: MdmServer) -> None:
    digest = hashlib.md5(b"pa55word").hexdigest().upper()
    server.route("POST", "/rest/public/jwt/login", lambda r: Reply(200, {"id_token": "jwt"}) if r.json() == {
        "login": "admin", "password": digest} else Reply(200, {"status": "ERROR"}))

    def search(request: Request) -> Reply:
        assert request.headers["authorization"] == "Bearer jwt"
        body = request.json()
        page, size = int(body["pageNum"]), int(body["pageSize"])
        items = [{"number": f"H{i}", "lastUpdate": 1740823200000,
                  "info": {"mdmMode": True, "applications": [{"pkg": _app(i), "version": "1.0"}]}}
                 for i in _slice((page - 1) * size, size)]
        return Reply(200, {"status": "OK", "data": {"devices": {"items": items, "totalItemsCount": N}}})

    server.route("POST", "/rest/private/devices/search", search)


VENDORS = [
    Vendor("intune", _intune_settings("per-device"), "secret", lambda s: _serve_graph(s, "per-device"),
           ("GET", "/v1.0/deviceManagement/managedDevices"), 3),
    Vendor("intune", _intune_settings("detected"), "secret", lambda s: _serve_graph(s, "detected"),
           ("GET", "/v1.0/deviceManagement/detectedApps"), 3),
    Vendor("jamf", lambda url: {"base_url": url, "client_id": "c"}, "secret", _serve_jamf,
           ("GET", "/api/v2/mobile-devices/detail"), 3, tune={"page_size": PAGE}),
    Vendor("jamf", lambda url: {"base_url": url, "api": "classic", "auth": "token"}, "auditor:pw", _serve_jamf_classic,
           ("GET", f"/JSSResource/mobiledevices/id/2/subset/{CLASSIC_SUBSETS}"), 1, after=0),
    Vendor("amapi", lambda url: {"enterprise": "LC01", "api_url": f"{url}/v1", "token_url": f"{url}/token"},
           "", _serve_amapi, ("GET", "/v1/enterprises/LC01/devices"), 3),
    Vendor("google-workspace", lambda url: {"subject": "admin@example.org", "api_url": url,
                                            "token_url": f"{url}/token"},
           "", _serve_workspace, ("GET", "/customer/my_customer/devices/mobile"), 3),
    Vendor("workspace-one", lambda url: {"base_url": url, "tenant_code": "k"}, "api:pw", _serve_ws1,
           ("GET", "/API/mdm/devices/search"), 3, tune={"page_size": PAGE}),
    Vendor("ivanti", lambda url: {"base_url": url}, "api:pw", _serve_ivanti, ("GET", "/api/v2/devices"), 3,
           tune={"page_size": PAGE}),
    Vendor("headwind", lambda url: {"base_url": url, "login": "admin"}, "pa55word", _serve_headwind,
           ("POST", "/rest/private/devices/search"), 3, tune={"page_size": PAGE}),
]
IDS = ["intune", "intune-detected", "jamf", "jamf-classic", "amapi", "google-workspace", "workspace-one", "ivanti",
       "headwind"]


# -- the harness ----------------------------------------------------------------------------------------


class Faults:
    """Wraps the fault route's handler: its first `after` answers pass, then the scripted faults, one a request,
    then the handler again; `always` replaces every later answer (a persistent failure)."""

    def __init__(self, vendor: Vendor, server: MdmServer) -> None:
        self.after = vendor.after
        self.script: list[Reply] = []
        self.always: Reply | None = None
        self.seen = 0
        target = server.routes[vendor.fault_route]
        self.handler: Callable[[Request], Reply] = target if callable(target) else (lambda r: target[0])
        server.route(*vendor.fault_route, self)

    def __call__(self, request: Request) -> Reply:
        self.seen += 1
        if self.seen > self.after:
            if self.always is not None:
                return self.always
            if self.script:
                return self.script.pop(0)
        return self.handler(request)


def _connector(vendor: Vendor, server: MdmServer, client: httpx.Client, sleeps: list[float]) -> LiveConnector:
    secret = vendor.secret or _key_json(server.url)
    config = ConnectorConfig(f"{vendor}-src", vendor.type, vendor.settings(server.url), secret,
                             Limits(attempts=ATTEMPTS, backoff=0.25, max_backoff=4, total_seconds=60, timeout=5))
    connector: LiveConnector = connectors.get(vendor.type)(config, client, now=NOW, sleep=sleeps.append)
    for key, value in vendor.tune.items():
        setattr(connector, key, value)
    return connector


@pytest.fixture(params=VENDORS, ids=IDS)
def vendor(request: pytest.FixtureRequest) -> Vendor:
    v: Vendor = request.param
    return v


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    """One client for the module (building one loads the CA bundle); each test has its own server and port."""
    with httpx.Client() as client:
        yield client


@pytest.fixture
def served(vendor: Vendor) -> Iterator[tuple[MdmServer, Faults]]:
    with MdmServer() as server:
        vendor.serve(server)
        yield server, Faults(vendor, server)


def _sync(vendor: Vendor, server: MdmServer, client: httpx.Client) -> tuple[list[Any], list[float], LiveConnector]:
    sleeps: list[float] = []
    connector = _connector(vendor, server, client, sleeps)
    return list(connector.records()), sleeps, connector


def _fleet(records: list[Any]) -> tuple[set[str], set[tuple[str, str]]]:
    assert not [r for r in records if isinstance(r, Rejection)], records
    devices = {r.device_id for r in records if isinstance(r, Device)}
    apps = {(r.device_id, r.app.identifier) for r in records if isinstance(r, InstalledApp)}
    return devices, apps


def _hits(server: MdmServer, vendor: Vendor) -> int:
    method, path = vendor.fault_route
    return sum(1 for r in server.requests if r.method == method and r.path == path)


# -- the faults -----------------------------------------------------------------------------------------


def test_pages_in_the_vendors_style(vendor: Vendor, served: tuple[MdmServer, Faults], http: httpx.Client) -> None:
    server, _ = served
    records, sleeps, connector = _sync(vendor, server, http)
    devices, apps = _fleet(records)
    assert len(devices) == N and len(apps) == N  # every page read, each device with its app
    assert _hits(server, vendor) == vendor.clean_hits and not sleeps
    assert connector.tally.read == connector.tally.accepted == len(records)


TRANSIENT = {
    "throttled": [Reply(429, {"error": "slow down"}, {"Retry-After": "7"})],
    "server-errors": [Reply(500, {"error": "x"}), Reply(502, b"<html>bad gateway</html>"), Reply(503, b"")],
    "dropped": [Reply(drop=True)],
    "malformed": [Reply(200, b'{"value": [{"id": "half')],
}


@pytest.mark.parametrize("fault", list(TRANSIENT))
def test_transient_faults_are_retried_within_bounds(vendor: Vendor, served: tuple[MdmServer, Faults],
                                                    http: httpx.Client, fault: str) -> None:
    server, faults = served
    faults.script = list(TRANSIENT[fault])
    records, sleeps, connector = _sync(vendor, server, http)
    devices, apps = _fleet(records)
    assert len(devices) == N and len(apps) == N
    assert _hits(server, vendor) == vendor.clean_hits + len(TRANSIENT[fault])  # each fault retried once, no more
    if fault == "throttled":
        assert sleeps == [7.0]  # Retry-After, as the server asked
    else:
        assert sleeps == [0.25, 0.5, 1.0][: len(TRANSIENT[fault])]  # exponential backoff
    assert connector.api.retries == len(TRANSIENT[fault])


PERSISTENT = {
    "503": (Reply(503, {"error": "unavailable"}), "HTTP 503"),
    "dropped": (Reply(drop=True), "connection failed"),
    "malformed": (Reply(200, b"<html>maintenance</html>"), "malformed response"),
}


@pytest.mark.parametrize("fault", list(PERSISTENT))
def test_persistent_failure_fails_cleanly_within_the_limit(vendor: Vendor, served: tuple[MdmServer, Faults],
                                                           http: httpx.Client, fault: str) -> None:
    server, faults = served
    faults.always = PERSISTENT[fault][0]
    sleeps: list[float] = []
    got: list[Any] = []
    connector = _connector(vendor, server, http, sleeps)
    with pytest.raises(InputError) as e:
        for record in connector.records():
            got.append(record)
    text = str(e.value)
    assert f"{vendor}-src" in text and f"gave up after {ATTEMPTS} attempts" in text and PERSISTENT[fault][1] in text
    assert "fix:" in text and "Bearer" not in text and "PRIVATE KEY" not in text
    assert not vendor.secret or vendor.secret not in text
    assert _hits(server, vendor) == vendor.after + ATTEMPTS  # the limit, not one request more
    assert connector.api.retries == ATTEMPTS - 1 and sleeps == [0.25, 0.5, 1.0]
    assert len(got) < 2 * N  # it stopped part-way, without an end: see the next test for what that imports


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty database, copied by each test (migrating one takes seconds)."""
    path = tmp_path_factory.mktemp("db") / "empty.db"
    pipeline.open_repository(f"sqlite:///{path}").engine.dispose()
    return path


def test_a_failed_sync_imports_nothing(vendor: Vendor, served: tuple[MdmServer, Faults], http: httpx.Client,
                                       empty_db: Path, tmp_path: Path) -> None:
    server, faults = served
    db = tmp_path / "fleet.db"
    shutil.copy(empty_db, db)
    repo = pipeline.open_repository(f"sqlite:///{db}")
    name = f"{vendor}-src"
    good = _connector(vendor, server, http, [])
    repo.import_snapshot(name, f"api:{vendor.type}", good.records(), good.tally, at=NOW)
    faults.seen, faults.always = 0, PERSISTENT["503"][0]
    bad = _connector(vendor, server, http, [])
    with pytest.raises(InputError, match=name):
        repo.import_snapshot(name, f"api:{vendor.type}", bad.records(), bad.tally, at=NOW + timedelta(days=1))
    # the records read before the failure did not land: the first snapshot stands, whole, and the failure is on
    # record (a half-import would have marked the unread devices removed)
    assert [r.status for r in repo.import_runs(limit=5)] == ["failed", "ok"]
    states = list(repo.device_states(NOW + timedelta(days=2), frozenset(), ()))
    assert len(states) == N
    repo.engine.dispose()


# -- Intune's export job --------------------------------------------------------------------------------


def _serve_export(server: MdmServer, states: list[str]) -> None:
    _serve_graph(server, "per-device")
    server.route("POST", "/beta/deviceManagement/reports/exportJobs",
                 [Reply(201, {"id": "AppInvRawData_1", "status": "notStarted"})])
    server.route("GET", "/beta/deviceManagement/reports/exportJobs('AppInvRawData_1')",
                 [Reply(200, {"id": "AppInvRawData_1", "status": s}) for s in states])


def _intune(server: MdmServer, client: httpx.Client, sleeps: list[float], **extra: str) -> LiveConnector:
    settings = {**_intune_settings("export")(server.url), **extra}
    config = ConnectorConfig("intune-src", "intune", settings, "secret",
                             Limits(attempts=ATTEMPTS, backoff=0.25, total_seconds=60, timeout=5))
    connector: LiveConnector = connectors.get("intune")(config, client, now=NOW, sleep=sleeps.append)
    return connector


def test_intune_export_job_that_fails_is_a_clean_error(http: httpx.Client) -> None:
    with MdmServer() as server:
        _serve_export(server, ["inProgress", "failed"])
        sleeps: list[float] = []
        with pytest.raises(InputError) as e:
            list(_intune(server, http, sleeps).records())
        polls = server.hits("/beta/deviceManagement/reports/exportJobs('AppInvRawData_1')")
    assert "intune-src" in str(e.value) and "failed" in str(e.value) and "AppInvRawData_1" in str(e.value)
    assert polls == 2 and sleeps == [2.0]


def test_intune_export_job_that_never_finishes_times_out(http: httpx.Client) -> None:
    with MdmServer() as server:
        _serve_export(server, ["inProgress"])
        sleeps: list[float] = []
        with pytest.raises(InputError) as e:
            list(_intune(server, http, sleeps, export_timeout="120").records())
        polls = server.hits("/beta/deviceManagement/reports/exportJobs('AppInvRawData_1')")
    text = str(e.value)
    assert "intune-src" in text and "did not complete within 120 s" in text and "inProgress" in text
    assert sum(sleeps) <= 120 and polls == len(sleeps) + 1  # bounded polling, backing off
    assert sleeps[:3] == [2.0, 3.0, 4.5] and max(sleeps) <= 30

