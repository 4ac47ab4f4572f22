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
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from itertools import chain
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import httpx

from interdit.errors import InputError
from interdit.inventory._common import (
    FileReader,
    Held,
    Resolver,
    Snapshot,
    all_files,
    clean,
    count_of,
    dig,
    read_pages,
)
from interdit.inventory._encoding import (
    CUT_SHORT_FIX,
    CUT_SHORT_REASON,
    Tail,
    TextFormat,
    ends_in_newline,
    open_detected,
    separator_name,
    sniff_separator,
    text_stream,
)
from interdit.inventory._entra import PERMISSIONS as GROUP_PERMISSIONS
from interdit.inventory._entra import EntraGroups, targets
from interdit.inventory._http import ClientCredentials, safe_url
from interdit.inventory._intune_map import (
    _PLATFORMS,
    GROUPS_KEY,
    device_from_graph,
    platform_of,
)
from interdit.inventory.base import Record, Tally, readers
from interdit.inventory.live import ConnectorConfig, LiveConnector, Push, Setting, connectors
from interdit.model import AppId, Device, InstalledApp, Management, Ownership, Platform

INVENTORY_LAG = timedelta(days=7)
MAX_WAITING = 1_000_000  # app rows held until their device's page arrives
MAX_CSV_BYTES = 16 * 1024**3  # uncompressed AppInvRawData export
MAX_ZIP_RATIO = 200
APPINV_COLUMNS = ("ApplicationKey", "ApplicationName", "ApplicationPublisher", "ApplicationShortVersion",
                  "ApplicationVersion", "DeviceId", "DeviceName", "OSDescription", "OSVersion", "Platform",
                  "UserId", "EmailAddress", "UserName")
DEVICE_SELECT = ("id,deviceName,managedDeviceOwnerType,operatingSystem,osVersion,userPrincipalName,lastSyncDateTime,"
                 "isSupervised,deviceEnrollmentType,managementAgent,serialNumber,azureADDeviceId,model,"
                 "deviceCategoryDisplayName,wiFiMacAddress,userId")

_CTX_DEVICE_APPS = re.compile(r"managedDevices\('([^']+)'\)/detectedApps")
_CTX_APP_DEVICES = re.compile(r"detectedApps\('([^']+)'\)/managedDevices")


TENANT_LIST_FIX = (
    "give each device's apps instead: the pages of GET /beta/deviceManagement/managedDevices/{id}/detectedApps (one "
    "response per device; one per line of a .jsonl file), e.g. 'interdit import intune-graph managedDevices.jsonl "
    "device-apps.jsonl', or the AppInvRawData report (Apps > Monitor > Discovered apps > Export, or POST "
    "/beta/deviceManagement/reports/exportJobs with reportName AppInvRawData) with 'interdit import intune-appinv "
    "managedDevices.jsonl AppInvRawData.zip'; or add every detectedApps/{id}/managedDevices page of the list")


