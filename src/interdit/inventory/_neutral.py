"""What the two neutral readers (`csv` and `jsonl`) share: the checks every device and app record goes through
(`_Checks`), the fast construction of app records, and the reading of UTF-8 (or gzip) text files line by line.

Each reader keeps its own format in its own module; this module registers nothing.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import IO, Any

from interdit.errors import InputError
from interdit.inflate import bounded, file_size
from interdit.model import AppId, AppState, Device, InstalledApp, Management, Ownership, Platform

MAX_LINE = 1 << 20  # characters in one physical line; longer lines are rejected, not read into memory
MAX_FIELD = 4096  # characters in one value (identifiers, names, groups)
CLOCK_SKEW = timedelta(minutes=5)  # observed_at may be this far after "now" (clocks differ)
_CACHE_LIMIT = 200_000  # distinct timestamps / app ids remembered before the caches start over

PLATFORMS = ", ".join(p.value for p in Platform)
OWNERSHIPS = ", ".join(o.value for o in Ownership)
MANAGEMENTS = ", ".join(m.value for m in Management)
_PLATFORM = {p.value: p for p in Platform}
_OWNERSHIP = {o.value: o for o in Ownership}
_MANAGEMENT = {m.value: m for m in Management}
_STATE = {"": AppState.INSTALLED, **{s.value: s for s in AppState}}
_BOOL: dict[str, bool | None] = {"": None, "true": True, "false": False, "1": True, "0": False, "yes": True,
                                 "no": False}
_DATE_FIX = "write it as an ISO 8601 date-time with a time zone, e.g. 2023-03-01T06:00:00Z"


class BadRecord(Exception):
    """A record that cannot be accepted: becomes a `Rejection` (never escapes a reader)."""

    def __init__(self, reason: str, fix: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.fix = fix


# -- making records fast ----------------------------------------------------------------------------
# An import reads millions of app rows; the frozen dataclass constructor is half the cost of a row, so apps
# are built by setting their slots directly (measured: 0.56 µs against 1.14 µs). The fields are checked once:
# if the model changes shape, the ordinary constructor is used.

_APP_FIELDS = ("source", "device_id", "app", "observed_at", "name", "version", "managed", "state")
AppMaker = Callable[[str, str, AppId, datetime, str | None, str | None, bool | None, AppState], InstalledApp]


def _app_maker() -> AppMaker:
    if tuple(f.name for f in fields(InstalledApp)) != _APP_FIELDS:
        return InstalledApp
    new = object.__new__
    s0, s1, s2, s3, s4, s5, s6, s7 = (getattr(InstalledApp, f).__set__ for f in _APP_FIELDS)

    def make(source: str, device_id: str, app: AppId, observed_at: datetime, name: str | None,
             version: str | None, managed: bool | None, state: AppState) -> InstalledApp:
        o = new(InstalledApp)
        s0(o, source)
        s1(o, device_id)
        s2(o, app)
        s3(o, observed_at)
        s4(o, name)
        s5(o, version)
        s6(o, managed)
        s7(o, state)
        return o

    return make


# -- the checks both neutral readers make -----------------------------------------------------------


# a device of the snapshot: (platform, its value, that platform's AppId cache, where it was read)
_Seen = tuple[Platform, str, dict[str, AppId], str]


class _Checks:
    """Validation state for one snapshot: the devices seen so far, caches of parsed values."""

    def __init__(self, source: str, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.source = source
        self.now = now.astimezone(UTC)
        self.latest = self.now + CLOCK_SKEW
        self.devices: dict[str, _Seen] = {}
        self.rejected_devices: set[str] = set()
        self._times: dict[str, datetime | BadRecord] = {}
        self._apps: dict[Platform, dict[str, AppId]] = {p: {} for p in Platform}
        self.make_app = _app_maker()

    # values ---------------------------------------------------------------------------------------

    def when(self, text: str, column: str = "observed_at") -> datetime:
        """A parsed aware UTC time, not later than now + 5 minutes; cached per distinct string."""
        cached = self._times.get(text)
        if cached is None:
            cached = self._parse_time(text, column)
            if len(self._times) >= _CACHE_LIMIT:
                self._times.clear()
            self._times[text] = cached
        if isinstance(cached, BadRecord):
            raise cached
        return cached

    def _parse_time(self, text: str, column: str) -> datetime | BadRecord:
        value = text.strip()
        if not value:
            return BadRecord(f"{column} is empty", _DATE_FIX)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return BadRecord(f"{column} {_show(value)} is not a date-time", _DATE_FIX)
        if parsed.tzinfo is None:
            return BadRecord(f"{column} {_show(value)} has no time zone",
                             "add Z for UTC or the offset the source uses, e.g. 2023-03-01T06:00:00-05:00")
        try:
            parsed = parsed.astimezone(UTC)
        except OverflowError:
            return BadRecord(f"{column} {_show(value)} is out of range", _DATE_FIX)
        if parsed > self.latest:
            return BadRecord(f"{column} {parsed.isoformat()} is in the future (now is {self.now.isoformat()})",
                             "check the exporting system's clock and time zone")
        return parsed

    def app_id(self, platform: Platform, identifier: str) -> AppId:
        by_platform = self._apps[platform]
        app = by_platform.get(identifier)
        if app is None:
            ident = identifier.strip()
            if not ident:
                raise BadRecord("empty identifier", "give the app's package name (Android) or bundle id (Apple)")
            if len(ident) > MAX_FIELD:
                raise BadRecord(f"identifier longer than {MAX_FIELD} characters", "check the export")
            if len(by_platform) >= _CACHE_LIMIT:
                by_platform.clear()
            app = by_platform[identifier] = AppId(platform, ident)
        return app

    # records --------------------------------------------------------------------------------------

    def device(self, v: Mapping[str, Any], place: str) -> Device:
        """A device from its field values (strings, or for JSON also booleans and lists)."""
        device_id = _text(v, "device_id")
        if device_id is None:
            raise BadRecord("empty device_id", "give every device its identifier in the source")
        platform = _enum(v, "platform", _PLATFORM, PLATFORMS)
        ownership = _enum(v, "ownership", _OWNERSHIP, OWNERSHIPS)
        management = _enum(v, "management", _MANAGEMENT, MANAGEMENTS)
        observed = v.get("observed_at")
        if not isinstance(observed, str):
            raise BadRecord("observed_at must be a date-time string", _DATE_FIX)
        observed_at = self.when(observed)
        device = Device(
            source=self.source, device_id=device_id, platform=platform, ownership=ownership, management=management,
            observed_at=observed_at, supervised=_boolean(v, "supervised"), user=_text(v, "user"),
            name=_text(v, "name"), model=_text(v, "model"), os_version=_text(v, "os_version"),
            org_unit=_text(v, "org_unit"), groups=_items(v, "groups"), addresses=_items(v, "addresses"))
        first = self.devices.get(device_id)
        if first is not None:
            raise BadRecord(f"device {_show(device_id)} appears twice in this snapshot (first at {first[3]})",
                            "keep one row per device; merge the duplicates in the export")
        self.devices[device_id] = (platform, platform.value, self._apps[platform], place)
        return device

    def reject_device(self, v: Mapping[str, Any]) -> None:
        """Remember a rejected device's id, so its apps are rejected with a clear reason."""
        device_id = v.get("device_id")
        if isinstance(device_id, str) and device_id.strip() and device_id.strip() not in self.devices:
            self.rejected_devices.add(device_id.strip())

    def app_device(self, device_id: str, platform_text: str) -> Platform:
        """The platform of the app's device, after checking the device is in the snapshot and platforms agree."""
        seen = self.devices.get(device_id)
        if seen is None:
            seen = self.devices.get(device_id.strip())
        if seen is None:
            did = device_id.strip()
            if not did:
                raise BadRecord("empty device_id", "give the id of the device the app is on")
            if did in self.rejected_devices:
                raise BadRecord(f"device {_show(did)} was rejected, so its apps are too",
                                "fix the device's row (see its rejection) and import again")
            raise BadRecord(f"device {_show(did)} is not in this snapshot",
                            "list the device in the devices file (or before its apps), or correct the app's device_id")
        if platform_text != seen[1]:
            platform = _PLATFORM.get(platform_text.strip().lower())
            if platform is None:
                raise BadRecord(f"unknown platform {_show(platform_text)}; use one of {PLATFORMS}",
                                f"set platform to one of {PLATFORMS}")
            if platform is not seen[0]:
                raise BadRecord(f"app platform {platform.value!r} differs from its device's platform "
                                f"{seen[1]!r}", "give the app the platform of its device")
        return seen[0]

    def app(self, v: Mapping[str, Any]) -> InstalledApp:
        """An app from its field values (the general path; the CSV reader has its own fast path)."""
        device_id, platform_text, identifier = v.get("device_id"), v.get("platform"), v.get("identifier")
        if not isinstance(device_id, str):
            raise BadRecord("device_id must be a string", "give the id of the device the app is on")
        if not isinstance(platform_text, str):
            raise BadRecord(f"platform must be one of {PLATFORMS}", f"set platform to one of {PLATFORMS}")
        if not isinstance(identifier, str):
            raise BadRecord("identifier must be a string", "give the app's package name or bundle id")
        platform = self.app_device(device_id, platform_text)
        app = self.app_id(platform, identifier)
        observed = v.get("observed_at")
        if not isinstance(observed, str):
            raise BadRecord("observed_at must be a date-time string", _DATE_FIX)
        state = v.get("state") or ""
        if not isinstance(state, str) or state.strip().lower() not in _STATE:
            raise BadRecord(f"unknown state {_show(state)}; use installed or blocked",
                            "leave it empty (installed) or write installed or blocked")
        return self.make_app(self.source, device_id.strip(), app, self.when(observed), _text(v, "name"),
                             _text(v, "version"), _boolean(v, "managed"), _STATE[state.strip().lower()])


