"""Small, readable snapshots for the storage tests: devices and apps built directly from the model."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta

from interdit.inventory.base import Record, Tally
from interdit.model import AppId, AppState, Device, InstalledApp, Management, Ownership, Platform, Rejection
from interdit.storage.repo import ImportResult, Repository

T0 = datetime(2023, 3, 1, 6, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TIKTOK = AppId(Platform.ANDROID, "com.zhiliaoapp.musically")


def dev(device_id: str, observed: datetime = T0, *, source: str = "mdm", platform: Platform = Platform.ANDROID,
        org_unit: str | None = "/TBS/Finance", groups: tuple[str, ...] = ("All Devices",),
        ownership: Ownership = Ownership.CORPORATE, user: str | None = None) -> Device:
    return Device(source, device_id, platform, ownership, Management.FULLY_MANAGED, observed,
                  supervised=None, user=user or f"{device_id.lower()}@dept.example", name=f"phone-{device_id}",
                  model="Pixel 7", os_version="13", org_unit=org_unit, groups=groups,
                  addresses=(f"10.0.0.{len(device_id)}",))


def app(device_id: str, identifier: str, version: str | None = "1.0", *, observed: datetime = T0,
        source: str = "mdm", platform: Platform = Platform.ANDROID,
        state: AppState = AppState.INSTALLED) -> InstalledApp:
    return InstalledApp(source, device_id, AppId(platform, identifier), observed, name=identifier.rsplit(".", 1)[-1],
                        version=version, managed=False, state=state)


def counted(records: Iterable[Record], tally: Tally) -> Iterator[Record]:
    """What a reader does: count every record as it goes."""
    for r in records:
        if isinstance(r, Rejection):
            tally.reject(r)
        else:
            tally.accept()
        yield r


def do_import(repo: Repository, records: Iterable[Record], at: datetime, source: str = "mdm") -> ImportResult:
    tally = Tally()
    return repo.import_snapshot(source, "test", counted(records, tally), tally, at=at)


def fleet(n: int, apps_per_device: int, observed: datetime = T0, *, source: str = "mdm",
          tiktok_every: int = 0) -> list[Record]:
    """`n` devices with `apps_per_device` ordinary apps each; every `tiktok_every`-th device also holds TikTok."""
    out: list[Record] = []
    for i in range(n):
        did = f"D{i:05d}"
        out.append(dev(did, observed, source=source))
        out.extend(app(did, f"org.example.app{j:03d}", f"{j}.0", observed=observed, source=source)
                   for j in range(apps_per_device))
        if tiktok_every and i % tiktok_every == 0:
            out.append(app(did, TIKTOK.identifier, "30.1", observed=observed, source=source))
    return out


Count = Callable[[str], int]
