"""The sample fleet: deterministic, realistic proportions, and a second snapshot that differs a little."""

from __future__ import annotations

import csv
from pathlib import Path

from interdit import fleet

SPEC = fleet.FleetSpec(devices=2000, seed=7)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_same_seed_same_files(tmp_path: Path) -> None:
    a = fleet.write_snapshot(SPEC, tmp_path / "a", 0, fleet.DEMO_DATES[0])
    b = fleet.write_snapshot(SPEC, tmp_path / "b", 0, fleet.DEMO_DATES[0])
    assert a[0].read_bytes() == b[0].read_bytes()
    assert a[1].read_bytes() == b[1].read_bytes()


def test_proportions_are_realistic(tmp_path: Path) -> None:
    devices_csv, apps_csv, n_devices, n_apps = fleet.write_snapshot(SPEC, tmp_path, 0, fleet.DEMO_DATES[0])
    devices = _rows(devices_csv)
    assert len(devices) == n_devices == SPEC.devices
    ownership = {o: sum(d["ownership"] == o for d in devices) / len(devices) for o in ("corporate", "personal")}
    assert 0.7 < ownership["corporate"] < 0.9
    assert 0.05 < ownership["personal"] < 0.2
    assert {d["platform"] for d in devices} == {"android", "ios"}
    banned = {i for fam in fleet.BANNED.values() for _, i, _, _ in fam}
    holders = {a["device_id"] for a in _rows(apps_csv) if a["identifier"] in banned}
    assert 0.02 < len(holders) / n_devices < 0.15
    assert n_apps > n_devices * 10


def test_second_snapshot_removes_most_banned_apps(tmp_path: Path) -> None:
    banned = {i for fam in fleet.BANNED.values() for _, i, _, _ in fam}
    _, a1, n1, _ = fleet.write_snapshot(SPEC, tmp_path / "1", 0, fleet.DEMO_DATES[0])
    _, a2, n2, _ = fleet.write_snapshot(SPEC, tmp_path / "2", 1, fleet.DEMO_DATES[1])
    personal = {d["device_id"] for d in _rows(tmp_path / "1" / "devices.csv") if d["ownership"] == "personal"}
    first = [a for a in _rows(a1) if a["identifier"] in banned and a["device_id"] not in personal]
    second = [a for a in _rows(a2) if a["identifier"] in banned and a["device_id"] not in personal]
    assert len(second) < len(first) / 2
    assert any(a["state"] == "blocked" for a in second)
    assert n2 < n1  # a few devices were retired