class GraphPages:
    """Turns Graph pages into records; shared by the `intune-graph` reader and the live connector.

    Devices are held until the end of the snapshot (`finish`, see `Held`), since their coverage depends on their
    apps; their apps are yielded as they come."""

    def __init__(self, source: str, tally: Tally, now: datetime) -> None:
        self.source = source
        self.now = now
        self.tally = tally
        self.snap = Snapshot(source, tally)
        self.devices: dict[str, tuple[Platform, datetime]] = {}  # id -> platform, apps' observed_at
        self.held = Held(self.snap)
        self.reported = self.held.reported  # devices whose app list came (a per-device page, even empty, or a row)
        self.named = self.held.named  # devices with an app known only by its display name
        self.detected: dict[str, tuple[str | None, str | None, str | None]] = {}  # id -> name, version, platform
        self.detected_counts: dict[str, int] = {}  # id -> deviceCount, from the tenant's detectedApps list
        self.listing: str | None = None  # where the tenant's detectedApps list was read
        self.reverse: set[str] = set()  # detectedApps whose detectedApps('ID')/managedDevices pages came
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
            self.reported.add(m.group(1))
            yield from self._device_apps(f"{place}#value", m.group(1), items)
        elif m := _CTX_APP_DEVICES.search(context):
            app_id = m.group(1)
            self.reverse.add(app_id)
            for n, item in enumerate(items):
                device_id = clean(item.get("id")) if isinstance(item, dict) else None
                yield from self._app_device(f"{place}#value[{n}]", app_id, device_id)
        elif "detectedApps" in context or (items and isinstance(items[0], dict) and "deviceCount" in items[0]):
            self.listing = self.listing or place
            for item in items:
                if isinstance(item, dict) and item.get("id"):
                    app_id = str(item["id"])
                    self.detected[app_id] = (clean(item.get("displayName")), clean(item.get("version")),
                                             clean(item.get("platform")))
                    count = item.get("deviceCount")
                    self.detected_counts[app_id] = count if isinstance(count, int) and count >= 0 else 1
        else:
            for n, item in enumerate(items):
                yield from self.device(f"{place}#value[{n}]", item)

    def device(self, place: str, item: Any) -> Iterator[Record]:
        if not isinstance(item, dict):
            yield self.snap.reject(place, "a managedDevice that is not a JSON object", "record the page as is")
            return
        try:
            device = device_from_graph(self.source, item, self.now, self.tally.note)
        except ValueError as e:
            yield self.snap.reject(f"{place} (id {item.get('id')!r})", str(e),
                                   "check the device in Intune; it may be half-enrolled",
                                   device_id=clean(item.get("id")))
            return
        self.devices[device.device_id] = (device.platform, min(device.observed_at - INVENTORY_LAG, self.now))
        yield from self.held.hold(place, device)
        for app_place, kind, app_item in self._release(device.device_id):
            if kind == "detected":
                yield from self._device_apps(app_place, device.device_id, [app_item])
            else:
                yield from self._app_device(app_place, str(app_item["app"]), device.device_id)
        embedded = item.get("detectedApps")
        if isinstance(embedded, list):
            self.reported.add(device.device_id)
            yield from self._device_apps(f"{place}.detectedApps", device.device_id, embedded)

    def _device_apps(self, place: str, device_id: str, items: list[Any]) -> Iterator[Record]:
        """One device's detectedApps (the hot path of a Graph import: one frame per page, places built lazily)."""
        known = self.devices.get(device_id)
        snap, resolve, source = self.snap, self.resolve, self.source
        named = device_id in self.named
        for n, item in enumerate(items):
            if known is None:
                self._wait(f"{place}[{n}]", device_id, "detected", item)
                continue
            if not isinstance(item, dict):
                yield snap.reject(f"{place}[{n}]", "a detectedApp that is not a JSON object", "record the page as is",
                                  device_id=device_id, kind="app")
                continue
            platform, at = known
            name = clean(item.get("displayName"))
            app = resolve(platform, name)
            if app is None:
                yield snap.reject(f"{place}[{n}]", "a detectedApp without a displayName", "check the app in Intune",
                                  device_id=device_id, kind="app")
                continue
            if not named and app.by_name:
                named = True
                self.named.add(device_id)
            yield snap.app(place, InstalledApp(source, device_id, app, at, name, clean(item.get("version"))), item=n)

    def _app_device(self, place: str, app_id: str, device_id: str | None) -> Iterator[Record]:
        if not device_id:
            yield self.snap.reject(place, "a device without an id", "record the page as is", kind="app")
            return
        if device_id not in self.devices:
            self._wait(place, device_id, "reverse", {"app": app_id})
            return
        if app_id not in self.detected:
            yield self.snap.reject(place, f"detectedApp {app_id!r} is not in the snapshot's detectedApps pages",
                                   "record the detectedApps list before its managedDevices pages",
                                   device_id=device_id, kind="app")
            return
        name, version, _ = self.detected[app_id]
        platform, at = self.devices[device_id]
        app = self.resolve(platform, name)
        if app is None:
            yield self.snap.reject(place, f"detectedApp {app_id!r} has no displayName", "check the app in Intune",
                                   device_id=device_id, kind="app")
            return
        # these pages go app by app, so a device's apps are not together: the Snapshot's per-device check cannot
        # see a repeat (two detectedApps of one name and platform, or a page read twice)
        if (device_id, app) in self.pairs:
            yield self.snap.reject(place, f"app {app} is listed twice for device {device_id!r}",
                                   "each app must appear once per device", device_id=device_id, kind="app")
            return
        self.pairs.add((device_id, app))
        if app.by_name:
            self.named.add(device_id)
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

    def _check_listing(self) -> None:
        """The tenant's detectedApps list says which apps exist, not which device holds them: without the
        detectedApps('ID')/managedDevices page of every app some device holds, the snapshot cannot be read."""
        if self.listing is None:
            return
        missing = [a for a, count in self.detected_counts.items() if count > 0 and a not in self.reverse]
        if not missing:
            return
        where = self.listing.split("#", 1)[0]
        where = where.rsplit(":", 1)[0] if where.rsplit(":", 1)[-1].isdigit() else where
        name = self.detected[missing[0]][0] or missing[0]
        if not self.reverse:
            reason = ("this is the tenant's list of discovered apps (GET /deviceManagement/detectedApps: each app "
                      "with its deviceCount, no device ids): it cannot say which device holds which app, so no "
                      "device's apps could be read")
        else:
            reason = (f"{len(missing):,} discovered apps of the tenant's list (e.g. {name!r}) have no "
                      "detectedApps/{id}/managedDevices page: the devices holding them cannot be known")
        raise InputError(reason, where=where, fix=TENANT_LIST_FIX)

    def finish(self) -> Iterator[Record]:
        self._check_listing()
        for device_id, items in self.waiting.items():
            for place, _kind, _item in items:
                yield self.snap.reject(place, f"an app of device {device_id!r}, which is not in this snapshot's "
                                       "managedDevices pages", "include every device's page in the snapshot",
                                       device_id=device_id, kind="app")
        self.waiting.clear()
        # the tenant's list with every app's devices (checked above) lists every device's apps, an empty list too
        yield from self.held.finish(everyone=self.listing is not None)


