"""`interdit findings --kind risky-app` lists an app that no family names, caught by a policy rule that prohibits
by evidence with `prohibited` (the vendors of the families the policy prohibits)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interdit.cli.main import app

APKS = Path(__file__).resolve().parents[3] / "shared" / "data" / "apk"
SIGNATURES = Path(__file__).resolve().parents[3] / "shared" / "data" / "sdk-signatures"
OPENSDK = APKS / "tt__opensdk-OpenSdkDemo.apk"  # package com.bytedance.sdk.account: in no catalogue family
runner = CliRunner()

POLICY = """organisation: Test
adopt:
  - directive: ca-tbs-2023-tiktok
rules:
  - id: any-prohibited-vendor-inside
    evidence:
      endpoints_of: [prohibited]
    effective: 2023-01-01
"""
DEVICES = ("device_id,platform,ownership,management,observed_at,supervised,user,name,model,os_version,org_unit,"
           "groups,addresses\n"
           "A1,android,corporate,fully_managed,{at},false,ana@dept.example,ana-phone,Pixel 7,13,"
           "/Dept,All Devices,10.0.0.1\n"
           "A2,android,corporate,fully_managed,{at},false,bo@dept.example,bo-phone,Pixel 7,13,"
           "/Dept,All Devices,10.0.0.2\n")
APPS = ("device_id,platform,identifier,name,version,managed,state,observed_at\n"
        "A1,android,com.bytedance.sdk.account,Demo,1.0,true,installed,{at}\n"
        "A2,android,org.example.notes,Notes,2.0,true,installed,{at}\n")


@pytest.mark.skipif(not OPENSDK.is_file(), reason=f"the APK corpus is not present at {APKS}")
def test_findings_kind_risky_app_lists_an_app_caught_by_prohibited_vendors(tmp_path: Path) -> None:
    policy, db = tmp_path / "policy.yaml", tmp_path / "interdit.db"
    policy.write_text(POLICY, "utf-8")
    at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # a fresh inventory: not stale
    (tmp_path / "devices.csv").write_text(DEVICES.format(at=at), "utf-8")
    (tmp_path / "apps.csv").write_text(APPS.format(at=at), "utf-8")

    def cli(*args: str) -> str:
        # a wide terminal, so that the table's cells (which fold, never cut) keep each id on one line
        result = runner.invoke(app, ["--db", str(db), "--policy", str(policy), *args], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        return result.output

    cli("import", "csv", str(tmp_path / "devices.csv"), str(tmp_path / "apps.csv"), "--source", "mdm", "--quiet")
    extra = ["--signatures", str(SIGNATURES)] if SIGNATURES.is_dir() else []
    cli("analyze", str(OPENSDK), "--store", "--jobs", "1", "--no-cache", "--quiet", "--format", "json", *extra)
    cli("evaluate")
    found = json.loads(cli("findings", "--kind", "risky-app", "--format", "json"))
    rows = found["findings"] if isinstance(found, dict) else found
    assert [(f["device_id"], f["app"]["identifier"], f["rule"], f["state"]) for f in rows] == [
        ("A1", "com.bytedance.sdk.account", "any-prohibited-vendor-inside", "violation")]
    assert any("ByteDance" in line for line in rows[0]["evidence"])
    table = cli("findings", "--kind", "risky-app")
    assert "com.bytedance.sdk.account" in table and "org.example.notes" not in table
