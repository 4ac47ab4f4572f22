"""BlackBerry UEM: the console's device and app report export (UEM has no installed-apps API).

Reader `blackberry-uem`: the CSV export with one row per device and app. Column names vary with the UEM
version and the columns chosen; these are recognised (case-insensitive): device `Device ID` / `Device identifier`
/ `Serial number` / `IMEI`; `OS` / `Platform` / `Device OS`; `Ownership`; `Activation type`; `User` / `Email`
/ `User email`; `Last contact time` / `Last contact`; `Model`; `OS version`; `Group`; `App name`; `App identifier`
/ `Package name` / `Bundle ID`; `App version`. A device without apps has an empty app identifier.

Activation types: "MDM controls" and "Work and personal - full control" see every app; "User privacy",
"Work and personal - user privacy" and "Work space only" do not see personal apps. Ownership "Corporate" /
"Personal". The export is as fresh as its last-contact column says. An export without an app identifier or app
name column lists no apps at all: its devices are `not_reported`; an app with a name but no identifier is kept by
its name (the device is `display_names_only`). The encoding (UTF-8, UTF-16, Windows-1252) and the separator are
detected (`_encoding`).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from itertools import chain
from typing import Any

from interdit.errors import InputError
from interdit.inventory._common import (
    FileReader,
    Held,
    Snapshot,
    all_files,
    app_record,
    clean,
    looks_like_identifier,
    observed,
)
from interdit.inventory._encoding import (
    CUT_SHORT_FIX,
    CUT_SHORT_REASON,
    Tail,
    open_detected,
    separator_name,
    sniff_separator,
)
from interdit.inventory.base import Record, readers
from interdit.model import AppId, Device, Management, Ownership, Platform

MAX_BYTES = 8 * 1024**3
ColFn = Callable[[str], str]
COLUMNS = {
    "device": ("device id", "device identifier", "serial number", "imei"),
    "os": ("os", "platform", "device os"),
    "ownership": ("ownership",),
    "activation": ("activation type",),
    "user": ("user email", "email", "user", "username"),
    "seen": ("last contact time", "last contact", "last contacted"),
    "model": ("model",),
    "os_version": ("os version",),
    "group": ("group", "groups"),
    "app_name": ("app name", "application name"),
    "app_id": ("app identifier", "package name", "bundle id", "application identifier"),
    "app_version": ("app version", "application version"),
}


def management_of(activation: str, platform: Platform, note: Callable[[str], None] | None = None) -> Management:
    text = activation.lower()
    if "privacy" in text or "work space only" in text:
        return Management.WORK_PROFILE if platform is Platform.ANDROID else Management.USER_ENROLMENT
    if "full control" in text or "mdm controls" in text or "fully managed" in text:
        return Management.FULLY_MANAGED
    if text and note:
        note(f"BlackBerry UEM activation type {activation[:60]!r} is not a known value: the device's management is "
             "taken as unknown")
    return Management.UNKNOWN


def _one_behind(reader: Any) -> Iterator[tuple[list[str], int, bool]]:
    """Each row of a `csv.reader` with its line and whether it is the file's last."""
    held: tuple[list[str], int] | None = None
    for row in reader:
        if held is not None:
            yield held[0], held[1], False
        held = (row, reader.line_num)
    if held is not None:
        yield held[0], held[1], True


@readers.register("blackberry-uem")
class BlackBerryReader(FileReader):
    def records(self) -> Iterator[Record]:
        snap = Snapshot(self.source, self.tally)
        self.held = Held(snap)
        devices: dict[str, Device] = {}
        for path in all_files(self.inputs):
            if path.stat().st_size > MAX_BYTES:
                raise InputError("the export is over 8 GB", where=str(path), fix="split the export")
            fh, fmt = open_detected(path)
            with fh:
                first = fh.readline()
                sep = sniff_separator(first)
                if fmt.encoding not in ("utf-8", "utf-8-sig") or sep != ",":
                    self.tally.note(f"{path.name}: read as {fmt.describe()}, {separator_name(sep)}-separated")
                tail = Tail(fh)
                reader = csv.reader(chain((first,), tail), strict=True, delimiter=sep)
                header = [h.strip().lower() for h in next(reader, [])]
                index = {key: next((header.index(n) for n in names if n in header), None)
                         for key, names in COLUMNS.items()}
                if index["device"] is None or index["os"] is None:
                    raise InputError("not a UEM device export: no device id or OS column", where=f"{path}:1",
                                     fix="export the device report with the Device ID and OS columns")
                lists_apps = index["app_id"] is not None or index["app_name"] is not None
                try:
                    for row, line, last in _one_behind(reader):
                        place = f"{path}:{line}"
                        if last and tail.cut() and len(row) < len(header):  # unfinished: the export was cut short
                            yield snap.reject(place, CUT_SHORT_REASON, CUT_SHORT_FIX, kind="record")
                            continue

                        def col(key: str, row: list[str] = row, index: dict[str, int | None] = index) -> str:
                            i = index[key]
                            return row[i].strip() if i is not None and i < len(row) else ""

                        if not any(row):
                            continue
                        yield from self._row(snap, devices, place, col)
                        if lists_apps and col("device") in self.held.devices:
                            self.held.reported.add(col("device"))
                except csv.Error as e:
                    raise InputError(f"the CSV is malformed ({e})", where=f"{path}:{reader.line_num}",
                                     fix="export the report again") from None
        yield from self.held.finish()

    def _row(self, snap: Snapshot, devices: dict[str, Device], place: str, col: ColFn) -> Iterator[Record]:
        device_id = col("device")
        device = devices.get(device_id)
        if device is None:
            os_name = col("os").lower()
            platform = Platform.ANDROID if "android" in os_name else (
                Platform.IOS if "ios" in os_name or "ipados" in os_name else None)
            if not device_id or platform is None:
                yield snap.reject(place, "no device id" if not device_id else f"OS {col('os')!r} is not Android or iOS",
                                  "check the row in the export")
                return
            own = col("ownership").lower()
            ownership = Ownership.CORPORATE if own.startswith("corp") else (
                Ownership.PERSONAL if own.startswith("pers") else Ownership.UNKNOWN)
            try:
                seen = observed(col("seen"), self.now)
            except ValueError:
                yield snap.reject(place, f"last contact {col('seen')!r} is not a time", "export ISO 8601 times")
                return
            device = Device(self.source, device_id, platform, ownership,
                            management_of(col("activation"), platform, self.tally.note),
                            seen, user=clean(col("user")), model=clean(col("model")),
                            os_version=clean(col("os_version")),
                            groups=tuple(g.strip() for g in col("group").split(";") if g.strip()))
            devices[device_id] = device
            yield from self.held.hold(place, device)
        ident, name = col("app_id"), col("app_name")
        if not ident and not name:
            return
        if not looks_like_identifier(ident):
            if not name:
                yield snap.reject(place, f"app identifier {ident[:60]!r} is not a package name or bundle id", "",
                                  device_id=device_id, kind="app")
                return
            ident = AppId.named(device.platform, name).identifier  # kept by its name
            self.held.named.add(device_id)
        yield snap.app(place, app_record(self.source, device_id, device.platform, ident, device.observed_at,
                                              name=col("app_name"), version=col("app_version")))

