"""Microsoft Intune, through Microsoft Graph: `managedDevices`, `detectedApps`, and the `AppInvRawData` export.

Readers (recorded responses and exports):
- `intune-graph`: Graph JSON pages, one response per `.json` file or one per line of a `.jsonl` file. A page
  is recognised by its `@odata.context`: `.../managedDevices` (devices), `.../managedDevices('ID')/detectedApps`
  (one device's apps), `.../detectedApps` (the tenant's discovered apps) and `.../detectedApps('ID')/managedDevices`
  (the devices holding one app). Devices pages come first; app pages may follow in any order.
- `intune-appinv`: the `AppInvRawData` report export (the CSV, or the zip Intune hands out), optionally preceded
  by `managedDevices` pages that give ownership, enrolment and last contact (without them, ownership and
  management are unknown and the last contact is taken as the export time less 7 days).

Live connector `intune`: OAuth 2.0 client credentials against the Microsoft identity platform, `@odata.nextLink`
paging, then the apps in one of three ways: the `AppInvRawData` export job (`apps=export`, the default: create,
poll with a bounded wait, download the zip, read the CSV), per device (`apps=per-device`, one beta
`managedDevices/{id}/detectedApps` call per device), or per app (`apps=detected`: the v1.0 `detectedApps` list,
then one `detectedApps/{id}/managedDevices` call per discovered app).

Intune refreshes its discovered-apps inventory every 7 days per device: an app's `observed_at` is the device's
last sync less 7 days (the oldest the inventory can be), so reports never claim fresher knowledge than Intune has.
Graph has no delta query for managed devices: every sync is a full snapshot.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from interdit.errors import ConfigError, InputError
from interdit.inventory._common import (
    FileReader,
    Resolver,
    Snapshot,
    all_files,
    bool_or_none,
    clean,
    count_of,
    dig,
    observed,
    read_pages,
)
from interdit.inventory._entra import PERMISSIONS as GROUP_PERMISSIONS
from interdit.inventory._entra import EntraGroups, targets
from interdit.inventory._http import ClientCredentials, ConnectorConfig, LiveConnector, connectors, safe_url
from interdit.inventory.base import Record, Tally, readers
from interdit.model import AppId, Device, InstalledApp, Management, Ownership, Platform

INVENTORY_LAG = timedelta(days=7)
MAX_WAITING = 1_000_000  # app rows held until their device's page arrives
MAX_CSV_BYTES = 16 * 1024**3  # uncompressed AppInvRawData export
MAX_ZIP_RATIO = 200
APPINV_COLUMNS = ("ApplicationKey", "ApplicationName", "ApplicationPublisher", "ApplicationShortVersion",
                  "ApplicationVersion", "DeviceId", "DeviceName", "OSDescription", "OSVersion", "Platform",
                  "UserId", "EmailAddress", "UserName")
DEVICE_SELECT = ("id,deviceName,managedDeviceOwnerType,operatingSystem,osVersion,userPrincipalName,lastSyncDateTime,"
                 "isSupervised,deviceEnrollmentType,serialNumber,azureADDeviceId,model,deviceCategoryDisplayName,"
                 "wiFiMacAddress,userId")

_FULL = frozenset({"appleBulkWithUser", "appleBulkWithoutUser", "deviceEnrollmentManager",
                   "androidEnterpriseFullyManaged", "androidEnterpriseDedicatedDevice", "windowsAzureADJoin",
                   "windowsBulkUserless", "windowsAutoEnrollment", "windowsCoManagement"})
_PLATFORMS = {"iOS": Platform.IOS, "iPadOS": Platform.IOS, "Android": Platform.ANDROID, "macOS": Platform.MACOS,
              "Windows": Platform.WINDOWS}
_CTX_DEVICE_APPS = re.compile(r"managedDevices\('([^']+)'\)/detectedApps")
_CTX_APP_DEVICES = re.compile(r"detectedApps\('([^']+)'\)/managedDevices")


def platform_of(os_name: Any) -> Platform | None:
    text = str(os_name or "").lower()
    if text.startswith(("ios", "ipados")):
        return Platform.IOS
    if text.startswith("android"):
        return Platform.ANDROID
    if text.startswith(("macos", "mac os", "macmdm")):
        return Platform.MACOS
    if text.startswith("windows"):
        return Platform.WINDOWS
    return None


def ownership_of(owner: Any) -> Ownership:
    return {"company": Ownership.CORPORATE, "personal": Ownership.PERSONAL}.get(str(owner or ""), Ownership.UNKNOWN)


def management_of(platform: Platform, ownership: Ownership, enrollment: Any) -> Management:
    """Intune shows unmanaged apps only for corporate-owned devices; user enrolment and work profiles never."""
    kind = str(enrollment or "")
    if kind.startswith("appleUserEnrollment"):
        return Management.USER_ENROLMENT
    if kind == "androidEnterpriseCorporateWorkProfile":
        return Management.WORK_PROFILE
    if ownership is Ownership.PERSONAL:
        if platform in (Platform.IOS, Platform.MACOS):
            return Management.USER_ENROLMENT
        return Management.WORK_PROFILE if platform is Platform.ANDROID else Management.UNKNOWN
    if ownership is Ownership.CORPORATE and (kind in _FULL or kind == "userEnrollment"):
        return Management.FULLY_MANAGED
    return Management.UNKNOWN


def device_from_graph(source: str, item: Mapping[str, Any], now: datetime) -> Device:
    """A Device from a Graph managedDevice; ValueError says what is wrong."""
    device_id = clean(item.get("id"))
    if not device_id:
        raise ValueError("managedDevice without an id")
    platform = platform_of(item.get("operatingSystem"))
    if platform is None:
        raise ValueError(f"operatingSystem {item.get('operatingSystem')!r} is not a known platform")
    ownership = ownership_of(item.get("managedDeviceOwnerType"))
    mac = clean(item.get("wiFiMacAddress"))
    category = clean(item.get("deviceCategoryDisplayName")) or ""
    return Device(
        source=source, device_id=device_id, platform=platform, ownership=ownership,
        management=management_of(platform, ownership, item.get("deviceEnrollmentType")),
        observed_at=observed(item.get("lastSyncDateTime"), now),
        supervised=bool_or_none(item.get("isSupervised")) if platform is Platform.IOS else None,
        user=clean(item.get("userPrincipalName")), name=clean(item.get("deviceName")), model=clean(item.get("model")),
        os_version=clean(item.get("osVersion")),
        org_unit=category if category_labels(category) or category.startswith("/") else None,
        addresses=(mac,) if mac else (),
        org_labels=category_labels(category), groups=tuple(item.get(GROUPS_KEY) or ()),
    )


GROUPS_KEY = "@interdit.groups"  # where the live connector puts a device's Entra ID groups before it is read


def category_labels(category: str) -> tuple[tuple[str, str], ...]:
    """An Intune device category as an organisational label; a category written as a path (`/Finance`) is taken
    as the org unit itself, and the built-in "Unknown" (nobody categorised the device) says nothing."""
    if not category or category.startswith("/") or category.casefold() in ("unknown", "inconnu"):
        return ()
    return (("category", category),)


class GraphPages:
    """Turns Graph pages into records; shared by the `intune-graph` reader and the live connector."""

    def __init__(self, source: str, tally: Tally, now: datetime) -> None:
        self.source = source
        self.now = now
        self.snap = Snapshot(source, tally)
        self.devices: dict[str, tuple[Platform, datetime]] = {}  # id -> platform, apps' observed_at
        self.detected: dict[str, tuple[str | None, str | None, str | None]] = {}  # id -> name, version, platform
        self.waiting: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {}  # device id -> (place, kind, item)
        self.n_waiting = 0
        self.resolve = Resolver()
        self.pairs: set[tuple[str, AppId]] = set()  # (device, app) of the detectedApps('ID')/managedDevices pages

    def feed(self, place: str, page: Any) -> Iterator[Record]:
        if not isinstance(page, dict) or not isinstance(page.get("value", []), list):
            raise InputError("not a Graph collection page (a JSON object with 'value')", where=place,
                             fix="record the Graph response body as is")
        context = str(page.get("@odata.context", ""))
        items = page.get("value") or []
        if m := _CTX_DEVICE_APPS.search(context):
            yield from self._device_apps(f"{place}#value", m.group(1), items)
        elif m := _CTX_APP_DEVICES.search(context):
            app_id = m.group(1)
            for n, item in enumerate(items):
                device_id = clean(item.get("id")) if isinstance(item, dict) else None
                yield from self._app_device(f"{place}#value[{n}]", app_id, device_id)
        elif "detectedApps" in context or (items and isinstance(items[0], dict) and "deviceCount" in items[0]):
            for item in items:
                if isinstance(item, dict) and item.get("id"):
                    self.detected[str(item["id"])] = (clean(item.get("displayName")), clean(item.get("version")),
                                                      clean(item.get("platform")))
        else:
            for n, item in enumerate(items):
                yield from self.device(f"{place}#value[{n}]", item)

    def device(self, place: str, item: Any) -> Iterator[Record]:
        if not isinstance(item, dict):
            yield self.snap.reject(place, "a managedDevice that is not a JSON object", "record the page as is")
            return
        try:
            device = device_from_graph(self.source, item, self.now)
        except ValueError as e:
            yield self.snap.reject(f"{place} (id {item.get('id')!r})", str(e),
                                   "check the device in Intune; it may be half-enrolled")
            return
        self.devices[device.device_id] = (device.platform, min(device.observed_at - INVENTORY_LAG, self.now))
        yield self.snap.device(place, device)
        for app_place, kind, app_item in self._release(device.device_id):
            if kind == "detected":
                yield from self._device_apps(app_place, device.device_id, [app_item])
            else:
                yield from self._app_device(app_place, str(app_item["app"]), device.device_id)
        embedded = item.get("detectedApps")
        if isinstance(embedded, list):
            yield from self._device_apps(f"{place}.detectedApps", device.device_id, embedded)

    def _device_apps(self, place: str, device_id: str, items: list[Any]) -> Iterator[Record]:
        """One device's detectedApps (the hot path of a Graph import: one frame per page, places built lazily)."""
        known = self.devices.get(device_id)
        snap, resolve, source = self.snap, self.resolve, self.source
        for n, item in enumerate(items):
            if known is None:
                self._wait(f"{place}[{n}]", device_id, "detected", item)
                continue
            if not isinstance(item, dict):
                yield snap.reject(f"{place}[{n}]", "a detectedApp that is not a JSON object", "record the page as is")
                continue
            platform, at = known
            name = clean(item.get("displayName"))
            app = resolve(platform, name)
            if app is None:
                yield snap.reject(f"{place}[{n}]", "a detectedApp without a displayName", "check the app in Intune")
                continue
            yield snap.app(place, InstalledApp(source, device_id, app, at, name, clean(item.get("version"))), item=n)

    def _app_device(self, place: str, app_id: str, device_id: str | None) -> Iterator[Record]:
        if not device_id:
            yield self.snap.reject(place, "a device without an id", "record the page as is")
            return
        if device_id not in self.devices:
            self._wait(place, device_id, "reverse", {"app": app_id})
            return
        if app_id not in self.detected:
            yield self.snap.reject(place, f"detectedApp {app_id!r} is not in the snapshot's detectedApps pages",
                                   "record the detectedApps list before its managedDevices pages")
            return
        name, version, _ = self.detected[app_id]
        platform, at = self.devices[device_id]
        app = self.resolve(platform, name)
        if app is None:
            yield self.snap.reject(place, f"detectedApp {app_id!r} has no displayName", "check the app in Intune")
            return
        # these pages go app by app, so a device's apps are not together: the Snapshot's per-device check cannot
        # see a repeat (two detectedApps of one name and platform, or a page read twice)
        if (device_id, app) in self.pairs:
            yield self.snap.reject(place, f"app {app} is listed twice for device {device_id!r}",
                                   "each app must appear once per device")
            return
        self.pairs.add((device_id, app))
        yield self.snap.app(place, InstalledApp(self.source, device_id, app, at, name, version))

    def _wait(self, place: str, device_id: str, kind: str, item: Mapping[str, Any]) -> None:
        if self.n_waiting >= MAX_WAITING:
            raise InputError(f"over {MAX_WAITING:,} apps came before their devices' pages", where=place,
                             fix="give the managedDevices pages first, then the app pages")
        self.n_waiting += 1
        self.waiting.setdefault(device_id, []).append((place, kind, item))

    def _release(self, device_id: str) -> list[tuple[str, str, Mapping[str, Any]]]:
        items = self.waiting.pop(device_id, [])
        self.n_waiting -= len(items)
        return items

    def finish(self) -> Iterator[Record]:
        for device_id, items in self.waiting.items():
            for place, _kind, _item in items:
                yield self.snap.reject(place, f"an app of device {device_id!r}, which is not in this snapshot's "
                                       "managedDevices pages", "include every device's page in the snapshot")
        self.waiting.clear()


