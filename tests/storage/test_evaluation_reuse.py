"""Reusing a stored evaluation: `status`, `findings` and `report` read the stored answer back only when it was
computed for the same `as_of`, policy file and stored data, and then it is exactly the fresh answer.

Each test runs on SQLite and on PostgreSQL (the `db_url` fixture).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from interdit import fleet, pipeline
from interdit.model import Finding, Sighting
from interdit.storage import evaluations
from interdit.storage.analyses import save_analysis
from interdit.storage.repo import Repository
from interdit.storage.sightings import save_scan

T0, T1 = fleet.DEMO_DATES
LATER = T1 + timedelta(days=2)


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> tuple[Repository, pipeline.LoadedPolicy, Path]:
    spec = fleet.FleetSpec(devices=240, filler_apps=2)
    repo = pipeline.open_repository(db_url)
    for n, at in enumerate(fleet.DEMO_DATES):
        d, a, _, _ = fleet.write_snapshot(spec, tmp_path / f"s{n}", n, at)
        if n == 0:
            pipeline.import_inventory(repo, "csv", "mdm", [d, a], at=at)
    policy = tmp_path / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    return repo, pipeline.read_policy(policy), tmp_path


def _fresh(repo: Repository, loaded: pipeline.LoadedPolicy, as_of: datetime) -> tuple[tuple[Finding, ...], object]:
    result = pipeline.evaluate(repo, loaded, as_of=as_of, store=False)
    return result.findings, result.summary


def _stored(repo: Repository, loaded: pipeline.LoadedPolicy, as_of: datetime) -> object:
    return evaluations.stored_evaluation(repo.engine, as_of=as_of, policy_hash=loaded.digest,
                                         data_stamp=pipeline.core.data_stamp(repo, loaded))


def _evaluation_count(repo: Repository) -> int:
    with repo.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM evaluations").scalar_one())


def test_reused_answer_is_the_fresh_answer(world: tuple[Repository, pipeline.LoadedPolicy, Path]) -> None:
    repo, loaded, _ = world
    stored = pipeline.evaluate(repo, loaded, as_of=LATER)
    assert stored.findings, "the demo fleet has findings to compare"
    assert stored.summary.by_source, "the summary's per-source figures are compared too"
    before = _evaluation_count(repo)

    reused = pipeline.evaluate(repo, loaded, as_of=LATER, reuse=True)
    fresh_findings, fresh_summary = _fresh(repo, loaded, LATER)
    assert _evaluation_count(repo) == before, "a reused answer is read back, not computed and stored again"
    assert reused.findings == fresh_findings  # same findings, in the same order
    assert reused.summary == fresh_summary
    assert [f.first_seen.tzinfo for f in reused.findings[:5]] == [UTC] * min(5, len(reused.findings))

    data = pipeline.report_data(repo, loaded, as_of=LATER, with_history=False)
    assert data.findings == fresh_findings and data.summary == fresh_summary
    assert _evaluation_count(repo) == before
    for fmt in ("table", "json"):
        fresh_data = dataclasses.replace(data, findings=fresh_findings, summary=fresh_summary)
        assert pipeline.render(fmt, data, "en") == pipeline.render(fmt, fresh_data, "en")


def test_never_reused_for_another_date_policy_or_data(
        world: tuple[Repository, pipeline.LoadedPolicy, Path]) -> None:
    repo, loaded, tmp = world
    pipeline.evaluate(repo, loaded, as_of=LATER)
    assert _stored(repo, loaded, LATER) is not None
    assert _stored(repo, loaded, LATER + timedelta(microseconds=1)) is None

    # another policy: the same rules, another file digest
    other = tmp / "other.yaml"
    other.write_text((tmp / "policy.yaml").read_text("utf-8") + "\n# reviewed\n", "utf-8")
    assert _stored(repo, pipeline.read_policy(other), LATER) is None

    # new data: the second snapshot changes the answer, and the stored one is not read back
    before = pipeline.evaluate(repo, loaded, as_of=LATER, reuse=True, store=False)
    pipeline.import_inventory(repo, "csv", "mdm", [tmp / "s1" / "devices.csv", tmp / "s1" / "apps.csv"], at=T1)
    assert _stored(repo, loaded, LATER) is None
    after = pipeline.evaluate(repo, loaded, as_of=LATER, reuse=True)
    fresh_findings, fresh_summary = _fresh(repo, loaded, LATER)
    assert after.findings == fresh_findings and after.summary == fresh_summary
    assert after.findings != before.findings
    assert _stored(repo, loaded, LATER) is not None


def test_scans_and_analyses_move_the_stamp(world: tuple[Repository, pipeline.LoadedPolicy, Path]) -> None:
    repo, loaded, _ = world
    pipeline.evaluate(repo, loaded, as_of=LATER)
    assert _stored(repo, loaded, LATER) is not None
    at = datetime(2023, 3, 16, 9, 0, tzinfo=UTC)
    sighting = Sighting(family="tiktok", day=date(2023, 3, 16), client="10.9.9.9", first=at, last=at, count=3,
                        source_format="bind9", example_name="www.tiktok.com")
    save_scan(repo.engine, head=b"one log", path="/var/log/named.log", fmt="bind9", at=at, lines_read=3,
              matched=3, unmatched=0, rejected=0, sightings=[sighting])
    assert _stored(repo, loaded, LATER) is None
    pipeline.evaluate(repo, loaded, as_of=LATER)
    assert _stored(repo, loaded, LATER) is not None
    # the same log scanned again later: the same input, replaced
    save_scan(repo.engine, head=b"one log", path="/var/log/named.log", fmt="bind9", at=at + timedelta(hours=1),
              lines_read=3, matched=3, unmatched=0, rejected=0, sightings=[sighting])
    assert _stored(repo, loaded, LATER) is None
    pipeline.evaluate(repo, loaded, as_of=LATER)
    save_analysis(repo.engine, sha256="ab" * 32, analyzer_version="1", settings="s", package="com.example.x",
                  version_code=1, version_name="1.0", file_name="x.apk", verdict="acceptable", score=0,
                  sdk_vendors=[], endpoint_vendors=[], report={}, at=at)
    assert _stored(repo, loaded, LATER) is None


def test_unstamped_or_duplicated_evaluations_are_not_reused(
        world: tuple[Repository, pipeline.LoadedPolicy, Path]) -> None:
    repo, loaded, _ = world
    result = pipeline.evaluate(repo, loaded, as_of=LATER, store=False)
    stamp = pipeline.core.data_stamp(repo, loaded)
    # stored before stamps existed (or by a caller that gives none)
    evaluations.save_evaluation(repo.engine, lambda: datetime.now(UTC), result.findings, result.summary,
                                policy_hash=loaded.digest, as_of=LATER)
    assert _stored(repo, loaded, LATER) is None
    # the same finding twice: what is stored is not the evaluation, so it is never read back as one
    evaluations.save_evaluation(repo.engine, lambda: datetime.now(UTC), result.findings + result.findings[:1],
                                result.summary, policy_hash=loaded.digest, as_of=LATER, data_stamp=stamp)
    assert _stored(repo, loaded, LATER) is None
    evaluations.save_evaluation(repo.engine, lambda: datetime.now(UTC), result.findings, result.summary,
                                policy_hash=loaded.digest, as_of=LATER, data_stamp=stamp)
    got = _stored(repo, loaded, LATER)
    assert got is not None and got == (result.summary, result.findings)
    # the findings API still reads the latest evaluation's findings, by id
    assert [f.id for f in repo.findings()] == sorted(f.id for f in result.findings)


def test_processes_share_a_recent_evaluation(world: tuple[Repository, pipeline.LoadedPolicy, Path]) -> None:
    """Two processes over one database (two `Repository` objects, as two servers behind a load balancer): the
    second answers from the evaluation the first stored moments earlier, computes its own once that one is
    older than the window, and never reuses one made before an import."""
    repo, loaded, tmp = world
    other = Repository(repo.url)
    try:
        window = timedelta(seconds=60)
        made = pipeline.evaluate(repo, loaded, as_of=LATER, reuse_within=window)
        assert _evaluation_count(repo) == 1
        shared = pipeline.evaluate(other, loaded, as_of=LATER + timedelta(seconds=30), reuse_within=window)
        assert _evaluation_count(other) == 1  # read back, nothing computed or stored
        assert shared.summary == made.summary and shared.findings == made.findings
        # an evaluation made for a later time is never taken for an earlier one
        pipeline.evaluate(other, loaded, as_of=LATER - timedelta(seconds=1), reuse_within=window)
        assert _evaluation_count(other) == 2
        aged = pipeline.evaluate(other, loaded, as_of=LATER + timedelta(seconds=90), reuse_within=window)
        assert _evaluation_count(other) == 3
        assert aged.summary.at == LATER + timedelta(seconds=90)
        # an import moves the data stamp: the next answer is computed again, on the new data
        d, a = tmp / "s1" / "devices.csv", tmp / "s1" / "apps.csv"
        pipeline.import_inventory(repo, "csv", "mdm", [d, a], at=T1)
        after = pipeline.evaluate(other, loaded, as_of=LATER + timedelta(seconds=100), reuse_within=window)
        assert _evaluation_count(other) == 4
        assert after.summary == _fresh(other, loaded, LATER + timedelta(seconds=100))[1]
    finally:
        other.close()
