"""What the MDM readers share: times, bounded page files, the device/app snapshot check, a page's device loop,
identifiers, and the base of the file readers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from interdit.errors import InputError
from interdit.inventory.base import BAD_TEXT, Record, Tally
from interdit.model import AppId, AppState, CoverageReason, Device, InstalledApp, Platform, Rejection

MAX_PAGE_BYTES = 512 * 1024 * 1024  # one recorded response (a .json file or one .jsonl line)
MAX_FIELD = 512  # characters kept of any free-text field
_IDENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)+$")
T = TypeVar("T")


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (`Z`, `+00:00`, `+0000`, fractions of any length) or epoch milliseconds; None when absent.

    A time without a zone is read as UTC (the vendors' documented convention); garbage raises ValueError.
    """
    try:
        return _parse_time(value)
    except (OverflowError, OSError) as e:
        raise ValueError(f"not a time: {str(value)[:40]!r} ({e})") from None


def _parse_time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    text = str(value).strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC)
    text = text.replace("Z", "+00:00").replace("z", "+00:00")
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?([+-]\d\d:?\d\d)?$", text)
    if m:
        frac = (m.group(2) or "")[:7].ljust(7, "0") if m.group(2) else ""
        zone = m.group(3) or "+00:00"
        if len(zone) == 5:
            zone = zone[:3] + ":" + zone[3:]
        text = m.group(1) + frac + zone
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def clean(value: Any) -> str | None:
    """A free-text field as a short single-line string, or None."""
    if value is None:
        return None
    if type(value) is str and len(value) <= MAX_FIELD and value.isprintable() and value == value.strip():
        return value or None  # the common case, without copies
    if isinstance(value, list):
        value = value[0] if value else None
        if value is None:
            return None
    text = str(value).replace("\n", " ").replace("\r", " ").strip()
    return text[:MAX_FIELD] or None


# -- text a database can keep ------------------------------------------------------------------------
# JSON can carry a NUL ("\u0000") or half a UTF-16 surrogate pair ("\ud800") in any string; neither is text
# (UTF-8 cannot encode a lone surrogate, PostgreSQL refuses NUL). Every reader's records pass through
# `Snapshot` (the MDM readers) or `_neutral._Checks` (csv, jsonl), which reject such a record alone, with its
# place and this fix, so one bad value never stops an import.

BAD_TEXT_FIX = ("correct the value in the source or the export: a NUL character or half of a UTF-16 surrogate "
                "pair is not text; the rest of the snapshot is imported")


def text_problem(field: str, value: str | None) -> str | None:
    """Why `value` (of `field`) is not storable text, or None. The common case (ASCII without NUL) costs two
    C-level scans."""
    if value is None or (value.isascii() and "\x00" not in value):
        return None
    m = BAD_TEXT.search(value)
    if m is None:
        return None
    what = "a NUL character" if m.group() == "\x00" else f"a lone surrogate (\\u{ord(m.group()):04x})"
    return f"{field} holds {what} at position {m.start() + 1}"


def device_text_problem(device: Device) -> str | None:
    """The first field of `device` that is not storable text, or None."""
    for name in ("device_id", "user", "name", "model", "os_version", "org_unit"):
        problem = text_problem(name, getattr(device, name))
        if problem:
            return problem
    for name in ("groups", "addresses", "org_labels"):
        for value in getattr(device, name, ()):
            for part in value if isinstance(value, tuple) else (value,):
                problem = text_problem(name, part if isinstance(part, str) else None)
                if problem:
                    return problem
    return None


def app_text_problem(app: InstalledApp) -> str | None:
    """The first field of `app` that is not storable text, or None (the hot path: one call per app row)."""
    return (text_problem("device_id", app.device_id) or text_problem("identifier", app.app.identifier)
            or text_problem("name", app.name) or text_problem("version", app.version))


def printable_id(value: str | None) -> str | None:
    """`value` when it is storable text (to name a rejected record's device), else None."""
    return value if value and text_problem("id", value) is None else None


def looks_like_identifier(text: str | None) -> bool:
    return bool(text) and len(text or "") <= 255 and _IDENT.match(text or "") is not None


