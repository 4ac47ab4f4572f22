"""The terminal and machine formats: widths, counts, JSON Schemas, and CSV that a spreadsheet cannot abuse."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interdit.model import AppId, FindingState, Platform
from interdit.reporting.base import ReportData, figures, formats, json_schema
from interdit.reporting.findings_csv import COLUMNS
from interdit.reporting.i18n import NBSP
from interdit.testing.reports import AS_OF, report_data

LANGS = ["en", "fr"]
LONG = "/Ministry of Very Long Names/Directorate of Extremely Detailed Org Unit Paths/Section " + "X" * 80


def render(name: str, data: ReportData, lang: str) -> str:
    return formats.get(name)().render(data, lang)


def long_data() -> ReportData:
    data = report_data()
    findings = tuple(dataclasses.replace(f, org_unit=LONG, device_id="D" * 90) for f in data.findings)
    units = {f"{LONG}-{i}": (100 + i, 90) for i in range(15)}
    sources = {"S" * 90: data.summary.by_source["mdm"], "jamf-gac": data.summary.by_source["jamf-gac"]}
    sightings = tuple(dataclasses.replace(s, client=f"2001:db8:{i:x}::{'f' * 20}", family="f" * 70, device_id=None,
                                          device_source=None) for i, s in enumerate(data.sightings[:5] * 3))
    return dataclasses.replace(data, findings=findings, organisation="O" * 150, sightings=sightings,
                               summary=dataclasses.replace(data.summary, by_org_unit=units, by_source=sources))


# -- figures -----------------------------------------------------------------------------------------


def test_figures_count_devices_not_findings() -> None:
    fig = figures(report_data())
    # D-0001 (tiktok, overdue), D-0002 (wechat, deadline 24 March), D-0003 (blocked, overdue)
    assert (fig.holding, fig.holding_overdue, fig.violation_devices) == (3, 2, 2)
    deadlines = {d.rule: (d.holding, d.overdue, d.passed) for d in fig.deadlines}
    assert deadlines == {"tiktok-ban": (2, 2, True), "wechat-interim": (1, 0, False)}
    assert [r.exception.id for r in fig.exceptions] == ["EX-SOCIAL"]
    assert fig.exceptions[0].devices == 1
    assert {f.device_id for f in fig.unseen} == {"D-0008", "D-0009"}
    assert [u.unit for u in fig.units][-1] == "/Communications"  # no violation: last
    assert [p.at.day for p in fig.points] == [1, 8, 15]


def test_two_findings_on_one_device_count_once() -> None:
    data = report_data()
    first = data.findings[0]
    twin = dataclasses.replace(first, id="F-0000000000000000", app=AppId(Platform.ANDROID, "com.ss.android.ugc.trill"))
    fig = figures(dataclasses.replace(data, findings=(*data.findings, twin)))
    assert (fig.holding, fig.holding_overdue) == (3, 2)


# -- terminal ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", ["table", "findings-table"])
def test_terminal_output_fits_100_columns_and_has_no_markup(name: str, lang: str) -> None:
    for data in (report_data(), long_data()):
        text = render(name, data, lang)
        assert all(len(line) <= 100 for line in text.splitlines()), max(text.splitlines(), key=len)
        assert "\x1b" not in text and "[bold" not in text and "[/" not in text


def test_status_table_says_the_key_figures() -> None:
    en = render("table", report_data(), "en")
    assert "99.6% (1,235 compliant of 1,240 devices in scope)" in en
    fr = render("table", report_data(), "fr")
    assert f"99,6{NBSP}% (1{NBSP}235 conformes sur 1{NBSP}240 appareils visés)" in fr
    for word in ("infraction", "unité administrative", "non évaluable", "inventaire périmé", "Échéances"):
        assert word.lower() in fr.lower(), word


def test_status_table_shows_the_ten_worst_units() -> None:
    text = render("table", long_data(), "en")
    assert "… and 5 more" in text


def _cells(text: str, header_start: str) -> list[list[str]]:
    """The findings table's rows, each a list of its lines (rows are separated by blank lines)."""
    lines = text.splitlines()
    body = lines[next(i for i, line in enumerate(lines) if line.startswith(header_start)):]
    rows: list[list[str]] = [[]]
    for line in body[:-2]:
        if line.strip():
            rows[-1].append(line)
        elif rows[-1]:
            rows.append([])
    return [r for r in rows[1:] if r]


