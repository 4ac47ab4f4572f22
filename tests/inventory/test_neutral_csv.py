"""The neutral CSV reader (`csv`): what it accepts, what it rejects (with file:line, reason and fix), and that
it never loses count: read = accepted + rejected for any input."""

from __future__ import annotations

import csv
import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interdit import fleet
from interdit.errors import InputError
from interdit.inventory import neutral_csv
from interdit.inventory.base import readers
from interdit.inventory.neutral_csv import CsvReader
from interdit.model import AppId, AppState, Device, InstalledApp, Management, Ownership, Platform, Rejection

NOW = datetime(2023, 3, 1, 12, 0, tzinfo=UTC)
DEVICE_HEADER = ",".join(fleet.DEVICE_COLUMNS)
APP_HEADER = ",".join(fleet.APP_COLUMNS)
GOOD_DEVICES = [
    "A1,android,corporate,fully_managed,2023-03-01T06:00:00Z,,ana.roy@dept.example,ana-pixel,Pixel 7,13,"
    "/TBS/Finance,All Devices;Android Devices,10.0.0.1;aa:bb:cc:dd:ee:ff",
    "I2,ios,personal,user_enrolment,2023-03-01T01:00:00-05:00,false,luc@dept.example,luc-iphone,iPhone 14,16.3,"
    "/GAC/Trade,All Devices,",
]
GOOD_APPS = [
    "A1,android,com.zhiliaoapp.musically,TikTok,30.1.2,false,installed,2023-03-01T06:00:00Z",
    "A1,android,com.tencent.mm,WeChat,8.0,true,blocked,2023-03-01T06:00:00Z",
    "I2,ios,com.tencent.xin,WeChat,8.0,,,2023-03-01T06:00:00Z",
]


def _write(path: Path, header: str, rows: list[str], *, encoding: str = "utf-8") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


def _read(paths: list[Path], now: datetime = NOW) -> tuple[CsvReader, list[Device | InstalledApp | Rejection]]:
    reader = CsvReader("mdm", paths, now=now)
    return reader, list(reader.records())


def _snapshot(tmp_path: Path, devices: list[str] | None = None, apps: list[str] | None = None) -> list[Path]:
    return [_write(tmp_path / "devices.csv", DEVICE_HEADER, GOOD_DEVICES if devices is None else devices),
            _write(tmp_path / "apps.csv", APP_HEADER, GOOD_APPS if apps is None else apps)]


def _rejections(records: list[Device | InstalledApp | Rejection]) -> list[Rejection]:
    return [r for r in records if isinstance(r, Rejection)]


def _only_rejection(tmp_path: Path, devices: list[str] | None = None, apps: list[str] | None = None) -> Rejection:
    reader, records = _read(_snapshot(tmp_path, devices, apps))
    rejected = _rejections(records)
    assert len(rejected) == 1, rejected
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected == len(records)
    return rejected[0]


def test_registered_as_csv() -> None:
    assert readers.get("csv") is CsvReader


def test_reads_every_field(tmp_path: Path) -> None:
    reader, records = _read(_snapshot(tmp_path))
    devices = [r for r in records if isinstance(r, Device)]
    apps = [r for r in records if isinstance(r, InstalledApp)]
    assert not _rejections(records)
    assert reader.tally.counts().read == 5 and reader.tally.accepted == 5
    a1, i2 = devices
    assert a1 == Device(source="mdm", device_id="A1", platform=Platform.ANDROID, ownership=Ownership.CORPORATE,
                        management=Management.FULLY_MANAGED, observed_at=datetime(2023, 3, 1, 6, tzinfo=UTC),
                        supervised=None, user="ana.roy@dept.example", name="ana-pixel", model="Pixel 7",
                        os_version="13", org_unit="/TBS/Finance", groups=("All Devices", "Android Devices"),
                        addresses=("10.0.0.1", "aa:bb:cc:dd:ee:ff"))
    assert i2.observed_at == datetime(2023, 3, 1, 6, tzinfo=UTC)  # -05:00 turned into UTC
    assert i2.supervised is False and i2.addresses == ()
    assert apps[0] == InstalledApp("mdm", "A1", AppId(Platform.ANDROID, "com.zhiliaoapp.musically"),
                                   datetime(2023, 3, 1, 6, tzinfo=UTC), "TikTok", "30.1.2", False, AppState.INSTALLED)
    assert apps[1].state is AppState.BLOCKED and apps[1].managed is True
    assert apps[2].managed is None and apps[2].state is AppState.INSTALLED
    # the fast construction gives ordinary, equal, hashable values
    assert hash(apps[0]) == hash(InstalledApp(**{f: getattr(apps[0], f) for f in neutral_csv._APP_FIELDS}))