@readers.register("intune-graph")
class IntuneGraphReader(FileReader):
    def records(self) -> Iterator[Record]:
        pages = GraphPages(self.source, self.tally, self.now)
        for place, page in self.pages():
            yield from pages.feed(place, page)
        yield from pages.finish()


# -- AppInvRawData --------------------------------------------------------------------------------------


Row = tuple[str, int, list[str], dict[str, int]]


def _csv_rows(path: Path, tally: Tally | None = None) -> Iterator[Row]:
    """(file, line, row, column index) of an AppInvRawData CSV, plain or zipped, with size bounds. The encoding and
    the separator are detected (`_encoding`); a note says them when they are not UTF-8 and commas."""
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
            where = f"{path}!{info.filename}"
            text, fmt = text_stream(zf.open(info), where)
            with text:
                tail = Tail(text)
                yield from _rows(tail, where, fmt, tally, tail)
        return
    if path.stat().st_size > MAX_CSV_BYTES:
        raise InputError("the CSV is over 16 GB", where=str(path), fix="split the export")
    ended = ends_in_newline(path)  # a file that ends mid-line may have been cut short: its last row is watched
    text, fmt = open_detected(path)
    with text:
        if ended is None:  # gzip: watched as it is read
            tail = Tail(text)
            yield from _rows(tail, str(path), fmt, tally, tail)
        else:
            yield from _rows(text, str(path), fmt, tally, None if ended else Tail(None))


CUT_SHORT: list[str] = []  # stands for the file's last row when the export ended in the middle of it


