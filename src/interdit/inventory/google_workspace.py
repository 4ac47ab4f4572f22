"""Google Workspace: the Directory API's mobile devices, with ownership from Cloud Identity where given.

Reader `google-workspace`: pages of `GET admin/directory/v1/customer/{c}/devices/mobile?projection=FULL`
(`{"mobiledevices": [...]}`), optionally with Cloud Identity `devices.list` pages (`{"devices": [...]}` with
`ownerType` COMPANY or BYOD), matched by serial number. Give the Cloud Identity pages first.

Live connector `google-workspace`: a service account with domain-wide delegation (`subject`: an administrator),
scope `admin.directory.device.mobile.readonly` (and `cloud-identity.devices.readonly` when `cloud_identity=yes`).

`applications[]` exists only for Android devices under advanced management: iOS devices report no apps, so they
are `unmanaged` here (not evaluable); an Android device without the list (basic management, or not yet reported)
is `not_reported`, never "nothing installed"; an empty list is a real empty list. An Android device whose managed
account is not on the owner profile is a work profile (personal side unseen).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from interdit.errors import InputError
from interdit.inventory._common import (
    FileReader,
    Snapshot,
    app_record,
    clean,
    count_of,
    device_items,
    dig,
    label,
    looks_like_identifier,
    observed,
)
from interdit.inventory._http import GoogleServiceAccount, token_pages
from interdit.inventory.base import Record, Tally, readers
from interdit.inventory.live import ConnectorConfig, LiveConnector, Setting, connectors
from interdit.model import CoverageReason, Device, Management, Ownership, Platform

DIRECTORY = "https://admin.googleapis.com/admin/directory/v1"
CLOUD_IDENTITY = "https://cloudidentity.googleapis.com/v1"
SCOPES = "https://www.googleapis.com/auth/admin.directory.device.mobile.readonly"
CI_SCOPE = "https://www.googleapis.com/auth/cloud-identity.devices.readonly"
# Cloud Identity Device.ownerType: https://cloud.google.com/identity/docs/reference/rest/v1/devices#DeviceOwnership
OWNER = {"COMPANY": Ownership.CORPORATE, "BYOD": Ownership.PERSONAL, "OWNER_TYPE_UNSPECIFIED": Ownership.UNKNOWN}


def device_from_workspace(source: str, item: Mapping[str, Any], owners: Mapping[str, str],
                          now: datetime, note: Any = None,
                          people: Mapping[str, tuple[str | None, tuple[str, ...]]] | None = None
                          ) -> tuple[Device, list[Any]]:
    """A device; `people` gives each user's (org-unit path, groups), by lower-case address, when read."""
    device_id = clean(item.get("resourceId") or item.get("deviceId"))
    if not device_id:
        raise ValueError("mobile device without resourceId")
    kind = str(item.get("type") or "").upper()
    if kind == "ANDROID":
        platform = Platform.ANDROID
    elif kind.startswith("IOS"):
        platform = Platform.IOS
    else:
        raise ValueError(f"device type {kind!r} is not Android or iOS")
    serial = clean(item.get("serialNumber"))
    owner_type = owners.get(serial or "", "")
    ownership = OWNER.get(owner_type, Ownership.UNKNOWN)
    if owner_type and owner_type not in OWNER and note:
        note(f"Cloud Identity ownerType {owner_type[:60]!r} is not a documented value: taken as unknown")
    apps = item.get("applications")
    gap = CoverageReason.NOT_REPORTED if platform is Platform.ANDROID and not isinstance(apps, list) else None
    if platform is Platform.ANDROID:
        on_owner = item.get("managedAccountIsOnOwnerProfile")
        if on_owner is False:
            management = Management.WORK_PROFILE
        elif on_owner is True and ownership is Ownership.CORPORATE:
            management = Management.FULLY_MANAGED
        else:
            management = Management.UNKNOWN
    else:
        management = Management.UNMANAGED  # no app inventory from this source
    device = Device(source=source, device_id=device_id, platform=platform, ownership=ownership,
                    management=management, observed_at=observed(item.get("lastSync") or item.get("firstSync"), now),
                    user=clean(item.get("email")), name=clean(item.get("name")), model=clean(item.get("model")),
                    os_version=clean(item.get("os")), coverage_gap=gap,
                    **_placement(people or {}, clean(item.get("email"))))
    return device, apps if isinstance(apps, list) else []


