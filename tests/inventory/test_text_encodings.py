"""Exports as Excel and MDM consoles write them: Windows-1252 with `;`, UTF-16 with tabs, byte-order marks; and
records holding text no database can keep (a NUL, a lone UTF-16 surrogate), which are rejected one by one."""

from __future__ import annotations

import codecs
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interdit import fleet
from interdit.errors import InputError
from interdit.inventory._encoding import detect, sniff_separator
from interdit.inventory.base import Tally, readers
from interdit.inventory.neutral_csv import CsvReader
from interdit.inventory.neutral_jsonl import JsonlReader
from interdit.model import Device, InstalledApp, Rejection

NOW = datetime(2023, 3, 1, 12, 0, tzinfo=UTC)
T = "2023-03-01T06:00:00Z"
DEVICES = [
    ["A1", "android", "corporate", "fully_managed", T, "", "rené.côté@dept.example", "Téléphone de René", "Pixel 7",
     "13", "/Québec/Ministère des Finances", "Équipe; Sécurité", ""],
    ["I2", "ios", "corporate", "fully_managed", T, "true", "zoë@dept.example", "iPhone de Zoë", "iPhone 14", "16.3",
     "/Montréal/Santé", "", ""],
]
APPS = [
    ["A1", "android", "com.zhiliaoapp.musically", "TikTok – vidéos", "30.1.2", "false", "installed", T],
    ["I2", "ios", "com.tencent.xin", "WeChat (微信)", "8.0", "", "", T],
]


def _csv(rows: list[list[str]], header: tuple[str, ...], sep: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\r\n").writerows([list(header), *rows])
    return out.getvalue()


def _read(paths: list[Path]) -> tuple[CsvReader, list[Device | InstalledApp | Rejection]]:
    reader = CsvReader("mdm", paths, now=NOW)
    return reader, list(reader.records())


def _pair(tmp_path: Path, encoding: str, sep: str, *, bom: bytes = b"", apps: list[list[str]] = APPS,
          devices: list[list[str]] = DEVICES) -> list[Path]:
    d, a = tmp_path / "devices.csv", tmp_path / "apps.csv"
    d.write_bytes(bom + _csv(devices, fleet.DEVICE_COLUMNS, sep).encode(encoding))
    a.write_bytes(bom + _csv(apps, fleet.APP_COLUMNS, sep).encode(encoding))
    return [d, a]


def test_windows_1252_with_semicolons_and_accents_reads_back_exactly(tmp_path: Path) -> None:
    apps = [APPS[0]]  # Windows-1252 has no Chinese: only the first app
    reader, records = _read(_pair(tmp_path, "cp1252", ";", apps=apps))
    assert not [r for r in records if isinstance(r, Rejection)]
    devices = {r.device_id: r for r in records if isinstance(r, Device)}
    assert devices["A1"].org_unit == "/Québec/Ministère des Finances"
    assert devices["A1"].name == "Téléphone de René" and devices["A1"].groups == ("Équipe", "Sécurité")
    assert [a.name for a in records if isinstance(a, InstalledApp)] == ["TikTok – vidéos"]
    assert reader.text_formats["devices.csv"].startswith("Windows-1252")
    assert "semicolon" in reader.text_formats["devices.csv"]
    assert any("devices.csv" in n and "Windows-1252" in n for n in reader.tally.note_lines())


@pytest.mark.parametrize("encoding,bom,sep,name", [
    ("utf-16-le", codecs.BOM_UTF16_LE, "\t", "UTF-16"),
    ("utf-16-be", codecs.BOM_UTF16_BE, ";", "UTF-16"),
    ("utf-16-le", b"", ",", "UTF-16 LE"),
    ("utf-8", codecs.BOM_UTF8, ";", "UTF-8"),
    ("utf-8", b"", "\t", "UTF-8"),
])
def test_unicode_exports_round_trip(tmp_path: Path, encoding: str, bom: bytes, sep: str, name: str) -> None:
    reader, records = _read(_pair(tmp_path, encoding, sep, bom=bom))
    assert not [r for r in records if isinstance(r, Rejection)]
    got_devices = [(d.device_id, d.user, d.name, d.org_unit) for d in records if isinstance(d, Device)]
    assert got_devices == [(r[0], r[6], r[7], r[10]) for r in DEVICES]
    assert [(a.device_id, a.app.identifier, a.name) for a in records if isinstance(a, InstalledApp)] == \
        [(r[0], r[2], r[3]) for r in APPS]
    assert reader.text_formats["apps.csv"].startswith(name)


def test_a_file_in_ascii_then_windows_1252_lines_is_read_whole(tmp_path: Path) -> None:
    many = [[f"D{i}", "android", "corporate", "fully_managed", T, "", "", "", "", "", "/Ottawa", "", ""]
            for i in range(3000)]  # over the 64 KiB the encoding is decided on, all ASCII
    late = [["Z9", "android", "corporate", "fully_managed", T, "", "", "Téléphone", "", "", "/Québec", "", ""]]
    reader, records = _read(_pair(tmp_path, "cp1252", ",", devices=many + late, apps=[]))
    assert not [r for r in records if isinstance(r, Rejection)]
    z9 = next(r for r in records if isinstance(r, Device) and r.device_id == "Z9")
    assert (z9.name, z9.org_unit) == ("Téléphone", "/Québec")
    assert any("not UTF-8" in n for n in reader.tally.note_lines())


def test_binary_files_are_refused_naming_the_file(tmp_path: Path) -> None:
    paths = _pair(tmp_path, "utf-8", ",")
    paths[1].write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)  # an .xlsx saved as .csv
    with pytest.raises(InputError) as refused:
        _read(paths)
    assert "apps.csv" in str(refused.value) and "binary" in str(refused.value) and "CSV" in refused.value.fix


