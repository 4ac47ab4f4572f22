"""Many files: parallel workers, the cache (folder and database), the policy evidence, and the CLI command."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from analysis_shared import SHARED as SHARED_ROOT

from interdit.analysis import batch
from interdit.analysis.batch import AnalysisSettings, DirectoryCache, analyze_paths, collect, settings_digest
from interdit.analysis.evidence import evidence, prohibited_vendors
from interdit.analysis.report import AppReport as Report
from interdit.analysis.report import Endpoint, Identity, SdkMatch, Signing
from interdit.catalogue import load_catalogue
from interdit.errors import InputError
from interdit.model import AppId, Platform

SHARED = SHARED_ROOT
APKS = SHARED / "data" / "apk"
SIGNATURES = SHARED / "data" / "sdk-signatures"
needs_corpus = pytest.mark.skipif(not APKS.is_dir(), reason=f"the APK corpus is not present at {APKS}")
FILES = ["tt__opensdk-OpenSdkDemo.apk", "fd__janus.apk", "ag__hello-world.apk", "qk__diva.apk"]


def _settings() -> AnalysisSettings:
    return AnalysisSettings(signatures_dir=str(SIGNATURES) if SIGNATURES.is_dir() else None)


@needs_corpus
def test_parallel_equals_sequential_and_keeps_order() -> None:
    paths = [APKS / f for f in FILES]
    seen: list[str] = []
    parallel = analyze_paths(paths, _settings(), jobs=2, progress=lambda r: seen.append(r.identity.file_name))
    sequential = analyze_paths(paths, _settings(), jobs=1)
    assert [r.identity.file_name for r in parallel] == FILES
    assert parallel == sequential
    assert sorted(seen) == sorted(FILES)


@needs_corpus
def test_folder_cache_reuses_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings()
    cat = load_catalogue()
    cache = DirectoryCache(tmp_path / "cache", settings_digest(settings, cat))
    paths = [APKS / f for f in FILES[:2]]
    first = analyze_paths(paths, settings, jobs=1, lookup=cache.get, store=cache.put)
    assert len(list(cache.dir.glob("*.json"))) == 2

    def boom(path: Path, ctx: object) -> Report:
        raise AssertionError("analysed again despite the cache")

    monkeypatch.setattr(batch, "analyze_one", boom)
    renamed = tmp_path / "renamed.apk"
    shutil.copy(paths[0], renamed)
    again = analyze_paths([paths[1], renamed], settings, jobs=1, lookup=cache.get, store=cache.put)
    assert again[0] == first[1]
    assert again[1].identity.file_name == "renamed.apk"
    assert replace(again[1], identity=first[0].identity) == first[0]


def test_settings_digest_follows_rules_and_data(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text((Path(batch.__file__).with_name("rules.yaml")).read_text("utf-8"), "utf-8")
    a = settings_digest(AnalysisSettings(rules_path=str(rules)), None)
    assert a == settings_digest(AnalysisSettings(), None)  # same content, same digest
    rules.write_text(rules.read_text("utf-8").replace("needs_review: 20", "needs_review: 21"), "utf-8")
    assert settings_digest(AnalysisSettings(rules_path=str(rules)), None) != a
    assert settings_digest(AnalysisSettings(), load_catalogue()) != a


def test_collect_expands_folders_and_refuses_missing_paths(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("b.apk", "a.apk", "sub/c.apk", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in collect([tmp_path])] == ["a.apk", "b.apk", "c.apk"]
    with pytest.raises(InputError) as info:
        collect([tmp_path / "nope"])
    assert "nope" in str(info.value) and info.value.fix


def test_a_crash_becomes_a_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.apk"
    path.write_bytes(b"PK")

    def crash(*args: object, **kwargs: object) -> Report:
        raise RuntimeError("boom")

    monkeypatch.setattr(batch, "analyze", crash)
    [report] = analyze_paths([path], AnalysisSettings(use_catalogue=False), jobs=1)
    assert [p.code for p in report.problems] == ["analysis.failed"] and "boom" in report.problems[0].message
    assert report.score is not None and report.score.verdict != "acceptable"


def _report(sdks: tuple[SdkMatch, ...] = (), endpoints: tuple[Endpoint, ...] = ()) -> Report:
    return Report(identity=Identity("org.example", 3, "3.0", 21, 34, "e" * 64, 1, "x.apk"),
                  signing=Signing(schemes=("v2",)), permissions=(), components=(), sdks=sdks, endpoints=endpoints,
                  weaknesses=(), problems=())


def test_evidence_counts_bundled_sdks_and_endpoint_owners_with_parents() -> None:
    cat = load_catalogue()
    bundled = SdkMatch("b", "OpenSDK", "ByteDance", "CN", (), ("com.bytedance.sdk.open.A",), (), "x",
                       vendor_id="bytedance")
    referenced = SdkMatch("g", "Firebase", "Google", "US", (), (), ("com.google.firebase.A",), "x",
                          vendor_id="google")
    tiktok = Endpoint("https://www.tiktok.com/x", "www.tiktok.com", "url", "classes.dex string #1")
    ev = evidence(_report((bundled, referenced), (tiktok,)), cat)
    assert ev.app == AppId(Platform.ANDROID, "org.example") and ev.version == "3.0"
    assert ev.sdk_vendors == ("bytedance",)  # a referenced-only SDK is not evidence of bundling
    owner = cat.vendors[next(iter(v for v in ev.endpoint_vendors if v != "bytedance"))]
    assert owner.parent == "bytedance" and "bytedance" in ev.endpoint_vendors  # tiktok-pte and its parent
    assert {"bytedance", "tencent", "kaspersky", "deepseek"} <= prohibited_vendors(cat)


@needs_corpus
def test_pipeline_stores_reports_and_gives_policy_evidence(tmp_path: Path) -> None:
    from interdit import pipeline

    repo = pipeline.open_repository(f"sqlite:///{tmp_path / 'db.sqlite'}")
    paths = [APKS / "tt__opensdk-OpenSdkDemo.apk", APKS / "ag__hello-world.apk"]
    sigs = SIGNATURES if SIGNATURES.is_dir() else None
    reports = pipeline.analyze_apks(paths, repo=repo, signatures=sigs, jobs=2)
    evidence_by_app = pipeline.app_evidence(repo)
    tt = evidence_by_app[AppId(Platform.ANDROID, "com.bytedance.sdk.account")]
    assert tt.sha256 == reports[0].identity.sha256 and tt.verdict == reports[0].score.verdict  # type: ignore[union-attr]
    assert "bytedance" in tt.endpoint_vendors
    if sigs is not None:
        assert tt.sdk_vendors == ("bytedance",)
    again = pipeline.analyze_apks(paths, repo=repo, signatures=sigs, jobs=1)
    assert again == reports


@needs_corpus
def test_cli_formats_out_and_fail_on(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from interdit.cli import analysis_cmd
    from interdit.cli.main import app

    if "analyze" not in {c.name for c in app.registered_commands}:
        analysis_cmd.register(app)
    runner = CliRunner()
    db = ["--db", f"sqlite:///{tmp_path / 'db.sqlite'}"]
    apk = str(APKS / "tt__opensdk-OpenSdkDemo.apk")
    result = runner.invoke(app, [*db, "analyze", apk, "--no-cache", "-q", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["apps"][0]["identity"]["package"] == "com.bytedance.sdk.account"
    out = tmp_path / "r.sarif"
    sigs = ["--signatures", str(SIGNATURES)] if SIGNATURES.is_dir() else []
    result = runner.invoke(app, [*db, "--lang", "fr", "analyze", apk, str(APKS / "ag__hello-world.apk"), *sigs,
                                 "--no-cache", "--format", "sarif", "--out", str(out), "--fail-on",
                                 "unacceptable" if sigs else "needs_review"])
    assert result.exit_code == 1, result.output
    assert json.loads(out.read_text("utf-8"))["runs"][0]["language"] == "fr"
    result = runner.invoke(app, [*db, "analyze", str(APKS / "ag__hello-world.apk"), "--no-cache",
                                 "--fail-on", "unacceptable", "--store"])
    assert result.exit_code == 0 and "ag__hello-world.apk" in result.stdout
    result = runner.invoke(app, [*db, "analyze", str(tmp_path / "missing.apk")])
    assert result.exit_code == 2 and "missing.apk" in result.output
    result = runner.invoke(app, ["analyze", "--help"])
    assert "Example: interdit analyze" in result.stdout


@needs_corpus
def test_policy_rule_on_bundled_sdks_catches_the_app(tmp_path: Path) -> None:
    """From the APK to a finding: analyse, store, and a rule `evidence: {bundles_sdk_of: [bytedance]}` makes
    the app a `risky-app` violation on a device that has it, and not the app without ByteDance code."""
    from datetime import UTC, datetime

    from interdit import pipeline
    from interdit.model import AppInterval as Interval
    from interdit.model import Device, DeviceState, FindingKind, Management, Ownership
    from interdit.policy import evaluate, load_policy

    repo = pipeline.open_repository(f"sqlite:///{tmp_path / 'db.sqlite'}")
    pipeline.analyze_apks([APKS / "tt__opensdk-OpenSdkDemo.apk", APKS / "ag__hello-world.apk"], repo=repo, jobs=1)
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text("organisation: Test\nrules:\n  - id: no-bytedance-sdk\n"
                           "    evidence: {bundles_sdk_of: [bytedance]}\n    effective: 2024-01-01\n", "utf-8")
    cat = load_catalogue()
    policy = load_policy(policy_path, cat)
    at = datetime(2025, 1, 1, tzinfo=UTC)
    hello = report_package(APKS / "ag__hello-world.apk")
    device = Device("mdm", "d1", Platform.ANDROID, Ownership.CORPORATE, Management.FULLY_MANAGED, at)
    apps = tuple(Interval("mdm", "d1", AppId(Platform.ANDROID, pkg), at, at)
                 for pkg in ("com.bytedance.sdk.account", hello))
    result = evaluate(policy, cat, [DeviceState(device, apps)], at, evidence=pipeline.app_evidence(repo))
    risky = [f for f in result.findings if f.kind is FindingKind.RISKY_APP]
    assert [f.app.identifier for f in risky if f.app] == ["com.bytedance.sdk.account"]
    assert any("ByteDance" in line for line in risky[0].evidence)


def report_package(path: Path) -> str:
    from interdit.analysis.apk import analyze

    package = analyze(path).identity.package
    assert package
    return package


def test_migration_creates_the_table_storage_uses(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from interdit import pipeline
    from interdit.storage.analyses import analyses_table

    repo = pipeline.open_repository(f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert "apk_analyses" in sa.inspect(repo.engine).get_table_names()  # made by 0002, below today's heads
    columns = {c["name"]: c for c in sa.inspect(repo.engine).get_columns("apk_analyses")}
    assert set(columns) == {c.name for c in analyses_table.columns}
    for c in analyses_table.columns:
        assert bool(columns[c.name]["nullable"]) == bool(c.nullable), c.name
    uniques = sa.inspect(repo.engine).get_unique_constraints("apk_analyses")
    assert [sorted(u["column_names"]) for u in uniques] == [["analyzer_version", "settings", "sha256"]]