def _placement(people: Mapping[str, tuple[str | None, tuple[str, ...]]], email: str | None) -> dict[str, Any]:
    """The user's org-unit path (as the org unit, and as a label the policy can map) and groups."""
    path, groups = people.get((email or "").lower(), (None, ()))
    return {"org_unit": path if path and path.startswith("/") else None,
            "org_labels": label("org_unit_path", path), "groups": groups}


USER_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
GROUP_SCOPE = "https://www.googleapis.com/auth/admin.directory.group.readonly"
MAX_GROUP_PAGES = 20  # pages of one user's groups (200 each)


class WorkspacePages:
    def __init__(self, source: str, tally: Tally, now: datetime) -> None:
        self.source = source
        self.now = now
        self.snap = Snapshot(source, tally)
        self.owners: dict[str, str] = {}
        self.people: dict[str, tuple[str | None, tuple[str, ...]]] = {}  # address -> (org-unit path, groups)

    def feed(self, place: str, page: Any) -> Iterator[Record]:
        if isinstance(page, dict) and isinstance(page.get("users"), list) and "mobiledevices" not in page:
            for u in page["users"]:  # Directory users: each one's org-unit path
                if isinstance(u, dict) and isinstance(u.get("primaryEmail"), str):
                    key = u["primaryEmail"].lower()
                    self.people[key] = (clean(u.get("orgUnitPath")), self.people.get(key, (None, ()))[1])
            return
        if isinstance(page, dict) and isinstance(page.get("groups"), list) and isinstance(page.get("userKey"), str):
            key = page["userKey"].lower()  # Directory groups of one user (`userKey` added when recording)
            names = [clean(g.get("name") or g.get("email")) for g in page["groups"] if isinstance(g, dict)]
            path, known = self.people.get(key, (None, ()))
            self.people[key] = (path, tuple(sorted({*known, *(n for n in names if n)})))
            return
        if isinstance(page, dict) and isinstance(page.get("devices"), list) and "mobiledevices" not in page:
            for d in page["devices"]:  # Cloud Identity devices: ownership by serial number
                if isinstance(d, dict) and d.get("serialNumber") and d.get("ownerType"):
                    self.owners[str(d["serialNumber"])] = str(d["ownerType"])
            return
        if not isinstance(page, dict) or not isinstance(page.get("mobiledevices", []), list):
            raise InputError("not a Directory API mobiledevices page", where=place, fix="record the response as is")
        yield from device_items(self.snap, f"{place}#mobiledevices", page.get("mobiledevices", []), self._device,
                                self._apps, fix="check the device in the Google Admin console")

    def _device(self, item: Mapping[str, Any]) -> tuple[Device, list[Any]]:
        return device_from_workspace(self.source, item, self.owners, self.now, self.snap.tally.note, self.people)

    def _apps(self, where: str, device: Device, apps: list[Any]) -> Iterator[Record]:
        for k, app in enumerate(apps):
            app_place = f"{where}.applications[{k}]"
            if not isinstance(app, dict) or not looks_like_identifier(app.get("packageName")):
                yield self.snap.reject(app_place, "an application without a package name", "",
                                       device_id=device.device_id, kind="app")
                continue
            yield self.snap.app(app_place, app_record(
                self.source, device.device_id, device.platform, str(app["packageName"]), device.observed_at,
                name=app.get("displayName"), version=app.get("versionName")))


@readers.register("google-workspace")
class GoogleWorkspaceReader(FileReader):
    def records(self) -> Iterator[Record]:
        pages = WorkspacePages(self.source, self.tally, self.now)
        for place, page in self.pages():
            yield from pages.feed(place, page)


