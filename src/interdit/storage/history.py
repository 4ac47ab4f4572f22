"""Reading the stored history: the fleet as it was at a time, one device's whole story, the import runs."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection, Engine

from interdit.model import AppId, AppInterval, CoverageReason, Device, DeviceState, Finding, Rejection, utc
from interdit.storage import tables as t
from interdit.storage.base import MANAGEMENT, OWNERSHIP, PLATFORMS, STATES, guard
from interdit.storage.evaluations import iter_findings


@dataclass(frozen=True)
class ImportRun:
    id: int
    source: str
    format: str
    at: datetime
    started_at: datetime
    finished_at: datetime | None
    status: str  # ok | failed | refused (the snapshot broke a rule; nothing changed)
    read: int
    accepted: int
    rejected: int
    devices: int
    apps: int
    devices_new: int
    devices_changed: int
    devices_removed: int
    apps_opened: int
    apps_closed: int
    error: str | None
    rejections: tuple[Rejection, ...]
    apps_updated: int = 0
    devices_unreadable: int = 0
    devices_no_apps: int = 0


@dataclass(frozen=True)
class DeviceVersion:
    """The device's attributes from `valid_from` until `valid_to` (None: still current)."""

    valid_from: datetime
    valid_to: datetime | None
    device: Device


@dataclass(frozen=True)
class AppVersionSeen:
    """A version an app had within one presence (the app interval that began at `interval_first_seen`), from
    `first_seen`; the evidence behind a finding that kept its id across updates."""

    app: AppId
    interval_first_seen: datetime
    version: str | None
    first_seen: datetime


@dataclass(frozen=True)
class DeviceDetail:
    source: str
    device_id: str
    first_seen: datetime
    removed_at: datetime | None
    versions: tuple[DeviceVersion, ...]  # oldest first
    apps: tuple[AppInterval, ...]  # every app interval, by identifier then first_seen
    findings: tuple[Finding, ...]  # from the latest stored evaluation
    # the versions each app went through, per presence, oldest first (an app that never changed version
    # within a presence has one entry: the interval's own version from its first_seen)
    app_versions: tuple[AppVersionSeen, ...] = ()

    @property
    def current(self) -> Device:
        return self.versions[-1].device


# -- reading the fleet ----------------------------------------------------------------------------


def device_states(engine: Engine, as_of: datetime, exact: Collection[AppId],
                  prefixes: Sequence[AppId]) -> Iterator[DeviceState]:
    """Every device present at `as_of` as it was then, with its candidate app intervals, streamed.

    Candidates are the apps in `exact`, or matching a prefix `p` as `p` or `p.*` (a prefix ending in ":", such
    as "name:", as a plain string prefix), first seen by `as_of`: present then, or removed before it (with
    `removed_at` set).

    A fleet is read as plain tuples (SQLite's own cursor, a server-side cursor on PostgreSQL); observation
    times and group lists repeat across devices, so each distinct value is parsed once; the cyclic garbage
    collector pauses while the rows stream (they hold no cycles, and its passes over a growing fleet cost more
    than the reading itself).
    """
    as_of = utc(as_of)
    when = _param(engine.dialect.name, as_of)
    columns = ('source, device_id, platform, ownership, management, observed_at, supervised, "user", name, '
               'model, os_version, org_unit, "groups", addresses, coverage_gap, org_labels')
    current = f"SELECT {columns} FROM device_versions WHERE valid_to IS NULL AND valid_from <= :t"
    past = f"SELECT {columns} FROM device_versions WHERE valid_to > :t AND valid_from <= :t"
    times: dict[Any, datetime] = {}
    lists: dict[str, tuple[str, ...]] = {"[]": ()}
    labels: dict[str, tuple[tuple[str, str], ...]] = {"[]": ()}
    gaps = _GAPS
    flags: dict[Any, bool | None] = {None: None, 0: False, 1: True}  # False and True are 0 and 1
    platforms, ownership_, management_ = PLATFORMS, OWNERSHIP, MANAGEMENT
    parse_time, parse_list = _as_utc, json_strings
    new_device, new_state, new_interval = _device_maker(), DeviceState, AppInterval
    with guard("reading the fleet"), _gc_paused(), engine.connect() as conn:
        apps = _candidates(conn, as_of, exact, prefixes)
        held_get = apps.get
        for sql in (current, past):
            for (source, device_id, platform, ownership, management, observed, supervised, user, name, model,
                 os_version, org_unit, groups, addresses, gap, org_labels) in _rows(conn, sql, {"t": when}):
                seen = times.get(observed)
                if seen is None:
                    seen = times[observed] = parse_time(observed)
                g = lists.get(groups)
                if g is None:
                    g = lists[groups] = parse_list(groups)
                if addresses == "[]":
                    a: tuple[str, ...] = ()
                elif '\\' not in addresses and addresses[:2] == '["' and addresses[-2:] == '"]' \
                        and '", "' not in addresses:
                    a = (addresses[2:-2],)
                else:
                    a = parse_list(addresses)
                o = labels.get(org_labels)
                if o is None:
                    o = labels[org_labels] = _labels(org_labels)
                device = new_device(source, device_id, platforms[platform], ownership_[ownership],
                                    management_[management], seen, flags[supervised], user, name, model,
                                    os_version, org_unit, g, a, gaps[gap], o)
                held = held_get((source, device_id))
                if held is None:
                    yield new_state(device)
                else:
                    yield new_state(device, tuple(
                        new_interval(source, device_id, app, first, seen if removed is None else last,
                                     removed, app_name, version, managed, state)
                        for app, first, removed, last, app_name, version, managed, state in held))