@readers.register("intune-graph")
class IntuneGraphReader(FileReader):
    def records(self) -> Iterator[Record]:
        pages = GraphPages(self.name, self.tally, self.now)
        for place, page in self.pages():
            yield from pages.feed(place, page)
        yield from pages.finish()


# -- AppInvRawData --------------------------------------------------------------------------------------


Row = tuple[str, int, list[str], dict[str, int]]


def _csv_rows(path: Path) -> Iterator[Row]:
    """(file, line, row, column index) of an AppInvRawData CSV, plain or zipped, with size bounds."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            members = [i for i in zf.infolist() if i.filename.lower().endswith(".csv")]
            if len(members) != 1:
                raise InputError(f"the zip holds {len(members)} CSV files, expected one", where=str(path),
                                 fix="give the AppInvRawData export zip as Intune produced it")
            info = members[0]
            if info.file_size > MAX_CSV_BYTES or info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
                raise InputError("the zipped CSV is implausibly large", where=f"{path}!{info.filename}",
                                 fix="check the file; it does not look like an Intune export")
            with zf.open(info) as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                yield from _rows(text, f"{path}!{info.filename}")
        return
    if path.stat().st_size > MAX_CSV_BYTES:
        raise InputError("the CSV is over 16 GB", where=str(path), fix="split the export")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        yield from _rows(fh, str(path))


def _rows(text: Iterable[str], where: str) -> Iterator[Row]:
    reader = csv.reader(text, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("the export is empty", where=where, fix="run the export again") from None
    except (csv.Error, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the header ({e})", where=where, fix="give the CSV as exported") from None
    index = {name.strip(): i for i, name in enumerate(header)}
    missing = [c for c in ("ApplicationName", "DeviceId", "Platform") if c not in index]
    if missing:
        raise InputError(f"not an AppInvRawData export: no column {', '.join(missing)}", where=f"{where}:1",
                         fix="export the 'AppInvRawData' report (Graph reports/exportJobs or the admin center)")
    try:
        for row in reader:
            yield where, reader.line_num, row, index
    except (csv.Error, UnicodeDecodeError) as e:
        raise InputError(f"the CSV is malformed ({e})", where=f"{where}:{reader.line_num}",
                         fix="export the report again; a truncated file cannot be imported") from None


class AppInvRows:
    """AppInvRawData rows to records; devices come from managedDevices pages when given, else from the rows."""

    def __init__(self, source: str, tally: Tally, now: datetime, pages: GraphPages) -> None:
        self.source = source
        self.now = now
        self.pages = pages
        self.snap = pages.snap
        self.devices_from_pages = bool(pages.devices)
        self.resolve = pages.resolve

    def _columns(self, index: dict[str, int]) -> tuple[int, ...]:
        names = ("DeviceId", "ApplicationName", "Platform", "OSDescription", "ApplicationKey",
                 "ApplicationShortVersion", "ApplicationVersion", "EmailAddress", "DeviceName", "OSVersion")
        self._index = index
        self._width = max(index.values(), default=0) + 1  # a missing column reads the padding after the last
        self._cols = tuple(index.get(n, self._width) for n in names)
        self._last = max(self._cols)
        return self._cols

    def read(self, rows: Iterable[Row]) -> Iterator[Record]:
        """Every row's records: the loop is the hot path of a 6,000,000-row export, so it stays in one frame."""
        devices, snap, resolve, source = self.pages.devices, self.snap, self.resolve, self.source
        c: tuple[int, ...] = ()
        index: dict[str, int] | None = None
        for where, line, row, row_index in rows:
            if row_index is not index:
                index = row_index
                c = self._columns(row_index)
            n = len(row)
            if n <= self._last:
                row = row + [""] * (self._last + 1 - n)
            device_id, name = row[c[0]].strip(), row[c[1]].strip()
            known = devices.get(device_id)
            if known is None or not name:
                yield from self._slow(f"{where}:{line}", row, c, n)
                continue
            platform, at = known
            label = clean(name)
            app = resolve(platform, label, row[c[4]].strip() or None)
            assert app is not None
            yield snap.app(where, InstalledApp(source, device_id, app, at, label,
                                               clean(row[c[5]].strip() or row[c[6]].strip())), line)

    def _slow(self, place: str, row: list[str], c: tuple[int, ...], n: int) -> Iterator[Record]:
        """A row whose device is not known yet, or that is not usable."""
        if not any(row) or (n == 1 and row[0].startswith("#")):
            return  # an empty line or a comment line is not a record
        device_id, name, plat = row[c[0]].strip(), row[c[1]].strip(), row[c[2]].strip()
        platform = _PLATFORMS.get(plat) or platform_of(plat) or platform_of(row[c[3]])
        if not device_id or platform is None or not name:
            what = "DeviceId" if not device_id else ("Platform" if platform is None else "ApplicationName")
            yield self.snap.reject(place, f"no usable {what}", "check the row in the export")
            return
        if self.devices_from_pages:
            yield self.snap.reject(place, f"device {device_id!r} is not in the managedDevices pages",
                                   "export the devices and the report at the same time")
            return
        at = self.now - INVENTORY_LAG
        device = Device(self.source, device_id, platform, Ownership.UNKNOWN, Management.UNKNOWN, at,
                        user=clean(row[c[7]]), name=clean(row[c[8]]), os_version=clean(row[c[9]]))
        self.pages.devices[device_id] = (platform, at)
        yield self.snap.device(place, device)
        label = clean(name)
        app = self.resolve(platform, label, row[c[4]].strip() or None)
        assert app is not None
        yield self.snap.app(place, InstalledApp(self.source, device_id, app, at, label,
                                                clean(row[c[5]].strip() or row[c[6]].strip())))


