"""`interdit findings` says whose device it is, at any terminal width, and writes CSV for programs or for Excel."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.test_cli_end_to_end import DATES, _import_both, workspace  # noqa: F401  (the fixture)
from interdit.cli.main import app

runner = CliRunner()


def _run(ws: dict[str, Path], *args: str, columns: int = 100) -> tuple[int, bytes]:
    result = runner.invoke(app, ["--db", str(ws["db"]), "--policy", str(ws["policy"]), "findings", "--as-of",
                                 DATES[1].isoformat(), "--state", "violation", *args], env={"COLUMNS": str(columns)})
    return result.exit_code, result.stdout_bytes


@pytest.mark.parametrize("columns", [80, 200])
def test_the_table_fits_the_terminal_and_keeps_every_id_and_owner(workspace: dict[str, Path],  # noqa: F811
                                                                   columns: int) -> None:
    _import_both(workspace)
    code, raw = _run(workspace, "--format", "json")
    assert code == 0, raw
    found = json.loads(raw)["findings"]
    assert found and all(f["owner"] and f["device_name"] and f["model"] for f in found)
    code, raw = _run(workspace, columns=columns)
    assert code == 0, raw
    text = raw.decode("utf-8")
    lines = text.splitlines()
    assert all(len(line) <= columns for line in lines), max(lines, key=len)
    # rows are separated by blank lines; a row's text, its lines joined, holds the whole id and owner
    rows = [" ".join(block.split()) for block in text.split("\n\n")[1:-1]]
    assert len(rows) == len(found)
    owner_at, family_at = lines[0].index("Owner"), lines[0].index("Family")
    # the owner column, read down each row's lines and joined: every owner whole, never cut
    owners = ["".join(line[owner_at:family_at].strip() for line in block.splitlines())
              for block in text.split("\n\n")[1:-1]]
    for f in found:
        key = f"{f['source']}:{f['device_id']}"
        assert any(key in line for line in lines), key  # an id is never folded when it fits its column
        assert any(owner.startswith(f["owner"]) for owner in owners), f["owner"]
    if columns == 200:
        assert all(any(f["owner"] in line for line in lines) for f in found)  # wide enough: owners on one line


def test_csv_for_programs_and_for_excel(workspace: dict[str, Path]) -> None:  # noqa: F811
    _import_both(workspace)
    code, plain = _run(workspace, "--format", "csv")
    assert code == 0 and not plain.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(plain.decode("utf-8"), newline="")))
    code, excel = _run(workspace, "--format", "csv", "--excel")
    assert code == 0 and excel.startswith(b"\xef\xbb\xbf")
    text = excel.decode("utf-8").removeprefix("\ufeff")
    assert text.splitlines()[0].startswith("id;kind;state;source;device_id;device_name;owner;model")
    assert list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";")) == rows
    assert rows and all(r["owner"] for r in rows)
    code, _ = _run(workspace, "--excel")
    assert code == 2  # --excel shapes a CSV file only
