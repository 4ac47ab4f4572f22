"""BlackBerry UEM device and app report export (CSV)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from interdit.errors import InputError
from interdit.inventory.base import readers
from interdit.model import Device, InstalledApp, Management, Ownership, Platform, Rejection

REC = Path(__file__).parent / "recorded" / "blackberry"
NOW = datetime(2025, 3, 5, tzinfo=UTC)


def _read(files: list[Path]) -> list[Any]:
    reader = readers.get("blackberry-uem")("uem", files, now=NOW)
    records = list(reader.records())
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected == len(records)
    return records


def test_report_export() -> None:
    records = _read([REC / "uem-device-apps.csv"])
    devices = {r.device_id: r for r in records if isinstance(r, Device)}
    assert set(devices) == {"BB-0001", "BB-0002"}
    assert (devices["BB-0001"].management, devices["BB-0001"].groups) == (
        Management.FULLY_MANAGED, ("Executives", "All"))
    assert (devices["BB-0002"].ownership, devices["BB-0002"].management, devices["BB-0002"].platform) == (
        Ownership.PERSONAL, Management.WORK_PROFILE, Platform.ANDROID)
    assert [r.app.identifier for r in records if isinstance(r, InstalledApp)] == [
        "com.zhiliaoapp.musically", "com.blackberry.work"]
    reasons = [r.reason for r in records if isinstance(r, Rejection)]
    assert reasons == ["OS 'Windows' is not Android or iOS", "last contact 'yesterday' is not a time"]


def test_not_an_export(tmp_path: Path) -> None:
    other = tmp_path / "x.csv"
    other.write_text("name,value\na,b\n")
    with pytest.raises(InputError, match="Device ID"):
        _read([other])
