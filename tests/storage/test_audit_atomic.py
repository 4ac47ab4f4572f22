"""A change and its audit entry go together: when the entry cannot be written, nothing changes; and the trail
keeps whole what it hashes. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from interdit import fleet, pipeline
from interdit.errors import InterditError
from interdit.storage.accounts import AccountStore, Role
from interdit.storage.audit import AuditLog

AT = datetime(2023, 3, 1, 6, 0, tzinfo=UTC)


def _fleet(tmp_path: Path) -> list[Path]:
    spec = fleet.FleetSpec(devices=5, seed=3)
    (_, devices, apps), = list(fleet.snapshots(spec, tmp_path / "fleet", [AT]))
    return [devices, apps]


def _refuse_audit(engine: sa.engine.Engine) -> None:
    """Stand in for a crash or a full disk between a change and its entry: every audit insert fails."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log BEGIN "
                                 "SELECT RAISE(ABORT, 'audit refused'); END")
        else:
            conn.exec_driver_sql("CREATE FUNCTION no_audit() RETURNS trigger AS $$ BEGIN "
                                 "RAISE EXCEPTION 'audit refused'; END $$ LANGUAGE plpgsql")
            conn.exec_driver_sql("CREATE TRIGGER no_audit BEFORE INSERT ON audit_log FOR EACH ROW "
                                 "EXECUTE FUNCTION no_audit()")


def _count(engine: sa.engine.Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())


def test_when_the_entry_cannot_be_written_nothing_changes(db_url: str, tmp_path: Path) -> None:
    repo = pipeline.open_repository(db_url)
    files = _fleet(tmp_path)
    pipeline.import_inventory(repo, "csv", "a", files, at=AT, clock=lambda: AT, actor="cli:someone")
    accounts = AccountStore(repo.engine, clock=lambda: AT)
    log = AuditLog(repo.engine, clock=lambda: AT)
    policy = tmp_path / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    before_policy = policy.read_bytes()
    devices_before, entries_before = _count(repo.engine, "devices"), _count(repo.engine, "audit_log")
    _refuse_audit(repo.engine)

    with pytest.raises(Exception, match="audit refused"):
        pipeline.import_inventory(repo, "csv", "b", files, at=AT, clock=lambda: AT, actor="cli:someone")
    with pytest.raises(Exception, match="audit refused"):
        accounts.add("zoe", Role.ANALYST, None, audit=lambda conn, a: log.append("cli:x", "account.add", a.username,
                                                                                 conn=conn))
    with pytest.raises(Exception, match="audit refused"):
        pipeline.add_exception(policy, {"id": "EX-9", "families": ["tiktok"], "approver": "a", "reason": "r",
                                        "expires": datetime(2030, 1, 1).date(), "users": ["u"]},
                               actor="cli:x", audit=log)
    sources = tmp_path / "sources.yaml"
    with pytest.raises(Exception, match="audit refused"):
        pipeline.add_source("jamf", "jamf", {"base_url": "https://jamf.example"}, secret_env="X", path=sources,
                            actor="cli:x", audit=log)

    assert _count(repo.engine, "devices") == devices_before  # source b was not imported
    assert accounts.get("zoe") is None
    assert policy.read_bytes() == before_policy and not sources.exists()
    assert not list(tmp_path.glob(".*.saving"))
    assert _count(repo.engine, "audit_log") == entries_before
    v = log.verify()
    assert v.ok and v.entries == entries_before


def test_long_targets_are_kept_whole_and_verify(db_url: str, tmp_path: Path) -> None:
    repo = pipeline.open_repository(db_url)
    source, actor = "s" * 200, "cli:" + "a" * 400  # the trail kept 160 characters of actors, 300 of targets
    pipeline.import_inventory(repo, "csv", source, _fleet(tmp_path), at=AT, clock=lambda: AT, actor=actor)
    log = AuditLog(repo.engine)
    log.append("cli:x", "source.add", "n" * 400)
    first, second = log.entries()
    assert (first.target, first.actor, second.target) == (source, actor, "n" * 400)
    assert log.verify().ok
    with pytest.raises(InterditError, match="characters long"):  # refused before anything is read or written
        pipeline.import_inventory(repo, "csv", "t" * 400, _fleet(tmp_path / "2"), at=AT, clock=lambda: AT,
                                  actor="cli:x")
    with pytest.raises(InterditError, match="at most"):
        log.append("cli:x", "source.add", "n" * 5000)
    assert len(log.entries()) == 2 and log.verify().ok and not repo.import_runs()[0].source.startswith("t")


def test_concurrent_appends_in_transactions_keep_one_chain(db_url: str) -> None:
    repo = pipeline.open_repository(db_url)
    log = AuditLog(repo.engine)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(5):
                with repo.engine.begin() as conn:
                    log.append(f"cli:{n}", "test", f"{n}-{i}", conn=conn)
                log.append(f"cli:{n}", "test", f"{n}-{i}-own")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    v = log.verify()
    assert v.ok and v.entries == 40
