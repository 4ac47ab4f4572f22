"""`interdit users|tokens|audit` as an operator runs them, and `interdit serve --help`."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from interdit.cli import server_cmd
from interdit.cli.main import app
from interdit.storage.audit import audit_table

if not any(c.name == "serve" for c in app.registered_commands):
    server_cmd.register(app)

runner = CliRunner()


def _cli(db: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", str(db), *args], input=stdin)
    return result.exit_code, result.output


def test_users_tokens_and_a_tampered_audit_trail(tmp_path: Path) -> None:
    db = tmp_path / "interdit.db"
    code, out = _cli(db, "users", "add", "marie", "--role", "admin", "--password-stdin",
                     stdin="a long enough password\n")
    assert code == 0, out
    code, out = _cli(db, "users", "add", "sam", "--role", "analyst", "--password-stdin", stdin="short\n")
    assert code == 2 and "too short" in out
    code, out = _cli(db, "users", "add", "mdm", "--role", "ingest")
    assert code == 0 and "created mdm (ingest)" in out
    code, out = _cli(db, "users", "list", "--format", "json")
    listed = {u["username"]: u for u in json.loads(out)["users"]}
    assert listed["marie"]["password"] and not listed["mdm"]["password"]
    code, out = _cli(db, "tokens", "create", "mdm", "nightly export")
    assert code == 0
    secret = out.strip().splitlines()[-1]
    assert secret.startswith("idt_")
    code, out = _cli(db, "tokens", "list")
    assert "nightly export" in out and secret not in out
    token_id = out.split()[0]
    assert _cli(db, "tokens", "revoke", token_id)[0] == 0
    assert _cli(db, "tokens", "revoke", token_id)[0] == 2
    assert _cli(db, "users", "disable", "marie")[0] == 0

    code, out = _cli(db, "audit", "verify")
    assert code == 0 and "5 entries" in out
    code, out = _cli(db, "audit", "list", "--format", "json")
    actions = [e["action"] for e in json.loads(out)["entries"]]
    assert actions == ["account.add", "account.add", "token.create", "token.revoke", "account.disable"]
    export = tmp_path / "audit.jsonl"
    assert _cli(db, "audit", "export", "--out", str(export))[0] == 0
    assert len(export.read_text().splitlines()) == 5

    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        conn.execute(audit_table.update().where(audit_table.c.seq == 3).values(after='{"user":"someone"}'))
    engine.dispose()
    code, out = _cli(db, "audit", "verify")
    assert code == 1 and "broken at entry 3" in out


def test_serve_help_teaches_with_an_example() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0 and "--behind-tls" in result.output and "Example" in result.output