def _rows(text: IO[str] | Tail, where: str, fmt: TextFormat, tally: Tally | None,
          tail: Tail | None) -> Iterator[Row]:
    first = text.readline()
    separator = sniff_separator(first)
    if tally is not None and (fmt.encoding not in ("utf-8", "utf-8-sig") or separator != ","):
        tally.note(f"{where}: read as {fmt.describe()}, {separator_name(separator)}-separated")
    reader = csv.reader(chain((first,), text) if first else text, strict=True, delimiter=separator)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("the export is empty", where=where, fix="run the export again") from None
    except csv.Error as e:
        raise InputError(f"cannot read the header ({e})", where=where, fix="give the CSV as exported") from None
    index = {name.strip(): i for i, name in enumerate(header)}
    if "DeviceCount" in index and "DeviceId" not in index:
        raise InputError("this is the AppInvAggregate report (each app with its device count, no device ids): it "
                         "cannot say which device holds which app", where=f"{where}:1", fix=TENANT_LIST_FIX)
    missing = [c for c in ("ApplicationName", "DeviceId", "Platform") if c not in index]
    if missing:
        raise InputError(f"not an AppInvRawData export: no column {', '.join(missing)}", where=f"{where}:1",
                         fix="export the 'AppInvRawData' report (Graph reports/exportJobs or the admin center)")
    try:
        if tail is None:
            for row in reader:
                yield where, reader.line_num, row, index
        else:  # one row behind, to know the last one: unfinished and short of the header's columns, it is cut
            held: Row | None = None
            for row in reader:
                if held is not None:
                    yield held
                held = (where, reader.line_num, row, index)
            if held is not None:
                yield (where, held[1], CUT_SHORT, index) if tail.cut() and len(held[2]) < len(header) else held
    except csv.Error as e:
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
        reported, named, last = self.pages.reported, self.pages.named, ""
        c: tuple[int, ...] = ()
        index: dict[str, int] | None = None
        for where, line, row, row_index in rows:
            if row_index is not index:
                index = row_index
                c = self._columns(row_index)
            n = len(row)
            if n <= self._last:
                if row is CUT_SHORT:
                    yield self.snap.reject(f"{where}:{line}", CUT_SHORT_REASON, CUT_SHORT_FIX, kind="record")
                    continue
                row = row + [""] * (self._last + 1 - n)
            device_id, name = row[c[0]].strip(), row[c[1]].strip()
            known = devices.get(device_id)
            if known is None or not name:
                yield from self._slow(f"{where}:{line}", row, c, n)
                continue
            if device_id != last:
                reported.add(device_id)
                last = device_id
            platform, at = known
            label = clean(name)
            app = resolve(platform, label, row[c[4]].strip() or None)
            assert app is not None
            if device_id not in named and app.by_name:
                named.add(device_id)
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
            yield self.snap.reject(place, f"no usable {what}", "check the row in the export",
                                   device_id=device_id or None, kind="app")
            return
        if self.devices_from_pages:
            yield self.snap.reject(place, f"device {device_id!r} is not in the managedDevices pages",
                                   "export the devices and the report at the same time", device_id=device_id,
                                   kind="app")
            return
        at = self.now - INVENTORY_LAG
        device = Device(self.source, device_id, platform, Ownership.UNKNOWN, Management.UNKNOWN, at,
                        user=clean(row[c[7]]), name=clean(row[c[8]]), os_version=clean(row[c[9]]))
        self.pages.devices[device_id] = (platform, at)
        self.pages.reported.add(device_id)
        yield from self.pages.held.hold(place, device)
        if device_id not in self.pages.held.devices:
            return  # rejected (its rejection was yielded): the row's app goes with it
        label = clean(name)
        app = self.resolve(platform, label, row[c[4]].strip() or None)
        assert app is not None
        if app.by_name:
            self.pages.named.add(device_id)
        yield self.snap.app(place, InstalledApp(self.source, device_id, app, at, label,
                                                clean(row[c[5]].strip() or row[c[6]].strip())))


@readers.register("intune-appinv")
class IntuneAppInvReader(FileReader):
    def records(self) -> Iterator[Record]:
        pages = GraphPages(self.source, self.tally, self.now)
        files = all_files(self.inputs)
        json_files = [p for p in files if p.suffix.lower() in (".json", ".jsonl")]
        for path in json_files:
            for place, page in read_pages(path):
                yield from pages.feed(place, page)
        rows = AppInvRows(self.source, self.tally, self.now, pages)
        for path in files:
            if path not in json_files:
                yield from rows.read(_csv_rows(path, self.tally))
        yield from pages.finish()


