"""A synthetic but realistic fleet, written as neutral-format CSV: the demo's data and the benchmark's.

Each device is derived from its own seeded random stream, so any snapshot of any size is produced one
device at a time (no fleet in memory) and successive snapshots describe the same devices: the second
snapshot differs from the first by what a real fortnight changes (banned apps removed or hidden, a few
new installs, some app updates, a few devices gone stale). A third snapshot (the living demo's) goes on: a few
more banned apps removed, and a few devices still holding one retired. The random draws are the same in every
snapshot, so the first two are what they always were.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEVICE_COLUMNS = ("device_id", "platform", "ownership", "management", "observed_at", "supervised", "user",
                  "name", "model", "os_version", "org_unit", "groups", "addresses")
APP_COLUMNS = ("device_id", "platform", "identifier", "name", "version", "managed", "state", "observed_at")

ORG_UNITS = (
    "/TBS/Office of the CIO", "/TBS/Communications", "/TBS/Communications/Social Media", "/TBS/Finance",
    "/GAC/Consular Services", "/GAC/Communications", "/GAC/Trade", "/ESDC/Service Canada",
    "/ESDC/Policy", "/PCO/Communications", "/DND/Operations", "/DND/Corporate Services",
)
SOCIAL_MEDIA_UNIT = "/TBS/Communications/Social Media"

COMMON = {
    "android": [
        ("com.microsoft.office.outlook", "Outlook"), ("com.microsoft.teams", "Microsoft Teams"),
        ("com.azure.authenticator", "Microsoft Authenticator"), ("com.android.chrome", "Chrome"),
        ("com.microsoft.emmx", "Microsoft Edge"), ("com.adobe.reader", "Adobe Acrobat Reader"),
        ("us.zoom.videomeetings", "Zoom"), ("com.cisco.webex.meetings", "Webex"),
        ("org.thoughtcrime.securesms", "Signal"), ("com.google.android.apps.maps", "Google Maps"),
        ("com.linkedin.android", "LinkedIn"), ("com.microsoft.office.officehubrow", "Microsoft 365"),
        ("com.microsoft.skydrive", "OneDrive"), ("com.blackberry.hub", "BlackBerry Hub"),
        ("com.whatsapp", "WhatsApp"), ("com.spotify.music", "Spotify"),
    ],
    "ios": [
        ("com.microsoft.Office.Outlook", "Outlook"), ("com.microsoft.skype.teams", "Microsoft Teams"),
        ("com.microsoft.azureauthenticator", "Microsoft Authenticator"), ("com.google.chrome.ios", "Chrome"),
        ("com.microsoft.msedge", "Microsoft Edge"), ("com.adobe.Adobe-Reader", "Adobe Acrobat Reader"),
        ("us.zoom.videomeetings", "Zoom"), ("com.cisco.webex.meetings", "Webex"),
        ("org.whispersystems.signal", "Signal"), ("com.google.Maps", "Google Maps"),
        ("com.linkedin.LinkedIn", "LinkedIn"), ("com.microsoft.officemobile", "Microsoft 365"),
        ("com.microsoft.skydrive", "OneDrive"), ("com.blackberry.work", "BlackBerry Work"),
        ("net.whatsapp.WhatsApp", "WhatsApp"), ("com.spotify.client", "Spotify"),
    ],
}

# (family label for the demo's own bookkeeping, identifier, name, weight) per platform
BANNED = {
    "android": [("tiktok", "com.zhiliaoapp.musically", "TikTok", 70),
                ("tiktok", "com.ss.android.ugc.trill", "TikTok", 6),
                ("tiktok", "com.zhiliaoapp.musically.go", "TikTok Lite", 8),
                ("douyin", "com.ss.android.ugc.aweme", "Douyin", 3), ("capcut", "com.lemon.lvoverseas", "CapCut", 9),
                ("wechat", "com.tencent.mm", "WeChat", 8), ("kaspersky", "com.kms.free", "Kaspersky", 3)],
    "ios": [("tiktok", "com.zhiliaoapp.musically", "TikTok", 80), ("capcut", "com.lemon.lvoverseas", "CapCut", 10),
            ("wechat", "com.tencent.xin", "WeChat", 10)],
}

FIRST = ("alex", "sam", "marie", "jean", "li", "noor", "olivia", "liam", "chloe", "raj", "ana", "luc", "emma",
         "omar", "sofia", "felix", "amira", "tom", "julie", "hugo")
LAST = ("tremblay", "gagnon", "roy", "cote", "bouchard", "smith", "brown", "wilson", "martin", "nguyen", "singh",
        "wong", "leblanc", "lavoie", "campbell", "fortin", "morin", "lee", "white", "girard")


@dataclass(frozen=True)
class FleetSpec:
    devices: int = 3000
    seed: int = 2023
    filler_apps: int = 8  # extra apps per device drawn from a large pool, to set the app-row count
    banned_rate: float = 0.03  # share of devices holding a banned app in the first snapshot


def _filler_pool(platform: str) -> list[tuple[str, str]]:
    vendors = ("ca.gc", "com.acme", "org.opentools", "io.fieldworks", "com.northwind", "net.maplesoft")
    return [(f"{vendors[i % len(vendors)]}.{'app' if platform == 'android' else 'App'}{i:04d}", f"App {i:04d}")
            for i in range(2000)]


_POOLS = {p: _filler_pool(p) for p in ("android", "ios")}


@dataclass(frozen=True)
class _Device:
    row: dict[str, str]
    apps: list[dict[str, str]]


def _device(spec: FleetSpec, index: int, snapshot: int, at: datetime) -> _Device | None:
    """Device `index` as snapshot `snapshot` (0-based) sees it at `at`; None when it left the fleet."""
    r = random.Random(spec.seed * 1_000_003 + index)
    platform = "ios" if r.random() < 0.55 else "android"
    u = r.random()
    ownership = "corporate" if u < 0.80 else ("personal" if u < 0.92 else "unknown")
    if ownership == "personal":
        management = "user_enrolment" if platform == "ios" else "work_profile"
    elif ownership == "unknown":
        management = "fully_managed" if r.random() < 0.6 else "unknown"
    else:
        management = "work_profile" if platform == "android" and r.random() < 0.12 else "fully_managed"
    supervised = platform == "ios" and ownership == "corporate" and r.random() < 0.9
    units = [u for u in ORG_UNITS if u != SOCIAL_MEDIA_UNIT]
    pick = r.random()
    org = SOCIAL_MEDIA_UNIT if pick < 0.005 else (
        units[min(int(r.paretovariate(1.3)) - 1, len(units) - 1)] if pick < 0.5 else r.choice(units))
    user = f"{r.choice(FIRST)}.{r.choice(LAST)}{index % 97}@dept.example"
    model = r.choice(("iPhone 13", "iPhone 14", "iPhone SE (3rd generation)", "iPad (9th generation)")) \
        if platform == "ios" else r.choice(("Pixel 7", "Galaxy S22", "Galaxy A54", "Galaxy XCover6 Pro"))
    os_version = r.choice(("16.3", "16.3.1", "15.7.3")) if platform == "ios" else r.choice(("13", "12", "11"))
    # staleness: a device that has not checked in for a while
    stale = r.random() < 0.02
    leaves = r.random() < 0.004  # retired between the snapshots
    if leaves and snapshot > 0:
        return None
    lag = timedelta(days=r.randint(9, 30)) if stale and snapshot > 0 else timedelta(hours=r.randint(0, 70))
    observed = (at - lag).replace(microsecond=0)
    did = f"{'A' if platform == 'android' else 'I'}{index:07d}"
    row = {
        "device_id": did, "platform": platform, "ownership": ownership, "management": management,
        "observed_at": observed.isoformat().replace("+00:00", "Z"),
        "supervised": "true" if supervised else ("false" if platform == "ios" else ""),
        "user": user, "name": f"{user.split('@')[0]}-{model.split()[0].lower()}", "model": model,
        "os_version": os_version, "org_unit": org,
        "groups": "All Devices;" + ("iOS Supervised" if supervised else f"{platform.capitalize()} Devices"),
        "addresses": f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}",
    }
    stamp = row["observed_at"]
    apps: list[dict[str, str]] = []
    common = COMMON[platform]
    for ident, name in r.sample(common, r.randint(6, len(common))):
        major = r.randint(1, 120)
        # about 1% of the common apps update between the snapshots
        updated = r.random() < 0.01  # drawn in every snapshot, so the streams stay aligned
        if snapshot > 0 and updated:
            major += 1
        apps.append({"device_id": did, "platform": platform, "identifier": ident, "name": name,
                     "version": f"{major}.{r.randint(0, 9)}.{r.randint(0, 30)}", "managed": "true",
                     "state": "installed", "observed_at": stamp})
    for ident, name in r.sample(_POOLS[platform], spec.filler_apps):
        apps.append({"device_id": did, "platform": platform, "identifier": ident, "name": name,
                     "version": f"{r.randint(1, 9)}.{r.randint(0, 9)}", "managed": "false",
                     "state": "installed", "observed_at": stamp})
    # banned apps: more common in the communications units; personal devices hold them too
    rate = spec.banned_rate * (3 if "Communications" in org else 1) * (2 if ownership == "personal" else 1)
    has_banned = r.random() < rate or (org == SOCIAL_MEDIA_UNIT and ownership == "corporate")
    fate = r.random()  # what the fortnight after the directive does with it
    new_install = r.random() < 0.003
    if has_banned or (new_install and snapshot > 0):
        choices = BANNED[platform]
        _family, ident, name, _w = r.choices(choices, weights=[c[3] for c in choices])[0]
        state = "installed"
        keep = True
        if snapshot > 0 and has_banned and org != SOCIAL_MEDIA_UNIT and ownership != "personal":
            if fate < 0.78 or (snapshot > 1 and fate < 0.84):
                keep = False  # removed by the user or the MDM (a few more after the second fortnight)
            elif fate < 0.90 and supervised:
                state = "blocked"  # hidden by the restrictions profile, still on the device
            elif snapshot > 1 and fate < 0.95:
                return None  # a third snapshot: retired (wiped and handed back) with the app still on it
        if keep:
            apps.append({"device_id": did, "platform": platform, "identifier": ident, "name": name,
                         "version": f"{r.randint(28, 33)}.{r.randint(0, 9)}.{r.randint(0, 9)}",
                         "managed": "false", "state": state, "observed_at": stamp})
    return _Device(row, apps)


def write_snapshot(spec: FleetSpec, out_dir: Path, snapshot: int, at: datetime) -> tuple[Path, Path, int, int]:
    """Write devices.csv and apps.csv for one snapshot; returns their paths and row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    devices_path, apps_path = out_dir / "devices.csv", out_dir / "apps.csv"
    n_devices = n_apps = 0
    with devices_path.open("w", newline="", encoding="utf-8") as fd, \
            apps_path.open("w", newline="", encoding="utf-8") as fa:
        dw = csv.DictWriter(fd, DEVICE_COLUMNS)
        aw = csv.DictWriter(fa, APP_COLUMNS)
        dw.writeheader()
        aw.writeheader()
        for i in range(spec.devices):
            d = _device(spec, i, snapshot, at)
            if d is None:
                continue
            dw.writerow(d.row)
            aw.writerows(d.apps)
            n_devices += 1
            n_apps += len(d.apps)
    return devices_path, apps_path, n_devices, n_apps