@pytest.mark.parametrize("header,sep", [
    ("device_id,platform,ownership", ","), ("device_id;platform;ownership", ";"),
    ("device_id\tplatform\townership", "\t"), ('"a;b",c,d', ","), ("only", ","),
])
def test_separator_is_the_most_frequent_outside_quotes(header: str, sep: str) -> None:
    assert sniff_separator(header) == sep


def test_detection_from_first_bytes() -> None:
    assert detect(codecs.BOM_UTF8 + b"a,b", complete=True).encoding == "utf-8-sig"  # type: ignore[union-attr]
    assert detect("é,b".encode(), complete=True).encoding == "utf-8"  # type: ignore[union-attr]
    assert detect("a,b".encode("utf-16-le"), complete=True).encoding == "utf-16-le"  # type: ignore[union-attr]
    found = detect("Ministère;Québec;Montréal;Sécurité publique\r\n".encode("cp1252") * 20, complete=True)
    assert found is not None and found.encoding == "cp1252"


# -- text a database cannot keep (SECURITY-REVIEW 43): one record rejected, the rest imported ------------------


def _jsonl(tmp_path: Path, lines: list[str]) -> tuple[Tally, list[Device | InstalledApp | Rejection]]:
    path = tmp_path / "s.jsonl"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    reader = JsonlReader("s", [path], now=NOW)
    records = list(reader.records())
    return reader.tally, records


def _device_line(device_id: str, **extra: str) -> str:
    return json.dumps({"type": "device", "device_id": device_id, "platform": "android", "ownership": "corporate",
                       "management": "fully_managed", "observed_at": T, **extra})