_DEVICE_FIELDS = ("source", "device_id", "platform", "ownership", "management", "observed_at", "supervised", "user",
                  "name", "model", "os_version", "org_unit", "groups", "addresses", "coverage_gap", "org_labels")


def _device_maker() -> Callable[..., Device]:
    """`Device`'s constructor for the fleet's 100,000 rows: its slots set directly, about twice as fast as the
    frozen dataclass's own `__init__` (one `object.__setattr__` per field). If the model changes shape, the
    ordinary constructor is used."""
    if tuple(f.name for f in fields(Device)) != _DEVICE_FIELDS:
        return Device
    new = object.__new__
    (s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14,
     s15) = (getattr(Device, f).__set__ for f in _DEVICE_FIELDS)

    def make(source: str, device_id: str, platform: Any, ownership: Any, management: Any, observed_at: datetime,
             supervised: bool | None, user: str | None, name: str | None, model: str | None,
             os_version: str | None, org_unit: str | None, groups: tuple[str, ...], addresses: tuple[str, ...],
             coverage_gap: Any, org_labels: tuple[tuple[str, str], ...]) -> Device:
        o = new(Device)
        s0(o, source)
        s1(o, device_id)
        s2(o, platform)
        s3(o, ownership)
        s4(o, management)
        s5(o, observed_at)
        s6(o, supervised)
        s7(o, user)
        s8(o, name)
        s9(o, model)
        s10(o, os_version)
        s11(o, org_unit)
        s12(o, groups)
        s13(o, addresses)
        s14(o, coverage_gap)
        s15(o, org_labels)
        return o

    return make


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (reference counting still frees everything at once)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _rows(conn: Connection, sql: str, params: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """Plain tuples, streamed: SQLite's own cursor (no per-row wrapping), a server-side cursor on PostgreSQL."""
    if conn.dialect.name != "sqlite":
        yield from conn.execution_options(yield_per=5000).execute(text(sql), params)
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)  # sqlite3 takes :name parameters as they are
        yield from cursor
    finally:
        cursor.close()


def _param(dialect: str, value: datetime) -> Any:
    """A time as the raw driver takes it in hand-written SQL."""
    return t.sqlite_text(value) if dialect == "sqlite" else utc(value)


