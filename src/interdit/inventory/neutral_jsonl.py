"""The neutral JSON Lines format (`jsonl`): one JSON object per line.

    {"type": "device", "device_id": "A1", "platform": "android", "ownership": "corporate", ...}
    {"type": "app", "device_id": "A1", "platform": "android", "identifier": "com.tencent.mm", ...}
    {"type": "device", "device_id": "I2", ..., "apps": [{"identifier": "com.tencent.xin"}, ...]}

The fields are those of the CSV format; `groups` and `addresses` may be lists. A device must come before its
apps (the file is read once, as a stream). Apps nested in a device take its device_id, platform and observed_at
unless they give their own. Gzip-compressed files are read as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from interdit.inventory._neutral import (
    _BOOL,
    _STATE,
    MAX_FIELD,
    BadRecord,
    LineSource,
    _Checks,
    line_fix,
    open_text,
    salvage,
)
from interdit.inventory.base import Record, Tally, readers
from interdit.model import InstalledApp, Rejection

MAX_JSON_LINE = 16  # MiB: a device line may carry its apps
_ORDER_FIX = "put each device's line before its apps' lines (or nest the apps in the device's 'apps' list)"


def _cut_short(place: str) -> Rejection:
    """The file's last line, unfinished and unreadable: the export was cut short. The records after the cut
    (apps of the last device, whole devices) are simply absent, so this snapshot neither removes a device nor
    closes an app of the source (the rejection names no device and no kind of record)."""
    return Rejection(place, "the file ends in the middle of this record: the export looks cut short, so no "
                     "device is taken as gone and no app as removed by this snapshot",
                     "export the inventory again in full (check the file's size, or the download), then import it",
                     None, "record")


class _JsonlChecks(_Checks):
    def app_device(self, device_id: str, platform_text: str) -> Any:
        try:
            return super().app_device(device_id, platform_text)
        except BadRecord as bad:
            if bad.reason.endswith("is not in this snapshot"):
                raise BadRecord(bad.reason + " (or not yet: devices must come before their apps)", _ORDER_FIX) \
                    from None
            raise


def _fast_app(checks: _Checks, obj: Mapping[str, Any]) -> InstalledApp | None:
    """The common case without a single exception or conversion: known device, cached identifier and time,
    plain values. None sends the record through the full checks."""
    get = obj.get
    device_id, identifier, observed = get("device_id"), get("identifier"), get("observed_at")
    if device_id.__class__ is not str or identifier.__class__ is not str or observed.__class__ is not str:
        return None
    seen = checks.devices.get(device_id)
    if seen is None or get("platform") != seen[1]:
        return None
    app, when = seen[2].get(identifier), checks._times.get(observed)
    name, version, managed, state = get("name"), get("version"), get("managed"), get("state", "")
    if managed.__class__ is str:
        managed = _BOOL.get(managed, "bad")
    if app is None or when.__class__ is not datetime or not (managed is None or managed is True or managed is False):
        return None
    if state.__class__ is not str or state not in _STATE:
        return None
    for text in (name, version):
        if text is not None and (text.__class__ is not str or len(text) > MAX_FIELD or text != text.strip()
                                 or not text.isascii()):
            return None  # non-ASCII text takes the full checks (a lone surrogate is not text)
    if not (device_id.isascii() and identifier.isascii()) or "\x00" in device_id + identifier + (name or "") \
            + (version or ""):
        return None
    return checks.make_app(checks.source, device_id, app, when, name or None, version or None,
                           managed, _STATE[state])


@readers.register("jsonl")
class JsonlReader:
    """Neutral JSON Lines: device and app records, one per line, devices before their apps."""

    def __init__(self, source: str, inputs: list[Path], *, now: datetime) -> None:
        self.source = source
        self.inputs = [Path(p) for p in inputs]
        self.now = now
        self.tally = Tally()
        self._raw = ""  # the unreadable line being rejected, to find its device

    def records(self) -> Iterator[Record]:
        checks = _JsonlChecks(self.source, self.now)
        for path in self.inputs:
            f, fmt = open_text(path)
            with f:
                lines = LineSource(f, max_line=MAX_JSON_LINE << 20, fmt=fmt)
                bad, loads, accept, name = lines.bad, json.loads, self.tally.accept, path.name
                for number, line in enumerate(lines.lines(), start=1):
                    obj: Any = None
                    if not bad:  # the common case first: an app line that passes every check at once
                        try:
                            obj = loads(line)
                        except (ValueError, RecursionError):
                            obj = None
                        if obj.__class__ is dict and obj.get("type") == "app":
                            fast = _fast_app(checks, obj)
                            if fast is not None:
                                accept()
                                yield fast
                                continue
                    problem = lines.take(number) if bad else None
                    self._raw = lines.last_raw if problem else ""
                    yield from self._line(checks, f"{name}:{number}", line, problem, obj)

    def _line(self, checks: _Checks, place: str, line: str, problem: str | None, obj: Any) -> Iterator[Record]:
        tally = self.tally
        if problem:
            device_id, is_app = salvage(self._raw)
            yield tally.reject(Rejection(place, problem, line_fix(problem), device_id, "app" if is_app else "device"))
            return
        text = line.strip()
        if not text:
            return  # a blank line is not a record
        if obj is None:
            try:
                obj = json.loads(text)
            except (ValueError, RecursionError) as exc:
                if not line.endswith("\n"):  # the file's last line, unfinished: the export was cut short
                    yield tally.reject(_cut_short(place))
                    return
                yield tally.reject(Rejection(place, f"not valid JSON: {str(exc)[:200]}",
                                             "write one JSON object per line"))
                return
        if not isinstance(obj, dict):
            yield tally.reject(Rejection(place, f"a JSON {type(obj).__name__} is not a record",
                                         'write one object per line, with "type": "device" or "app"'))
            return
        kind = obj.get("type")
        if kind == "app":
            yield self._app(checks, place, obj)
        elif kind == "device":
            yield from self._device(checks, place, obj)
        else:
            shown = "missing" if kind is None else repr(kind)[:40]
            yield tally.reject(Rejection(place, f"record type {shown}; use \"device\" or \"app\"",
                                         'add "type": "device" or "type": "app"'))

    def _app(self, checks: _Checks, place: str, obj: Mapping[str, Any]) -> Record:
        fast = _fast_app(checks, obj)
        if fast is not None:
            self.tally.accept()
            return fast
        try:
            app = checks.app(obj)
        except BadRecord as bad:
            return self.tally.reject(checks.rejection(place, bad, obj, "app"))
        self.tally.accept()
        return app

    def _device(self, checks: _Checks, place: str, obj: dict[str, Any]) -> Iterator[Record]:
        nested = obj.pop("apps", None)
        if nested is not None and not isinstance(nested, list):
            checks.reject_device(obj)
            yield self.tally.reject(Rejection(place, "'apps' must be a list of app objects",
                                              'write "apps": [{"identifier": ...}, ...]'))
            return
        try:
            device = checks.device(obj, place)
        except BadRecord as bad:
            checks.reject_device(obj)
            yield self.tally.reject(checks.rejection(place, bad, obj, "device"))
        else:
            self.tally.accept()
            yield device
        for n, item in enumerate(nested or ()):
            where = f"{place} apps[{n}]"
            if not isinstance(item, dict):
                yield self.tally.reject(Rejection(where, "an app must be a JSON object",
                                                  'write {"identifier": ...}'))
                continue
            inherited = {k: obj.get(k) for k in ("device_id", "platform", "observed_at")}
            yield self._app(checks, where, {**inherited, **item})