@pytest.mark.parametrize("escape,what", [("\\ud800", "lone surrogate"), ("\\u0000", "NUL"), ("\\udfff", "surrogate")])
@pytest.mark.parametrize("field", ["name", "org_unit", "user", "model"])
def test_jsonl_device_with_bad_text_is_rejected_alone(tmp_path: Path, escape: str, what: str, field: str) -> None:
    bad = _device_line("B").replace('"type"', f'"{field}": "bad{escape}x", "type"')
    app = json.dumps({"type": "app", "device_id": "G", "platform": "android", "identifier": "com.x", "observed_at": T,
                      "name": "okX"}).replace("okX", f"ok{escape}")
    tally, records = _jsonl(tmp_path, [bad, _device_line("G"), app])
    (rejected_device, rejected_app) = [r for r in records if isinstance(r, Rejection)]
    assert rejected_device.place == "s.jsonl:1" and what in rejected_device.reason and field in rejected_device.reason
    assert rejected_device.device_id == "B" and rejected_device.kind == "device" and rejected_device.fix
    assert rejected_app.place == "s.jsonl:3" and rejected_app.kind == "app" and rejected_app.device_id == "G"
    assert [r.device_id for r in records if isinstance(r, Device)] == ["G"]
    assert tally.read == 3 and tally.accepted == 1 and tally.rejected == 2


def test_an_id_that_is_bad_text_is_not_named(tmp_path: Path) -> None:
    tally, records = _jsonl(tmp_path, [_device_line("B\x00"), _device_line("\ud800"), _device_line("G")])
    rejected = [r for r in records if isinstance(r, Rejection)]
    assert [(r.place, r.device_id) for r in rejected] == [("s.jsonl:1", None), ("s.jsonl:2", None)]
    assert "NUL" in rejected[0].reason and "surrogate" in rejected[1].reason
    assert all("\x00" not in r.reason + r.place + r.fix for r in rejected)
    assert tally.accepted == 1


def test_a_nul_byte_deep_in_a_csv_rejects_its_line_only(tmp_path: Path) -> None:
    many = [[f"D{i}", "android", "com.app.n" + str(i), "App", "1", "", "", T] for i in range(2000)]
    devices = [[f"D{i}", "android", "corporate", "fully_managed", T, "", "", "", "", "", "", "", ""]
               for i in range(2000)]
    paths = _pair(tmp_path, "utf-8", ",", devices=devices, apps=many)
    data = paths[1].read_bytes().replace(b"com.app.n1500,", b"com.app.n1500\x00,")
    paths[1].write_bytes(data)
    reader, records = _read(paths)
    (bad,) = [r for r in records if isinstance(r, Rejection)]
    assert bad.place == "apps.csv:1502" and "NUL" in bad.reason and "NUL" in bad.fix
    assert reader.tally.accepted == 3999


# hypothesis: arbitrary Unicode in every field (surrogates, NUL, right-to-left marks) never raises and never
# loses a record

_any_text = st.text(alphabet=st.characters(codec=None), max_size=12) | st.sampled_from(
    ["\u202eevil", "\ud800", "a\x00b", "\u200f", "\ufeff", "é", "A1"])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.fixed_dictionaries({"device_id": _any_text, "name": _any_text, "org_unit": _any_text,
                                               "identifier": _any_text, "version": _any_text}), max_size=6))
def test_jsonl_any_unicode_is_counted(tmp_path: Path, values: list[dict[str, str]]) -> None:
    lines = []
    for v in values:
        lines.append(_device_line(v["device_id"], name=v["name"], org_unit=v["org_unit"]))
        lines.append(json.dumps({"type": "app", "device_id": v["device_id"], "platform": "android",
                                 "identifier": v["identifier"], "version": v["version"], "observed_at": T}))
    tally, records = _jsonl(tmp_path, lines or [""])
    assert tally.read == tally.accepted + tally.rejected == len(records)
    for r in records:
        texts = [r.place, r.reason, r.fix, r.device_id or ""] if isinstance(r, Rejection) else \
            [r.device_id, r.name or "", getattr(r, "org_unit", None) or "", getattr(r, "version", None) or ""]
        for text in texts:
            text.encode("utf-8")  # storable: no lone surrogate
            assert "\x00" not in text


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_any_text, min_size=8, max_size=8), max_size=6),
       encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]), sep=st.sampled_from([",", ";", "\t"]))