def resolve_identifier(platform: Platform, name: str | None, *candidates: str | None) -> str | None:
    """An app identifier for sources that report names (Intune): an identifier-shaped value among the
    candidates or the name itself, else `name:<display name>` (`AppId.named`): the app is kept, and the
    evaluation matches it against the stores' names; the device is marked as listed by display names only."""
    for c in (*candidates, name):
        if looks_like_identifier(c):
            return c
    if not name:
        return None
    return AppId.named(platform, name).identifier


class Resolver:
    """`resolve_identifier` with a bounded cache of `AppId`s: names repeat across a fleet's devices."""

    def __init__(self, limit: int = 500_000) -> None:
        self.cache: dict[tuple[Platform, str | None, str | None], AppId | None] = {}
        self.limit = limit

    def __call__(self, platform: Platform, name: str | None, key: str | None = None) -> AppId | None:
        k = (platform, name, key)
        try:
            return self.cache[k]
        except KeyError:
            pass
        ident = resolve_identifier(platform, name, key)
        value = AppId(platform, ident) if ident else None
        if len(self.cache) >= self.limit:
            self.cache.clear()
        self.cache[k] = value
        return value


class Snapshot:
    """Checks that every app's device is in the same snapshot, and that each device and app appears once."""

    def __init__(self, source: str, tally: Tally) -> None:
        self.source = source
        self.tally = tally
        self.devices: set[str] = set()
        # duplicates are caught within each device's run of apps (every nested format gives them together);
        # a set of every (device, app) pair of a 6,000,000-row fleet would not fit the memory bound
        self._run_device: str | None = None
        self._run_apps: set[AppId] = set()
        self.rejected: set[str] = set()  # devices whose record was rejected: their apps say so

    def reject(self, place: str, reason: str, fix: str = "", *, device_id: str | None = None,
               kind: str = "device") -> Rejection:
        return self.tally.reject(Rejection(place, reason, fix, printable_id(device_id), kind))

    def device(self, place: str, device: Device) -> Record:
        problem = device_text_problem(device)
        if problem:
            self.rejected.add(device.device_id)
            return self.reject(place, problem, BAD_TEXT_FIX, device_id=device.device_id)
        if device.device_id in self.devices:
            return self.reject(place, f"device {device.device_id!r} appears twice in the snapshot",
                               "export the snapshot again; each device must appear once")
        self.devices.add(device.device_id)
        self.tally.accept()
        return device

    def app(self, place: str, app: InstalledApp, line: int | None = None, item: int | None = None) -> Record:
        """The app, or its rejection. `line` (`place:line`) or `item` (`place[item]`) complete the place, formatted
        only when a rejection needs it."""
        device_id = app.device_id
        # the common case in a few C-level scans (the device id is checked with its device: a bad one is not in
        # `self.devices`, so the app is rejected below)
        ident, name, version = app.app.identifier, app.name, app.version
        if not (ident.isascii() and (name is None or name.isascii()) and (version is None or version.isascii())) \
                or "\x00" in ident or (name is not None and "\x00" in name) \
                or (version is not None and "\x00" in version):
            problem = app_text_problem(app)
            if problem:
                return self.reject(_at(place, line, item), problem, BAD_TEXT_FIX, device_id=device_id, kind="app")
        if device_id != self._run_device:
            if device_id not in self.devices:
                if device_id in self.rejected:
                    return self.reject(_at(place, line, item), f"app {app.app} belongs to device {device_id!r}, whose "
                                       "record was rejected", "fix the device's record (see its rejection)",
                                       device_id=device_id, kind="app")
                return self.reject(_at(place, line, item), f"app {app.app} names device {device_id!r}, which is not in "
                                   "this snapshot", "include the device in the same export, or drop the app row",
                                   device_id=device_id, kind="app")
            self._run_device = device_id
            self._run_apps = set()
        if app.app in self._run_apps:
            return self.reject(_at(place, line, item), f"app {app.app} is listed twice for device {device_id!r}",
                               "each app must appear once per device", device_id=device_id, kind="app")
        self._run_apps.add(app.app)
        tally = self.tally
        tally.read += 1
        tally.accepted += 1
        return app