def test_findings_table_has_one_row_per_finding_with_its_device_and_owner() -> None:
    data = report_data()
    for lang, head in (("en", "State"), ("fr", "État")):
        rows = _cells(render("findings-table", data, lang), head)
        assert len(rows) == len(data.findings)
    en = render("findings-table", data, "en")
    rows = _cells(en, "State")
    overdue = [r for r in rows if "OVERDUE" in "\n".join(r)]
    # D-0001 twice: the app installed, and its use seen on the network
    assert len(overdue) == 3 and all("D-0001" in r[0] or "D-0003" in r[0] for r in overdue)
    first = "\n".join(rows[0])
    assert "FIN-PIXEL-0001" in first and "Pixel 7" in first and "marie.tremblay@" in first
    assert render("findings-table", dataclasses.replace(data, findings=()), "fr") == "Aucun constat.\n"


@pytest.mark.parametrize("width", [80, 100, 200])
def test_findings_table_never_cuts_an_id_at_any_width(width: int) -> None:
    guid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    data = report_data()
    devices = dict(data.devices)
    long_user = "jean-francois.cote-tremblay@ministere-des-finances.example.gouv.qc.ca"
    devices[("intune-prod", guid)] = dataclasses.replace(devices[("mdm", "D-0001")], source="intune-prod",
                                                         device_id=guid, user=long_user)
    findings = (*data.findings, dataclasses.replace(data.findings[0], source="intune-prod", device_id=guid))
    data = dataclasses.replace(data, findings=findings, devices=devices)
    text = formats.get("findings-table")(width=width).render(data, "en")  # type: ignore[call-arg]
    lines = text.splitlines()
    assert all(len(line) <= width for line in lines)
    header = lines[0]
    # each column's slice, read down the lines of a row and joined, gives back every cell whole
    starts = [header.index(h) for h in ("State", "Device", "Owner", "Family", "Org unit", "Deadline")]
    rows = _cells(text, "State")
    assert len(rows) == len(findings)

    def column(row: list[str], i: int) -> str:
        end = starts[i + 1] if i + 1 < len(starts) else None
        return "".join(line[starts[i]:end].strip() for line in row)

    ids = [column(r, 1) for r in rows]
    assert f"intune-prod:{guid}FIN-PIXEL-0001" in ids
    assert long_user + "Pixel 7" in [column(r, 2) for r in rows]
    assert all(f"{f.source}:{f.device_id}" in joined for f, joined in zip(findings, ids, strict=True))
    if width >= 200:
        assert any(f"intune-prod:{guid}" in line for line in lines)  # room enough: on one line


def test_network_figures_count_devices_and_sum_unattributed_addresses_by_day() -> None:
    data = report_data()
    fig = figures(data)
    assert fig.used_devices == 2 and fig.used_by_family == [("tiktok", 1), ("wechat", 1)]
    # 192.0.2.77 on two days (12 + 3 look-ups); the attributed sightings and the one after as-of are left out
    assert [(r.address, r.family, r.days, r.count, r.last.isoformat()) for r in fig.unattributed] == [
        ("192.0.2.77", "tiktok", 2, 15, "2023-03-14"), ("198.51.100.9", "wechat", 1, 4, "2023-03-14")]
    later = figures(dataclasses.replace(data, as_of=AS_OF.replace(day=17)))
    assert ("198.51.100.200", 99) in [(r.address, r.count) for r in later.unattributed]
    quiet = figures(dataclasses.replace(data, sightings=(),
                                        findings=tuple(f for f in data.findings if f.kind.value != "used")))
    assert quiet.used_devices == 0 and quiet.used_by_family == [] and quiet.unattributed == []


