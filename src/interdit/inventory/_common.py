"""What the MDM readers share: times, bounded page files, the device/app snapshot check, a page's device loop,
identifiers, and the base of the file readers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from interdit.errors import InputError
from interdit.inventory.base import Record, Tally
from interdit.model import AppId, AppState, Device, InstalledApp, Platform, Rejection

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


def looks_like_identifier(text: str | None) -> bool:
    return bool(text) and len(text or "") <= 255 and _IDENT.match(text or "") is not None


@lru_cache(maxsize=1)
def _name_index() -> dict[tuple[str, str], str]:
    """Display name (casefolded) -> identifier, per platform, from the catalogue's families."""
    try:
        from interdit.catalogue import load_catalogue

        cat = load_catalogue()
    except Exception:  # the catalogue is optional here: without it names stay unresolved
        return {}
    index: dict[tuple[str, str], str] = {}
    for family in cat.families.values():
        for app in family.identifiers:
            index.setdefault((app.platform.value, family.name.casefold()), app.identifier)
    return index


def resolve_identifier(platform: Platform, name: str | None, *candidates: str | None) -> str | None:
    """An app identifier for sources that report names (Intune): an identifier-shaped value among the
    candidates or the name itself, else the catalogue's identifier for a family of exactly that name, else
    `name:<display name>` (kept and counted, never matched by identifier rules)."""
    for c in (*candidates, name):
        if looks_like_identifier(c):
            return c
    if not name:
        return None
    known = _name_index().get((platform.value, name.casefold()))
    return known or f"name:{name}"


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

    def reject(self, place: str, reason: str, fix: str = "") -> Rejection:
        return self.tally.reject(Rejection(place, reason, fix))

    def device(self, place: str, device: Device) -> Record:
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
        if device_id != self._run_device:
            if device_id not in self.devices:
                return self.reject(_at(place, line, item), f"app {app.app} names device {device_id!r}, which is not in "
                                   "this snapshot", "include the device in the same export, or drop the app row")
            self._run_device = device_id
            self._run_apps = set()
        if app.app in self._run_apps:
            return self.reject(_at(place, line, item), f"app {app.app} is listed twice for device {device_id!r}",
                               "each app must appear once per device")
        self._run_apps.add(app.app)
        tally = self.tally
        tally.read += 1
        tally.accepted += 1
        return app


class Refusal(ValueError):
    """A device a mapping leaves out on purpose (not a broken record): the reason, and its own fix."""

    def __init__(self, reason: str, fix: str) -> None:
        super().__init__(reason)
        self.fix = fix


def device_items(snap: Snapshot, place: str, items: Iterable[Any], build: Callable[[dict[str, Any]], tuple[Device, T]],
                 apps: Callable[[str, Device, T], Iterable[Record]], *, fix: str) -> Iterator[Record]:
    """A page's devices, each followed by its apps. Item `n` is at `place[n]`; an item that is not a JSON object,
    or that `build` refuses with a ValueError (saying what is wrong), is rejected with `fix` (a `Refusal` brings
    its own); otherwise `build` gives the device and what its apps are read from, `apps(where, device, that)`."""
    for n, item in enumerate(items):
        where = f"{place}[{n}]"
        if not isinstance(item, dict):
            yield snap.reject(where, "a device that is not a JSON object", "record the page as is")
            continue
        try:
            device, extra = build(item)
        except ValueError as e:
            yield snap.reject(where, str(e), e.fix if isinstance(e, Refusal) else fix)
            continue
        yield snap.device(where, device)
        yield from apps(where, device, extra)


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
        self.name = source
        self.inputs = inputs
        self.now = now
        self.tally = Tally()

    def pages(self) -> Iterator[tuple[str, Any]]:
        """The recorded responses of every input, in order, with their places (`read_pages`)."""
        for path in all_files(self.inputs):
            yield from read_pages(path)