class Held:
    """Devices whose apps come in other pages than the device (Intune, Workspace ONE): each is checked into the
    snapshot when read, and yielded at the end (`finish`) with its coverage, once its apps are known. A device
    whose app list never came is `not_reported`; one with an app known only by its display name is
    `display_names_only`. (The order of a snapshot's records does not matter to storage.)"""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self.devices: dict[str, Device] = {}
        self.reported: set[str] = set()  # devices whose app list came (a page, even empty)
        self.named: set[str] = set()  # devices with an app known only by its display name

    def hold(self, place: str, device: Device) -> Iterator[Record]:
        record = self.snap.device(place, device)
        if isinstance(record, Device):
            self.devices[device.device_id] = device
        else:
            yield record

    def finish(self, *, everyone: bool = False) -> Iterator[Record]:
        """The held devices with their coverage; `everyone`: every device's app list is known to have come."""
        for device_id, device in self.devices.items():
            gap = device.coverage_gap
            if gap is None and not everyone and device_id not in self.reported:
                gap = CoverageReason.NOT_REPORTED
            elif gap is None and device_id in self.named:
                gap = CoverageReason.DISPLAY_NAMES_ONLY
            yield device if gap is device.coverage_gap else replace(device, coverage_gap=gap)
        self.devices.clear()


class Refusal(ValueError):
    """A device a mapping leaves out on purpose (not a broken record): the reason, and its own fix."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.fix = fix


def device_items(snap: Snapshot, place: str, items: Iterable[Any], build: Callable[[dict[str, Any]], tuple[Device, T]],
                 apps: Callable[[str, Device, T], Iterable[Record]], *, fix: str,
                 held: Held | None = None) -> Iterator[Record]:
    """A page's devices, each followed by its apps. Item `n` is at `place[n]`; an item that is not a JSON object,
    or that `build` refuses with a ValueError (saying what is wrong), is rejected with `fix` (a `Refusal` brings
    its own); otherwise `build` gives the device and what its apps are read from, `apps(where, device, that)`. With
    `held`, devices are held until `held.finish()` instead of yielded."""
    for n, item in enumerate(items):
        where = f"{place}[{n}]"
        if not isinstance(item, dict):
            yield snap.reject(where, "a device that is not a JSON object", "record the page as is")
            continue
        try:
            device, extra = build(item)
        except ValueError as e:
            # a device left out on purpose (deleted...) is not one that could not be read: no id, so a snapshot
            # does not keep its last state
            device_id = None if isinstance(e, Refusal) else guess_id(item)
            if device_id:
                snap.rejected.add(device_id)
            yield snap.reject(where, str(e), e.fix if isinstance(e, Refusal) else fix, device_id=device_id)
            continue
        if held is None:
            yield snap.device(where, device)
        else:
            yield from held.hold(where, device)
        yield from apps(where, device, extra)


def guess_id(item: Mapping[str, Any]) -> str | None:
    """A rejected device record's id, when one of the vendors' id fields can still be read (else None)."""
    for key in ("id", "mobileDeviceId", "Id", "deviceId", "resourceId", "name", "number"):
        value = item.get(key)
        if isinstance(value, dict):
            value = value.get("Value")
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            text = str(value).rsplit("/", 1)[-1] if key == "name" else str(value)
            return printable_id(text[:MAX_FIELD])
    return None


def _at(place: str, line: int | None, item: int | None) -> str:
    if line is not None:
        return f"{place}:{line}"
    return place if item is None else f"{place}[{item}]"


def read_pages(path: Path, *, max_bytes: int = MAX_PAGE_BYTES) -> Iterator[tuple[str, Any]]:
    """Recorded API responses: a `.json` file is one response, a `.jsonl` file one response per line.

    A page that is not JSON fails the whole read (the snapshot would be incomplete), naming file and line.
    """
    try:
        size = path.stat().st_size
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror}", fix="check the path and its permissions") from None
    if path.suffix.lower() == ".jsonl":
        with path.open("rb") as fh:
            n = 0
            while line := fh.readline(max_bytes + 1):  # bounded: a file without line breaks is not read whole
                n += 1
                if len(line) > max_bytes:
                    raise InputError(f"a response over {max_bytes:,} bytes", where=f"{path}:{n}",
                                     fix="record smaller pages")
                if not line.strip():
                    continue
                yield f"{path}:{n}", _loads(line, f"{path}:{n}")
        return
    if size > max_bytes:
        raise InputError(f"{size:,} bytes is over the {max_bytes:,}-byte limit for one response", where=str(path),
                         fix="record the responses as pages (one per file, or one per line in a .jsonl file)")
    yield str(path), _loads(path.read_bytes(), str(path))


def _loads(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"not valid JSON ({str(e)[:100]})", where=where,
                         fix="record the response again; a truncated download cannot be imported") from None


def items_of(page: Any, key: str, where: str) -> list[Any]:
    """The list under `key` of a page (absent means empty); anything else fails the read."""
    if not isinstance(page, dict):
        raise InputError(f"expected a JSON object with {key!r}", where=where, fix="record the API response as is")
    value = page.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{key!r} is not a list", where=where, fix="record the API response as is")
    return value


def observed(value: Any, now: datetime, *, lag: timedelta = timedelta(0)) -> datetime:
    """The observation time of a record: the source's time (minus `lag`), never later than `now`."""
    t = parse_time(value)
    if t is None:
        raise ValueError("no time of last contact")
    if t.year < 2000:
        raise ValueError(f"time of last contact {t.isoformat()} is implausible")
    return min(t - lag, now)


