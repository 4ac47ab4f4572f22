"""Stored log sightings, APK analyses and evaluations are written with their audit entry, in one transaction:
when the entry cannot be written, nothing is stored. An enforcement payload's entry is written after its files.
On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from analysis.analysis_builders import dex_with_classes, zip_bytes
from interdit import fleet, pipeline
from interdit.storage.audit import AuditLog
from interdit.storage.repo import Repository

AT = datetime(2023, 3, 1, 12, 0, tzinfo=UTC)
FIELDS = ["ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "trans_id", "rtt", "query",
          "qclass", "qclass_name", "qtype", "qtype_name", "rcode", "rcode_name", "AA", "TC", "RD", "RA", "Z",
          "answers", "TTLs", "rejected"]
HEAD = "#separator \\x09\n#path\tdns\n#open\t2023-03-01-10-00-00\n#fields\t" + "\t".join(FIELDS) + "\n"
DOMAINS = {"tiktok.com": "tiktok"}


def _line(i: int, query: str) -> str:
    return (f"{1677664800 + i * 60}.000000\tC{i}\t10.1.1.{i}\t5353\t10.0.0.53\t53\tudp\t1\t0.001\t{query}\t1"
            f"\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t-\t-\tF\n")


def _refuse_audit(engine: sa.engine.Engine) -> None:
    """Every audit insert fails (a crash or a full disk between a change and its entry)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN "
                                 "SELECT RAISE(ABORT, 'audit refused'); END")
        else:
            conn.exec_driver_sql("CREATE FUNCTION no_audit() RETURNS trigger AS $$ BEGIN "
                                 "RAISE EXCEPTION 'audit refused'; END $$ LANGUAGE plpgsql")
            conn.exec_driver_sql("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log FOR EACH ROW "
                                 "EXECUTE FUNCTION no_audit()")


def _allow_audit(engine: sa.engine.Engine) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER no_audit" if engine.dialect.name == "sqlite"
                             else "DROP TRIGGER no_audit ON audit_log")


def _count(engine: sa.engine.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def _actions(engine: sa.engine.Engine) -> list[str]:
    return [e.action for e in AuditLog(engine).entries()]


@pytest.fixture
def repo(db_url: str) -> Repository:
    return pipeline.open_repository(db_url)


def test_a_scan_whose_entry_fails_stores_no_sighting(repo: Repository, tmp_path: Path) -> None:
    logs = []
    for n in (1, 2):
        log = tmp_path / f"dns{n}.log"
        log.write_text(HEAD + _line(n, "www.tiktok.com") + _line(n + 2, "example.org"), encoding="utf-8")
        logs.append(log)
    _refuse_audit(repo.engine)
    with pytest.raises(Exception, match="audit refused"):
        pipeline.scan_logs(logs, families_domains=DOMAINS, repo=repo, actor="cli:someone", clock=lambda: AT)
    assert _count(repo.engine, "network_inputs") == 0 and pipeline.sightings(repo) == []

    _allow_audit(repo.engine)
    r = pipeline.scan_logs(logs, families_domains=DOMAINS, repo=repo, actor="cli:someone", clock=lambda: AT)
    assert _count(repo.engine, "network_inputs") == 2 and len(pipeline.sightings(repo)) == 2
    assert _actions(repo.engine) == ["logs.scan"] and not any(f.replaced for f in r.files)
    again = pipeline.scan_logs(logs[:1], families_domains=DOMAINS, repo=repo, actor="cli:someone", clock=lambda: AT)
    assert [f.replaced for f in again.files] == [True] and _count(repo.engine, "network_inputs") == 2
    entries = AuditLog(repo.engine).entries()
    assert [e.action for e in entries] == ["logs.scan", "logs.scan"] and entries[-1].after["replaced"] == 1


def test_an_analysis_whose_entry_fails_stores_no_report(repo: Repository, tmp_path: Path) -> None:
    apk = tmp_path / "tiny.apk"
    apk.write_bytes(zip_bytes([("classes.dex", dex_with_classes(["com.example.Main"]))]))
    _refuse_audit(repo.engine)
    with pytest.raises(Exception, match="audit refused"):
        pipeline.analyze_apks([apk], repo=repo, jobs=1, actor="cli:someone", clock=lambda: AT)
    assert _count(repo.engine, "apk_analyses") == 0

    _allow_audit(repo.engine)
    reports = pipeline.analyze_apks([apk], repo=repo, jobs=1, actor="cli:someone", clock=lambda: AT)
    assert len(reports) == 1 and _count(repo.engine, "apk_analyses") == 1
    assert _actions(repo.engine) == ["analysis"]


def test_an_evaluation_whose_entry_fails_is_not_stored(repo: Repository, tmp_path: Path) -> None:
    spec = fleet.FleetSpec(devices=5, seed=3)
    (_, devices, apps), = list(fleet.snapshots(spec, tmp_path / "fleet", [AT]))
    pipeline.import_inventory(repo, "csv", "a", [devices, apps], at=AT, clock=lambda: AT)
    policy = tmp_path / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    loaded = pipeline.read_policy(policy)
    _refuse_audit(repo.engine)
    with pytest.raises(Exception, match="audit refused"):
        pipeline.evaluate(repo, loaded, as_of=AT, actor="cli:someone", clock=lambda: AT)
    assert _count(repo.engine, "evaluations") == 0 and _count(repo.engine, "findings") == 0

    _allow_audit(repo.engine)
    result = pipeline.evaluate(repo, loaded, as_of=AT, actor="cli:someone", clock=lambda: AT)
    assert _count(repo.engine, "evaluations") == 1 and _count(repo.engine, "findings") == len(result.findings)
    assert _actions(repo.engine) == ["evaluate"]


def test_an_enforcement_payload_is_recorded_after_its_files(repo: Repository, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    request = pipeline.enforcement_request(pipeline.read_policy(policy), now=AT)
    payload = pipeline.enforce("dnsmasq", request)
    log = AuditLog(repo.engine, clock=lambda: AT)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    with pytest.raises(OSError):  # the files cannot be written: no entry claims them
        pipeline.write_payload(payload, request, blocked, actor="cli:someone", audit=log)
    assert _count(repo.engine, "audit_log") == 0

    _refuse_audit(repo.engine)
    out = tmp_path / "out"
    with pytest.raises(Exception, match=r"audit refused|too busy"):  # written, then the entry fails
        pipeline.write_payload(payload, request, out, actor="cli:someone", audit=log)
    assert sorted(p.name for p in out.iterdir()) == sorted(payload.files)
    assert _count(repo.engine, "audit_log") == 0

    _allow_audit(repo.engine)
    written = pipeline.write_payload(payload, request, out, actor="cli:someone", audit=log)
    entries = log.entries()
    assert [e.action for e in entries] == ["enforcement.build"] and entries[0].target == "dnsmasq"
    assert entries[0].after["files"] == sorted(payload.files) and all(p.is_file() for p in written)
