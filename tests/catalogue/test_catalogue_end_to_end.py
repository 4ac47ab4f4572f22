"""Identifiers and amendments as a user meets them: a neutral CSV imported with the CLI, then evaluated.

`com.kms.dlquiz` (a driving-licence quiz by an unrelated developer) once matched the Kaspersky prefix `com.kms`;
`com.tiktok.lite.go` (TikTok Lite) once matched nothing. Directive amendments change what a policy prohibits
from their date, and only from it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from interdit.cli.main import app

runner = CliRunner()
AT = "2026-03-02T08:00:00+00:00"
DEVICES = [
    # device id, platform, the one app it holds
    ("K1", "android", "com.kms.dlquiz"),  # not Kaspersky
    ("K2", "android", "com.kms.free"),  # Kaspersky
    ("K3", "android", "com.kaspersky.who_calls"),  # Kaspersky, through its own namespace
    ("T1", "android", "com.tiktok.lite.go"),  # TikTok Lite
    ("T2", "ios", "com.ss.iphone.ugc.tiktok.lite"),  # TikTok Lite on iOS
    ("J1", "android", "com.lemon.lv"),  # Jianying, the PRC build of CapCut
    ("R1", "ios", "com.xingin.discover"),  # RedNote on iOS
    ("S1", "android", "com.zzkko"),  # SHEIN: on the Texas list from 2026-01-26 only
    ("D1", "android", "com.deepseek.chat"),  # DeepSeek
]


def _write_fleet(root: Path, observed: str) -> tuple[Path, Path]:
    devices, apps = root / "devices.csv", root / "apps.csv"
    with devices.open("w", newline="", encoding="utf-8") as fd, apps.open("w", newline="", encoding="utf-8") as fa:
        dw, aw = csv.writer(fd), csv.writer(fa)
        dw.writerow(["device_id", "platform", "ownership", "management", "observed_at"])
        aw.writerow(["device_id", "platform", "identifier", "observed_at"])
        for device_id, platform, identifier in DEVICES:
            dw.writerow([device_id, platform, "corporate", "fully_managed", observed])
            aw.writerow([device_id, platform, identifier, observed])
    return devices, apps


def _run(root: Path, policy: str, *args: str) -> tuple[int, str]:
    (root / "policy.yaml").write_text(policy, "utf-8")
    result = runner.invoke(app, ["--db", str(root / "interdit.db"), "--policy", str(root / "policy.yaml"), *args])
    return result.exit_code, result.output


def _violations(root: Path, policy: str, as_of: str) -> dict[str, str]:
    """device id -> family of each violation at `as_of`, after importing the fleet through the CLI."""
    code, output = _run(root, policy, "findings", "--as-of", as_of, "--state", "violation", "--format", "json")
    assert code in (0, 1), output
    doc = json.loads(output)
    return {f["device_id"]: f["family"] for f in doc["findings"]}


def _import(root: Path, policy: str) -> None:
    devices, apps = _write_fleet(root, "2022-06-01T08:00:00+00:00")
    code, output = _run(root, policy, "import", "csv", str(devices), str(apps), "--source", "mdm",
                        "--at", "2022-06-01T08:00:00+00:00", "--quiet")
    assert code == 0, output


POLICY = """organisation: Test
adopt:
  - directive: ca-tbs-2023-wechat-kaspersky
  - directive: ca-tbs-2023-tiktok
  - directive: us-tx-2022-prohibited-technologies
    id: texas
"""


def test_kaspersky_and_tiktok_lite_through_import_and_evaluation(tmp_path: Path) -> None:
    _import(tmp_path, POLICY)
    found = _violations(tmp_path, POLICY, AT)
    assert "K1" not in found  # com.kms.dlquiz is no violation under a Kaspersky rule
    assert found["K2"] == "kaspersky" and found["K3"] == "kaspersky"
    assert found["T1"] == "tiktok" and found["T2"] == "tiktok"  # TikTok Lite, Android and iOS
    assert found["J1"] == "capcut"  # Texas names CapCut
    assert found["R1"] == "rednote"  # added to the Texas list on 2025-01-31


def test_an_expansion_applies_from_its_date_only(tmp_path: Path) -> None:
    _import(tmp_path, POLICY)
    before = _violations(tmp_path, POLICY, "2026-01-25T12:00:00+00:00")
    after = _violations(tmp_path, POLICY, "2026-01-27T12:00:00+00:00")
    assert "S1" not in before  # SHEIN came with the 2026-01-26 expansion
    assert after["S1"] == "shein"
    assert before["D1"] == after["D1"] == "deepseek"  # listed before the expansion, still listed after


def test_a_lifted_directive_stops_counting_on_the_day_it_was_lifted(tmp_path: Path) -> None:
    policy = "organisation: Test\nadopt:\n  - directive: kr-pipc-2025-deepseek\n"
    _import(tmp_path, policy)
    during = _violations(tmp_path, policy, "2025-03-01T12:00:00+00:00")
    lifted = _violations(tmp_path, policy, "2025-04-28T12:00:00+00:00")
    assert during == {"D1": "deepseek"}
    assert lifted == {}


def test_the_report_says_as_amended_on(tmp_path: Path) -> None:
    _import(tmp_path, POLICY)
    for lang, words in (("en", "as amended on 26 January 2026"), ("fr", "telle que modifiée le 26 janvier 2026")):
        out = tmp_path / f"report-{lang}.html"
        code, output = _run(tmp_path, POLICY, "report", "--as-of", AT, "--format", "html", "--lang", lang,
                            "--out", str(out))
        assert code in (0, 1), output
        assert words in out.read_text("utf-8"), lang
    before = tmp_path / "before.html"
    code, output = _run(tmp_path, POLICY, "report", "--as-of", "2025-06-01T00:00:00+00:00", "--format", "html",
                        "--out", str(before))
    assert code in (0, 1), output
    assert "as amended on" not in before.read_text("utf-8")
