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
    result = runner.invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "--behind-tls" in result.output and "Example" in result.output
    assert "--oidc-issuer" in result.output and "--oidc-role-map" in result.output and "--oidc-only" in result.output


def test_serve_refuses_a_client_secret_others_can_read(tmp_path: Path) -> None:
    secret = tmp_path / "oidc-secret"
    secret.write_text("do-not-print-me\n")
    secret.chmod(0o644)
    code, out = _cli(tmp_path / "interdit.db", "serve", "--oidc-issuer", "https://login.example.gc.ca/realms/gc",
                     "--oidc-client-id", "interdit", "--oidc-client-secret-file", str(secret),
                     "--oidc-role-map", "interdit-admins=admin")
    assert code == 2 and "can be read by other users" in out and "chmod 600" in out
    assert "do-not-print-me" not in out
    code, out = _cli(tmp_path / "interdit.db", "serve", "--oidc-only")
    assert code == 2 and "needs an identity provider" in out


def test_people_of_the_identity_provider_are_listed_as_such(tmp_path: Path) -> None:
    from interdit import pipeline
    from interdit.storage.accounts import AccountStore, Role

    db = tmp_path / "interdit.db"
    repo = pipeline.open_repository(f"sqlite:///{db}")
    AccountStore(repo.engine).add("amelie.gagnon", Role.ANALYST, oidc_subject="https://idp.example.gc.ca 1234")
    repo.engine.dispose()
    code, out = _cli(db, "users", "list")
    assert code == 0 and "identity provider" in out
    code, out = _cli(db, "users", "list", "--format", "json")
    assert json.loads(out)["users"][0]["oidc"] is True
