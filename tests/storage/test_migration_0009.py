"""Migration 0009: tokens made before scopes keep working with the scope `*`, the audit trail written before
still verifies (and now keeps long texts whole), and sessions get their table. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from interdit.cli.main import app
from interdit.storage.accounts import AccountStore, token_digest
from interdit.storage.audit import AuditLog, canonical, entry_hash
from interdit.storage.repo import Repository


def test_tokens_made_before_scopes_keep_working(db_url: str) -> None:
    repo = Repository(db_url)
    cfg = repo._alembic_config()
    with repo.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006")
        command.upgrade(cfg, "0007")
    secret = "idt_" + "x" * 43
    digest = token_digest(secret)
    at = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    after = canonical({"user": "feed", "name": "old"})
    with repo.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO accounts (username, role, password_hash, disabled, created_at) "
                             "VALUES ('feed', 'ingest', NULL, false, :at)"), {"at": at})
        account_id = conn.execute(sa.text("SELECT id FROM accounts")).scalar_one()
        conn.execute(sa.text("INSERT INTO api_tokens (id, account_id, name, token_hash, created_at) "
                             "VALUES (:id, :a, 'old', :h, :at)"), {"id": digest[:12], "a": account_id, "h": digest,
                                                                    "at": at})
        conn.execute(sa.text("INSERT INTO audit_log (seq, at, actor, action, target, before, after, prev_hash, hash) "
                             "VALUES (1, :at, 'cli:x', 'token.create', :t, NULL, :after, :prev, :hash)"),
                     {"at": at, "t": digest[:12], "after": after, "prev": "0" * 64,
                      "hash": entry_hash("0" * 64, 1, at, "cli:x", "token.create", digest[:12], None, after)})
    repo.migrate()
    # 0009 applied: a head now, or below one (later revisions build on it)
    script = ScriptDirectory.from_config(cfg)
    applied = {r.revision for head in repo.schema_revisions() for r in script.iterate_revisions(head, "base")}
    assert "0009" in applied
    found = AccountStore(repo.engine).token_for(secret)
    assert found is not None and found[1].scopes == ("*",) and found[1].allows("any-source")
    log = AuditLog(repo.engine)
    log.append("cli:" + "a" * 500, "source.add", "t" * 1000)
    assert log.verify().ok and log.verify().entries == 2
    assert log.entries()[-1].target == "t" * 1000
    assert "sessions" in sa.inspect(repo.engine).get_table_names()


def test_tokens_list_shows_what_each_token_may_write(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path / 'x.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["--db", db, "users", "add", "feed", "--role", "ingest"]).exit_code == 0
    made = runner.invoke(app, ["--db", db, "tokens", "create", "feed", "nightly", "--source", "intune-prod",
                               "--source", "jamf", "--logs"])
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["--db", db, "tokens", "create", "feed", "everything"]).exit_code == 0
    listed = runner.invoke(app, ["--db", db, "tokens", "list"], env={"COLUMNS": "200"}).output
    lines = {line.split()[-1]: line for line in listed.splitlines() if line.strip()}
    assert "intune-prod jamf @logs" in lines["nightly"] and " * " in lines["everything"]
