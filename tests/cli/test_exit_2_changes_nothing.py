"""Exit code 2 means nothing changed: every changing command that refuses leaves the files, the database and
the audit trail as they were (a refused import keeps only its failed run, the record of the refusal)."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from interdit import fleet
from interdit.cli.main import app

runner = CliRunner()
AT = fleet.DEMO_DATES[0]


@pytest.fixture()
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INTERDIT_SOURCES", str(tmp_path / "sources.yaml"))
    d, a, _, _ = fleet.write_snapshot(fleet.FleetSpec(devices=10, seed=2), tmp_path / "s", 0, AT)
    policy = tmp_path / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    open_secret = tmp_path / "open.secret"
    open_secret.write_text("s3cret")
    open_secret.chmod(0o644)
    closed = tmp_path / "closed.secret"
    closed.write_text("s3cret")
    closed.chmod(0o600)
    bomb = tmp_path / "bomb.csv.gz"
    with gzip.open(bomb, "wb", 9) as z:
        z.write(b"device_id,platform,ownership,management,observed_at\n")
        for _ in range(100):
            z.write(b"\n" * (1 << 20))
    ws = {"root": tmp_path, "devices": d, "apps": a, "policy": policy, "db": tmp_path / "interdit.db",
          "open": open_secret, "closed": closed, "bomb": bomb}
    assert _cli(ws, "import", "csv", str(d), str(a), "--source", "mdm", "--quiet")[0] == 0
    assert _cli(ws, "sources", "add", "jamf", "--type", "jamf", "--base-url", "https://jamf.example",
                "--client-id", "x", "--secret-file", str(closed))[0] == 0
    code, _ = _cli(ws, "users", "add", "alice", "--role", "admin", "--password-stdin", stdin="a long password!\n")
    assert code == 0
    return ws


def _cli(ws: dict[str, Path], *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", str(ws["db"]), "--policy", str(ws["policy"]), *args], input=stdin)
    return result.exit_code, result.output


def _state(ws: dict[str, Path]) -> dict[str, Any]:
    """Every file's digest (but the database's), every table's rows, and the audit trail."""
    files = {str(p.relative_to(ws["root"])): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(ws["root"].rglob("*")) if p.is_file() and not p.name.startswith("interdit.db")}
    engine = sa.create_engine(f"sqlite:///{ws['db']}")
    tables: dict[str, Any] = {}
    with engine.connect() as conn:
        for name in sa.inspect(engine).get_table_names():
            rows = [tuple(r) for r in conn.execute(sa.text(f'SELECT * FROM "{name}"'))]
            if name == "import_runs":
                rows = [r for r in rows if "failed" not in r]
            tables[name] = sorted(rows, key=repr)
    engine.dispose()
    return {"files": files, "tables": tables}


REFUSED = [
    ("sources add: a secret file others can read", ["sources", "add", "intune-nightly", "--type", "jamf",
                                                   "--base-url", "https://j.example", "--client-id", "y",
                                                   "--secret-file", "{open}"]),
    ("sources add: the name is taken", ["sources", "add", "jamf", "--type", "jamf", "--base-url", "https://j2",
                                       "--client-id", "y", "--secret-file", "{closed}"]),
    ("sources add: an unknown type", ["sources", "add", "x", "--type", "nope"]),
    ("users add: the name is taken", ["users", "add", "alice", "--role", "admin", "--no-password"]),
    ("users add: a short password", ["users", "add", "bob", "--role", "analyst", "--password-stdin"]),
    ("users add: a control character", ["users", "add", "b\x01b", "--role", "ingest"]),
    ("users disable: no such user", ["users", "disable", "nobody"]),
    ("users password: no such user", ["users", "password", "nobody", "--password-stdin"]),
    ("tokens create: no such user", ["tokens", "create", "nobody", "t"]),
    ("tokens create: a bad source name", ["tokens", "create", "alice", "t", "--source", "a b"]),
    ("tokens revoke: no such token", ["tokens", "revoke", "000000000000"]),
    ("import: an unknown format", ["import", "nope", "{devices}", "--source", "x"]),
    ("import: a missing file", ["import", "csv", "{root}/none.csv", "--source", "x"]),
    ("import: a decompression bomb", ["import", "csv", "{bomb}", "{apps}", "--source", "bomb"]),
    ("import: a source name too long", ["import", "csv", "{devices}", "{apps}", "--source", "s" * 201]),
    ("audit verify: a bad checkpoint", ["audit", "verify", "--checkpoint", "0:00"]),
]


@pytest.mark.parametrize(("what", "args"), REFUSED, ids=[r[0] for r in REFUSED])
def test_exit_2_leaves_everything_as_it_was(ws: dict[str, Path], what: str, args: list[str]) -> None:
    before = _state(ws)
    filled = [a.format(**{k: str(v) for k, v in ws.items()}) for a in args]
    code, output = _cli(ws, *filled, stdin="short\n")
    assert code == 2, (what, output)
    assert "Traceback" not in output
    assert _state(ws) == before, what
    # and the refused change can be made once its cause is fixed, with no "already exists" left behind
    if what.startswith("sources add: a secret"):
        os.chmod(ws["open"], 0o600)
        assert _cli(ws, *filled)[0] == 0
        code, output = _cli(ws, "audit", "list")
        assert output.count("source.add") == 2

