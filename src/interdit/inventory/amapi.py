"""Android Management API: `enterprises.devices.list` with `applicationReports`.

Reader `amapi`: pages of `GET https://androidmanagement.googleapis.com/v1/enterprises/{e}/devices`
(`{"devices": [...], "nextPageToken": ...}`), or single device resources.

Live connector `amapi`: a service account's JSON key signs an RS256 JWT exchanged for a token (scope
`https://www.googleapis.com/auth/androidmanagement`), then `pageSize` / `nextPageToken` paging. Full snapshots.

Application reports exist only when the device's policy sets `statusReportingSettings.applicationReportsEnabled`,
and only once the device has a policy applied: a device without `applicationReports` has not reported its apps
(`not_reported`; `app_reports_disabled` when its policy is known to switch them off), never "nothing installed".
An empty list is a real empty list. Policies are known when the input holds `enterprises.policies` resources or
`policies.list` pages before the devices (the live connector reads them first). A work profile (`managementMode:
PROFILE_OWNER`) reports the work profile's apps only: its personal side is not evaluable.
The enrolment token's `additionalData` (the device's `enrollmentTokenData`) may carry the
device's organisational unit and user as JSON: `{"org_unit": "/Finance", "user": "a@example.org"}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from types import ModuleType
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
from interdit.inventory._http import GoogleServiceAccount, token_pages
from interdit.inventory.base import Record, Tally, readers
from interdit.inventory.live import ConnectorConfig, LiveConnector, Push, Setting, connectors
from interdit.model import CoverageReason, Device, Management, Ownership, Platform

# The Device resource: https://developers.google.com/android/management/reference/rest/v1/enterprises.devices
# ownership
OWNERSHIP = {"COMPANY_OWNED": Ownership.CORPORATE, "PERSONALLY_OWNED": Ownership.PERSONAL,
             "OWNERSHIP_UNSPECIFIED": Ownership.UNKNOWN}
# managementMode: the device policy controller owns the device, or only its work profile
MANAGEMENT = {"DEVICE_OWNER": Management.FULLY_MANAGED, "PROFILE_OWNER": Management.WORK_PROFILE,
              "MANAGEMENT_MODE_UNSPECIFIED": Management.UNKNOWN}
# state / appliedState: "reports" (its reports say what is installed), "not_reported" (no policy applied yet:
# no application report), "deleted" (not part of the fleet), "unspecified" ("this value is disallowed")
STATES = {"ACTIVE": "reports", "DISABLED": "reports", "LOST": "reports", "DEACTIVATED_BY_DEVICE_FINANCE": "reports",
          "PREPARING_FOR_MIGRATION": "not_reported", "PROVISIONING": "not_reported", "DELETED": "deleted",
          "DEVICE_STATE_UNSPECIFIED": "unspecified"}
# ApplicationReport.state: INSTALLED, REMOVED (listed because includeRemovedApps is on), unspecified
APP_STATES = {"INSTALLED": True, "REMOVED": False, "APPLICATION_STATE_UNSPECIFIED": True}
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


def _enum(table: dict[str, Any], field: str, value: Any, default: Any, note: Any) -> Any:
    if value is None or value == "":
        return default
    found = table.get(str(value))
    if found is None:
        if note:
            note(f"Android Management API {field} {str(value)[:60]!r} is not a documented value: taken as unknown")
        return default
    return found


def device_from_amapi(source: str, item: Mapping[str, Any], now: datetime, note: Any = None,
                      reports_enabled: bool | None = None) -> Device:
    """A Device from a Device resource. `reports_enabled`: its policy's `applicationReportsEnabled`, when known."""
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
    state = _enum(STATES, "state", item.get("appliedState") or item.get("state"), "reports", note)
    reports = item.get("applicationReports")
    if reports_enabled is False:
        gap: CoverageReason | None = CoverageReason.APP_REPORTS_DISABLED
    elif state in ("not_reported", "unspecified") or not isinstance(reports, list):
        gap = CoverageReason.NOT_REPORTED  # an absent list is "not reported", never "nothing installed"
    else:
        gap = None
    return Device(
        source=source, device_id=device_id, platform=Platform.ANDROID,
        ownership=_enum(OWNERSHIP, "ownership", item.get("ownership"), Ownership.UNKNOWN, note),
        management=_enum(MANAGEMENT, "managementMode", item.get("managementMode"), Management.UNKNOWN, note),
        observed_at=observed(seen, now), user=clean(extra.get("user") or item.get("userName")),
        name=clean(hardware.get("serialNumber")), model=clean(hardware.get("model")),
        os_version=clean(software.get("androidVersion")), org_unit=clean(extra.get("org_unit")),
        addresses=(mac,) if mac else (), coverage_gap=gap,
        # the token's data as written, when it is not the JSON above (e.g. "dept=finance")
        org_labels=(*label("enrollment_data", None if extra else item.get("enrollmentTokenData")),
                    *label("policy", str(item.get("appliedPolicyName") or item.get("policyName") or "")
                           .rsplit("/", 1)[-1])),
    )