def test_csv_any_unicode_is_counted_or_refused(tmp_path: Path, rows: list[list[str]], encoding: str,
                                               sep: str) -> None:
    text = _csv([["A1", "android", "corporate", "fully_managed", T, "", "", "", "", "", "", "", ""]],
                fleet.DEVICE_COLUMNS, sep)
    d, a = tmp_path / "devices.csv", tmp_path / "apps.csv"
    d.write_bytes(text.encode(encoding))
    # a lone surrogate is written as the bytes it would have (invalid in UTF-8 and UTF-16); what Windows-1252
    # cannot hold becomes "?"
    a.write_bytes(_csv(rows, fleet.APP_COLUMNS, sep).encode(encoding, errors="surrogatepass" if encoding != "cp1252"
                                                             else "replace"))
    try:
        reader, records = _read([d, a])
    except InputError as refused:
        assert "binary" in str(refused) and refused.fix
        return
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected == len(records)
    for r in records:
        for text in ([r.place, r.reason, r.fix] if isinstance(r, Rejection) else [r.device_id, r.name or ""]):
            text.encode("utf-8")
            assert "\x00" not in text


def test_every_reader_is_registered() -> None:
    assert {"csv", "jsonl"} <= set(readers.names())


def test_the_cli_says_which_encoding_and_separator_it_read(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from interdit.cli.main import app as cli

    paths = _pair(tmp_path, "cp1252", ";", apps=[APPS[0]])
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{tmp_path / 'db.sqlite'}", "import", "csv",
                                      *map(str, paths), "--source", "excel", "--at", T])
    assert result.exit_code == 0, result.output
    assert "note: devices.csv: read as Windows-1252" in result.output and "semicolon-separated" in result.output


# -- an unreadable line still names its device, so a snapshot never takes it for a device that left ---------------

def test_an_undecodable_devices_line_names_its_device(tmp_path: Path) -> None:
    paths = _pair(tmp_path, "utf-8", ",", apps=[APPS[0]])
    data = paths[0].read_bytes().replace("iPhone de Zoë".encode(), b"iPhone de Zo\xff\xfe")
    paths[0].write_bytes(data)
    _, records = _read(paths)
    (bad,) = [r for r in records if isinstance(r, Rejection)]
    assert bad.place == "devices.csv:3" and "not valid UTF-8" in bad.reason
    assert (bad.device_id, bad.kind) == ("I2", "device")


def test_a_nul_in_an_apps_line_names_its_device_as_an_app_rejection(tmp_path: Path) -> None:
    paths = _pair(tmp_path, "utf-8", ";")
    paths[1].write_bytes(paths[1].read_bytes().replace(b"WeChat", b"We\x00Chat"))
    _, records = _read(paths)
    (bad,) = [r for r in records if isinstance(r, Rejection)]
    assert (bad.place, bad.device_id, bad.kind) == ("apps.csv:3", "I2", "app") and "NUL" in bad.reason


def test_an_undecodable_jsonl_line_names_its_device(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    app = json.dumps({"type": "app", "device_id": "A1", "platform": "android", "identifier": "xQQ.y",
                      "observed_at": T}).encode()
    path.write_bytes(_device_line("A1").encode() + b"\n"
                     + _device_line("B2").encode().replace(b"corporate", b"corp\xff") + b"\n"
                     + app.replace(b"QQ", b"\xff") + b"\n")
    reader = JsonlReader("s", [path], now=NOW)
    rejected = [r for r in reader.records() if isinstance(r, Rejection)]
    assert [(r.place, r.device_id, r.kind) for r in rejected] == [("s.jsonl:2", "B2", "device"),
                                                                  ("s.jsonl:3", "A1", "app")]
