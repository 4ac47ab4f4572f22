"""`interdit catalogue show` lists what a directive bans; `catalogue list` never cuts the ids a user copies."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from interdit.catalogue import load_catalogue
from interdit.cli.main import app

runner = CliRunner()


def _run(*args: str, width: int = 120) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    return result.output


def test_show_lists_the_apps_per_platform_store_names_and_domains() -> None:
    text = _run("catalogue", "show", "ca-tbs-2023-wechat-kaspersky", "--as-of", "2026-01-01")
    android = text[text.index("\n  android\n"):text.index("\n  ios\n")]
    assert "com.tencent.mm  [wechat]" in android and "com.kms.free  [kaspersky]" in android
    assert "com.kaspersky and com.kaspersky.*  [kaspersky]" in android
    assert "com.kms and" not in text
    assert "“WeChat” (en, store name)" in android and "“微信” (zh, store name)" in android
    assert "com.tencent.xin  [wechat]" in text[text.index("\n  ios\n"):]
    domains = next(line for line in text.splitlines() if line.startswith("domains"))
    assert "kaspersky.com" in domains and "wechat.com" in domains


def test_show_gives_the_directive_as_it_stood_on_the_day() -> None:
    before = json.loads(_run("catalogue", "show", "us-tx-2022-prohibited-technologies", "--as-of", "2026-01-25",
                             "--format", "json"))
    after = json.loads(_run("catalogue", "show", "us-tx-2022-prohibited-technologies", "--as-of", "2026-01-26",
                            "--format", "json"))
    ids = lambda doc: {a["value"] for a in doc["bans"]["apps"] if a["kind"] == "id"}  # noqa: E731
    assert "com.einnovation.temu" in ids(after) - ids(before)
    assert "com.zhiliaoapp.musically" in ids(before) & ids(after)
    assert "temu.com" in set(after["bans"]["domains"]) - set(before["bans"]["domains"])
    text = _run("catalogue", "show", "us-tx-2022-prohibited-technologies", "--as-of", "2026-02-01")
    assert text.splitlines()[0] == "us-tx-2022-prohibited-technologies (as amended on 2026-01-26)"


def test_show_refuses_a_date_it_cannot_read() -> None:
    result = runner.invoke(app, ["catalogue", "show", "be-2023-tiktok", "--as-of", "last week"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


@pytest.mark.parametrize("width", [40, 80, 200])
def test_list_never_cuts_an_id(width: int) -> None:
    text = _run("catalogue", "list", width=width)
    for directive in load_catalogue().directives:
        assert directive in text, (width, directive)


def test_list_as_csv_and_json() -> None:
    rows = list(csv.DictReader(io.StringIO(_run("catalogue", "list", "--format", "csv"))))
    cat = load_catalogue()
    assert [r["id"] for r in rows] == sorted(cat.directives, key=lambda i: (cat.directives[i].effective, i))
    assert next(r for r in rows if r["id"] == "np-2023-tiktok")["status"] == "lifted 2024-08-22"
    families = json.loads(_run("catalogue", "list", "families", "--format", "json"))["families"]
    assert {f["id"] for f in families} == set(cat.families)


def test_show_says_whether_the_issuers_own_text_is_cited_and_what_each_source_is() -> None:
    cat = load_catalogue()
    for d in cat.directives.values():
        assert d.primary_source in ("cited", "copy", "not-reached", "none"), d.id
        assert all(s.kind in ("primary", "official-copy", "secondary") for s in d.sources), d.id
    d = next(d for d in cat.directives.values() if d.primary_source == "cited")
    text = _run("catalogue", "show", d.id, width=400)
    assert "issuer's own text: cited (the issuer's own publication is among the sources)" in text
    primary = next(s for s in d.sources if s.kind == "primary")
    line = next(x for x in text.splitlines() if x.startswith(f"  - {primary.url} "))
    assert "[issuer]" in line
    reports = [s for s in d.sources if s.kind == "secondary"]
    for s in reports:
        assert "[report]" in next(x for x in text.splitlines() if x.startswith(f"  - {s.url} "))