def test_devices_come_first_whatever_the_file_order(tmp_path: Path) -> None:
    devices, apps = _snapshot(tmp_path)
    _, forward = _read([devices, apps])
    _, backward = _read([apps, devices])
    assert forward == backward
    assert all(isinstance(r, Device) for r in backward[:2])


def test_generated_fleet_reads_clean(tmp_path: Path) -> None:
    at = fleet.DEMO_DATES[0]
    d, a, n_devices, n_apps = fleet.write_snapshot(fleet.FleetSpec(devices=60, seed=5), tmp_path, 0, at)
    reader, records = _read([d, a], now=at)
    assert not _rejections(records)
    assert reader.tally.read == reader.tally.accepted == n_devices + n_apps == len(records)
    with a.open(newline="", encoding="utf-8") as f:
        expected = {(row["device_id"], row["identifier"]) for row in csv.DictReader(f)}
    assert {(r.device_id, r.app.identifier) for r in records if isinstance(r, InstalledApp)} == expected


def test_gzip_and_byte_order_mark(tmp_path: Path) -> None:
    devices, apps = _snapshot(tmp_path)
    _, plain = _read([devices, apps])
    gz = tmp_path / "apps.csv.gz"
    gz.write_bytes(gzip.compress(apps.read_bytes()))
    bom = tmp_path / "devices-bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + devices.read_bytes())
    _, compressed = _read([bom, gz])
    assert compressed == plain


def test_quoted_values_with_commas_and_newlines(tmp_path: Path) -> None:
    apps = ['A1,android,com.example.a,"Maps, offline","1,2",false,installed,2023-03-01T06:00:00Z',
            'A1,android,com.example.b,"two\nlines",1,false,installed,2023-03-01T06:00:00Z',
            "A1,android,com.example.c,C,1,maybe,installed,2023-03-01T06:00:00Z"]
    _, records = _read(_snapshot(tmp_path, apps=apps))
    names = [r.name for r in records if isinstance(r, InstalledApp)]
    assert names == ["Maps, offline", "two\nlines"]
    (bad,) = _rejections(records)
    assert bad.place == "apps.csv:5"  # the quoted newline made line 3 two lines long
    assert "managed" in bad.reason


def test_wrong_field_count(tmp_path: Path) -> None:
    r = _only_rejection(tmp_path, devices=[*GOOD_DEVICES, "X9,android,corporate"])
    assert r.place == "devices.csv:4"
    assert "expected 13 fields" in r.reason and "found 3" in r.reason and r.fix


def test_unknown_platform_says_which_to_use(tmp_path: Path) -> None:
    row = "S1,symbian,corporate,fully_managed,2023-03-01T06:00:00Z,,,,,,,,"
    r = _only_rejection(tmp_path, devices=[*GOOD_DEVICES, row])
    assert r.reason == "unknown platform 'symbian'; use one of android, ios, macos, windows, web"
    assert r.place == "devices.csv:4"


@pytest.mark.parametrize("column,value,expected", [
    ("ownership", "borrowed", "unknown ownership 'borrowed'; use one of corporate, personal, unknown"),
    ("management", "kiosk", "unknown management 'kiosk'"),
    ("observed_at", "yesterday", "is not a date-time"),
    ("observed_at", "2023-03-01T06:00:00", "has no time zone"),
    ("observed_at", "2023-03-01T12:06:00Z", "is in the future"),
    ("observed_at", "", "observed_at is empty"),
    ("supervised", "perhaps", "supervised 'perhaps' is not true, false or empty"),
    ("device_id", " ", "empty device_id"),
])
def test_bad_device_values(tmp_path: Path, column: str, value: str, expected: str) -> None:
    row = dict(zip(fleet.DEVICE_COLUMNS, GOOD_DEVICES[0].split(","), strict=True))
    row["device_id"] = "B1"
    row[column] = value
    r = _only_rejection(tmp_path, devices=[*GOOD_DEVICES, ",".join(row.values())])
    assert expected in r.reason
    assert r.place == "devices.csv:4" and r.fix


