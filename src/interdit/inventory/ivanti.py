"""Ivanti EPMM (formerly MobileIron Core): the v2 REST API's devices and app inventory.

Reader `ivanti`: pages of `GET /api/v2/devices?adminDeviceSpaceId=1&fields=...` (`{"results": [...]}` whose
items carry the requested fields by name: `common.uuid`, `common.platform`, `common.owner`, `user.email_address`,
`common.last_connected_at`, ...), and pages of `GET /api/v2/devices/appinventory?deviceUuids=...` (items with
`deviceUuid` and `appInventory`). Give the device pages first. The field names follow the v2 API guide; the
app-inventory item shape is not published in full: verify against your server. A device with no app-inventory
item has not reported its apps (`not_reported`); an item with an empty `appInventory` is a real empty list.

Live connector `ivanti`: HTTP Basic (`user:password`), `adminDeviceSpaceId` (default 1), 25 device UUIDs per
app-inventory call (the API's limit). Full snapshots.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from interdit.errors import InputError
from interdit.inventory._common import (
    FileReader,
    Held,
    Snapshot,
    app_record,
    clean,
    count_of,
    dig,
    looks_like_identifier,
    observed,
)
from interdit.inventory._http import BasicAuth, counted_pages
from interdit.inventory.base import Record, Tally, readers
from interdit.inventory.live import ConnectorConfig, LiveConnector, Setting, connectors
from interdit.model import AppId, Device, Management, Ownership, Platform

FIELDS = ("common.uuid,common.model,common.platform,common.owner,common.os_version,common.device_space_name,"
          "user.email_address,common.last_connected_at,common.status,android.afw_capable,android.device_owner_mode,"
          "ios.Supervised")
APPS_PER_CALL = 25


def _get(item: Mapping[str, Any], key: str) -> Any:
    if key in item:
        return item[key]
    node: Any = item
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


# common.owner (Ivanti EPMM v2 API guide, device fields: "COMPANY" or "EMPLOYEE")
OWNERS = {"COMPANY": Ownership.CORPORATE, "EMPLOYEE": Ownership.PERSONAL}


def device_from_ivanti(source: str, item: Mapping[str, Any], now: datetime, note: Any = None) -> Device:
    device_id = clean(_get(item, "common.uuid"))
    if not device_id:
        raise ValueError("device without common.uuid")
    plat = str(_get(item, "common.platform") or "").lower()
    platform = Platform.ANDROID if plat.startswith("android") else (
        Platform.IOS if plat.startswith(("ios", "iphone", "ipad")) else None)
    if platform is None:
        raise ValueError(f"platform {_get(item, 'common.platform')!r} is not Android or iOS")
    owner = str(_get(item, "common.owner") or "").upper()
    ownership = OWNERS.get(owner, Ownership.UNKNOWN)
    if owner and owner not in OWNERS and note:
        note(f"Ivanti EPMM common.owner {owner[:60]!r} is not a documented value: taken as unknown")
    if ownership is Ownership.PERSONAL:
        management = Management.WORK_PROFILE if platform is Platform.ANDROID else Management.USER_ENROLMENT
    elif platform is Platform.ANDROID and _get(item, "android.device_owner_mode") is False:
        management = Management.WORK_PROFILE
    elif ownership is Ownership.CORPORATE:
        management = Management.FULLY_MANAGED
    else:
        management = Management.UNKNOWN
    supervised = _get(item, "ios.Supervised")
    return Device(source=source, device_id=device_id, platform=platform, ownership=ownership, management=management,
                  observed_at=observed(_get(item, "common.last_connected_at"), now),
                  supervised=supervised if isinstance(supervised, bool) else None,
                  user=clean(_get(item, "user.email_address")), model=clean(_get(item, "common.model")),
                  os_version=clean(_get(item, "common.os_version")),
                  org_unit=clean(_get(item, "common.device_space_name")))


class IvantiPages:
    def __init__(self, source: str, tally: Tally, now: datetime) -> None:
        self.source = source
        self.now = now
        self.snap = Snapshot(source, tally)
        self.held = Held(self.snap)
        self.devices: dict[str, Device] = {}

    def finish(self) -> Iterator[Record]:
        yield from self.held.finish()

    def feed(self, place: str, page: Any) -> Iterator[Record]:
        items = page.get("results") if isinstance(page, dict) else None
        if not isinstance(items, list):
            raise InputError("not an EPMM v2 response (no 'results' list)", where=place, fix="record it as is")
        for n, item in enumerate(items):
            where = f"{place}#results[{n}]"
            if not isinstance(item, dict):
                yield self.snap.reject(where, "an item that is not a JSON object", "record the page as is")
            elif "appInventory" in item:
                yield from self._apps(where, item)
            else:
                try:
                    device = device_from_ivanti(self.source, item, self.now, self.snap.tally.note)
                except ValueError as e:
                    yield self.snap.reject(where, str(e), "check the device in the EPMM console",
                                           device_id=clean(_get(item, "common.uuid")))
                    continue
                self.devices[device.device_id] = device
                yield from self.held.hold(where, device)

    def _apps(self, where: str, item: Mapping[str, Any]) -> Iterator[Record]:
        device = self.devices.get(str(item.get("deviceUuid")))
        inventory = item.get("appInventory")
        if not isinstance(inventory, list):
            yield self.snap.reject(f"{where}.appInventory", "appInventory is not a list", "record the page as is",
                                   device_id=clean(item.get("deviceUuid")), kind="app")
            return
        if device is not None:
            self.held.reported.add(device.device_id)
        for k, app in enumerate(inventory):
            place = f"{where}.appInventory[{k}]"
            if device is None:
                yield self.snap.reject(place, f"an app of device {item.get('deviceUuid')!r}, not in the device pages",
                                       "record the device pages first")
                continue
            ident = (app.get("identifier") or app.get("bundleId") or app.get("packageName")) \
                if isinstance(app, dict) else None
            name = clean(app.get("name")) if isinstance(app, dict) else None
            if not looks_like_identifier(ident):
                if not name:
                    yield self.snap.reject(place, "an app without an identifier or a name", "",
                                           device_id=device.device_id, kind="app")
                    continue
                ident = AppId.named(device.platform, name).identifier  # kept by its name
                self.held.named.add(device.device_id)
            yield self.snap.app(place, app_record(self.source, device.device_id, device.platform, str(ident),
                                                       device.observed_at, name=app.get("name"),
                                                       version=app.get("version")))


@readers.register("ivanti")
class IvantiReader(FileReader):
    def records(self) -> Iterator[Record]:
        pages = IvantiPages(self.source, self.tally, self.now)
        for place, page in self.pages():
            yield from pages.feed(place, page)
        yield from pages.finish()


@connectors.register()
class IvantiConnector(LiveConnector):
    """Ivanti EPMM (Core) API v2; the secret is `user:password`."""

    name = "ivanti"
    settings = (
        Setting("base_url", "the EPMM (Core) server URL, e.g. https://core.example.org", required=True, kind="url"),
        Setting("space", "the device space (adminDeviceSpaceId)", default="1", kind="number"),
    )
    page_size = 200

    def configure(self, config: ConnectorConfig) -> BasicAuth:
        self.base = config.need("base_url").rstrip("/")
        self.space = config.need("space")
        return BasicAuth.from_secret(config.need_secret())

    def check(self) -> str:
        page = self.api.get_json(f"{self.base}/api/v2/devices", params={
            "adminDeviceSpaceId": self.space, "fields": "common.uuid", "limit": 1, "offset": 0})
        return f"credentials accepted; {count_of(dig(page, 'totalCount'))} devices"

    def _devices(self, _page_no: int, offset: int) -> Any:
        return self.api.get_json(f"{self.base}/api/v2/devices", params={
            "adminDeviceSpaceId": self.space, "fields": FIELDS, "query": 'common.status="ACTIVE"',
            "limit": self.page_size, "offset": offset})

    def records(self) -> Iterator[Record]:
        pages = IvantiPages(self.source, self.tally, self.now)
        for _, offset, page in counted_pages(self._devices, items=("results",), total=("totalCount",)):
            yield from pages.feed(f"{self.source}:devices@{offset}", page)
        ids = list(pages.devices)
        for i in range(0, len(ids), APPS_PER_CALL):
            batch = ids[i:i + APPS_PER_CALL]
            page = self.api.get_json(f"{self.base}/api/v2/devices/appinventory",
                                     params={"adminDeviceSpaceId": self.space, "deviceUuids": ",".join(batch)})
            yield from pages.feed(f"{self.source}:appinventory@{i}", page)
        yield from pages.finish()
