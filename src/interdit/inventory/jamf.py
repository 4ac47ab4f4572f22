"""Jamf Pro: the Jamf Pro API's `mobile-devices/detail` pages (JSON) and the Classic API's mobile devices (XML).

Readers:
- `jamf`: pages of `GET /api/v2/mobile-devices/detail?section=GENERAL&section=APPLICATIONS&section=USER_AND_LOCATION
  &section=HARDWARE&section=GROUPS` (`{"totalCount": N, "results": [...]}`), or single `GET
  /api/v2/mobile-devices/{id}/detail` responses.
- `jamf-classic`: `GET /JSSResource/mobiledevices/id/{id}` XML documents (`<mobile_device>`), one per file or
  wrapped in `<mobile_devices>`. Documents with a DTD or entities are refused.

Live connector `jamf`: by default the Jamf Pro API (`api=pro`): `page` / `page-size` pages of the detail
endpoint sorted by `mobileDeviceId`. For older servers, `api=classic` reads the Classic API instead: `GET
/JSSResource/mobiledevices` (every device's id), then `GET /JSSResource/mobiledevices/id/{id}/subset/
General&Location&Applications&MobileDeviceGroups` per device, as XML. Authentication (`auth`): `client` (default;
an API client's id and secret exchanged at `/api/oauth/token`, Jamf Pro 10.49 and later), `token` (a user's
`user:password` exchanged with HTTP Basic at `/api/v1/auth/token` for a bearer token, Jamf Pro 10.35 and later) or
`basic` (HTTP Basic on every Classic API call: servers before 10.35, or where Basic is still allowed). Full
snapshots only.
"""

from __future__ import annotations

import json
import time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from types import ModuleType
from typing import Any, cast

from interdit.errors import ConfigError, InputError
from interdit.inventory._common import (
    FileReader,
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
    obj,
    observed,
    parse_time,
)
from interdit.inventory._http import ApiClient, BasicAuth, ClientCredentials, TokenProvider, counted_pages, safe_url
from interdit.inventory.base import Record, readers
from interdit.inventory.live import ConnectorConfig, LiveConnector, Push, Setting, connectors
from interdit.model import AppId, CoverageReason, Device, Management, Ownership, Platform

MAX_XML_BYTES = 64 * 1024 * 1024
SECTIONS = ("GENERAL", "APPLICATIONS", "USER_AND_LOCATION", "HARDWARE", "GROUPS")


# deviceOwnershipType of the Jamf Pro API's MobileDeviceGeneral (developer.jamf.com/jamf-pro/reference/
# get_v2-mobile-devices-detail; the schema lists Institutional, PersonalDeviceProfile, UserEnrollment,
# AccountDrivenUserEnrollment, AccountDrivenDeviceEnrollment) and the Classic API's device_ownership_level
# (Institutional, Personal, User Enrollment), compared without spaces, underscores or case. Account-driven *device*
# enrolment is a device enrolment: Jamf Pro's inventory lists every app. Personal device profiles and (account-driven)
# user enrolment show only managed apps.
OWNERSHIP_TYPES: dict[str, tuple[Ownership, Management]] = {
    "institutional": (Ownership.CORPORATE, Management.FULLY_MANAGED),
    "accountdrivendeviceenrollment": (Ownership.CORPORATE, Management.FULLY_MANAGED),
    "personaldeviceprofile": (Ownership.PERSONAL, Management.USER_ENROLMENT),
    "personal": (Ownership.PERSONAL, Management.USER_ENROLMENT),
    "userenrollment": (Ownership.PERSONAL, Management.USER_ENROLMENT),
    "accountdrivenuserenrollment": (Ownership.PERSONAL, Management.USER_ENROLMENT),
}


def ownership_management(level: Any, managed: bool | None, note: Any = None) -> tuple[Ownership, Management]:
    """Ownership and management from Jamf's ownership type (see OWNERSHIP_TYPES) and `managed`: an unmanaged
    device shows no apps. An undocumented value is unknown, with a note naming it."""
    text = str(level or "").replace(" ", "").replace("_", "").lower()
    found = OWNERSHIP_TYPES.get(text)
    if found is None and text and note:
        note(f"Jamf Pro deviceOwnershipType {str(level)[:60]!r} is not a documented value: the device's management "
             "is taken as unknown")
    ownership, management = found or (Ownership.UNKNOWN, Management.UNKNOWN)
    if managed is False:
        return (Ownership.CORPORATE if ownership is Ownership.CORPORATE else Ownership.UNKNOWN), Management.UNMANAGED
    return ownership, management