def _candidates(conn: Connection, as_of: datetime, exact: Collection[AppId],
                prefixes: Sequence[AppId]) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    """The candidate app intervals of every device, by (source, device_id), in key order.

    Written as plain SQL and read as the driver's tuples, like the devices: the same query built as a SQLAlchemy
    expression (hundreds of bound identifiers) cost about a fifth of an evaluation at 100,000 devices in its
    compilation and its per-row type conversions. Each distinct time is parsed once."""
    params: dict[str, Any] = {"t": _param(conn.dialect.name, as_of)}

    def bind(value: str) -> str:
        name = f"p{len(params)}"
        params[name] = value
        return ":" + name

    by_platform: dict[str, list[str]] = {}
    for app in exact:
        by_platform.setdefault(PLATFORMS[app.platform].value, []).append(app.identifier)
    conditions = [f"(platform = {bind(plat)} AND identifier IN ({', '.join(bind(i) for i in sorted(set(ids)))}))"
                  for plat, ids in sorted(by_platform.items())]
    for p in prefixes:
        plat = bind(PLATFORMS[p.platform].value)
        if p.identifier.endswith(":"):  # "name:": every app known only by display name (a plain string prefix)
            conditions.append(f"(platform = {plat} AND identifier >= {bind(p.identifier)} "
                              f"AND identifier < {bind(p.identifier[:-1] + ';')})")
            continue
        conditions.append(f"(platform = {plat} AND (identifier = {bind(p.identifier)} OR "
                          f"(identifier >= {bind(p.identifier + '.')} AND identifier < {bind(p.identifier + '/')})))")
    found: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    if not conditions:
        return found
    sql = ("SELECT source, device_id, platform, identifier, first_seen, removed_at, last_seen, name, version, "
           f"managed, state FROM app_intervals WHERE ({' OR '.join(conditions)}) AND first_seen <= :t "
           "ORDER BY source, device_id, platform, identifier, first_seen")
    times: dict[Any, datetime | None] = {None: None}
    flags: dict[Any, bool | None] = {None: None, 0: False, 1: True}  # SQLite's 0 and 1; PostgreSQL's booleans
    apps: dict[tuple[str, str], AppId] = {}
    platforms, states, parse_time = PLATFORMS, STATES, _as_utc
    for source, device_id, platform, identifier, first, removed, last, name, version, managed, state in _rows(
            conn, sql, params):
        f = times.get(first)
        if f is None:
            f = times[first] = parse_time(first)
        r = times.get(removed) if removed is not None else None
        if removed is not None and r is None:
            r = times[removed] = parse_time(removed)
        gone = r is not None and r <= as_of
        lt = None
        if gone:
            lt = times.get(last) if last is not None else None
            if last is not None and lt is None:
                lt = times[last] = parse_time(last)
        held = apps.get((platform, identifier))
        if held is None:
            held = apps[(platform, identifier)] = AppId(platforms[platform], identifier)
        found.setdefault((source, device_id), []).append((
            held, f, r if gone else None, (lt or r) if gone else None, name, version, flags[managed],
            states[state]))
    return found


def device(engine: Engine, source: str, device_id: str) -> DeviceDetail | None:
    """One device: its attribute versions, its whole app history and its latest findings."""
    d, v, a, av = t.devices, t.device_versions, t.app_intervals, t.app_versions
    with guard("reading a device"), engine.connect() as conn:
        head = conn.execute(select(d.c.first_seen, d.c.removed_at).where(
            d.c.source == source, d.c.device_id == device_id)).first()
        if head is None:
            return None
        versions = tuple(
            DeviceVersion(r.valid_from, r.valid_to, Device(
                source, device_id, PLATFORMS[r.platform], OWNERSHIP[r.ownership], MANAGEMENT[r.management],
                r.observed_at, r.supervised, r.user, r.name, r.model, r.os_version, r.org_unit,
                tuple(json.loads(r.groups)), tuple(json.loads(r.addresses)), _GAPS[r.coverage_gap],
                _labels(r.org_labels)))
            for r in conn.execute(select(v).where(v.c.source == source, v.c.device_id == device_id)
                                  .order_by(v.c.valid_from, v.c.id)))
        latest_observed = versions[-1].device.observed_at if versions else None
        apps = tuple(
            AppInterval(source, device_id, AppId(PLATFORMS[r.platform], r.identifier), r.first_seen,
                        (r.last_seen or r.removed_at) if r.removed_at is not None
                        else (latest_observed or r.first_seen),
                        r.removed_at, r.name, r.version, r.managed, STATES[r.state])
            for r in conn.execute(select(a).where(a.c.source == source, a.c.device_id == device_id)
                                  .order_by(a.c.platform, a.c.identifier, a.c.first_seen)))
        found = tuple(iter_findings(conn, source=source, device_id=device_id))
        changed = {(r.platform, r.identifier, r.interval_first_seen): r for r in conn.execute(
            select(av.c.platform, av.c.identifier, av.c.interval_first_seen).where(
                av.c.source == source, av.c.device_id == device_id).distinct())}
        seen_versions = [
            AppVersionSeen(AppId(PLATFORMS[r.platform], r.identifier), r.interval_first_seen, r.version,
                           r.first_seen)
            for r in conn.execute(select(av).where(av.c.source == source, av.c.device_id == device_id))]
    seen_versions += [AppVersionSeen(i.app, i.first_seen, i.version, i.first_seen) for i in apps
                      if (i.app.platform.value, i.app.identifier, i.first_seen) not in changed]
    seen_versions.sort(key=lambda v: (v.app, v.interval_first_seen, v.first_seen))
    return DeviceDetail(source, device_id, head.first_seen, head.removed_at, versions, apps, found,
                        tuple(seen_versions))