def test_within_five_minutes_of_now_is_not_the_future(tmp_path: Path) -> None:
    row = "B1,android,corporate,fully_managed,2023-03-01T12:04:59Z,,,,,,,,"
    _, records = _read(_snapshot(tmp_path, devices=[*GOOD_DEVICES, row]))
    assert not _rejections(records)


def test_second_copy_of_a_device_is_rejected(tmp_path: Path) -> None:
    r = _only_rejection(tmp_path, devices=[*GOOD_DEVICES, GOOD_DEVICES[0]])
    assert r.place == "devices.csv:4"
    assert "appears twice" in r.reason and "devices.csv:2" in r.reason


def test_app_checks(tmp_path: Path) -> None:
    apps = [*GOOD_APPS,
            "Z9,android,com.example,Ex,1,false,installed,2023-03-01T06:00:00Z",  # device not in the snapshot
            "A1,ios,com.example,Ex,1,false,installed,2023-03-01T06:00:00Z",  # platform differs from the device's
            "A1,android,,Ex,1,false,installed,2023-03-01T06:00:00Z",  # empty identifier
            "A1,palm,com.example,Ex,1,false,installed,2023-03-01T06:00:00Z",  # unknown platform
            "A1,android,com.example,Ex,1,false,deleted,2023-03-01T06:00:00Z",  # unknown state
            "A1,android,com.example,Ex,1,false,installed,2023-03-01T06:00:00",  # naive
            "I2,ios,com.a,A,1,false,installed,2023-03-01T06:00:00Z",
            "I2,ios,com.a,A,1,false,installed,2023-03-01T06:00:00Z"]  # listed twice for the device
    reader, records = _read(_snapshot(tmp_path, apps=apps))
    rejected = {r.place: r for r in _rejections(records)}
    assert set(rejected) == {f"apps.csv:{n}" for n in (5, 6, 7, 8, 9, 10, 12)}
    assert "'Z9' is not in this snapshot" in rejected["apps.csv:5"].reason
    assert "differs from its device's platform 'android'" in rejected["apps.csv:6"].reason
    assert rejected["apps.csv:7"].reason == "empty identifier"
    assert rejected["apps.csv:8"].reason.startswith("unknown platform 'palm'; use one of android")
    assert "unknown state 'deleted'" in rejected["apps.csv:9"].reason
    assert "no time zone" in rejected["apps.csv:10"].reason
    assert "listed twice" in rejected["apps.csv:12"].reason
    assert all(r.fix for r in rejected.values())
    assert reader.tally.read == 2 + len(apps) == reader.tally.accepted + reader.tally.rejected


def test_apps_of_a_rejected_device_say_so(tmp_path: Path) -> None:
    devices = [GOOD_DEVICES[0], GOOD_DEVICES[1].replace("personal", "rented")]
    _, records = _read(_snapshot(tmp_path, devices=devices))
    reasons = [r.reason for r in _rejections(records)]
    assert reasons[0].startswith("unknown ownership 'rented'")
    assert reasons[1] == "device 'I2' was rejected, so its apps are too"


def test_a_line_that_is_not_utf8_is_rejected_and_reading_goes_on(tmp_path: Path) -> None:
    devices, apps = _snapshot(tmp_path)
    lines = apps.read_bytes().split(b"\n")
    lines[1] = lines[1].replace(b"TikTok", "TikTök — Vidéos".encode())  # the file is UTF-8 from its first bytes on
    lines[2] = lines[2].replace(b"WeChat", b"We\xff\xfeChat")
    apps.write_bytes(b"\n".join(lines))
    reader, records = _read([devices, apps])
    (bad,) = _rejections(records)
    assert bad.place == "apps.csv:3" and "not valid UTF-8" in bad.reason and "encoding" in bad.fix
    assert reader.tally.accepted == 4
    # and in a devices file, an accented name that is valid UTF-8 is fine
    _write(devices, DEVICE_HEADER, [GOOD_DEVICES[0].replace("/TBS/Finance", "/Québec/Montréal"), GOOD_DEVICES[1]])
    _, records = _read([devices, apps])
    assert next(r for r in records if isinstance(r, Device)).org_unit == "/Québec/Montréal"


