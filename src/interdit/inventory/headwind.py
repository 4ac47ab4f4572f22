"""Headwind MDM (open source, Android): the server's device search.

Reader `headwind`: responses of `POST /rest/private/devices/search` (`{"status": "OK", "data": {"devices":
{"items": [...]}}}`), or bare device objects (`{"device": {...}}`). Each device's `info` (a JSON string or
object) lists its `applications` (`pkg`, `name`, `version`).

Live connector `headwind`: `POST /rest/public/jwt/login` with the login and the password's MD5 (as the web
console sends it), then the search, 100 devices per page. Full snapshots.

Headwind records no ownership: devices are `unknown` ownership unless the source sets `ownership=corporate`
when it is configured (Headwind fleets are usually dedicated corporate devices). A device in device-owner mode
(`mdmMode: true`) shows every app; otherwise the management is unknown. A device whose `info` has no
`applications` list (the launcher has not reported yet) is `not_reported`; an empty list is a real empty list.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from interdit.errors import ConfigError, InputError
from interdit.inventory._common import (
    FileReader,
    Snapshot,
    app_record,
    clean,
    count_of,
    device_items,
    dig,
    looks_like_identifier,
    observed,
)
from interdit.inventory._http import counted_pages
from interdit.inventory.base import Record, readers
from interdit.inventory.live import ConnectorConfig, LiveConnector, Setting, connectors
from interdit.model import CoverageReason, Device, Management, Ownership, Platform


def _info(item: Mapping[str, Any]) -> dict[str, Any]:
    info = item.get("info")
    if isinstance(info, str):
        try:
            info = json.loads(info)
        except ValueError:
            return {}
    return info if isinstance(info, dict) else {}


def device_from_headwind(source: str, item: Mapping[str, Any], now: datetime,
                         ownership: Ownership = Ownership.UNKNOWN) -> tuple[Device, list[Any]]:
    device_id = clean(item.get("number"))
    if not device_id:
        raise ValueError("device without a number")
    info = _info(item)
    management = Management.FULLY_MANAGED if info.get("mdmMode") is True else Management.UNKNOWN
    apps = info.get("applications")
    device = Device(source=source, device_id=device_id, platform=Platform.ANDROID, ownership=ownership,
                    management=management, observed_at=observed(item.get("lastUpdate"), now),
                    name=clean(item.get("description")), model=clean(info.get("model")),
                    os_version=clean(info.get("androidVersion")),
                    coverage_gap=None if isinstance(apps, list) else CoverageReason.NOT_REPORTED)
    return device, apps if isinstance(apps, list) else []


def headwind_records(source: str, snap: Snapshot, now: datetime, place: str, page: Any,
                     ownership: Ownership = Ownership.UNKNOWN) -> Iterator[Record]:
    items: Any = None
    if isinstance(page, dict):
        data = page.get("data")
        if isinstance(data, dict) and isinstance(data.get("devices"), dict):
            items = data["devices"].get("items")
        elif isinstance(page.get("device"), dict):
            items = [page["device"]]
    if not isinstance(items, list):
        raise InputError("not a Headwind MDM devices/search response", where=place, fix="record the response as is")

    def build(item: Mapping[str, Any]) -> tuple[Device, list[Any]]:
        return device_from_headwind(source, item, now, ownership)

    def apps(where: str, device: Device, listed: list[Any]) -> Iterator[Record]:
        for k, app in enumerate(listed):
            app_place = f"{where}.info.applications[{k}]"
            if not isinstance(app, dict) or not looks_like_identifier(app.get("pkg")):
                yield snap.reject(app_place, "an application without a package name", "",
                                  device_id=device.device_id, kind="app")
                continue
            yield snap.app(app_place, app_record(source, device.device_id, Platform.ANDROID, str(app["pkg"]),
                                                 device.observed_at, name=app.get("name"), version=app.get("version")))

    yield from device_items(snap, f"{place}#items", items, build, apps, fix="check the device in the Headwind console")


@readers.register("headwind")
class HeadwindReader(FileReader):
    def records(self) -> Iterator[Record]:
        snap = Snapshot(self.source, self.tally)
        for place, page in self.pages():
            yield from headwind_records(self.source, snap, self.now, place, page)


@connectors.register()
class HeadwindConnector(LiveConnector):
    """Headwind MDM's REST API; the secret is the administrator's password."""

    name = "headwind"
    settings = (
        Setting("base_url", "the Headwind MDM server URL, e.g. https://mdm.example.org", required=True, kind="url"),
        Setting("login", "the administrator login", required=True),
        Setting("ownership", "who owns the devices (Headwind does not say)", default="unknown",
                allowed=("unknown", "corporate", "personal")),
    )
    page_size = 100

    def configure(self, config: ConnectorConfig) -> None:
        self.base = config.need("base_url").rstrip("/")
        self.login = config.need("login")
        self._password = config.need_secret()
        self.ownership = Ownership(config.need("ownership"))
        self._token: str | None = None  # no token provider: `_headers` signs in (not a standard grant)

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            digest = hashlib.md5(self._password.encode()).hexdigest().upper()  # the console's convention
            body = self.api.post_json(f"{self.base}/rest/public/jwt/login",
                                      {"login": self.login, "password": digest})
            token = body.get("id_token") if isinstance(body, dict) else None
            if not token:
                raise ConfigError("Headwind MDM refused the login", where=f"{self.source}: {self.base}",
                                  fix="check the login and the password")
            self._token = str(token)
        return {"Authorization": f"Bearer {self._token}"}

    def _search(self, page_no: int, size: int) -> Any:
        return self.api.request("POST", f"{self.base}/rest/private/devices/search", headers=self._headers(),
                                json_body={"pageSize": size, "pageNum": page_no}, parse=json.loads)[1]

    def check(self) -> str:
        page = self._search(1, 1)
        return f"login accepted; {count_of(dig(page, 'data', 'devices', 'totalItemsCount'))} devices"

    def records(self) -> Iterator[Record]:
        snap = Snapshot(self.source, self.tally)
        pages = counted_pages(lambda page_no, _: self._search(page_no, self.page_size), first=1,
                              items=("data", "devices", "items"), total=("data", "devices", "totalItemsCount"))
        for page_no, _, page in pages:
            yield from headwind_records(self.source, snap, self.now, f"{self.source}:page{page_no}", page,
                                        self.ownership)
