"""An empty fleet, or one with nothing in scope, shows no rate: never "Compliance 100.0 % (0 of 0)"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interdit import fleet
from interdit.cli.main import app

runner = CliRunner()
AT = fleet.DEMO_DATES[0]
NOWHERE = """organisation: Nowhere Inc.
language: {lang}
adopt:
  - directive: ca-tbs-2023-tiktok
    scope:
      groups: [/Nowhere]
"""


def _cli(tmp: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", str(tmp / "interdit.db"), "--policy", str(tmp / "policy.yaml"), *args])
    return result.exit_code, result.output


@pytest.fixture(params=["empty", "nothing-in-scope"])
def workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    (tmp_path / "policy.yaml").write_text(NOWHERE.format(lang="en"), "utf-8")
    if request.param == "nothing-in-scope":
        d, a, _, _ = fleet.write_snapshot(fleet.FleetSpec(devices=40, seed=3), tmp_path / "s0", 0, AT)
        code, output = _cli(tmp_path, "import", "csv", str(d), str(a), "--source", "mdm", "--at", AT.isoformat(),
                            "--quiet")
        assert code == 0, output
    return tmp_path


def test_status_says_no_device_in_scope(workspace: Path) -> None:
    code, output = _cli(workspace, "status", "--as-of", AT.isoformat())
    assert code == 0, output
    line = next(x for x in output.splitlines() if x.startswith("Compliance"))
    assert line.split(None, 1)[1] == "— (no device in scope)"
    assert "100.0%" not in output and "(0 of 0)" not in output
    code, output = _cli(workspace, "status", "--as-of", AT.isoformat(), "--lang", "fr")
    assert "— (aucun appareil visé)" in output and "100,0" not in output


def test_status_json_has_a_null_rate(workspace: Path) -> None:
    code, output = _cli(workspace, "status", "--as-of", AT.isoformat(), "--format", "json")
    assert code == 0, output
    doc = json.loads(output)
    assert doc["schema_version"] == 2 and doc["summary"]["devices_in_scope"] == 0
    assert doc["summary"]["rate"] is None
    assert all(v["rate"] is None for v in doc["summary"]["by_source"].values())
    assert all(v["rate"] is None for v in doc["summary"]["by_rule"].values())


def test_report_cards_and_evaluate_show_no_rate(workspace: Path) -> None:
    out = workspace / "report.html"
    code, output = _cli(workspace, "report", "--as-of", AT.isoformat(), "--out", str(out))
    assert code == 0, output
    html = out.read_text("utf-8")
    assert '<span class="value">—</span>' in html and "no device in scope" in html and "100.0%" not in html
    code, output = _cli(workspace, "evaluate", "--as-of", AT.isoformat())
    assert code == 0, output
    assert "(—, no device in scope)" in output and "100.0%" not in output