def _show(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _text(v: Mapping[str, Any], key: str) -> str | None:
    value = v.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord(f"{key} must be text, not {type(value).__name__}", f"write {key} as a string")
    value = value.strip()
    if len(value) > MAX_FIELD:
        raise BadRecord(f"{key} is longer than {MAX_FIELD} characters", "check the export")
    return value or None


def _enum(v: Mapping[str, Any], key: str, allowed: Mapping[str, Any], names: str) -> Any:
    value = v.get(key)
    found = allowed.get(value) if isinstance(value, str) else None
    if found is None:
        found = allowed.get(value.strip().lower()) if isinstance(value, str) else None
        if found is None:
            shown = "empty" if value in (None, "") else _show(value)
            raise BadRecord(f"unknown {key} {shown}; use one of {names}", f"set {key} to one of {names}")
    return found


def _boolean(v: Mapping[str, Any], key: str) -> bool | None:
    value = v.get(key)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        found = _BOOL.get(value.strip().lower(), "bad")
        if found != "bad":
            return found  # type: ignore[return-value]
    raise BadRecord(f"{key} {_show(value)} is not true, false or empty",
                    f"write {key} as true, false or leave it empty")


def _items(v: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A `;`-separated string (CSV) or a list of strings (JSON)."""
    value = v.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        parts: list[Any] = value.split(";")
    elif isinstance(value, list):
        parts = value
    else:
        raise BadRecord(f"{key} must be a list or a ;-separated string", f"write {key} like 'a;b'")
    out = []
    for p in parts:
        if not isinstance(p, str):
            raise BadRecord(f"{key} must contain only strings", f"write {key} like 'a;b'")
        p = p.strip()
        if len(p) > MAX_FIELD:
            raise BadRecord(f"{key} has a value longer than {MAX_FIELD} characters", "check the export")
        if p:
            out.append(p)
    return tuple(out)


# -- reading files ----------------------------------------------------------------------------------

_GZIP_MAGIC = b"\x1f\x8b"
_SNIFF = 8192


def open_text(path: Path) -> IO[str]:
    """Open a UTF-8 text file, gunzipping it when it is gzip data. Bytes that are not UTF-8 come through as
    surrogates (`LineSource` finds them). Refuses files that are plainly binary."""
    try:
        with path.open("rb") as probe:
            compressed = probe.read(2) == _GZIP_MAGIC
        raw: io.BufferedIOBase = path.open("rb")
        if compressed:  # bounded by ratio and size: a small gzip may not inflate to gigabytes
            raw = bounded(gzip.GzipFile(fileobj=raw, mode="rb"), compressed=file_size(raw), where=str(path),
                          kind="gzip", raw=raw)
    except OSError as exc:
        raise InputError(f"cannot open the file: {exc.strerror or exc}", where=str(path),
                         fix="check the path and its permissions") from None
    try:
        sample = raw.peek(_SNIFF)[:_SNIFF]  # type: ignore[attr-defined]
    except (OSError, EOFError) as exc:
        raw.close()
        raise InputError(f"cannot read the file: {exc}", where=str(path),
                         fix="check that the file is complete (a .gz file may be truncated)") from None
    if b"\x00" in sample:
        raw.close()
        raise InputError("this is a binary file, not UTF-8 text", where=str(path),
                         fix="export the inventory as UTF-8 text (CSV or JSON Lines); gzip is fine")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")  # type: ignore[type-var]


class LineSource:
    """The lines of a text stream, handed to `csv.reader` in bulk: blocks of about 1 MiB are split in C, so a
    line costs almost nothing on the way. Memory is bounded: a line longer than MAX_LINE is skipped (an empty
    line stands in for it). Lines that are not valid UTF-8 are blanked. Both are recorded in `bad`
    (physical line number -> reason, in increasing order) for the consumer to turn into rejections."""

    def __init__(self, f: IO[str], *, max_line: int | None = None, block: int = 1 << 20) -> None:
        self.f = f
        self.max_line = max_line or MAX_LINE
        self.block = block
        self.bad: dict[int, str] = {}

    def lines(self) -> Iterator[str]:
        return chain.from_iterable(self._blocks())

    def _read(self) -> str:
        try:
            return self.f.read(self.block)
        except (OSError, EOFError) as exc:
            raise InputError(f"the file could not be read to its end: {exc}", where=getattr(self.f, "name", None),
                             fix="check that the file is complete (a .gz file may be truncated)") from None

    def _blocks(self) -> Iterator[IO[str]]:
        carry, base, skipping = "", 0, False
        while True:
            block = self._read()
            if not block:
                if carry:
                    yield self._prepare(carry, base)
                return
            if skipping:  # the rest of a line already reported as too long
                nl = block.find("\n")
                if nl < 0:
                    continue
                block, skipping = block[nl + 1:], False
            data = carry + block
            cut = data.rfind("\n")
            text, carry = (data[: cut + 1], data[cut + 1:]) if cut >= 0 else ("", data)
            if text:
                yield self._prepare(text, base)
                base += text.count("\n")
            if len(carry) > self.max_line:
                base += 1
                self.bad[base] = f"the line is longer than {self.max_line:,} characters"
                carry, skipping = "", True
                yield io.StringIO("\n", newline="\n")

    def _prepare(self, text: str, base: int) -> IO[str]:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # bytes that were not UTF-8 (kept as surrogates): find the lines
            lines = io.StringIO(text, newline="\n").readlines()
            for n, line in enumerate(lines):
                if not line.isascii():
                    try:
                        line.encode("utf-8")
                    except UnicodeEncodeError:
                        self.bad[base + n + 1] = "the line is not valid UTF-8"
                        lines[n] = "\n"
            text = "".join(lines)
        return io.StringIO(text, newline="\n")

    def take(self, last_line: int) -> str | None:
        """The first problem on a physical line up to `last_line` (forgetting those lines), or None."""
        reason = None
        while self.bad:
            line = next(iter(self.bad))
            if line > last_line:
                break
            found = self.bad.pop(line)
            reason = reason or found
        return reason
