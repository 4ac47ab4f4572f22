"""The CLI as a user drives it: init, check, import, status, findings, report, --as-of, exit codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interdit import fleet
from interdit.cli.main import app

runner = CliRunner()
DATES = fleet.DEMO_DATES


@pytest.fixture()
def workspace(tmp_path: Path) -> dict[str, Path]:
    spec = fleet.FleetSpec(devices=400, seed=11)
    paths: dict[str, Path] = {"root": tmp_path}
    for n, at in enumerate(DATES):
        d, a, _, _ = fleet.write_snapshot(spec, tmp_path / f"s{n}", n, at)
        paths[f"devices{n}"], paths[f"apps{n}"] = d, a
    policy = tmp_path / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    paths["policy"] = policy
    paths["db"] = tmp_path / "interdit.db"
    return paths


def _cli(ws: dict[str, Path], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", str(ws["db"]), "--policy", str(ws["policy"]), *args])
    return result.exit_code, result.output


def _import_both(ws: dict[str, Path]) -> None:
    for n, at in enumerate(DATES):
        code, output = _cli(ws, "import", "csv", str(ws[f"devices{n}"]), str(ws[f"apps{n}"]), "--source", "mdm",
                            "--at", at.isoformat(), "--quiet")
        assert code == 0, output


def test_init_writes_a_policy_that_checks(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    result = runner.invoke(app, ["--policy", str(policy), "init"])
    assert result.exit_code == 0, result.output
    assert "ca-tbs-2023-tiktok" in policy.read_text()
    result = runner.invoke(app, ["--policy", str(policy), "policy", "check"])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    again = runner.invoke(app, ["--policy", str(policy), "init"])
    assert again.exit_code == 2 and "--force" in again.output


def test_policy_typo_names_line_and_suggestion(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("organisation: Test\nadopt:\n  - directive: ca-tbs-2023-tiktk\n", "utf-8")
    result = runner.invoke(app, ["--policy", str(policy), "policy", "check"])
    assert result.exit_code == 2
    assert "policy.yaml:3" in result.output
    assert "ca-tbs-2023-tiktok" in result.output


def test_status_findings_and_history(workspace: dict[str, Path]) -> None:
    _import_both(workspace)
    code, output = _cli(workspace, "status", "--as-of", DATES[1].isoformat(), "--format", "json")
    assert code == 0, output
    now = json.loads(output)
    assert now["schema_version"] == 2
    code, output = _cli(workspace, "status", "--as-of", DATES[0].isoformat(), "--format", "json")
    then = json.loads(output)
    # the fortnight after the directive removed most banned apps: the rate went up
    rate = lambda doc: doc["summary"]["compliant"] / doc["summary"]["devices_in_scope"]  # noqa: E731
    assert rate(now) > rate(then)
    code, output = _cli(workspace, "findings", "--as-of", DATES[1].isoformat(), "--state", "violation",
                        "--format", "csv")
    assert code == 0, output
    rows = list(csv.DictReader(output.splitlines()))
    assert rows and all(r["state"] == "violation" for r in rows)
    code, output = _cli(workspace, "findings", "--as-of", DATES[1].isoformat(), "--fail-on", "violation",
                        "--format", "json")
    assert code == 1


def test_report_html_both_languages(workspace: dict[str, Path]) -> None:
    _import_both(workspace)
    for lang, word in (("en", "violation"), ("fr", "infraction")):
        out = workspace["root"] / f"r-{lang}.html"
        code, output = _cli(workspace, "report", "--as-of", DATES[1].isoformat(), "--lang", lang, "--out", str(out))
        assert code == 0, output
        html = out.read_text("utf-8")
        assert f'lang="{lang}"' in html and word in html.lower()
        assert "<script" not in html


def test_rejected_rows_exit_3_and_good_rows_land(workspace: dict[str, Path]) -> None:
    devices = workspace["devices0"].read_text("utf-8").splitlines()
    devices.insert(3, "X1,symbian,corporate,fully_managed,2023-03-01T00:00:00Z,,,,,,,,")
    bad = workspace["root"] / "bad-devices.csv"
    bad.write_text("\n".join(devices) + "\n", "utf-8")
    code, output = _cli(workspace, "import", "csv", str(bad), str(workspace["apps0"]), "--source", "mdm",
                        "--at", DATES[0].isoformat(), "--format", "json")
    assert code == 3
    doc = json.loads(output[output.index("{"):])
    assert doc["rejected"] >= 1 and doc["accepted"] > 0
    assert doc["read"] == doc["accepted"] + doc["rejected"]
    assert any("bad-devices.csv:4" in r["place"] for r in doc["rejections"])


def test_missing_policy_says_how_to_start(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", str(tmp_path / "x.db"), "--policy", str(tmp_path / "none.yaml"), "status"])
    assert result.exit_code == 2
    assert "interdit init" in result.output


def test_catalogue_commands() -> None:
    result = runner.invoke(app, ["catalogue", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    ids = {d["id"] for d in json.loads(result.output)["directives"]}
    assert "ca-tbs-2023-tiktok" in ids and len(ids) >= 20
    result = runner.invoke(app, ["catalogue", "show", "ca-tbs-2023-tiktk"])
    assert result.exit_code == 2 and "ca-tbs-2023-tiktok" in result.output
    result = runner.invoke(app, ["catalogue", "search", "quebec", "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.output)
