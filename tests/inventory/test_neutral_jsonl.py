"""The neutral JSON Lines reader (`jsonl`): device and app records, nested apps, devices before their apps,
and every bad line a counted rejection with its place."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interdit.errors import InputError
from interdit.inventory.base import readers
from interdit.inventory.neutral_csv import CsvReader
from interdit.inventory.neutral_jsonl import JsonlReader
from interdit.model import AppId, AppState, Device, InstalledApp, Platform, Rejection

NOW = datetime(2023, 3, 1, 12, 0, tzinfo=UTC)
T = "2023-03-01T06:00:00Z"
DEVICE = {"type": "device", "device_id": "A1", "platform": "android", "ownership": "corporate",
          "management": "fully_managed", "observed_at": T, "groups": ["All Devices", "Finance"],
          "addresses": "10.0.0.1;10.0.0.2", "supervised": None, "org_unit": "/TBS/Finance"}
APP = {"type": "app", "device_id": "A1", "platform": "android", "identifier": "com.tencent.mm", "name": "WeChat",
       "version": "8.0", "managed": False, "state": "installed", "observed_at": T}


def _write(path: Path, records: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), "utf-8")
    return path


def _read(path: Path) -> tuple[JsonlReader, list[Device | InstalledApp | Rejection]]:
    reader = JsonlReader("mdm", [path], now=NOW)
    records = list(reader.records())
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected == len(records)
    return reader, records


def _rejections(records: list[Device | InstalledApp | Rejection]) -> list[Rejection]:
    return [r for r in records if isinstance(r, Rejection)]


def test_registered_as_jsonl() -> None:
    assert readers.get("jsonl") is JsonlReader


def test_devices_and_apps(tmp_path: Path) -> None:
    _, records = _read(_write(tmp_path / "fleet.jsonl", [DEVICE, APP]))
    device, app = records
    assert isinstance(device, Device) and isinstance(app, InstalledApp)
    assert device.groups == ("All Devices", "Finance") and device.addresses == ("10.0.0.1", "10.0.0.2")
    assert device.observed_at == datetime(2023, 3, 1, 6, tzinfo=UTC)
    assert app.app == AppId(Platform.ANDROID, "com.tencent.mm") and app.managed is False
    assert app.state is AppState.INSTALLED


def test_same_records_as_the_csv_format(tmp_path: Path) -> None:
    header_d = "device_id,platform,ownership,management,observed_at,groups,addresses,org_unit"
    (tmp_path / "d.csv").write_text(f"{header_d}\nA1,android,corporate,fully_managed,{T},All Devices;Finance,"
                                    f"10.0.0.1;10.0.0.2,/TBS/Finance\n", "utf-8")
    (tmp_path / "a.csv").write_text("device_id,platform,identifier,name,version,managed,state,observed_at\n"
                                    f"A1,android,com.tencent.mm,WeChat,8.0,false,installed,{T}\n", "utf-8")
    from_csv = list(CsvReader("mdm", [tmp_path / "d.csv", tmp_path / "a.csv"], now=NOW).records())
    _, from_jsonl = _read(_write(tmp_path / "fleet.jsonl", [DEVICE, APP]))
    assert from_csv == from_jsonl


def test_nested_apps_inherit_their_device(tmp_path: Path) -> None:
    device = {**DEVICE, "apps": [{"identifier": "com.zhiliaoapp.musically", "state": "blocked"},
                                 {"identifier": "com.ios.only", "platform": "ios"},
                                 "not an object"]}
    reader, records = _read(_write(tmp_path / "fleet.jsonl", [device]))
    assert isinstance(records[0], Device)
    app = records[1]
    assert isinstance(app, InstalledApp) and app.device_id == "A1" and app.state is AppState.BLOCKED
    assert app.observed_at == records[0].observed_at
    bad = _rejections(records)
    assert [r.place for r in bad] == ["fleet.jsonl:1 apps[1]", "fleet.jsonl:1 apps[2]"]
    assert "differs from its device's platform" in bad[0].reason
    assert reader.tally.read == 4


def test_an_app_before_its_device_is_rejected_with_the_fix(tmp_path: Path) -> None:
    _, records = _read(_write(tmp_path / "fleet.jsonl", [APP, DEVICE]))
    (bad,) = _rejections(records)
    assert bad.place == "fleet.jsonl:1"
    assert "not in this snapshot" in bad.reason and "before" in bad.fix


@pytest.mark.parametrize("line,expected", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "a JSON list is not a record"),
    (json.dumps({**DEVICE, "type": "printer"}), "record type 'printer'"),
    (json.dumps({k: v for k, v in DEVICE.items() if k != "type"}), "record type missing"),
    (json.dumps({**DEVICE, "device_id": "B2", "platform": "symbian"}),
     "unknown platform 'symbian'; use one of android, ios, macos, windows, web"),
    (json.dumps({**DEVICE, "device_id": "B2", "observed_at": "2023-03-01T06:00:00"}), "has no time zone"),
    (json.dumps({**DEVICE, "device_id": "B2", "observed_at": "2031-01-01T00:00:00Z"}), "in the future"),
    (json.dumps({**DEVICE, "device_id": "B2", "observed_at": 1677650400}), "observed_at must be a date-time"),
    (json.dumps({**DEVICE, "device_id": 7}), "device_id must be text"),
    (json.dumps({**DEVICE, "device_id": "B2", "groups": {"a": 1}}), "groups must be a list"),
    (json.dumps({**DEVICE, "device_id": "B2", "apps": "com.x"}), "'apps' must be a list"),
    (json.dumps(DEVICE), "appears twice"),
    (json.dumps({**APP, "identifier": ""}), "empty identifier"),
    (json.dumps({**APP, "managed": "sometimes"}), "managed 'sometimes' is not true, false or empty"),
    ("[" * 100_000, "not valid JSON"),
])
def test_bad_lines(tmp_path: Path, line: str, expected: str) -> None:
    reader, records = _read(_write(tmp_path / "fleet.jsonl", [DEVICE, line, APP]))
    bad = _rejections(records)
    assert len(bad) == 1, bad
    assert bad[0].place == "fleet.jsonl:2" and expected in bad[0].reason and bad[0].fix
    assert reader.tally.accepted == 2


def test_blank_lines_are_not_records_and_invalid_utf8_is(tmp_path: Path) -> None:
    path = tmp_path / "fleet.jsonl.gz"
    body = (json.dumps(DEVICE) + "\n\n").encode() + b'{"type": "app", "name": "\xff"}\n' + json.dumps(APP).encode()
    path.write_bytes(gzip.compress(body))
    reader, records = _read(path)
    (bad,) = _rejections(records)
    assert bad.place == "fleet.jsonl.gz:3" and "not valid UTF-8" in bad.reason
    assert reader.tally.read == 3


def test_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fleet.jsonl"
    path.write_bytes(b"\x00\x01\x02" * 10)
    with pytest.raises(InputError, match="binary"):
        _read(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00\n\r"), max_size=30),
    st.dictionaries(st.sampled_from(["type", "device_id", "platform", "identifier", "observed_at", "ownership",
                                     "management", "groups", "apps", "managed"]),
                    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                              st.sampled_from(["device", "app", "A1", "android", T, "corporate", "fully_managed"]),
                              st.lists(st.text(max_size=4), max_size=3)), max_size=10).map(json.dumps),
), max_size=15))
def test_any_lines_are_counted(tmp_path: Path, lines: list[str]) -> None:
    _read(_write(tmp_path / "fleet.jsonl", [DEVICE, *lines]))