class AmapiPages:
    """Device pages (and the policies that tell whether application reports are on) to records."""

    def __init__(self, source: str, tally: Tally, now: datetime) -> None:
        self.source, self.now, self.tally = source, now, tally
        self.snap = Snapshot(source, tally)
        self.reports: dict[str, bool] = {}  # policy name -> statusReportingSettings.applicationReportsEnabled

    def policy(self, item: Any) -> bool:
        """Learn a policy resource's application-report setting; False when `item` is not a policy."""
        if not isinstance(item, dict) or "/policies/" not in str(item.get("name", "")):
            return False
        settings = obj(item, "statusReportingSettings")
        self.reports[str(item["name"])] = settings.get("applicationReportsEnabled") is True
        return True

    def _enabled(self, item: Mapping[str, Any]) -> bool | None:
        for key in ("appliedPolicyName", "policyName"):
            name = item.get(key)
            if isinstance(name, str) and name in self.reports:
                return self.reports[name]
        return None

    def feed(self, place: str, page: Any) -> Iterator[Record]:
        if isinstance(page, dict) and isinstance(page.get("policies"), list):
            for item in page["policies"]:
                self.policy(item)
            return
        if self.policy(page):
            return
        if isinstance(page, dict) and "managementMode" in page and "name" in page:
            items: Any = [page]
        elif isinstance(page, dict) and isinstance(page.get("devices", []), list):
            items = page.get("devices", [])
        else:
            raise InputError("not an enterprises.devices.list response", where=place,
                             fix="record the API response as is")
        snap, source, now, note = self.snap, self.source, self.now, self.tally.note

        def build(item: Mapping[str, Any]) -> tuple[Device, Any]:
            if item.get("state") == "DELETED":
                raise Refusal("the device is deleted from the enterprise (state DELETED)",
                              "nothing to fix: deleted devices are not part of the fleet")
            return device_from_amapi(source, item, now, note, self._enabled(item)), item.get("applicationReports")

        def apps(where: str, device: Device, reports: Any) -> Iterator[Record]:
            for k, app in enumerate(reports if isinstance(reports, list) else []):
                app_place = f"{where}.applicationReports[{k}]"
                if not isinstance(app, dict) or not looks_like_identifier(app.get("packageName")):
                    yield snap.reject(app_place, "an application report without a package name", "",
                                      device_id=device.device_id, kind="app")
                    continue
                if not _enum(APP_STATES, "applicationReports state", app.get("state"), True, note):
                    continue  # reported because includeRemovedApps is on: the app is not on the device
                yield snap.app(app_place, app_record(source, device.device_id, Platform.ANDROID,
                                                     str(app["packageName"]), device.observed_at,
                                                     name=app.get("displayName"), version=app.get("versionName")))

        yield from device_items(snap, f"{place}#devices", items, build, apps,
                                fix="check the device in the EMM console")


def amapi_records(source: str, snap: Snapshot, now: datetime, place: str, page: Any) -> Iterator[Record]:
    """One page's records (kept for callers that hold their own Snapshot)."""
    pages = AmapiPages(source, snap.tally, now)
    pages.snap = snap
    yield from pages.feed(place, page)


@readers.register("amapi")
class AmapiReader(FileReader):
    def records(self) -> Iterator[Record]:
        pages = AmapiPages(self.source, self.tally, self.now)
        for place, page in self.pages():
            yield from pages.feed(place, page)


@connectors.register()
class AmapiConnector(LiveConnector):
    """The Android Management API; the secret is the service account's JSON key. Pushes `amapi` payloads: only the
    missing BLOCKED entries, through `:modifyPolicyApplications`."""

    name = "amapi"
    settings = (
        Setting("enterprise", "the enterprise resource name, enterprises/LC...", required=True),
        Setting("api_url", "the API root (a test server)", default=API, kind="url"),
        Setting("token_url", "the token endpoint [default: the key's token_uri]", kind="url"),
    )
    pushes = "amapi"
    push_needs = "the policy to change / la politique à modifier"

    def configure(self, config: ConnectorConfig) -> GoogleServiceAccount:
        enterprise = config.need("enterprise")
        self.enterprise = enterprise if enterprise.startswith("enterprises/") else f"enterprises/{enterprise}"
        self.base = config.need("api_url").rstrip("/")
        return GoogleServiceAccount(config.need_secret(), SCOPE, token_url=config.get("token_url"))

    def check(self) -> str:
        page = self.api.get_json(f"{self.base}/{self.enterprise}/devices", params={"pageSize": 1})
        return f"token accepted; devices.list answered ({count_of(dig(page, 'devices'))} on the first page)"

    def records(self) -> Iterator[Record]:
        pages = AmapiPages(self.source, self.tally, self.now)
        try:  # which policies switch application reports off (devices without reports say why then)
            for page in token_pages(self.api, f"{self.base}/{self.enterprise}/policies", {"pageSize": 100}):
                for item in page.get("policies", []) if isinstance(page, dict) else []:
                    pages.policy(item)
        except InputError as e:
            self.tally.note(f"the policies could not be read ({str(e)[:120]}): devices without application "
                            "reports are counted as not reported")
        devices = token_pages(self.api, f"{self.base}/{self.enterprise}/devices", {"pageSize": 100})
        for n, page in enumerate(devices, 1):
            yield from pages.feed(f"{self.source}:page{n}", page)

    def push(self, payload: Any, mdm_object: str | None, planner: ModuleType) -> Push:
        """Only the missing `BLOCKED` entries, through `:modifyPolicyApplications`; the policy's other apps stay."""
        assert mdm_object
        policy = mdm_object if mdm_object.startswith("enterprises/") else f"{self.enterprise}/policies/{mdm_object}"
        current = self.api.get_json(f"{self.base}/{policy}")
        lines, changes = planner.plan(current if isinstance(current, dict) else {}, payload)

        def send() -> list[Any]:
            if changes:
                self.api.post_json(f"{self.base}/{policy}:modifyPolicyApplications", {"changes": changes})
            return [c["application"]["packageName"] for c in changes]

        return Push(policy, lines, send)