def devices_at(engine: Engine, keys: Collection[tuple[str, str]], as_of: datetime,
               chunk: int = 500) -> dict[tuple[str, str], Device]:
    """Each (source, device_id) in `keys` as it was at `as_of` (its latest version begun by then), for showing
    who holds a finding's device: name, user, model, OS version, org unit. One query per `chunk` devices of a
    source, never one per device; a key with no version by `as_of` is absent from the answer."""
    v = t.device_versions
    as_of = utc(as_of)
    by_source: dict[str, list[str]] = {}
    for source, device_id in set(keys):
        by_source.setdefault(source, []).append(device_id)
    found: dict[tuple[str, str], tuple[datetime, int, Device]] = {}
    with guard("reading devices"), engine.connect() as conn:
        for source, ids in sorted(by_source.items()):
            ids.sort()
            for i in range(0, len(ids), chunk):
                rows = conn.execute(select(
                    v.c.id, v.c.device_id, v.c.valid_from, v.c.platform, v.c.ownership, v.c.management,
                    v.c.observed_at, v.c.supervised, v.c.user, v.c.name, v.c.model, v.c.os_version,
                    v.c.org_unit).where(v.c.source == source, v.c.device_id.in_(ids[i:i + chunk]),
                                        v.c.valid_from <= as_of))
                for r in rows:
                    key = (source, r.device_id)
                    had = found.get(key)
                    if had is not None and (had[0], had[1]) >= (r.valid_from, r.id):
                        continue
                    found[key] = (r.valid_from, r.id, Device(
                        source, r.device_id, PLATFORMS[r.platform], OWNERSHIP[r.ownership],
                        MANAGEMENT[r.management], r.observed_at, r.supervised, r.user, r.name, r.model,
                        r.os_version, r.org_unit))
    return {k: d for k, (_, _, d) in found.items()}


# -- import runs ----------------------------------------------------------------------------------


def import_times(engine: Engine) -> list[datetime]:
    """The distinct times of successful imports, oldest first."""
    r = t.import_runs
    with guard("reading import runs"), engine.connect() as conn:
        return list(conn.execute(select(r.c.at).where(r.c.status == "ok").distinct().order_by(r.c.at))
                    .scalars())


def import_runs(engine: Engine, limit: int = 20) -> list[ImportRun]:
    """The latest import runs, newest first, failed ones included."""
    r = t.import_runs
    with guard("reading import runs"), engine.connect() as conn:
        rows = conn.execute(select(r).where(r.c.status != "running").order_by(r.c.id.desc())
                            .limit(max(0, limit))).all()
    return [ImportRun(
        id=x.id, source=x.source, format=x.format, at=x.at, started_at=x.started_at, finished_at=x.finished_at,
        status=x.status, read=x.read, accepted=x.accepted, rejected=x.rejected, devices=x.devices, apps=x.apps,
        devices_new=x.devices_new, devices_changed=x.devices_changed, devices_removed=x.devices_removed,
        apps_opened=x.apps_opened, apps_closed=x.apps_closed, error=x.error,
        rejections=tuple(Rejection(**j) for j in json.loads(x.rejections)), apps_updated=x.apps_updated,
        devices_unreadable=x.devices_unreadable, devices_no_apps=x.devices_no_apps,
    ) for x in rows]


_GAPS: dict[str | None, CoverageReason | None] = {None: None, **{g.value: g for g in CoverageReason}}


def _labels(value: str) -> tuple[tuple[str, str], ...]:
    """The organisational labels as stored: a JSON list of [kind, value] pairs."""
    if value == "[]":
        return ()
    return tuple((str(kind), str(label)) for kind, label in json.loads(value))


def json_strings(value: str) -> tuple[str, ...]:
    """A JSON list of strings as interdit writes it (json.dumps), read fast: most hold no escapes at all."""
    if value == "[]":
        return ()
    if "\\" not in value and value.startswith('["') and value.endswith('"]'):
        return tuple(value[2:-2].split('", "'))
    return tuple(json.loads(value))


def _as_utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def present_by_source(engine: Engine) -> dict[str, tuple[int, int]]:
    """Per source, the devices present and the app rows open: (devices, apps)."""
    with engine.connect() as conn:
        devices = {s: n for s, n in conn.execute(select(t.devices.c.source, func.count()).where(
            t.devices.c.removed_at.is_(None)).group_by(t.devices.c.source))}
        apps = {s: n for s, n in conn.execute(select(t.app_intervals.c.source, func.count()).where(
            t.app_intervals.c.removed_at.is_(None)).group_by(t.app_intervals.c.source))}
    return {s: (int(devices.get(s, 0)), int(apps.get(s, 0))) for s in sorted({*devices, *apps})}
