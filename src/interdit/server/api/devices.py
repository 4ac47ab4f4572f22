"""Devices present now (with their finding counts), one device's attributes, apps, findings and history."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query

from interdit.model import Device
from interdit.server import views
from interdit.server.auth import Reader
from interdit.server.context import Ctx, ServerContext
from interdit.server.problems import PROBLEM_RESPONSES
from interdit.server.schemas import AppIntervalOut, DeviceDetailOut, DevicePage, plain

router = APIRouter(prefix="/api/v1", tags=["devices"], responses=PROBLEM_RESPONSES)


@dataclass(frozen=True)
class Fleet:
    keys: tuple[str, ...]  # "source\x1fdevice_id", sorted: cursors are positions in it
    devices: tuple[Device, ...]


def fleet(ctx: ServerContext) -> Fleet:
    """Every device present at the current evaluation time (no apps), sorted by source and id; cached."""
    cur = views.current(ctx)

    def make() -> Fleet:
        states = ctx.repo.device_states(cur.as_of, frozenset(), ())
        devices = sorted((s.device for s in states), key=lambda d: (d.source, d.device_id))
        return Fleet(tuple(f"{d.source}\x1f{d.device_id}" for d in devices), tuple(devices))

    value = ctx.cache.get("fleet", (cur.as_of,), make)
    assert isinstance(value, Fleet)
    return value


def device_out(d: Device, counts: Counter[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = plain(d)
    out["findings"] = dict(counts or {})
    return out


@router.get("/devices", response_model=DevicePage,
            summary="Devices present now, with the number of findings of each state")
def list_devices(
    ctx: Ctx, who: Reader,
    source: Annotated[str | None, Query(max_length=200)] = None,
    org_unit: Annotated[str | None, Query(max_length=500, description="Includes the units below it.")] = None,
    platform: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the device id, name or user.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=600)] = None,
) -> dict[str, Any]:
    fl = fleet(ctx)
    per_device: dict[tuple[str, str], Counter[str]] = ctx.cache.get("per-device", (views.current(ctx).as_of,),
                                                                 lambda: _per_device(ctx))
    start = bisect.bisect_right(fl.keys, cursor) if cursor else 0
    unit = org_unit.rstrip("/") if org_unit else None
    needle = q.lower() if q else None
    page: list[Device] = []
    for d in fl.devices[start:]:
        if (source and d.source != source) or (platform and d.platform.value != platform):
            continue
        if unit and not ((d.org_unit or "") == unit or (d.org_unit or "").startswith(unit + "/")):
            continue
        if needle and not any(needle in (v or "").lower() for v in (d.device_id, d.name, d.user)):
            continue
        page.append(d)
        if len(page) > limit:
            break
    more = len(page) > limit
    page = page[:limit]
    return {"items": [device_out(d, per_device.get(d.key)) for d in page],
            "next_cursor": f"{page[-1].source}\x1f{page[-1].device_id}" if more and page else None}


def _per_device(ctx: ServerContext) -> dict[tuple[str, str], Counter[str]]:
    out: dict[tuple[str, str], Counter[str]] = {}
    for f in views.current(ctx).findings:
        out.setdefault((f.source, f.device_id), Counter())[f.state.value] += 1
    return out


@router.get("/devices/{source}/{device_id:path}/apps", response_model=list[AppIntervalOut],
            summary="The apps a device holds or held (installed apps)")
def device_apps(source: str, device_id: str, ctx: Ctx, who: Reader) -> list[dict[str, Any]]:
    detail = views.device_detail(ctx, source, device_id)
    for key in ("apps", "app_history", "intervals"):
        if isinstance(detail.get(key), list):
            return list(detail[key])
    return []


@router.get("/devices/{source}/{device_id:path}", response_model=DeviceDetailOut,
            summary="One device: attributes, app history, findings (a device id may hold '/')")
def one_device(source: str, device_id: str, ctx: Ctx, who: Reader) -> dict[str, Any]:
    return views.device_detail(ctx, source, device_id)