def app_record(source: str, device_id: str, platform: Platform, identifier: str, at: datetime, *,
               name: Any = None, version: Any = None, managed: bool | None = None,
               state: AppState = AppState.INSTALLED) -> InstalledApp:
    return InstalledApp(source, device_id, AppId(platform, identifier), at, clean(name), clean(version), managed,
                        state)


MAX_LABEL = 500  # characters of an organisational label kept (a site, a department, enrollment data)
_NO_LABEL = frozenset({"", "none", "unknown", "-1", "n/a"})


def label(kind: str, value: Any) -> tuple[tuple[str, str], ...]:
    """An organisational label `(kind, value)` for `Device.org_labels`, or nothing when the source says nothing
    (empty, "None", "Unknown", a bare numeric id such as Jamf's `-1`)."""
    if not isinstance(value, str):
        return ()
    text = " ".join(value.split())[:MAX_LABEL]
    if text.casefold() in _NO_LABEL or text.isdigit():
        return ()
    return ((kind, text),)


def obj(item: Any, key: str) -> dict[str, Any]:
    """`item[key]` when it is a JSON object, else an empty one."""
    value = item.get(key) if isinstance(item, dict) else None
    return value if isinstance(value, dict) else {}


def dig(value: Any, *keys: str) -> Any:
    """`value[k1][k2]...`, or None as soon as a level is not a JSON object (answers are hostile)."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def count_of(value: Any) -> str:
    """A count for `sources test` messages: the number, or '?'."""
    if isinstance(value, list):
        return str(len(value))
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "?"


def bool_or_none(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("true", "1", "yes"):
            return True
        if v in ("false", "0", "no"):
            return False
    return None


def all_files(inputs: Iterable[Path]) -> list[Path]:
    """Inputs as files: a folder stands for the files in it, sorted by name."""
    out: list[Path] = []
    for p in inputs:
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.is_file() and not q.name.startswith(".")))
        else:
            out.append(p)
    return out


class FileReader:
    """What every file reader of a vendor's format shares: the registry's constructor `(source, inputs, *, now)`,
    a fresh tally and the inputs' recorded responses (`pages()`); subclasses define `records()`."""

    def __init__(self, source: str, inputs: list[Path], *, now: datetime) -> None:
        self.source = source
        self.inputs = inputs
        self.now = now
        self.tally = Tally()

    def pages(self) -> Iterator[tuple[str, Any]]:
        """The recorded responses of every input, in order, with their places (`read_pages`)."""
        for path in all_files(self.inputs):
            yield from read_pages(path)