def test_status_table_shows_each_source_and_use_on_the_network() -> None:
    en = render("table", report_data(), "en")
    lines = en.splitlines()
    start = lines.index("By inventory source")
    assert lines.index("Violations by org unit (worst first, top 10)") < start < lines.index("Deadlines")
    mdm = next(line for line in lines[start:] if line.lstrip().startswith("mdm "))
    assert mdm.split() == ["mdm", "1,200", "1,150", "1,145", "99.6%", "2", "1", "1", "2023-03-14"]
    assert "2 devices with use seen: TikTok 1, WeChat 1" in en
    assert re.search(r"192\.0\.2\.77 +TikTok +2 +15", en) and "198.51.100.200" not in en
    fr = render("table", report_data(), "fr")
    assert "Par source d'inventaire" in fr and "Non évaluables" in fr and "jamf-gac        110" in fr
    none = dataclasses.replace(report_data(), sightings=(), findings=(),
                               summary=dataclasses.replace(report_data().summary, by_source={}))
    text = render("table", none, "en")
    assert "No use of a prohibited app seen in the network logs." in text
    assert "By inventory source\n  None." in text and "Addresses no device" not in text


# -- JSON --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_status_json_validates_and_keys_are_english(lang: str) -> None:
    doc = json.loads(render("json", report_data(), lang))
    jsonschema.Draft202012Validator.check_schema(json_schema("status"))
    jsonschema.validate(doc, json_schema("status"), format_checker=jsonschema.FormatChecker())
    assert doc["lang"] == lang and doc["schema_version"] == 2
    sm = doc["summary"]
    assert sm["devices_in_scope"] == 1240 and sm["compliant"] == 1235
    assert sm["rate"] == pytest.approx(1235 / 1240, abs=1e-6)
    assert sm["by_org_unit"]["/Finance"] == {"in_scope": 600, "compliant": 598}
    assert set(sm["by_state"]) >= {"violation", "blocked_present", "not_evaluable", "stale", "excepted"}
    assert [h["at"][:10] for h in doc["history"]] == ["2023-03-01", "2023-03-08", "2023-03-15"]
    assert sm["by_source"]["mdm"] == {"devices": 1200, "in_scope": 1150, "compliant": 1145,
                                      "rate": round(1145 / 1150, 6), "violations": 2, "not_evaluable": 1,
                                      "stale": 1, "last_observed": "2023-03-14T21:40:00+00:00",
                                      "by_coverage": {"full": 1149, "partial": 1},
                                      "not_evaluable_by_reason": {"work_profile": 1}}
    assert sm["by_coverage"] == {"full": 1239, "partial": 1}
    assert sm["not_evaluable_by_reason"] == {"work_profile": 1}
    assert list(sm["by_source"]) == ["jamf-gac", "mdm"]
    assert sm["by_rule"]["tiktok-ban"] == {"directive": "ca-tbs-2023-tiktok", "effective": "2023-02-28",
                                           "deadline": "2023-02-28", "in_scope": 1240, "compliant": 1236,
                                           "rate": round(1236 / 1240, 6), "violations": 1, "blocked_present": 1,
                                           "not_evaluable": 1, "stale": 1}
    assert list(sm["by_rule"]) == ["tiktok-ban", "wechat-interim"]
    assert sm["by_rule"]["wechat-interim"]["directive"] is None, "the organisation's own rule"
    assert doc["network"]["used_devices"] == 2 and doc["network"]["used_by_family"] == {"tiktok": 1, "wechat": 1}
    assert doc["network"]["unattributed"][0] == {"address": "192.0.2.77", "family": "tiktok", "days": 2,
                                                 "count": 15, "last_day": "2023-03-14"}