@readers.register("intune-appinv")
class IntuneAppInvReader(FileReader):
    def records(self) -> Iterator[Record]:
        pages = GraphPages(self.name, self.tally, self.now)
        files = all_files(self.inputs)
        json_files = [p for p in files if p.suffix.lower() in (".json", ".jsonl")]
        for path in json_files:
            for place, page in read_pages(path):
                yield from pages.feed(place, page)
        rows = AppInvRows(self.name, self.tally, self.now, pages)
        for path in files:
            if path not in json_files:
                yield from rows.read(_csv_rows(path))
        yield from pages.finish()


# -- live ------------------------------------------------------------------------------------------------


APP_MODES = ("export", "per-device", "detected")


@connectors.register("intune")
class IntuneConnector(LiveConnector):
    """Settings: `tenant`, `client_id`, optional `apps` (export | per-device | detected), `export_timeout`
    (seconds the export job may take, default 1200), `groups` (entra, the default: each device's and its primary
    user's Entra ID groups, transitively; or off), `graph_url`, `login_url`."""

    permissions = ("DeviceManagementManagedDevices.Read.All", "DeviceManagementApps.Read.All", *GROUP_PERMISSIONS)

    def configure(self, config: ConnectorConfig) -> ClientCredentials:
        self.config = config
        self.graph = config.settings.get("graph_url", "https://graph.microsoft.com").rstrip("/")
        login = config.settings.get("login_url", "https://login.microsoftonline.com").rstrip("/")
        tenant = config.need("tenant", "the Entra tenant id or domain")
        auth = ClientCredentials(f"{login}/{tenant}/oauth2/v2.0/token", config.need("client_id", "the app's id"),
                                 config.need_secret(), scope="https://graph.microsoft.com/.default")
        self.mode = config.settings.get("apps", "export")
        if self.mode not in APP_MODES:
            raise ConfigError(f"apps {self.mode!r} is not one of {', '.join(APP_MODES)}", where=f"source {self.name}",
                              fix="set apps: export (large tenants), per-device or detected (see docs/connectors.md)")
        self.groups = config.settings.get("groups", "entra")
        if self.groups not in ("entra", "off"):
            raise ConfigError(f"groups {self.groups!r} is not entra or off", where=f"source {self.name}",
                              fix="set groups: entra (read Entra ID group memberships) or groups: off")
        timeout = config.settings.get("export_timeout", "1200")
        try:
            self.export_timeout = float(timeout)
        except ValueError:
            raise ConfigError(f"export_timeout {timeout!r} is not a number of seconds", where=f"source {self.name}",
                              fix="set export_timeout: 1200 (or leave it out)") from None
        return auth

    def _pages(self, url: str) -> Iterator[tuple[str, Any]]:
        n = 0
        next_url: str | None = url
        while next_url:
            n += 1
            page = self.api.get_json(next_url)
            yield f"{self.name}:{safe_url(url)}#page{n}", page
            link = page.get("@odata.nextLink") if isinstance(page, dict) else None
            next_url = self._same_host(link) if link else None

    def _same_host(self, link: Any) -> str:
        if not isinstance(link, str) or httpx.URL(link).host != httpx.URL(self.graph).host:
            raise InputError("@odata.nextLink points to another host", where=f"{self.name}: {safe_url(str(link))}",
                             fix="check the graph_url setting; tokens are never sent to another host")
        return link

    def check(self) -> str:
        page = self.api.get_json(f"{self.graph}/v1.0/deviceManagement/managedDevices",
                                 params={"$select": "id", "$top": "1"})
        return f"token accepted; managedDevices answered ({count_of(dig(page, 'value'))} on the first page)"

    def _context(self, place_page: Iterator[tuple[str, Any]], context: str) -> Iterator[tuple[str, Any]]:
        """The pages, each marked with the `@odata.context` its records are read as (the URL says what it is)."""
        for place, page in place_page:
            if isinstance(page, dict):
                page["@odata.context"] = context
            yield place, page

    def records(self) -> Iterator[Record]:
        pages = GraphPages(self.name, self.tally, self.now)
        url = f"{self.graph}/v1.0/deviceManagement/managedDevices?$select={DEVICE_SELECT}&$top=999"
        device_pages = self._pages(url)
        if self.groups == "entra":  # every page first: a device's groups are part of its record
            device_pages = iter(self._with_groups(list(device_pages)))
        for place, page in device_pages:
            if isinstance(page, dict):
                page.setdefault("@odata.context", "#deviceManagement/managedDevices")
            yield from pages.feed(place, page)
        if self.mode == "per-device":
            for device_id in list(pages.devices):
                context = f"#deviceManagement/managedDevices('{device_id}')/detectedApps"
                for place, page in self._context(self._pages(f"{self.graph}/beta/deviceManagement/managedDevices/"
                                                             f"{device_id}/detectedApps"), context):
                    yield from pages.feed(place, page)
        elif self.mode == "detected":
            listing = f"{self.graph}/v1.0/deviceManagement/detectedApps"
            for place, page in self._context(self._pages(listing), "#deviceManagement/detectedApps"):
                yield from pages.feed(place, page)
            for app_id in list(pages.detected):
                context = f"#deviceManagement/detectedApps('{app_id}')/managedDevices"
                url = f"{self.graph}/v1.0/deviceManagement/detectedApps/{app_id}/managedDevices?$select=id"
                for place, page in self._context(self._pages(url), context):
                    yield from pages.feed(place, page)
        else:
            rows = AppInvRows(self.name, self.tally, self.now, pages)
            path = self._export()
            try:
                yield from rows.read(_csv_rows(path))
            finally:
                path.unlink(missing_ok=True)
        yield from pages.finish()

    def _with_groups(self, listing: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """The managedDevices pages, each device given its own and its primary user's Entra ID groups."""
        items = [item for _, page in listing if isinstance(page, dict) and isinstance(page.get("value"), list)
                 for item in page["value"] if isinstance(item, dict)]
        pairs = [targets(item) for item in items]
        found = EntraGroups(self.api, self.graph, self.name).of(t for pair in pairs for t in pair if t)
        for item, pair in zip(items, pairs, strict=True):
            names = [g for t in pair if t for g in found.get(t) or ()]
            item[GROUPS_KEY] = sorted(set(names))
        return listing

    def _export(self) -> Path:
        """Create the AppInvRawData export job, poll it (waiting at most `export_timeout` seconds in all), download
        the zip to a private temporary file."""
        import os
        import tempfile

        jobs = f"{self.graph}/beta/deviceManagement/reports/exportJobs"
        job = self.api.post_json(jobs, {"reportName": "AppInvRawData", "format": "csv",
                                        "localizationType": "LocalizedValuesAsAdditionalColumn",
                                        "select": list(APPINV_COLUMNS)})
        job_id = job.get("id") if isinstance(job, dict) else None
        if not job_id:
            raise InputError("the export job was not created", where=f"{self.name}: POST {jobs}",
                             fix="check the DeviceManagementManagedDevices.Read.All permission")
        wait, waited = 2.0, 0.0
        while True:
            status = self.api.get_json(f"{jobs}('{job_id}')")
            state = status.get("status") if isinstance(status, dict) else None
            if state == "completed" and status.get("url"):
                fd, name = tempfile.mkstemp(prefix="interdit-appinv-", suffix=".zip")
                os.close(fd)
                try:
                    self.api.download(str(status["url"]), Path(name), max_bytes=MAX_CSV_BYTES)
                except BaseException:
                    Path(name).unlink(missing_ok=True)
                    raise
                return Path(name)
            if state == "failed":
                raise InputError("Intune reported the AppInvRawData export job as failed",
                                 where=f"{self.name}: export job {job_id}",
                                 fix="run the sync again later; if it keeps failing, use apps: per-device")
            if waited + wait > self.export_timeout:
                raise InputError(f"the AppInvRawData export job did not complete within {self.export_timeout:.0f} s "
                                 f"(last status {str(state)[:40]!r})", where=f"{self.name}: export job {job_id}",
                                 fix="run the sync again later, or raise the source's export_timeout; large tenants "
                                     "take several minutes")
            self.sleep(wait)
            waited += wait
            wait = min(wait * 1.5, 30.0)