def test_an_overlong_line_is_rejected_without_reading_it_whole(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neutral_csv, "MAX_LINE", 300)
    apps = [*GOOD_APPS[:2], "A1,android,com.long," + "x" * 5000 + ",1,false,installed,2023-03-01T06:00:00Z",
            GOOD_APPS[2]]
    reader, records = _read(_snapshot(tmp_path, apps=apps))
    (bad,) = _rejections(records)
    assert bad.place == "apps.csv:4" and "longer than" in bad.reason
    assert reader.tally.accepted == 5


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"serial,owner\nX,Y\n", "neither a devices file nor an apps file"),
    (b"device_id,platform,identifier\nA1,android,x\n", "lacks the column(s) observed_at"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"device_id,platform,ownership,management,observed_at,platform\n", "names a column twice"),
])
def test_files_that_cannot_be_read_at_all(tmp_path: Path, content: bytes, message: str) -> None:
    devices, _ = _snapshot(tmp_path)
    weird = tmp_path / "weird.csv"
    weird.write_bytes(content)
    with pytest.raises(InputError) as caught:
        _read([devices, weird])
    assert message in str(caught.value)
    assert "weird.csv" in str(caught.value) and caught.value.fix


def test_a_snapshot_needs_both_files(tmp_path: Path) -> None:
    devices, _ = _snapshot(tmp_path)
    with pytest.raises(InputError, match="needs a devices file and an apps file"):
        _read([devices])


def test_truncated_gzip_is_an_input_error(tmp_path: Path) -> None:
    devices, apps = _snapshot(tmp_path, apps=GOOD_APPS * 1)
    gz = tmp_path / "apps.csv.gz"
    gz.write_bytes(gzip.compress(apps.read_bytes() * 50)[:200])
    with pytest.raises(InputError, match=r"(?s)apps.csv.gz.*complete"):
        _read([devices, gz])


# -- hostile input: whatever the rows or bytes, the reader counts every record and raises nothing else -----

_text = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12)
_fields = _text | st.sampled_from(["A1", "I2", "android", "ios", "corporate", "fully_managed",
                                   "2023-03-01T06:00:00Z", "true", "", "installed"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_fields, min_size=1, max_size=10), max_size=12))
def test_any_rows_are_counted(tmp_path: Path, rows: list[list[str]]) -> None:
    devices, apps = _snapshot(tmp_path)
    with apps.open("a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    reader, records = _read([devices, apps])
    assert reader.tally.read == len(GOOD_DEVICES) + len(GOOD_APPS) + len(rows) == len(records)
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected
    assert sum(isinstance(r, Rejection) for r in records) == reader.tally.rejected


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400))
def test_any_bytes_are_counted_or_refused(tmp_path: Path, data: bytes) -> None:
    devices, apps = _snapshot(tmp_path)
    for target in (devices, apps):
        original = target.read_bytes()
        target.write_bytes(original + data)
        try:
            reader, records = _read([devices, apps])
        except InputError as refused:  # only a file that is not text in any encoding is refused outright
            assert "binary" in str(refused) and target.name in str(refused) and refused.fix
        else:
            assert reader.tally.read == reader.tally.accepted + reader.tally.rejected == len(records)
        target.write_bytes(original)


def test_now_must_be_aware(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        list(CsvReader("mdm", _snapshot(tmp_path), now=datetime(2023, 3, 1)).records())


def test_times_are_cached_but_the_future_is_still_checked(tmp_path: Path) -> None:
    later = (NOW + timedelta(hours=1)).isoformat()
    apps = [*GOOD_APPS, f"A1,android,com.x,X,1,false,installed,{later}", f"I2,ios,com.y,Y,1,false,installed,{later}"]
    _, records = _read(_snapshot(tmp_path, apps=apps))
    assert [r.place for r in _rejections(records)] == ["apps.csv:5", "apps.csv:6"]
