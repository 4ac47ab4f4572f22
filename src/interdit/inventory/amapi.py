"""Android Management API: `enterprises.devices.list` with `applicationReports`.

Reader `amapi`: pages of `GET https://androidmanagement.googleapis.com/v1/enterprises/{e}/devices`
(`{"devices": [...], "nextPageToken": ...}`), or single device resources.

Live connector `amapi`: a service account's JSON key signs an RS256 JWT exchanged for a token (scope
`https://www.googleapis.com/auth/androidmanagement`), then `pageSize` / `nextPageToken` paging. Full snapshots.

Application reports exist only when the device's policy sets `statusReportingSettings.applicationReportsEnabled`.
A work profile (`managementMode: PROFILE_OWNER`) reports the work profile's apps only: its personal side is
not evaluable. The enrolment token's `additionalData` (the device's `enrollmentTokenData`) may carry the
device's organisational unit and user as JSON: `{"org_unit": "/Finance", "user": "a@example.org"}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from interdit.errors import InputError
from interdit.inventory._common import (
    FileReader,
    Refusal,
    Snapshot,
    app_record,
    clean,
    count_of,
    device_items,
    dig,
    label,
    looks_like_identifier,
    obj,
    observed,
)
from interdit.inventory._http import ConnectorConfig, GoogleServiceAccount, LiveConnector, connectors, token_pages
from interdit.inventory.base import Record, readers
from interdit.model import Device, Management, Ownership, Platform

OWNERSHIP = {"COMPANY_OWNED": Ownership.CORPORATE, "PERSONALLY_OWNED": Ownership.PERSONAL}
MANAGEMENT = {"DEVICE_OWNER": Management.FULLY_MANAGED, "PROFILE_OWNER": Management.WORK_PROFILE}
API = "https://androidmanagement.googleapis.com/v1"
SCOPE = "https://www.googleapis.com/auth/androidmanagement"


def _token_data(value: Any) -> dict[str, str]:
    if not isinstance(value, str) or not value.strip():
        return {}
    text = value.strip()
    if text.startswith("/"):
        return {"org_unit": text}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    out = {}
    for key, names in (("org_unit", ("org_unit", "orgUnit", "department")), ("user", ("user", "email"))):
        for n in names:
            if isinstance(data.get(n), str):
                out[key] = data[n]
                break
    return out


def device_from_amapi(source: str, item: Mapping[str, Any], now: datetime) -> Device:
    name = str(item.get("name") or "")
    device_id = name.rsplit("/", 1)[-1] if name else ""
    if not device_id:
        raise ValueError("device without a resource name")
    seen = item.get("lastStatusReportTime") or item.get("lastPolicySyncTime") or item.get("enrollmentTime")
    hardware = obj(item, "hardwareInfo")
    software = obj(item, "softwareInfo")
    network = obj(item, "networkInfo")
    extra = _token_data(item.get("enrollmentTokenData"))
    mac = clean(network.get("wifiMacAddress"))
    return Device(
        source=source, device_id=device_id, platform=Platform.ANDROID,
        ownership=OWNERSHIP.get(str(item.get("ownership")), Ownership.UNKNOWN),
        management=MANAGEMENT.get(str(item.get("managementMode")), Management.UNKNOWN),
        observed_at=observed(seen, now), user=clean(extra.get("user") or item.get("userName")),
        name=clean(hardware.get("serialNumber")), model=clean(hardware.get("model")),
        os_version=clean(software.get("androidVersion")), org_unit=clean(extra.get("org_unit")),
        addresses=(mac,) if mac else (),
        # the token's data as written, when it is not the JSON above (e.g. "dept=finance")
        org_labels=(*label("enrollment_data", None if extra else item.get("enrollmentTokenData")),
                    *label("policy", str(item.get("appliedPolicyName") or item.get("policyName") or "")
                           .rsplit("/", 1)[-1])),
    )


def amapi_records(source: str, snap: Snapshot, now: datetime, place: str, page: Any) -> Iterator[Record]:
    if isinstance(page, dict) and "managementMode" in page and "name" in page:
        items: Any = [page]
    elif isinstance(page, dict) and isinstance(page.get("devices", []), list):
        items = page.get("devices", [])
    else:
        raise InputError("not an enterprises.devices.list response", where=place,
                         fix="record the API response as is")

    def build(item: Mapping[str, Any]) -> tuple[Device, Any]:
        if item.get("state") == "DELETED":
            raise Refusal("the device is deleted from the enterprise (state DELETED)",
                          "nothing to fix: deleted devices are not part of the fleet")
        return device_from_amapi(source, item, now), item.get("applicationReports") or []

    def apps(where: str, device: Device, reports: Any) -> Iterator[Record]:
        for k, app in enumerate(reports if isinstance(reports, list) else []):
            app_place = f"{where}.applicationReports[{k}]"
            if not isinstance(app, dict) or not looks_like_identifier(app.get("packageName")):
                yield snap.reject(app_place, "an application report without a package name", "")
                continue
            if app.get("state") == "REMOVED":
                continue  # reported because includeRemovedApps is on: the app is not on the device
            yield snap.app(app_place, app_record(source, device.device_id, Platform.ANDROID,
                                                 str(app["packageName"]), device.observed_at,
                                                 name=app.get("displayName"), version=app.get("versionName")))

    yield from device_items(snap, f"{place}#devices", items, build, apps, fix="check the device in the EMM console")


@readers.register("amapi")
class AmapiReader(FileReader):
    def records(self) -> Iterator[Record]:
        snap = Snapshot(self.name, self.tally)
        for place, page in self.pages():
            yield from amapi_records(self.name, snap, self.now, place, page)


@connectors.register("amapi")
class AmapiConnector(LiveConnector):
    """Settings: `enterprise` (enterprises/LC00example); the secret is the service account's JSON key."""

    def configure(self, config: ConnectorConfig) -> GoogleServiceAccount:
        enterprise = config.need("enterprise", "the enterprise resource name, enterprises/LC...")
        self.enterprise = enterprise if enterprise.startswith("enterprises/") else f"enterprises/{enterprise}"
        self.base = config.settings.get("api_url", API).rstrip("/")
        return GoogleServiceAccount(config.need_secret(), SCOPE, token_url=config.settings.get("token_url"))

    def check(self) -> str:
        page = self.api.get_json(f"{self.base}/{self.enterprise}/devices", params={"pageSize": 1})
        return f"token accepted; devices.list answered ({count_of(dig(page, 'devices'))} on the first page)"

    def records(self) -> Iterator[Record]:
        snap = Snapshot(self.name, self.tally)
        pages = token_pages(self.api, f"{self.base}/{self.enterprise}/devices", {"pageSize": 100})
        for n, page in enumerate(pages, 1):
            yield from amapi_records(self.name, snap, self.now, f"{self.name}:page{n}", page)