def test_status_json_is_the_same_in_both_languages_but_for_lang() -> None:
    en, fr = (json.loads(render("json", report_data(), lang)) for lang in LANGS)
    en.pop("lang"), fr.pop("lang")
    assert en == fr


@pytest.mark.parametrize("lang", LANGS)
def test_findings_json_validates_and_carries_every_field(lang: str) -> None:
    data = report_data()
    doc = json.loads(render("findings-json", data, lang))
    jsonschema.Draft202012Validator.check_schema(json_schema("findings"))
    jsonschema.validate(doc, json_schema("findings"), format_checker=jsonschema.FormatChecker())
    assert doc["count"] == len(data.findings) == len(doc["findings"])
    model_fields = {f.name for f in dataclasses.fields(data.findings[0])}
    assert model_fields <= set(doc["findings"][0])
    resolved = next(f for f in doc["findings"] if f["state"] == "resolved")
    assert resolved["resolved_at"].startswith("2023-03-08T") and resolved["overdue"] is False
    assert doc["findings"][0]["app"] == {"platform": "android", "identifier": "com.zhiliaoapp.musically"}


def test_schemas_refuse_what_they_should() -> None:
    doc = json.loads(render("json", report_data(), "en"))
    del doc["summary"]["compliant"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json_schema("status"))
    for breaks in (lambda d: d["summary"]["by_source"]["mdm"].pop("stale"),
                   lambda d: d["summary"]["by_source"]["mdm"].update(rate=1.5),
                   lambda d: d["network"]["unattributed"][0].update(count=-1),
                   lambda d: d["summary"]["by_rule"]["tiktok-ban"].pop("deadline"),
                   lambda d: d["summary"]["by_rule"]["tiktok-ban"].update(rate=-0.1),
                   lambda d: d["network"].pop("used_devices")):
        doc = json.loads(render("json", report_data(), "en"))
        breaks(doc)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(doc, json_schema("status"))
    doc = json.loads(render("json", report_data(), "en"))
    # added within version 1: a document without them is valid
    del doc["network"], doc["summary"]["by_source"], doc["summary"]["by_rule"]
    jsonschema.validate(doc, json_schema("status"))
    doc = json.loads(render("findings-json", report_data(), "en"))
    doc["findings"][0]["state"] = "fine"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, json_schema("findings"))
    with pytest.raises(ValueError):
        json_schema("nope")


# -- CSV ---------------------------------------------------------------------------------------------


def test_csv_header_rows_and_values_untranslated() -> None:
    data = report_data()
    en, fr = render("csv", data, "en"), render("csv", data, "fr")
    assert en == fr
    rows = list(csv.DictReader(en.splitlines()))
    assert en.splitlines()[0] == ",".join(COLUMNS)
    assert COLUMNS == ("id", "kind", "state", "source", "device_id", "device_name", "owner", "model", "os_version",
                       "org_unit", "rule", "directive", "family", "app", "first_seen", "last_seen", "deadline",
                       "overdue", "resolved_at", "exception", "evidence")
    assert len(rows) == len(data.findings)
    assert {r["state"] for r in rows} == {s.value for s in FindingState}
    by_device = {r["device_id"]: r for r in rows if r["kind"] == "installed"}
    assert {r["kind"] for r in rows} == {"installed", "used"}
    assert by_device["D-0001"]["overdue"] == "true" and by_device["D-0002"]["overdue"] == "false"
    assert by_device["D-0007"]["exception"] == "EX-SOCIAL"
    assert by_device["D-0001"]["app"] == "android:com.zhiliaoapp.musically"
    assert re.match(r"\d{4}-\d\d-\d\dT", by_device["D-0001"]["first_seen"])
    assert (by_device["D-0001"]["device_name"], by_device["D-0001"]["owner"], by_device["D-0001"]["model"],
            by_device["D-0001"]["os_version"]) == ("FIN-PIXEL-0001", "marie.tremblay@finances.example.gouv.qc.ca",
                                                   "Pixel 7", "14")
    assert by_device["D-0008"]["owner"] == "" and by_device["D-0008"]["device_name"] == "OPS-WORK-0008"
    assert not en.startswith("\ufeff")  # for programs: no byte-order mark