@connectors.register()
class GoogleWorkspaceConnector(LiveConnector):
    """Google Workspace mobile devices (Admin SDK Directory API); the secret is the service account's JSON key."""

    name = "google-workspace"
    settings = (
        Setting("subject", "an administrator's address to act as", required=True),
        Setting("customer", "the customer id", default="my_customer"),
        Setting("cloud_identity", "yes to read each device's ownership (Cloud Identity)", default="no", kind="flag"),
        Setting("org_units", "yes to read each user's org-unit path", default="no", kind="flag"),
        Setting("groups", "yes to read each user's groups", default="no", kind="flag"),
        Setting("api_url", "the Directory API root (a test server)", default=DIRECTORY, kind="url"),
        Setting("cloud_identity_url", "the Cloud Identity API root (a test server)", default=CLOUD_IDENTITY,
                kind="url"),
        Setting("token_url", "the token endpoint [default: the key's token_uri]", kind="url"),
    )

    def configure(self, config: ConnectorConfig) -> GoogleServiceAccount:
        self.customer = config.need("customer")
        self.cloud_identity = config.flag("cloud_identity")
        self.org_units = config.flag("org_units")
        self.groups = config.flag("groups")
        scope = " ".join([SCOPES, *([CI_SCOPE] if self.cloud_identity else []),
                          *([USER_SCOPE] if self.org_units else []), *([GROUP_SCOPE] if self.groups else [])])
        auth = GoogleServiceAccount(config.need_secret(), scope, subject=config.need("subject"),
                                    token_url=config.get("token_url"))
        self.directory = config.need("api_url").rstrip("/")
        self.ci = config.need("cloud_identity_url").rstrip("/")
        return auth

    def _pages(self, url: str, params: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        for n, page in enumerate(token_pages(self.api, url, params), 1):
            yield f"{self.source}:{url.rsplit('/', 1)[-1]}#page{n}", page

    def check(self) -> str:
        page = self.api.get_json(f"{self.directory}/customer/{self.customer}/devices/mobile", params={"maxResults": 1})
        return f"token accepted; {count_of(dig(page, 'mobiledevices'))} on the first page"

    def records(self) -> Iterator[Record]:
        pages = WorkspacePages(self.source, self.tally, self.now)
        if self.cloud_identity:
            customer = "customers/my_customer" if self.customer == "my_customer" else f"customers/{self.customer}"
            for place, page in self._pages(f"{self.ci}/devices", {"customer": customer, "pageSize": 100}):
                yield from pages.feed(place, page)
        if self.org_units:
            users: dict[str, Any] = {"customer": self.customer, "maxResults": 500, "projection": "basic",
                                     "fields": "users(primaryEmail,orgUnitPath),nextPageToken"}
            for place, page in self._pages(f"{self.directory}/users", users):
                yield from pages.feed(place, page)
        listing = self._pages(f"{self.directory}/customer/{self.customer}/devices/mobile",
                              {"projection": "FULL", "maxResults": 100})
        if self.groups:  # every page first: a device's groups are its user's, read once per user
            listing = iter(self._with_groups(pages, list(listing)))
        for place, page in listing:
            yield from pages.feed(place, page)

    def _with_groups(self, pages: WorkspacePages, listing: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        users = sorted({e.lower() for _, page in listing if isinstance(page, dict)
                        for item in page.get("mobiledevices") or [] if isinstance(item, dict)
                        for e in (item.get("email") or [])[:1] if isinstance(e, str)})
        for user in users:
            for n, page in enumerate(token_pages(self.api, f"{self.directory}/groups",
                                                 {"userKey": user, "maxResults": 200})):
                if n >= MAX_GROUP_PAGES:
                    raise InputError(f"over {MAX_GROUP_PAGES} pages of groups for one user", where=f"{self.source}",
                                     fix="check the user's groups in the Google Admin console")
                if isinstance(page, dict):
                    list(pages.feed(f"{self.source}:groups", {"groups": page.get("groups") or [], "userKey": user}))
        return listing