def _gap(apps: Any) -> CoverageReason | None:
    """No application list (section not requested, or not collected): not reported; an app with a name but no
    bundle id: display names only."""
    if not isinstance(apps, list):
        return CoverageReason.NOT_REPORTED
    for app in apps:
        if isinstance(app, dict) and not looks_like_identifier(clean(app.get("identifier") or app.get("bundleId"))) \
                and clean(app.get("name")):
            return CoverageReason.DISPLAY_NAMES_ONLY
    return None


def _platform(kind: Any) -> Platform | None:
    text = str(kind or "ios").lower()
    if text in ("ios", "ipados", "iphone", "ipad"):
        return Platform.IOS
    return None  # tvOS, watchOS, visionOS: not in scope of app bans


def device_from_v2(source: str, item: Mapping[str, Any], now: datetime,
                   note: Any = None) -> tuple[Device, list[Any]]:
    """A Device and its raw applications from a v2 detail item (list or single-device shape)."""
    general = obj(item, "general")
    hardware = obj(item, "hardware")
    ios = obj(item, "ios")
    loc = obj(item, "userAndLocation") or obj(item, "location")
    device_id = clean(item.get("mobileDeviceId") or item.get("id"))
    if not device_id:
        raise ValueError("device without mobileDeviceId")
    platform = _platform(item.get("deviceType") or item.get("type"))
    if platform is None:
        raise ValueError(f"device type {item.get('deviceType') or item.get('type')!r} is not an iPhone or iPad")
    managed = bool_or_none(general.get("managed", item.get("managed")))
    level = general.get("deviceOwnershipType") or item.get("deviceOwnershipLevel") or item.get("deviceOwnershipType")
    ownership, management = ownership_management(level, managed, note)
    supervised = bool_or_none(general.get("supervised", ios.get("supervised", item.get("supervised"))))
    seen = general.get("lastInventoryUpdateDate") or item.get("lastInventoryUpdateTimestamp") \
        or item.get("lastInventoryUpdateDate")
    groups = tuple(g for g in (clean(x.get("groupName")) for x in item.get("groups") or [] if isinstance(x, dict))
                   if g)
    wifi = clean(hardware.get("wifiMacAddress"))
    ip = clean(general.get("ipAddress"))
    apps = item.get("applications")
    if apps is None:
        apps = ios.get("applications")
    device = Device(
        source=source, device_id=device_id, platform=platform, ownership=ownership, management=management,
        observed_at=observed(seen, now), supervised=supervised,
        user=clean(loc.get("emailAddress") or loc.get("username")),
        name=clean(general.get("displayName") or item.get("name")),
        model=clean(hardware.get("model") or ios.get("model")),
        os_version=clean(general.get("osVersion") or item.get("osVersion")),
        org_unit=clean(loc.get("department") if not str(loc.get("department", "")).isdigit() else None),
        groups=groups, addresses=tuple(a for a in (ip, wifi) if a), coverage_gap=_gap(apps),
        org_labels=(*label("site", obj(general, "site").get("name") or obj(item, "site").get("name")),
                    *label("department", loc.get("department")), *label("building", loc.get("building"))),
    )
    return device, apps if isinstance(apps, list) else []


def v2_records(source: str, snap: Snapshot, now: datetime, place: str, page: Any) -> Iterator[Record]:
    if isinstance(page, dict) and isinstance(page.get("results"), list):
        items = page["results"]
    elif isinstance(page, dict) and (page.get("mobileDeviceId") or page.get("id")):
        items = [page]
    else:
        raise InputError("not a Jamf Pro mobile-devices/detail response", where=place,
                         fix="record GET /api/v2/mobile-devices/detail pages as they are")
    note = snap.tally.note
    yield from device_items(snap, f"{place}#results", items, lambda item: device_from_v2(source, item, now, note),
                            lambda where, device, apps: _apps(source, snap, device, apps, where),
                            fix="check the device in Jamf Pro")


