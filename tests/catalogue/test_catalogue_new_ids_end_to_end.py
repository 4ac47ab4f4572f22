"""The identifiers added in 2026.12.2 as a user meets them: a neutral CSV imported with the CLI, evaluated under the
directives that name the apps (the Dutch list, Tennessee), and look-alikes that must stay clean."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from interdit.cli.main import app

runner = CliRunner()
OBSERVED = "2025-06-01T08:00:00+00:00"
DEVICES = [
    ("G1", "android", "net.iGap"),  # iGap, on the Dutch list
    ("G2", "android", "net.igap"),  # another string: not iGap
    ("M1", "android", "com.hanista.mobogram"),  # Mobogram, on the Dutch list
    ("V1", "ios", "com.vk.vkclient"),  # VK for iPhone
    ("F1", "ios", "io.faceapp.ios"),  # FaceApp for iPhone
    ("A1", "ios", "com.alibaba.iAliexpress"),  # AliExpress for iPhone
    ("N1", "android", "tech.butterfly.app"),  # Manus, named by Tennessee
    ("N2", "android", "com.manus.im.app"),  # a guessed Manus package: not listed, not matched
]
POLICY = """organisation: Test
adopt:
  - directive: nl-2023-offensive-cyber-apps
  - directive: us-tn-2025-deepseek-manus
"""


def _run(root: Path, *args: str) -> tuple[int, str]:
    (root / "policy.yaml").write_text(POLICY, "utf-8")
    result = runner.invoke(app, ["--db", str(root / "interdit.db"), "--policy", str(root / "policy.yaml"), *args])
    return result.exit_code, result.output


def test_new_identifiers_through_import_and_evaluation(tmp_path: Path) -> None:
    devices, apps = tmp_path / "devices.csv", tmp_path / "apps.csv"
    with devices.open("w", newline="", encoding="utf-8") as fd, apps.open("w", newline="", encoding="utf-8") as fa:
        dw, aw = csv.writer(fd), csv.writer(fa)
        dw.writerow(["device_id", "platform", "ownership", "management", "observed_at"])
        aw.writerow(["device_id", "platform", "identifier", "observed_at"])
        for device_id, platform, identifier in DEVICES:
            dw.writerow([device_id, platform, "corporate", "fully_managed", OBSERVED])
            aw.writerow([device_id, platform, identifier, OBSERVED])
    code, output = _run(tmp_path, "import", "csv", str(devices), str(apps), "--source", "mdm", "--at", OBSERVED,
                        "--quiet")
    assert code == 0, output
    code, output = _run(tmp_path, "findings", "--as-of", "2025-06-02T08:00:00+00:00", "--state", "violation",
                        "--format", "json")
    assert code in (0, 1), output
    found = {f["device_id"]: f["family"] for f in json.loads(output)["findings"]}
    assert found == {"G1": "igap", "M1": "mobogram", "V1": "vkontakte", "F1": "faceapp", "A1": "aliexpress",
                     "N1": "manus"}