def snapshots(spec: FleetSpec, out_dir: Path, dates: Sequence[datetime]) -> Iterator[tuple[datetime, Path, Path]]:
    for n, at in enumerate(dates):
        at = at.astimezone(UTC)
        d, a, _, _ = write_snapshot(spec, out_dir / f"snapshot-{n + 1}", n, at)
        yield at, d, a


DEMO_DATES = (datetime(2023, 3, 1, 6, 0, tzinfo=UTC), datetime(2023, 3, 15, 6, 0, tzinfo=UTC))


Upload = tuple[list[tuple[str, bytes]], dict[str, int]]  # the files to send, and the counts they must give


def csv_uploads(spec: FleetSpec, out_dir: Path, *, extra_app_rows: bytes = b"", extra_rejected: int = 0,
                dates: tuple[datetime, ...] = DEMO_DATES[:2]) -> list[Upload]:
    """One upload a date (the neutral devices.csv and apps.csv as bytes, `extra_app_rows` appended to the apps),
    with the counts an import of it must report: devices, app rows, read = accepted + rejected."""
    out: list[Upload] = []
    for n, at in enumerate(dates):
        devices_csv, apps_csv, n_devices, n_apps = write_snapshot(spec, out_dir / f"upload-{n}", n, at)
        files = [("devices.csv", devices_csv.read_bytes()), ("apps.csv", apps_csv.read_bytes() + extra_app_rows)]
        out.append((files, {"devices": n_devices, "apps": n_apps, "read": n_devices + n_apps + extra_rejected,
                            "accepted": n_devices + n_apps, "rejected": extra_rejected}))
    return out


def demo_dates(now: datetime) -> tuple[datetime, datetime, datetime]:
    """The living demo's imports: four weeks ago, two weeks ago and now (to the minute), so that its history
    ends today (`DEMO_DATES` keeps the 2023 dates the tests and benchmarks compare against)."""
    end = now.astimezone(UTC).replace(second=0, microsecond=0)
    return end - timedelta(days=28), end - timedelta(days=14), end