def test_csv_for_excel_has_a_byte_order_mark_and_semicolons() -> None:
    data = report_data()
    text = render("csv-excel", data, "fr")
    assert text.startswith("\ufeff") and text.count("\r\n") >= len(data.findings) + 1
    body = text.removeprefix("\ufeff")
    assert body.splitlines()[0] == ";".join(COLUMNS)
    rows = list(csv.DictReader(io.StringIO(body, newline=""), delimiter=";"))
    plain = list(csv.DictReader(io.StringIO(render("csv", data, "fr"), newline="")))
    assert rows == plain  # the same cells, only the dialect differs
    assert rows[1]["owner"] == "Jean-François Côté"
    # the bytes a French-Canadian Excel reads: UTF-8 with its mark
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf") and "Côté".encode() in text.encode("utf-8")


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://evil.example","x")', "+1+cmd|' /C calc'!A0", "-2+3",
                                     "@SUM(A1:A2)", "\t=1", "\r=1"])
@pytest.mark.parametrize("dialect", ["csv", "csv-excel"])
def test_csv_injection_is_neutralised(payload: str, dialect: str) -> None:
    data = report_data()
    f = dataclasses.replace(data.findings[0], device_id=payload, org_unit=payload,
                            evidence=(payload,), app=AppId(Platform.ANDROID, "x"))
    device = dataclasses.replace(data.devices[("mdm", "D-0001")], device_id=payload, name=payload, user=payload,
                                 model=payload)
    text = render(dialect, dataclasses.replace(data, findings=(f,), devices={("mdm", payload): device}), "en")
    row = next(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""),
                              delimiter=";" if dialect == "csv-excel" else ","))
    for column in ("device_id", "device_name", "owner", "model", "org_unit", "evidence"):
        assert row[column] == "'" + payload, column
        assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r"))


def test_csv_keeps_ordinary_values() -> None:
    text = render("csv", report_data(), "en")
    assert "'" not in text
    rows = list(csv.DictReader(text.splitlines()))
    assert rows[0]["device_id"] == "D-0001" and rows[0]["org_unit"] == "/Finance"


def test_as_of_is_the_reference_for_overdue() -> None:
    data = dataclasses.replace(report_data(), as_of=AS_OF.replace(month=2, day=1))
    rows = list(csv.DictReader(render("csv", data, "en").splitlines()))
    assert all(r["overdue"] == "false" for r in rows)


# -- hostile text, any text --------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(st.text(max_size=120))
def test_any_text_survives_every_format(value: str) -> None:
    data = report_data()
    f = dataclasses.replace(data.findings[0], device_id=value or "x", org_unit=value, evidence=(value,))
    units = {value: (3, 1)}
    data = dataclasses.replace(data, organisation=value, findings=(f,),
                               summary=dataclasses.replace(data.summary, by_org_unit=units))
    text = render("csv", data, "en")
    row = next(csv.DictReader(io.StringIO(text, newline="")))
    for column, expected in (("device_id", value or "x"), ("org_unit", value), ("evidence", value)):
        assert row[column] in (expected, "'" + expected)
        assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r"))
    for lang in LANGS:
        for name in ("table", "findings-table"):
            assert all(len(line) <= 100 for line in render(name, data, lang).splitlines())
        assert json.loads(render("findings-json", data, lang))["findings"][0]["org_unit"] == value
        html = render("html", data, lang)
        assert "<script" not in html.replace("&lt;script", "")
