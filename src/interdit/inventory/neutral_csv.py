"""The neutral CSV format (`csv`): a devices file and an apps file, any MDM can produce them.

Files are recognised by their header (a devices file has `ownership`/`management`, an apps file `identifier`),
not by their order on the command line; devices are read first so every app can be checked against its device.
The encoding (UTF-8, UTF-16, Windows-1252...) and the separator (`,` `;` or tab) are detected from each file's
first bytes and header line (`_encoding`), and said in `text_formats` (and a note when not UTF-8 with commas);
gzip-compressed files are read as they are. Every row is either
yielded or rejected with its `file:line`; only the device ids of the snapshot are held in memory.

The checks shared with the JSON Lines reader (`_Checks`) live in `_neutral`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from pathlib import Path
from typing import IO

from interdit.errors import InputError
from interdit.inventory._encoding import display_name, separator_name, sniff_separator
from interdit.inventory._neutral import _APP_FIELDS as _APP_FIELDS
from interdit.inventory._neutral import (
    _BOOL,
    _STATE,
    MAX_FIELD,
    MAX_LINE,
    BadRecord,
    LineSource,
    _boolean,
    _Checks,
    _show,
    line_fix,
    open_text,
    salvage,
)
from interdit.inventory.base import Record, Tally, readers
from interdit.model import AppState, Rejection

DEVICE_REQUIRED: tuple[str, ...] = ("device_id", "platform", "ownership", "management", "observed_at")
DEVICE_OPTIONAL = ("supervised", "user", "name", "model", "os_version", "org_unit", "groups", "addresses",
                   "coverage_gap")
APP_REQUIRED: tuple[str, ...] = ("device_id", "platform", "identifier", "observed_at")
APP_OPTIONAL = ("name", "version", "managed", "state")

_UTF8_FIX = "save the file as UTF-8"


@dataclass
class _Header:
    kind: str  # "devices" | "apps"
    columns: tuple[str, ...]
    index: dict[str, int]


def _read_header(path: Path, reader: Iterator[list[str]], lines: LineSource) -> _Header:
    try:
        row = next(reader, None)
    except csv.Error as exc:
        raise InputError(f"the header cannot be read: {exc}", where=f"{path}:1", fix=_header_fix()) from None
    if row is None:
        raise InputError("the file is empty", where=str(path), fix=_header_fix())
    problem = lines.take(reader.line_num)  # type: ignore[attr-defined]
    if problem:
        raise InputError(f"the header cannot be read: {problem}", where=f"{path}:1", fix=_UTF8_FIX)
    columns = tuple(c.strip().lower() for c in row)
    if len(set(columns)) != len(columns):
        raise InputError("the header names a column twice", where=f"{path}:1", fix=_header_fix())
    if "identifier" in columns:
        kind, required = "apps", APP_REQUIRED
    elif "ownership" in columns or "management" in columns:
        kind, required = "devices", DEVICE_REQUIRED
    else:
        raise InputError(f"this is neither a devices file nor an apps file (header: {_show(','.join(columns), 100)})",
                         where=f"{path}:1", fix=_header_fix())
    missing = [c for c in required if c not in columns]
    if missing:
        raise InputError(f"the {kind} file lacks the column(s) {', '.join(missing)}", where=f"{path}:1",
                         fix=_header_fix())
    return _Header(kind, columns, {c: i for i, c in enumerate(columns)})


def _header_fix() -> str:
    return ("a devices file starts with the header " + ",".join(DEVICE_REQUIRED + DEVICE_OPTIONAL)
            + "; an apps file with " + ",".join(APP_REQUIRED + APP_OPTIONAL) + " (see docs/inventory.md)")


_WIDTH_FIX = "quote values that contain commas, and give every row as many fields as the header"


def _cut_short(name: str, line: int) -> Rejection:
    """The apps file's last line, unfinished and unreadable: the export was cut short (a copy or download that
    stopped). The devices whose rows were after the cut look as if they held no app, so this snapshot closes no
    app of the source (the rejection names no device: `storage.snapshot` then holds every close)."""
    return Rejection(f"{name}:{line}", "the file ends in the middle of this record: the export looks cut short, "
                     "so no app is taken as removed by this snapshot",
                     "export the apps again in full (check the file's size, or the download), then import it", None,
                     "app")


@dataclass
class _Input:
    path: Path
    file: IO[str]
    lines: LineSource
    line_iter: Iterator[str]  # shared by `reader` and the apps loop's fast path
    reader: Iterator[list[str]]
    header: _Header
    separator: str = ","


@readers.register("csv")
class CsvReader:
    """Neutral CSV: devices.csv and apps.csv (in any order, gzip or not)."""

    def __init__(self, source: str, inputs: list[Path], *, now: datetime) -> None:
        self.source = source
        self.inputs = [Path(p) for p in inputs]
        self.now = now
        self.tally = Tally()
        self.text_formats: dict[str, str] = {}  # file name -> "encoding (why), separator"

    def records(self) -> Iterator[Record]:
        opened: list[_Input] = []
        try:
            for path in self.inputs:
                f, fmt = open_text(path, detect_encoding=True)
                lines = LineSource(f, max_line=MAX_LINE, fmt=fmt)
                line_iter = lines.lines()
                try:
                    first = next(line_iter, "")
                    sep = sniff_separator(first)
                    line_iter = chain((first,), line_iter) if first else line_iter
                    reader: Iterator[list[str]] = csv.reader(line_iter, strict=False, delimiter=sep)
                    header = _read_header(path, reader, lines)
                except BaseException:
                    f.close()
                    raise
                opened.append(_Input(path, f, lines, line_iter, reader, header, sep))
                self.text_formats[path.name] = f"{fmt.describe()}, {separator_name(sep)}-separated"
                if fmt.encoding not in ("utf-8", "utf-8-sig") or sep != ",":
                    self.tally.note(f"{path.name}: read as {self.text_formats[path.name]}")
            kinds = [i.header.kind for i in opened]
            if "devices" not in kinds or "apps" not in kinds:
                have = ", ".join(f"{i.path.name} ({i.header.kind})" for i in opened) or "no file"
                raise InputError(f"a csv snapshot needs a devices file and an apps file; got {have}",
                                 fix="pass both files, e.g. 'interdit import csv devices.csv apps.csv' (an apps "
                                     "file with only its header if the source reports no apps)")
            checks = _Checks(self.source, self.now)
            for i in opened:
                if i.header.kind == "devices":
                    yield from self._devices(checks, i)
            for i in opened:
                if i.header.kind == "apps":
                    yield from self._apps(checks, i)
        finally:
            for i in opened:
                i.file.close()
                for encoding, n in i.lines.redecoded.items():
                    self.tally.note(f"{i.path.name}: {n:,} line(s) that were not UTF-8 read as "
                                    f"{display_name(encoding)} (the file began in plain ASCII)")

    def _rows(self, i: _Input) -> Iterator[tuple[int, list[str] | Rejection]]:
        """(first physical line, row) for each record; a rejection for rows that cannot be read."""
        reader, lines, name = i.reader, i.lines, i.path.name
        end = reader.line_num  # type: ignore[attr-defined]
        while True:
            try:
                for row in reader:
                    line, end = end + 1, reader.line_num  # type: ignore[attr-defined]
                    if lines.bad:
                        problem = lines.take(end)
                        if problem:
                            device_id, _ = salvage(lines.last_raw, separator=i.separator,
                                                   column=i.header.index.get("device_id"))
                            yield line, Rejection(f"{name}:{line}", problem, line_fix(problem), device_id,
                                                  "device" if i.header.kind == "devices" else "app")
                            continue
                    yield line, row
                return
            except csv.Error as exc:
                line, end = end + 1, reader.line_num  # type: ignore[attr-defined]
                lines.take(end)
                yield line, Rejection(f"{name}:{line}", f"unreadable row: {exc}", "check the quoting")

    def _devices(self, checks: _Checks, i: _Input) -> Iterator[Record]:
        tally, columns, width, name = self.tally, i.header.columns, len(i.header.columns), i.path.name
        for line, row in self._rows(i):
            if isinstance(row, Rejection):
                yield tally.reject(row)
                continue
            if not row:
                continue  # a blank line is not a record
            if len(row) != width:
                yield tally.reject(Rejection(f"{name}:{line}", f"expected {width} fields (as in the header), "
                                             f"found {len(row)}", _WIDTH_FIX))
                continue
            values = dict(zip(columns, row, strict=True))
            try:
                device = checks.device(values, f"{name}:{line}")
            except BadRecord as bad:
                checks.reject_device(values)
                yield tally.reject(checks.rejection(f"{name}:{line}", bad, values, "device"))
                continue
            tally.accept()
            yield device

    def _apps(self, checks: _Checks, i: _Input) -> Iterator[Record]:
        """The hot loop: millions of rows. Columns by index, values cached, no exception on the happy path, and
        apps built by setting their slots (see `_app_maker`)."""
        name, width, ix = i.path.name, len(i.header.columns), i.header.index
        i_dev, i_plat, i_ident, i_obs = ix["device_id"], ix["platform"], ix["identifier"], ix["observed_at"]
        i_name, i_ver, i_man, i_state = (ix.get(c, -1) for c in APP_OPTIONAL)
        source, make, devices, times = checks.source, checks.make_app, checks.devices, checks._times
        bools, states, installed, bad_value = _BOOL, _STATE, AppState.INSTALLED, "bad"
        tally, aware, reader, lines = self.tally, datetime, i.reader, i.lines
        accepted = 0
        last_device = ""
        on_device: set[str] = set()
        line_iter, csv_reader, split, bad_lines, max_field = i.line_iter, csv.reader, str.split, lines.bad, MAX_FIELD
        sep = i.separator
        end = reader.line_num  # type: ignore[attr-defined]
        try:
            for text in line_iter:
                # a line without quotes is split directly (2-3 times faster than the csv module); a line
                # with quotes goes to csv.reader, which reads on if a quoted value spans lines
                line = end = end + 1
                if '"' in text:
                    sub = csv_reader(chain((text,), line_iter), strict=False, delimiter=sep)
                    try:
                        row = next(sub, [])
                    except csv.Error as exc:
                        row = None
                        error = f"unreadable row: {exc}"
                    end += sub.line_num - 1
                else:
                    stripped = text.rstrip("\r\n")
                    row = split(stripped, sep) if stripped else []
                if row is None or len(row) != width or bad_lines:
                    problem = lines.take(end) if bad_lines else None
                    if problem:
                        device_id, _ = salvage(lines.last_raw, separator=sep, column=i_dev)
                        yield tally.reject(Rejection(f"{name}:{line}", problem, line_fix(problem), device_id, "app"))
                        continue
                    if row is None:
                        yield tally.reject(Rejection(f"{name}:{line}", error, "check the quoting"))
                        continue
                    if len(row) != width:
                        if row and not text.endswith("\n"):
                            yield tally.reject(_cut_short(name, line))
                        elif row:
                            yield tally.reject(Rejection(f"{name}:{line}", f"expected {width} fields (as in "
                                                         f"the header), found {len(row)}", _WIDTH_FIX))
                        continue
                device_id = row[i_dev]
                seen = devices.get(device_id)
                identifier = row[i_ident]
                observed = times.get(row[i_obs])
                try:
                    if seen is None or row[i_plat] != seen[1]:
                        platform = checks.app_device(device_id, row[i_plat])
                        device_id = device_id.strip()
                        app = checks.app_id(platform, identifier)
                    else:
                        app = seen[2].get(identifier)  # type: ignore[assignment]
                        if app is None:
                            app = checks.app_id(seen[0], identifier)
                    if observed.__class__ is not aware:
                        observed = checks.when(row[i_obs])
                    managed = bools.get(row[i_man], bad_value) if i_man >= 0 else None
                    state = states.get(row[i_state]) if i_state >= 0 else installed
                    if managed is bad_value or state is None:
                        managed, state = self._slow_fields(row, i_man, i_state)
                    if device_id != last_device:
                        last_device = device_id
                        on_device.clear()
                    elif identifier in on_device:
                        raise BadRecord(f"app {app.identifier!r} is listed twice for device {device_id!r}",
                                        "keep one row per app and device")
                    on_device.add(identifier)
                    app_name = row[i_name] if i_name >= 0 else None
                    version = row[i_ver] if i_ver >= 0 else None
                    if (app_name and len(app_name) > max_field) or (version and len(version) > max_field):
                        raise BadRecord(f"name or version longer than {max_field} characters",
                                        "check the export")
                except BadRecord as bad:
                    if not text.endswith("\n"):  # the file's last line, unfinished: the export was cut short
                        yield tally.reject(_cut_short(name, line))
                    else:
                        yield tally.reject(checks.rejection(f"{name}:{line}", bad, {"device_id": row[i_dev]},
                                                            "app"))
                    continue
                accepted += 1
                yield make(source, device_id, app, observed, app_name or None,
                           version or None, managed, state)  # type: ignore[arg-type]
        finally:
            tally.read += accepted
            tally.accepted += accepted

    @staticmethod
    def _slow_fields(row: list[str], i_man: int, i_state: int) -> tuple[bool | None, AppState]:
        values = {}
        if i_man >= 0:
            values["managed"] = row[i_man]
        managed = _boolean(values, "managed")
        text = row[i_state].strip().lower() if i_state >= 0 else ""
        state = _STATE.get(text)
        if state is None:
            raise BadRecord(f"unknown state {_show(row[i_state])}; use installed or blocked",
                            "leave it empty (installed) or write installed or blocked")
        return managed, state
