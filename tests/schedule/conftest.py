"""A small fleet imported at a fixed time, the demo policy, and schedule files written by the tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from interdit import fleet, pipeline
from interdit.storage.repo import Repository

AT = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)  # a Monday, 02:30 in Toronto


@pytest.fixture()
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    return path


@pytest.fixture()
def repo(db_url: str, tmp_path: Path) -> Repository:
    """A database with one source (`mdm`, 8 devices) imported at `AT`."""
    repo = pipeline.open_repository(db_url)
    (_, devices, apps), = list(fleet.snapshots(fleet.FleetSpec(devices=8, seed=5), tmp_path / "fleet", [AT]))
    pipeline.import_inventory(repo, "csv", "mdm", [devices, apps], at=AT, clock=lambda: AT)
    return repo

