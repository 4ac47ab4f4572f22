"""Apple MDM command responses: `InstalledApplicationList` (and `DeviceInformation`), as a device sends them.

Reader `apple-mdm`: device responses as property lists (`.plist`), or NanoMDM / MicroMDM webhook bodies (`.json`,
or one per line in `.jsonl`) whose `acknowledge_event.raw_payload` is the base64 of that property list. Responses
of one device (by `UDID`, or the event's `udid` / `enrollment_id`) are merged: a `DeviceInformation` answer gives
the model, the OS version and supervision.

There is no live connector: an Apple MDM server delivers responses to a webhook, and interdit reads what the
webhook stored. A supervised device is institutionally owned and fully managed; without a `DeviceInformation`
answer, ownership and management are unknown. With User Enrollment (`ManagedAppsOnly` forced by the device), only
managed apps are listed: such devices are not evaluable for personal apps. A device with no
`InstalledApplicationList` answer among the responses has not reported its apps (`not_reported`); an empty list is
a real empty list (ask for it without `ManagedAppsOnly`, or the list holds managed apps only).
"""

from __future__ import annotations

import base64
import plistlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from interdit.errors import InputError
from interdit.inventory._common import (
    MAX_PAGE_BYTES,
    FileReader,
    Snapshot,
    all_files,
    app_record,
    clean,
    looks_like_identifier,
    parse_time,
    read_pages,
)
from interdit.inventory.base import Record, readers
from interdit.model import AppId, CoverageReason, Device, Management, Ownership, Platform

MAX_PLIST = 64 * 1024 * 1024


def _plist(data: bytes, where: str) -> dict[str, Any]:
    if len(data) > MAX_PLIST:
        raise InputError("a response over 64 MB", where=where, fix="check the file")
    if b"<!ENTITY" in data:
        raise InputError("the property list declares entities", where=where, fix="record the response as is")
    try:
        value = plistlib.loads(data)
    except (plistlib.InvalidFileException, ValueError, TypeError, OverflowError) as e:
        raise InputError(f"not a property list ({str(e)[:80]})", where=where, fix="record the response as is") from None
    if not isinstance(value, dict):
        raise InputError("the property list is not a dictionary", where=where, fix="record the response as is")
    return value


def _responses(path: Path) -> Iterator[tuple[str, dict[str, Any], str | None, datetime | None]]:
    """(place, response, device id from the envelope, time from the envelope)."""
    if path.suffix.lower() == ".plist":
        yield str(path), _plist(path.read_bytes(), str(path)), None, None
        return
    for place, body in read_pages(path, max_bytes=MAX_PAGE_BYTES):
        event = body.get("acknowledge_event") if isinstance(body, dict) else None
        if not isinstance(event, dict) or not isinstance(event.get("raw_payload"), str):
            raise InputError("not an MDM webhook body with acknowledge_event.raw_payload", where=place,
                             fix="store the webhook's JSON bodies as NanoMDM/MicroMDM send them")
        try:
            raw = base64.b64decode(event["raw_payload"], validate=False)
        except ValueError:
            raise InputError("raw_payload is not base64", where=place, fix="store the body as received") from None
        when = None
        try:
            when = parse_time(body.get("created_at"))
        except ValueError:
            when = None
        yield place, _plist(raw, place), clean(event.get("udid") or event.get("enrollment_id")), when


@readers.register("apple-mdm")
class AppleMdmReader(FileReader):
    def records(self) -> Iterator[Record]:
        snap = Snapshot(self.source, self.tally)
        info: dict[str, dict[str, Any]] = {}
        apps: dict[str, list[tuple[str, Any]]] = {}
        places: dict[str, str] = {}
        times: dict[str, datetime] = {}
        for path in all_files(self.inputs):
            for place, resp, envelope_id, when in _responses(path):
                device_id = clean(resp.get("UDID") or resp.get("EnrollmentID")) or envelope_id
                if not device_id:
                    yield snap.reject(place, "a response without UDID", "store the device's full response")
                    continue
                if str(resp.get("Status", "Acknowledged")) != "Acknowledged":
                    yield snap.reject(place, f"the device answered {resp.get('Status')!r}, not Acknowledged",
                                      "send the command again")
                    continue
                places.setdefault(device_id, place)
                if when is not None:
                    times[device_id] = max(when, times.get(device_id, when))
                if isinstance(resp.get("QueryResponses"), dict):
                    info[device_id] = resp["QueryResponses"]
                if isinstance(resp.get("InstalledApplicationList"), list):
                    apps[device_id] = [(f"{place}#InstalledApplicationList[{k}]", a)
                                       for k, a in enumerate(resp["InstalledApplicationList"])]
        for device_id, place in places.items():
            q = info.get(device_id, {})
            supervised = q.get("IsSupervised") if isinstance(q.get("IsSupervised"), bool) else None
            user_enrolled = q.get("IsUserEnrollment") is True or q.get("EnrollmentType") == "User"
            if user_enrolled:
                ownership, management = Ownership.PERSONAL, Management.USER_ENROLMENT
            elif supervised:
                ownership, management = Ownership.CORPORATE, Management.FULLY_MANAGED
            else:
                ownership, management = Ownership.UNKNOWN, Management.UNKNOWN
            model = str(q.get("ModelName") or q.get("Model") or "")
            platform = Platform.MACOS if model.lower().startswith("mac") else Platform.IOS
            listed = apps.get(device_id)
            named = any(isinstance(a, dict) and not looks_like_identifier(a.get("Identifier")) and clean(a.get("Name"))
                        for _, a in listed or ())
            gap = CoverageReason.NOT_REPORTED if listed is None else (
                CoverageReason.DISPLAY_NAMES_ONLY if named else None)
            device = Device(self.source, device_id, platform, ownership, management,
                            min(times.get(device_id, self.now), self.now), supervised=supervised,
                            name=clean(q.get("DeviceName")), model=clean(model), os_version=clean(q.get("OSVersion")),
                            addresses=tuple(a for a in (clean(q.get("WiFiMAC")),) if a), coverage_gap=gap)
            yield snap.device(place, device)
            for app_place, app in listed or ():
                ident = app.get("Identifier") if isinstance(app, dict) else None
                if not looks_like_identifier(ident):
                    name = clean(app.get("Name")) if isinstance(app, dict) else None
                    if not name:
                        yield snap.reject(app_place, "an application without Identifier or Name", "",
                                          device_id=device_id, kind="app")
                        continue
                    ident = AppId.named(platform, name).identifier  # kept by its name
                yield snap.app(app_place, app_record(self.source, device_id, platform, str(ident),
                                                          device.observed_at, name=app.get("Name"),
                                                          version=app.get("ShortVersion") or app.get("Version")))