def _apps(source: str, snap: Snapshot, device: Device, apps: list[Any], where: str) -> Iterator[Record]:
    for k, app in enumerate(apps):
        app_place = f"{where}.applications[{k}]"
        ident = clean(app.get("identifier") or app.get("bundleId")) if isinstance(app, dict) else None
        name = clean(app.get("name")) if isinstance(app, dict) else None
        if not isinstance(app, dict) or not (looks_like_identifier(ident) or name):
            yield snap.reject(app_place, "an application without a bundle identifier or a name",
                              "check the app in Jamf Pro", device_id=device.device_id, kind="app")
            continue
        # an app with a name but no bundle id is kept by its name (the device says display names only)
        app_id = ident if ident is not None and looks_like_identifier(ident) else AppId.named(device.platform,
                                                                                              name or "").identifier
        status = str(app.get("managementStatus") or app.get("management_status") or "")
        managed = True if status.lower() == "managed" else (False if status else None)
        yield snap.app(app_place, app_record(source, device.device_id, device.platform, app_id,
                                                  device.observed_at, name=app.get("name"),
                                                  version=app.get("shortVersion") or app.get("version"),
                                                  managed=managed))


@readers.register("jamf")
class JamfReader(FileReader):
    def records(self) -> Iterator[Record]:
        snap = Snapshot(self.source, self.tally)
        for place, page in self.pages():
            yield from v2_records(self.source, snap, self.now, place, page)


# -- Classic API XML ---------------------------------------------------------------------------------


def _text(node: ET.Element | None, path: str) -> str | None:
    if node is None:
        return None
    found = node.find(path)
    return clean(found.text) if found is not None and found.text else None


def classic_root(data: bytes, where: str) -> ET.Element:
    """The root element of a Classic API answer. A DTD or entities fail the read (InputError); XML that is not
    well-formed is a ValueError (a live connector retries it, like malformed JSON)."""
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise InputError("the XML declares a DTD or entities, which Jamf never sends", where=where,
                         fix="record the Classic API response as is")
    try:
        return ET.fromstring(data)
    except ET.ParseError as e:
        raise ValueError(f"not well-formed XML ({e})") from None


def parse_classic(data: bytes, where: str) -> list[ET.Element]:
    if len(data) > MAX_XML_BYTES:
        raise InputError(f"over {MAX_XML_BYTES:,} bytes", where=where, fix="record one device per file")
    try:
        root = classic_root(data, where)
    except ValueError as e:
        raise InputError(str(e), where=where, fix="record the response again") from None
    if root.tag == "mobile_device":
        return [root]
    if root.tag == "mobile_devices":
        return root.findall("mobile_device")
    raise InputError(f"the root element is <{root.tag}>, not <mobile_device>", where=where,
                     fix="record GET /JSSResource/mobiledevices/id/{id}")


def classic_apps(node: ET.Element) -> list[dict[str, Any]] | None:
    """The `<applications>` of a `<mobile_device>`, or None when the document has none (not reported)."""
    if node.find("applications") is None:
        return None
    return [{"identifier": _text(a, "identifier"), "name": _text(a, "application_name"),
             "version": _text(a, "application_short_version") or _text(a, "application_version"),
             "managementStatus": _text(a, "application_status")}
            for a in node.findall("applications/application")]


def device_from_classic(source: str, node: ET.Element, now: datetime, note: Any = None) -> Device:
    general = node.find("general")
    location = node.find("location")
    device_id = _text(general, "id")
    if not device_id:
        raise ValueError("mobile_device without general/id")
    os_type = _text(general, "os_type") or "iOS"
    platform = _platform(os_type)
    if platform is None:
        raise ValueError(f"os_type {os_type!r} is not iOS or iPadOS")
    managed = bool_or_none(_text(general, "managed"))
    ownership, management = ownership_management(_text(general, "device_ownership_level"), managed, note)
    seen = _text(general, "last_inventory_update_utc") or _text(general, "last_inventory_update_epoch")
    groups = tuple(g for g in (_text(x, "name") for x in node.findall("mobile_device_groups/mobile_device_group"))
                   if g)
    ip, wifi = _text(general, "ip_address"), _text(general, "wifi_mac_address")
    return Device(
        source=source, device_id=device_id, platform=platform, ownership=ownership, management=management,
        observed_at=observed(seen, now), supervised=bool_or_none(_text(general, "supervised")),
        user=_text(location, "email_address") or _text(location, "username"),
        name=_text(general, "device_name") or _text(general, "name"), model=_text(general, "model"),
        os_version=_text(general, "os_version"), org_unit=_text(location, "department"), groups=groups,
        addresses=tuple(a for a in (ip, wifi) if a), coverage_gap=_gap(classic_apps(node)),
        org_labels=(*label("site", _text(general, "site/name")), *label("department", _text(location, "department")),
                    *label("building", _text(location, "building"))),
    )


