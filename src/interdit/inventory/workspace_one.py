"""Omnissa Workspace ONE UEM: `GET /API/mdm/devices/search` pages and `GET /API/mdm/devices/{id}/apps` pages.

Reader `workspace-one`: devices search pages (`{"Devices": [...]}`), and apps pages (`{"DeviceApps": [...]}`)
each tied to its device by a `DeviceId` key added when recording, or by a file name `apps-<id>.json`. A device
item may also carry its `DeviceApps` inline. Give the devices pages first.

Live connector `workspace-one`: `base_url`, `tenant_code` (the `aw-tenant-code` header) and HTTP Basic
credentials (`user:password` as the secret); pages of 500. Full snapshots.

Ownership codes: C (corporate dedicated) and S (corporate shared) are corporate, E (employee owned) personal,
Undefined unknown. Workspace ONE's privacy settings normally hide personal apps on employee-owned devices: they are
treated as not showing every app (user enrolment on Apple, work profile on Android). A device with no apps page
(and no inline `DeviceApps`) has not reported its apps (`not_reported`); an empty apps page is a real empty list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from interdit.errors import InputError
from interdit.inventory._common import (
    FileReader,
    Held,
    Snapshot,
    all_files,
    app_record,
    bool_or_none,
    clean,
    count_of,
    device_items,
    dig,
    label,
    looks_like_identifier,
    observed,
    read_pages,
)
from interdit.inventory._http import BasicAuth, counted_pages
from interdit.inventory.base import Record, Tally, readers
from interdit.inventory.live import ConnectorConfig, LiveConnector, Setting, connectors
from interdit.model import AppId, Device, Management, Ownership, Platform

# Device ownership types (docs.omnissa.com, Workspace ONE UEM "Device Ownership Types"; the REST API's devices
# search gives the one-letter codes, or the words in some versions): Corporate - Dedicated, Corporate - Shared,
# Employee Owned, Undefined.
OWNER = {"C": Ownership.CORPORATE, "S": Ownership.CORPORATE, "E": Ownership.PERSONAL, "UNDEFINED": Ownership.UNKNOWN,
         "CORPORATE - DEDICATED": Ownership.CORPORATE, "CORPORATEDEDICATED": Ownership.CORPORATE,
         "CORPORATE - SHARED": Ownership.CORPORATE, "CORPORATESHARED": Ownership.CORPORATE,
         "EMPLOYEE OWNED": Ownership.PERSONAL, "EMPLOYEEOWNED": Ownership.PERSONAL}
# EnrollmentStatus: only an enrolled device reports its apps; the others are known to the console only
ENROLMENT = {"enrolled": True, "unenrolled": False, "enterprisewipepending": True, "devicewipepending": True,
             "retired": False, "discovered": False, "registered": False, "enrollmentinprogress": False,
             "pendingenrollment": False, "appcatalogenrolled": False}


def _id(item: Mapping[str, Any]) -> str | None:
    value = item.get("Id")
    if isinstance(value, dict):
        value = value.get("Value")
    return clean(value if value is not None else item.get("DeviceId"))


def device_from_ws1(source: str, item: Mapping[str, Any], now: datetime, note: Any = None) -> Device:
    device_id = _id(item)
    if not device_id:
        raise ValueError("device without Id")
    plat = str(item.get("Platform") or "").lower()
    model = str(item.get("Model") or "")
    if plat.startswith("apple") and "mac" not in model.lower():
        platform = Platform.IOS
    elif plat.startswith("apple"):
        platform = Platform.MACOS
    elif plat.startswith("android"):
        platform = Platform.ANDROID
    elif plat.startswith("win"):
        platform = Platform.WINDOWS
    else:
        raise ValueError(f"platform {item.get('Platform')!r} is not known")
    raw_owner = str(item.get("Ownership") or "").strip()
    ownership = OWNER.get(raw_owner.upper()) if raw_owner else Ownership.UNKNOWN
    if ownership is None:
        if note:
            note(f"Workspace ONE Ownership {raw_owner[:60]!r} is not a documented value: taken as unknown")
        ownership = Ownership.UNKNOWN
    status = str(item.get("EnrollmentStatus") or "Enrolled").replace(" ", "").lower()
    enrolled = ENROLMENT.get(status)
    if enrolled is None and note:
        note(f"Workspace ONE EnrollmentStatus {str(item.get('EnrollmentStatus'))[:60]!r} is not a documented "
             "value: the device's management is taken as unknown")
    if enrolled is None:
        management = Management.UNKNOWN
    elif not enrolled:
        management = Management.UNMANAGED
    elif ownership is Ownership.PERSONAL:
        management = Management.WORK_PROFILE if platform is Platform.ANDROID else Management.USER_ENROLMENT
    elif ownership is Ownership.CORPORATE:
        management = Management.FULLY_MANAGED
    else:
        management = Management.UNKNOWN
    return Device(source=source, device_id=device_id, platform=platform, ownership=ownership, management=management,
                  observed_at=observed(item.get("LastSeen"), now),
                  supervised=bool_or_none(item.get("IsSupervised")) if platform is Platform.IOS else None,
                  user=clean(item.get("UserEmailAddress") or item.get("UserName")),
                  name=clean(item.get("DeviceFriendlyName")), model=clean(model),
                  os_version=clean(item.get("OperatingSystem")), org_unit=clean(item.get("LocationGroupName")),
                  org_labels=label("organization_group", item.get("LocationGroupName")))


class Ws1Pages:
    def __init__(self, source: str, tally: Tally, now: datetime) -> None:
        self.source = source
        self.now = now
        self.snap = Snapshot(source, tally)
        self.held = Held(self.snap)
        self.devices: dict[str, Device] = {}

    def feed(self, place: str, page: Any, device_hint: str | None = None) -> Iterator[Record]:
        if not isinstance(page, dict):
            raise InputError("not a Workspace ONE response object", where=place, fix="record the response as is")
        if "DeviceApps" in page and "Devices" not in page:
            device_id = clean(page.get("DeviceId")) or device_hint
            if not device_id:
                raise InputError("an apps page without its device (no DeviceId, file not named apps-<id>.json)",
                                 where=place, fix="add \"DeviceId\" to the recorded page, or name it apps-<id>.json")
            yield from self._apps(place, device_id, page.get("DeviceApps"))
            return
        devices = page.get("Devices", [])
        if not isinstance(devices, list):
            raise InputError("'Devices' is not a list", where=place, fix="record the response as is")
        yield from device_items(self.snap, f"{place}#Devices", devices, self._device,
                                lambda where, device, apps: self._apps(where, device.device_id, apps),
                                fix="check the device in the Workspace ONE console", held=self.held)

    def _device(self, item: Mapping[str, Any]) -> tuple[Device, Any]:
        device = device_from_ws1(self.source, item, self.now, self.snap.tally.note)
        self.devices[device.device_id] = device
        return device, item.get("DeviceApps")  # apps given inline, if any

    def _apps(self, place: str, device_id: str, apps: Any) -> Iterator[Record]:
        device = self.devices.get(device_id)
        if device is not None and isinstance(apps, list):
            self.held.reported.add(device_id)
        for k, app in enumerate(apps if isinstance(apps, list) else []):
            app_place = f"{place}#DeviceApps[{k}]"
            if device is None:
                yield self.snap.reject(app_place, f"an app of device {device_id!r}, which is not in the devices pages",
                                       "record the devices search pages first", device_id=device_id, kind="app")
                continue
            ident = app.get("ApplicationIdentifier") if isinstance(app, dict) else None
            name = clean(app.get("ApplicationName")) if isinstance(app, dict) else None
            if not looks_like_identifier(ident) and not name:
                yield self.snap.reject(app_place, "an app without ApplicationIdentifier or ApplicationName", "",
                                       device_id=device_id, kind="app")
                continue
            if str(app.get("Status", "Installed")).lower() not in ("installed", "managed", ""):
                continue  # pending installs and removals are not on the device
            if not looks_like_identifier(ident):  # a name without an identifier: kept by its name
                ident = AppId.named(device.platform, name or "").identifier
                self.held.named.add(device_id)
            yield self.snap.app(app_place, app_record(
                self.source, device_id, device.platform, str(ident), device.observed_at,
                name=app.get("ApplicationName"), version=app.get("Version"),
                managed=bool_or_none(app.get("IsManaged"))))

    def finish(self) -> Iterator[Record]:
        yield from self.held.finish()


@readers.register("workspace-one")
class WorkspaceOneReader(FileReader):
    def records(self) -> Iterator[Record]:
        pages = Ws1Pages(self.source, self.tally, self.now)
        for path in all_files(self.inputs):
            m = re.match(r"apps-(.+)\.jsonl?$", path.name)
            for place, page in read_pages(path):
                yield from pages.feed(place, page, m.group(1) if m else None)
        yield from pages.finish()


@connectors.register()
class WorkspaceOneConnector(LiveConnector):
    """Workspace ONE UEM REST API; the secret is `user:password`."""

    name = "workspace-one"
    settings = (
        Setting("base_url", "the API server, e.g. https://as1506.awmdm.com", required=True, kind="url"),
        Setting("tenant_code", "the REST API key of the organisation group (aw-tenant-code)", required=True,
                secret=True),
    )
    page_size = 500

    def configure(self, config: ConnectorConfig) -> BasicAuth:
        self.base = config.need("base_url").rstrip("/")
        self.headers = {"aw-tenant-code": config.need("tenant_code"), "Accept": "application/json;version=1"}
        return BasicAuth.from_secret(config.need_secret())

    def _paged(self, url: str, key: str) -> Iterator[Any]:
        def fetch(page_no: int, _offset: int) -> Any:
            return self.api.get_json(url, params={"pagesize": self.page_size, "page": page_no}, headers=self.headers)

        for _, _, page in counted_pages(fetch, items=(key,), total=("Total",), total_required=True):
            yield page

    def check(self) -> str:
        page = self.api.get_json(f"{self.base}/API/mdm/devices/search", params={"pagesize": 1, "page": 0},
                                 headers=self.headers)
        return f"credentials accepted; {count_of(dig(page, 'Total'))} devices"

    def records(self) -> Iterator[Record]:
        pages = Ws1Pages(self.source, self.tally, self.now)
        for n, page in enumerate(self._paged(f"{self.base}/API/mdm/devices/search", "Devices")):
            yield from pages.feed(f"{self.source}:devices#page{n}", page)
        for device_id in list(pages.devices):
            for n, page in enumerate(self._paged(f"{self.base}/API/mdm/devices/{device_id}/apps", "DeviceApps")):
                yield from pages.feed(f"{self.source}:apps-{device_id}#page{n}", page, device_id)
        yield from pages.finish()
