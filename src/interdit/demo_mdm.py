"""The demo fleet in the MDM vendors' own formats: three sources that together are the neutral CSV's fleet.

- `intune` (Microsoft Graph managedDevices pages and the `AppInvRawData` export of Intune's "Discovered apps"
  report): the iPhones and iPads of every department but Global Affairs;
- `android` (Android Management API `devices.list` pages): every Android phone, company-owned or not;
- `jamf-gac` (Jamf Pro `mobile-devices/detail` pages): Global Affairs' iPhones and iPads, a second department.

Each device is `interdit.fleet._device(...)`, so importing the three gives the devices and app rows the CSV demo
gives. What the vendors' formats cannot carry is lost on the way, as it would be in life: the export keys each
app by its bundle id (`ApplicationKey`; Graph's per-device `detectedApps` pages give only names, which leave a
device not evaluable unless every name is known to the catalogue, so the demo takes the export); an app
hidden by a restrictions profile reads as installed; Intune's exports have no device groups, and Intune shows
unmanaged apps only for corporate devices, so its iPhones of unknown ownership are not evaluable.

Each MDM names the org units in its own way, as it would in life: Intune as device categories ("TBS - Finance"),
AMAPI in the enrolment token's data ("tbs-finance"), Jamf as departments ("Consular Services"). The demo policy's
`org_units:` maps the three to one tree (`/TBS/Finance`), the neutral CSV's.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from interdit import fleet

PAGE = 100
SECOND_DEPARTMENT = "/GAC"
_OWNER_INTUNE = {"corporate": "company", "personal": "personal", "unknown": "unknown"}
_OWNER_AMAPI = {"corporate": "COMPANY_OWNED", "personal": "PERSONALLY_OWNED", "unknown": "OWNERSHIP_UNSPECIFIED"}
_MODE_AMAPI = {"fully_managed": "DEVICE_OWNER", "work_profile": "PROFILE_OWNER"}
_OWNER_JAMF = {"corporate": "Institutional", "personal": "UserEnrollment"}
GRAPH = "https://graph.microsoft.com"


def intune_category(unit: str) -> str:
    """How Intune names an org unit: a device category, "TBS - Finance" for /TBS/Finance."""
    parts = [p for p in unit.split("/") if p]
    return f"{parts[0]} - {parts[-1]}"


def amapi_department(unit: str) -> str:
    """How the AMAPI enrolment tokens name an org unit: "tbs-finance" for /TBS/Finance."""
    parts = [p for p in unit.split("/") if p]
    return f"{parts[0]}-{parts[-1]}".lower().replace(" ", "-")


def jamf_department(unit: str) -> str:
    """How Jamf names an org unit: the department, "Consular Services" for /GAC/Consular Services."""
    return unit.rsplit("/", 1)[-1]


def _intune_enrollment(row: dict[str, str]) -> str:
    if row["management"] == "user_enrolment":
        return "appleUserEnrollment"
    if row["management"] == "fully_managed":
        return "appleBulkWithUser" if row["supervised"] == "true" else "userEnrollment"
    return "unknown"


def _intune_device(row: dict[str, str]) -> dict[str, Any]:
    return {"id": row["device_id"], "deviceName": row["name"],
            "managedDeviceOwnerType": _OWNER_INTUNE[row["ownership"]], "operatingSystem": "iOS",
            "osVersion": row["os_version"], "userPrincipalName": row["user"],
            "lastSyncDateTime": row["observed_at"], "isSupervised": row["supervised"] == "true",
            "deviceEnrollmentType": _intune_enrollment(row), "model": row["model"],
            "deviceCategoryDisplayName": intune_category(row["org_unit"])}


APPINV_COLUMNS = ("ApplicationKey", "ApplicationName", "ApplicationPublisher", "ApplicationShortVersion",
                  "ApplicationVersion", "DeviceId", "DeviceName", "OSDescription", "OSVersion", "Platform",
                  "UserId", "EmailAddress", "UserName")


def _appinv_row(row: dict[str, str], app: dict[str, str]) -> tuple[str, ...]:
    """One `AppInvRawData` row: the app keyed by its bundle id, on the device of the managedDevices pages."""
    return (app["identifier"], app["name"], "", app["version"], app["version"], row["device_id"], row["name"],
            "iOS", row["os_version"], "iOS", "", row["user"], "")


def _amapi_device(row: dict[str, str], apps: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "name": f"enterprises/LCdemo/devices/{row['device_id']}", "managementMode":
            _MODE_AMAPI.get(row["management"], "MANAGEMENT_MODE_UNSPECIFIED"),
        "ownership": _OWNER_AMAPI[row["ownership"]], "state": "ACTIVE", "appliedState": "ACTIVE",
        "lastStatusReportTime": row["observed_at"], "userName": "enterprises/LCdemo/users/" + row["device_id"],
        "enrollmentTokenData": json.dumps({"department": amapi_department(row["org_unit"]), "user": row["user"]}),
        "hardwareInfo": {"model": row["model"], "serialNumber": row["name"]},
        "softwareInfo": {"androidVersion": row["os_version"]},
        "applicationReports": [{"packageName": a["identifier"], "displayName": a["name"], "versionName": a["version"],
                                "state": "INSTALLED", "applicationSource": "INSTALLED_FROM_PLAY_STORE"}
                               for a in apps],
    }


def _jamf_device(row: dict[str, str], apps: list[dict[str, str]]) -> dict[str, Any]:
    general: dict[str, Any] = {"displayName": row["name"], "lastInventoryUpdateDate": row["observed_at"],
                               "osVersion": row["os_version"], "ipAddress": row["addresses"], "managed": True,
                               "supervised": row["supervised"] == "true"}
    if row["ownership"] in _OWNER_JAMF:
        general["deviceOwnershipType"] = _OWNER_JAMF[row["ownership"]]
    return {"mobileDeviceId": row["device_id"], "deviceType": "iOS", "general": general,
            "hardware": {"model": row["model"]},
            "userAndLocation": {"username": row["user"].split("@")[0], "emailAddress": row["user"],
                                "department": jamf_department(row["org_unit"])},
            "groups": [{"groupName": g} for g in row["groups"].split(";") if g],
            "applications": [{"identifier": a["identifier"], "name": a["name"], "version": a["version"],
                              "shortVersion": a["version"],
                              "managementStatus": "Managed" if a["managed"] == "true" else "Unmanaged"} for a in apps]}


class _Pages:
    """Writes collection pages of `PAGE` items, one JSON response per line."""

    def __init__(self, fh: IO[str], wrap: Any) -> None:
        self.fh = fh
        self.wrap = wrap
        self.items: list[Any] = []
        self.n = 0

    def add(self, item: Any) -> None:
        self.items.append(item)
        if len(self.items) >= PAGE:
            self.flush(last=False)

    def flush(self, *, last: bool = True) -> None:
        if self.items or (last and self.n == 0):
            self.n += 1
            self.fh.write(json.dumps(self.wrap(self.items, self.n, last), separators=(",", ":")) + "\n")
            self.items = []


def _rows(spec: fleet.FleetSpec, snapshot: int, at: datetime) -> Iterator[tuple[dict[str, str], list[dict[str, str]]]]:
    for i in range(spec.devices):
        d = fleet._device(spec, i, snapshot, at)
        if d is not None:
            yield d.row, d.apps


def write_multi_mdm_snapshot(spec: fleet.FleetSpec, out_dir: Path, snapshot: int,
                             at: datetime) -> list[tuple[str, str, list[Path]]]:
    """Write one snapshot as Intune, AMAPI and Jamf responses; returns (source name, reader format, files)."""
    at = at.astimezone(UTC)
    for sub in ("intune", "amapi", "jamf"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
    intune_devices, intune_apps = out_dir / "intune" / "managedDevices.jsonl", out_dir / "intune" / "AppInvRawData.csv"
    amapi_pages, jamf_pages = out_dir / "amapi" / "devices.jsonl", out_dir / "jamf" / "mobile-devices-detail.jsonl"
    context = f"{GRAPH}/v1.0/$metadata#deviceManagement/managedDevices"
    jamf_results: list[Any] = []
    with intune_devices.open("w", encoding="utf-8") as fi, \
            intune_apps.open("w", encoding="utf-8", newline="") as fa, amapi_pages.open("w", encoding="utf-8") as fm:
        appinv = csv.writer(fa)
        appinv.writerow(APPINV_COLUMNS)
        intune = _Pages(fi, lambda items, n, last: {
            "@odata.context": context, "value": items,
            **({} if last else {"@odata.nextLink": f"{GRAPH}/v1.0/deviceManagement/managedDevices?$skiptoken=p{n}"})})
        amapi = _Pages(fm, lambda items, n, last: {"devices": items, **({} if last else {"nextPageToken": f"p{n}"})})
        for row, apps in _rows(spec, snapshot, at):
            if row["platform"] == "android":
                amapi.add(_amapi_device(row, apps))
            elif row["org_unit"].startswith(SECOND_DEPARTMENT + "/"):
                jamf_results.append(_jamf_device(row, apps))
            else:
                intune.add(_intune_device(row))
                appinv.writerows(_appinv_row(row, a) for a in apps)
        intune.flush()
        amapi.flush()
    with jamf_pages.open("w", encoding="utf-8") as fj:
        total = len(jamf_results)
        for start in range(0, max(total, 1), PAGE):
            fj.write(json.dumps({"totalCount": total, "results": jamf_results[start:start + PAGE]},
                                separators=(",", ":")) + "\n")
    return [("intune", "intune-appinv", [intune_devices, intune_apps]), ("android", "amapi", [amapi_pages]),
            ("jamf-gac", "jamf", [jamf_pages])]


class LinePages:
    """A file of one JSON page per line, read a page at a time when asked (never all at once): a local MDM
    stand-in's answers. Safe from the server's threads; `close()` when done."""

    def __init__(self, path: Path) -> None:
        self.offsets = [0]  # where each page (line) begins
        with path.open("rb") as scan:
            for line in scan:
                self.offsets.append(self.offsets[-1] + len(line))
        self._lock = threading.Lock()
        self._fh = path.open("rb")

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def page(self, number: int) -> bytes:
        with self._lock:
            self._fh.seek(self.offsets[number])
            return self._fh.read(self.offsets[number + 1] - self.offsets[number]).rstrip(b"\n")

    def close(self) -> None:
        self._fh.close()


class JsonHandler(BaseHTTPRequestHandler):
    """What a local stand-in's request handler shares: a JSON answer with its length, and no access log."""

    def answer(self, status: int, body: Any) -> None:
        data = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """`handler` served on 127.0.0.1 (a free port) from a thread until the block ends. Yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def serve_jamf(pages: Path, *, client_id: str, secret: str) -> Iterator[str]:
    """A local Jamf Pro answering as the real one does for `interdit sources sync`, from pages written by
    `write_multi_mdm_snapshot`: an API client's token (`POST /api/oauth/token`), then the
    `GET /api/v2/mobile-devices/detail` pages by number. Yields its base URL (on 127.0.0.1, a free port)."""
    book = LinePages(pages)
    empty: dict[str, Any] = {"totalCount": json.loads(book.page(0))["totalCount"] if len(book) else 0, "results": []}

    class Handler(JsonHandler):
        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8"))
            if urlsplit(self.path).path != "/api/oauth/token":
                return self.answer(404, {"error": "not found"})
            if form.get("client_id") != [client_id] or form.get("client_secret") != [secret]:
                return self.answer(401, {"error": "invalid_client"})
            return self.answer(200, {"access_token": "demo-token", "token_type": "Bearer", "expires_in": 1200})

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/api/v2/mobile-devices/detail":
                return self.answer(404, {"error": "not found"})
            if self.headers.get("Authorization") != "Bearer demo-token":
                return self.answer(401, {"error": "unauthorized"})
            number = int(parse_qs(url.query).get("page", ["0"])[0])
            return self.answer(200, book.page(number) if 0 <= number < len(book) else empty)

    try:
        with serving(Handler) as url:
            yield url
    finally:
        book.close()