@readers.register("jamf-classic")
class JamfClassicReader(FileReader):
    def records(self) -> Iterator[Record]:
        snap = Snapshot(self.source, self.tally)
        for path in all_files(self.inputs):
            for n, node in enumerate(parse_classic(path.read_bytes(), str(path))):
                yield from classic_records(self.source, snap, self.now, f"{path}#mobile_device[{n}]", node)


def classic_records(source: str, snap: Snapshot, now: datetime, where: str, node: ET.Element) -> Iterator[Record]:
    """One `<mobile_device>` and its applications."""
    try:
        device = device_from_classic(source, node, now, snap.tally.note)
    except ValueError as e:
        yield snap.reject(where, str(e), "check the device in Jamf Pro", device_id=_text(node.find("general"), "id"))
        return
    yield snap.device(where, device)
    yield from _apps(source, snap, device, classic_apps(node) or [], where)


# -- live --------------------------------------------------------------------------------------------


CLASSIC_SUBSETS = "General&Location&Applications&MobileDeviceGroups"
TOKEN_LIFETIME = 20 * 60.0  # Jamf Pro's default when the answer's `expires` cannot be read


class JamfUserToken:
    """Jamf Pro's own token grant: a user's `user:password` sent with HTTP Basic to `/api/v1/auth/token`, which
    answers `{"token": ..., "expires": ...}`. Cached until a minute before it expires; a 401 drops it once."""

    def __init__(self, token_url: str, secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self.token_url = token_url
        self._basic = BasicAuth.from_secret(secret)
        self.clock = clock
        self._token: str | None = None
        self._expires = 0.0

    def __repr__(self) -> str:
        return f"JamfUserToken({safe_url(self.token_url)!r})"

    def headers(self, api: ApiClient) -> dict[str, str]:
        if self._token is None or self.clock() >= self._expires:
            _, body = api.request("POST", self.token_url, authenticated=False, parse=json.loads,
                                  headers={"Accept": "application/json", **self._basic.headers(api)})
            token = body.get("token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                raise ConfigError("Jamf Pro answered without a token", where=f"{api.source}: POST "
                                  f"{safe_url(self.token_url)}", fix="check the user name and the password")
            try:
                expires = parse_time(body.get("expires"))
            except ValueError:
                expires = None
            lifetime = (expires.timestamp() - self.clock()) if expires else TOKEN_LIFETIME
            self._token = token
            self._expires = self.clock() + max(0.0, min(lifetime, 24 * 3600.0) - 60)
        return {"Authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        self._token = None


@connectors.register()
class JamfConnector(LiveConnector):
    """Jamf Pro (the Jamf Pro API, or the Classic API); the secret is the API client's secret, or `user:password`.
    Pushes `jamf` payloads: a mobile device configuration profile found by name (Classic API)."""

    name = "jamf"
    settings = (
        Setting("base_url", "your Jamf Pro URL, e.g. https://example.jamfcloud.com", required=True, kind="url"),
        Setting("api", "pro (the Jamf Pro API) or classic", default="pro", allowed=("pro", "classic")),
        Setting("auth", "client (an API client), token (user:password for a token) or basic (Classic API only)",
                default="client", allowed=("client", "token", "basic")),
        Setting("client_id", "the API client's id (with auth: client)"),
    )
    pushes = "jamf"
    page_size = 100

    def configure(self, config: ConnectorConfig) -> TokenProvider:
        self.base = config.need("base_url").rstrip("/")
        self.classic = config.need("api") == "classic"
        auth = config.need("auth")
        if auth == "basic":
            if not self.classic:
                raise ConfigError("the Jamf Pro API does not take HTTP Basic credentials",
                                  where=f"source {self.source}",
                                  fix="use auth: token (user:password exchanged for a token) or auth: client")
            return BasicAuth.from_secret(config.need_secret())
        if auth == "token":
            return JamfUserToken(f"{self.base}/api/v1/auth/token", config.need_secret())
        return ClientCredentials(f"{self.base}/api/oauth/token", config.need("client_id"), config.need_secret())

    def _page(self, page: int, size: int, sections: tuple[str, ...]) -> Any:
        return self.api.get_json(f"{self.base}/api/v2/mobile-devices/detail",
                                 params={"section": list(sections), "page": page, "page-size": size,
                                         "sort": "mobileDeviceId:asc"})

    def _results(self, page_no: int, _offset: int) -> Any:
        page = self._page(page_no, self.page_size, SECTIONS)
        if not isinstance(dig(page, "results"), list):
            raise InputError("the answer has no 'results' list", where=f"{self.source}: page {page_no}",
                             fix="check the base_url; it must be the Jamf Pro server")
        return page

    def _xml(self, path: str, tag: str) -> ET.Element:
        url = f"{self.base}/JSSResource/{path}"
        where = f"{self.source}: GET {safe_url(url)}"
        def parse(body: bytes) -> ET.Element:
            root = classic_root(body, where)
            if root.tag != tag:  # an HTML error or maintenance page: retried like malformed JSON
                raise ValueError(f"the root element is <{root.tag}>, not <{tag}>")
            return root

        root: ET.Element = self.api.request("GET", url, headers={"Accept": "application/xml"}, parse=parse)[1]
        return root

    def check(self) -> str:
        if self.classic:
            listed = self._xml("mobiledevices", "mobile_devices")
            return f"credentials accepted; {len(listed.findall('mobile_device'))} mobile devices (Classic API)"
        page = self._page(0, 1, ("GENERAL",))
        return f"token accepted; {count_of(dig(page, 'totalCount'))} mobile devices in Jamf Pro"

    def records(self) -> Iterator[Record]:
        snap = Snapshot(self.source, self.tally)
        if self.classic:
            yield from self._classic(snap)
            return
        for page_no, _, page in counted_pages(self._results, items=("results",), total=("totalCount",)):
            yield from v2_records(self.source, snap, self.now, f"{self.source}:page{page_no}", page)

    def _classic(self, snap: Snapshot) -> Iterator[Record]:
        listed = self._xml("mobiledevices", "mobile_devices")
        for n, entry in enumerate(listed.findall("mobile_device")):
            device_id = _text(entry, "id")
            if not device_id or not device_id.isdigit():
                yield snap.reject(f"{self.source}:mobiledevices#mobile_device[{n}]",
                                  "a mobile device without a numeric id", "check the device in Jamf Pro")
                continue
            node = self._xml(f"mobiledevices/id/{device_id}/subset/{CLASSIC_SUBSETS}", "mobile_device")
            yield from classic_records(self.source, snap, self.now, f"{self.source}:mobiledevices/id/{device_id}", node)

    def push(self, payload: Any, mdm_object: str | None, planner: ModuleType) -> Push:
        """A mobile device configuration profile found by name (Classic API): created with the payload's XML
        (scope empty), or updated with `general/payloads` only."""
        root = f"{self.base}/JSSResource/mobiledeviceconfigurationprofiles"
        xml = {"Accept": "application/xml"}
        shown = planner.profile_name(payload, mdm_object)
        profile_id = planner.find_profile(self.api.request("GET", root, headers=xml)[1], shown)
        current = self.api.request("GET", f"{root}/id/{profile_id}", headers=xml)[1] if profile_id else None
        lines, change = planner.plan(current, payload, mdm_object)

        def send() -> list[Any]:
            if change is None:
                return []
            method, url = ("POST", f"{root}/id/0") if change["id"] is None else ("PUT", f"{root}/id/{change['id']}")
            with warnings.catch_warnings():  # the Classic API takes raw XML, which httpx sends as `data` bytes
                warnings.filterwarnings("ignore", message="Use 'content=", category=DeprecationWarning)
                body = self.api.request(method, url, data=cast(Any, change["xml"]),
                                        headers={**xml, "Content-Type": "application/xml"})[1]
            made = change["id"]
            if made is None:
                try:
                    made = planner.parse(body, "created profile").findtext("id")
                except ValueError:
                    made = None
            return [{"created" if change["id"] is None else "updated": shown, "id": made}]

        return Push(shown, lines, send)

