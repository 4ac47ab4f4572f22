"""SECURITY-REVIEW 43: one record holding a lone surrogate or a NUL stops nothing but itself. The review's own
reproduction, imported through the pipeline into SQLite and PostgreSQL, for the neutral formats and an MDM reader."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from interdit import pipeline
from interdit.storage.repo import Repository

T = "2023-03-01T06:00:00Z"
NOW = datetime(2023, 3, 1, 12, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


@pytest.fixture()
def repo(db_url: str) -> Iterator[Repository]:
    r = Repository(db_url)
    r.migrate()
    yield r
    r.close()


def _device(device_id: str, **extra: str) -> str:
    return json.dumps({"type": "device", "device_id": device_id, "platform": "android", "ownership": "corporate",
                       "management": "fully_managed", "observed_at": T, **extra})


@pytest.mark.parametrize("bad", ["bad\\ud800", "x\\u0000y"])
def test_the_reviews_jsonl_imports_every_other_record(repo: Repository, tmp_path: Path, bad: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(_device("B").replace('"type"', f'"name": "{bad}", "type"') + "\n" + _device("G") + "\n", "utf-8")
    result, tally = pipeline.import_inventory(repo, "jsonl", "s", [path], clock=_clock,
                                            max_rejected="none")  # one of two records: no limit here
    assert (tally.read, tally.accepted, tally.rejected) == (2, 1, 1)
    (rejection,) = tally.rejections
    assert rejection.place == "s.jsonl:1" and rejection.device_id == "B" and rejection.fix
    assert (result.devices, result.apps) == (1, 0)


def test_an_mdm_page_with_a_nul_in_an_app_name_imports_the_rest(repo: Repository, tmp_path: Path) -> None:
    page = {"devices": [{"name": "enterprises/LC1/devices/d1", "managementMode": "DEVICE_OWNER",
                         "ownership": "COMPANY_OWNED", "state": "ACTIVE", "lastStatusReportTime": T,
                         "applicationReports": [{"packageName": "com.a", "displayName": "A\u0000"},
                                                {"packageName": "com.b", "displayName": "B"}]}]}
    path = tmp_path / "devices.json"
    path.write_text(json.dumps(page), "utf-8")
    result, tally = pipeline.import_inventory(repo, "amapi", "android", [path], clock=_clock,
                                            max_rejected="none")
    assert (tally.accepted, tally.rejected) == (2, 1)
    (rejection,) = tally.rejections
    assert "applicationReports[0]" in rejection.place and "NUL" in rejection.reason
    assert rejection.kind == "app" and rejection.device_id == "d1"
    assert result.apps == 1