# -- live ------------------------------------------------------------------------------------------------


APP_MODES = ("export", "per-device", "detected")


@connectors.register()
class IntuneConnector(LiveConnector):
    """Microsoft Intune through Microsoft Graph; the secret is the app registration's client secret. Pushes
    `intune` payloads (see `_intune_push`)."""

    name = "intune"
    settings = (
        Setting("tenant", "the Entra tenant id or domain", required=True),
        Setting("client_id", "the app registration's id", required=True),
        Setting("apps", "how apps are read: export (large tenants), per-device or detected", default="export",
                allowed=APP_MODES),
        Setting("export_timeout", "seconds the export job may take", default="1200", kind="number"),
        Setting("groups", "entra: each device's and its primary user's Entra ID groups, transitively; or off",
                default="entra", allowed=("entra", "off")),
        Setting("graph_url", "the Microsoft Graph root", default="https://graph.microsoft.com", kind="url"),
        Setting("login_url", "the Microsoft identity platform root", default="https://login.microsoftonline.com",
                kind="url"),
    )
    pushes = "intune"
    permissions = ("DeviceManagementManagedDevices.Read.All", "DeviceManagementApps.Read.All", *GROUP_PERMISSIONS)

    def configure(self, config: ConnectorConfig) -> ClientCredentials:
        self.config = config
        self.graph = config.need("graph_url").rstrip("/")
        login = config.need("login_url").rstrip("/")
        auth = ClientCredentials(f"{login}/{config.need('tenant')}/oauth2/v2.0/token", config.need("client_id"),
                                 config.need_secret(), scope="https://graph.microsoft.com/.default")
        self.mode = config.need("apps")
        self.groups = config.need("groups")
        self.export_timeout = float(config.need("export_timeout"))
        return auth

    def push(self, payload: Any, mdm_object: str | None, planner: ModuleType) -> Push:
        from interdit.inventory._intune_push import push

        return push(self, payload, mdm_object, planner)

    def _pages(self, url: str) -> Iterator[tuple[str, Any]]:
        n = 0
        next_url: str | None = url
        while next_url:
            n += 1
            page = self.api.get_json(next_url)
            yield f"{self.source}:{safe_url(url)}#page{n}", page
            link = page.get("@odata.nextLink") if isinstance(page, dict) else None
            next_url = self._same_host(link) if link else None

    def _same_host(self, link: Any) -> str:
        if not isinstance(link, str) or httpx.URL(link).host != httpx.URL(self.graph).host:
            raise InputError("@odata.nextLink points to another host", where=f"{self.source}: {safe_url(str(link))}",
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
        pages = GraphPages(self.source, self.tally, self.now)
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
            rows = AppInvRows(self.source, self.tally, self.now, pages)
            path = self._export()
            try:
                yield from rows.read(_csv_rows(path, self.tally))
            finally:
                path.unlink(missing_ok=True)
        yield from pages.finish()

    def _with_groups(self, listing: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        """The managedDevices pages, each device given its own and its primary user's Entra ID groups."""
        items = [item for _, page in listing if isinstance(page, dict) and isinstance(page.get("value"), list)
                 for item in page["value"] if isinstance(item, dict)]
        pairs = [targets(item) for item in items]
        found = EntraGroups(self.api, self.graph, self.source).of(t for pair in pairs for t in pair if t)
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
            raise InputError("the export job was not created", where=f"{self.source}: POST {jobs}",
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
                                 where=f"{self.source}: export job {job_id}",
                                 fix="run the sync again later; if it keeps failing, use apps: per-device")
            if waited + wait > self.export_timeout:
                raise InputError(f"the AppInvRawData export job did not complete within {self.export_timeout:.0f} s "
                                 f"(last status {str(state)[:40]!r})", where=f"{self.source}: export job {job_id}",
                                 fix="run the sync again later, or raise the source's export_timeout; large tenants "
                                     "take several minutes")
            self.sleep(wait)
            waited += wait
            wait = min(wait * 1.5, 30.0)
