"""Every change made on the command line lands in the audit trail once, named `cli:<operating-system user>`.

Each changing command runs against a real SQLite database; the trail must gain exactly one entry with the right
actor, action and target, and `interdit audit verify` must still find the chain intact. Remote services (a Jamf
server, the Android Management API) are answered in-process through httpx's mock transport.
"""

from __future__ import annotations

import getpass
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from interdit import fleet, pipeline
from interdit.cli.main import app
from interdit.enforcement.base import Payload
from interdit.storage.audit import AuditEntry, AuditLog

runner = CliRunner()
DATES = fleet.DEMO_DATES
JAMF = Path(__file__).resolve().parents[1] / "inventory" / "recorded" / "jamf"
SQUID = (b"1678780827.995      0 10.1.2.3 TCP_DENIED/403 3417 CONNECT www.tiktok.com:443 - HIER_NONE/- text/html\n"
         b"1678780828.995      0 10.1.2.4 TCP_MISS/200 3417 CONNECT www.example.org:443 - HIER_DIRECT/- -\n")


def _me() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@pytest.fixture()
def ws(tmp_path: Path) -> dict[str, Path]:
    spec = fleet.FleetSpec(devices=60, seed=5)
    paths: dict[str, Path] = {"root": tmp_path}
    for n, at in enumerate(DATES[:2]):
        d, a, _, _ = fleet.write_snapshot(spec, tmp_path / f"s{n}", n, at)
        paths[f"devices{n}"], paths[f"apps{n}"] = d, a
    policy = tmp_path / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    paths["policy"], paths["db"] = policy, tmp_path / "interdit.db"
    return paths


def _cli(ws: dict[str, Path], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", str(ws["db"]), "--policy", str(ws["policy"]), *args])
    return result.exit_code, result.output


def _trail(ws: dict[str, Path]) -> list[AuditEntry]:
    repo = pipeline.open_repository(f"sqlite:///{ws['db']}")
    try:
        return AuditLog(repo.engine).entries()
    finally:
        repo.engine.dispose()


def _one_new(ws: dict[str, Path], run: Callable[[], Any]) -> AuditEntry:
    """Run a command; the trail must gain exactly one entry, and verify intact."""
    before = len(_trail(ws)) if ws["db"].exists() else 0
    run()
    after = _trail(ws)
    assert len(after) == before + 1, [(e.actor, e.action, e.target) for e in after[before:]]
    code, output = _cli(ws, "audit", "verify")
    assert code == 0 and "intact" in output, output
    return after[-1]


def _import(ws: dict[str, Path], n: int) -> None:
    code, output = _cli(ws, "import", "csv", str(ws[f"devices{n}"]), str(ws[f"apps{n}"]), "--source", "mdm",
                        "--at", DATES[n].isoformat(), "--quiet", "--format", "json")
    assert code in (0, 3), output


def test_import_is_recorded_with_its_run_and_the_previous_counts(ws: dict[str, Path]) -> None:
    first = _one_new(ws, lambda: _import(ws, 0))
    assert (first.actor, first.action, first.target) == (_me(), "import", "mdm")
    assert first.before is None and first.after["format"] == "csv"
    assert first.after["read"] == first.after["accepted"] + first.after["rejected"] > 0
    second = _one_new(ws, lambda: _import(ws, 1))
    runs = pipeline.open_repository(f"sqlite:///{ws['db']}").import_runs(limit=5)
    assert second.after["run_id"] == runs[0].id and second.before["run_id"] == runs[1].id == first.after["run_id"]
    assert second.before["devices"] == first.after["devices"]


def test_evaluate_is_recorded_and_status_is_not(ws: dict[str, Path]) -> None:
    _import(ws, 0)
    entry = _one_new(ws, lambda: _cli(ws, "evaluate", "--as-of", "2023-03-15"))
    assert (entry.actor, entry.action, entry.target) == (_me(), "evaluate", "policy")
    assert entry.after["policy"] == pipeline.read_policy(ws["policy"]).digest and entry.after["findings"] >= 0
    count = len(_trail(ws))
    _cli(ws, "status", "--as-of", "2023-03-15")
    assert len(_trail(ws)) == count


def test_a_failed_import_records_nothing(ws: dict[str, Path]) -> None:
    _import(ws, 0)
    count = len(_trail(ws))
    code, _ = _cli(ws, "import", "csv", str(ws["root"] / "missing.csv"), "--source", "mdm", "--quiet")
    assert code == 2 and len(_trail(ws)) == count


def _jamf(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/oauth/token":
        return httpx.Response(200, json={"access_token": "t", "expires_in": 600})
    page = int(request.url.params["page"])
    return httpx.Response(200, json=json.loads((JAMF / f"detail-page{page}.json").read_text()))


def _mock_http(monkeypatch: pytest.MonkeyPatch, handler: Callable[[httpx.Request], httpx.Response]) -> None:
    from interdit.pipeline import sources as source_use_cases

    monkeypatch.setattr(source_use_cases, "_http_client", lambda: httpx.Client(transport=httpx.MockTransport(handler)))


@pytest.mark.skipif(not JAMF.is_dir(), reason="the recorded Jamf answers (tests/inventory/recorded/jamf) are absent")
def test_sources_sync_is_recorded(ws: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    secret = ws["root"] / "jamf.secret"
    secret.write_text("jamf-secret\n")
    os.chmod(secret, 0o600)
    file = ws["root"] / "sources.yaml"
    pipeline.add_source("jamf-ipads", "jamf", {"base_url": "https://jamf.test", "client_id": "c1"},
                        secret_file=secret, path=file)
    _mock_http(monkeypatch, _jamf)
    entry = _one_new(ws, lambda: _cli(ws, "sources", "sync", "jamf-ipads", "--sources", str(file),
                                      "--at", "2025-03-02T00:00:00Z", "--max-rejected", "2"))
    assert (entry.actor, entry.action, entry.target) == (_me(), "source.sync", "jamf-ipads")
    assert entry.after["format"] == "api:jamf" and (entry.after["devices"], entry.after["rejected"]) == (3, 1)
    assert "jamf-secret" not in json.dumps(entry.after)


def test_sources_add_is_recorded_without_secrets(ws: dict[str, Path]) -> None:
    file = ws["root"] / "sources.yaml"
    args = ("sources", "add", "uem", "--type", "workspace-one", "--base-url", "https://uem.test", "--tenant-code",
            "TENANT-API-KEY", "--secret-env", "UEM_SECRET", "--sources", str(file))
    entry = _one_new(ws, lambda: _cli(ws, *args))
    assert (entry.actor, entry.action, entry.target) == (_me(), "source.add", "uem") and entry.before is None
    assert entry.after["settings"]["base_url"] == "https://uem.test"
    assert entry.after["secret"] == "environment UEM_SECRET"
    assert "TENANT-API-KEY" not in json.dumps(entry.after)
    again = _one_new(ws, lambda: _cli(ws, *args, "--force"))
    assert again.before == {k: entry.after[k] for k in ("type", "settings", "secret")}


def test_enforce_records_the_payload_built(ws: dict[str, Path]) -> None:
    out_dir = ws["root"] / "unbound"
    entry = _one_new(ws, lambda: _cli(ws, "enforce", "unbound", "--out", str(out_dir), "--at", "2023-03-15"))
    assert (entry.actor, entry.action, entry.target) == (_me(), "enforcement.build", "unbound")
    files = {p.relative_to(out_dir).as_posix(): p.read_text() for p in out_dir.rglob("*") if p.is_file()}
    assert sorted(files) == entry.after["files"]
    written = Payload("unbound", files)
    assert entry.after["digest"] == pipeline.payload_digest(written) and entry.after["domains"] > 0


def _amapi_source(root: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    secret = root / "sa.json"
    secret.write_text(json.dumps({"client_email": "sa@p.iam.gserviceaccount.com", "private_key": key,
                                  "token_uri": "https://oauth.test/token"}))
    os.chmod(secret, 0o600)
    file = root / "sources.yaml"
    pipeline.add_source("android", "amapi", {"enterprise": "LC1", "api_url": "https://amapi.test/v1",
                                             "token_url": "https://oauth.test/token"}, secret_file=secret, path=file)
    return file


def test_enforce_push_records_one_push_and_a_dry_run_only_the_build(ws: dict[str, Path],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    file = _amapi_source(ws["root"])
    posted: list[Any] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "oauth.test":
            return httpx.Response(200, json={"access_token": "ya29", "expires_in": 3600})
        if request.method == "GET":
            return httpx.Response(200, json={"name": "enterprises/LC1/policies/standard", "applications": [
                {"packageName": "com.tencent.mm", "installType": "BLOCKED"}]})
        posted.append(json.loads(request.content))
        return httpx.Response(200, json={})

    _mock_http(monkeypatch, handle)
    args = ("enforce", "amapi", "--out", str(ws["root"] / "amapi"), "--push", "android", "--mdm-policy", "standard",
            "--sources", str(file))
    dry = _one_new(ws, lambda: _cli(ws, *args))
    assert (dry.action, dry.target) == ("enforcement.build", "amapi") and posted == []
    pushed = _one_new(ws, lambda: _cli(ws, *args, "--apply"))
    assert (pushed.actor, pushed.action) == (_me(), "enforcement.push")
    assert pushed.target == "android:enterprises/LC1/policies/standard"
    assert len(posted) == 1 and pushed.after["changes"] == len(posted[0]["changes"]) > 0
    assert pushed.after["digest"] == dry.after["digest"]


def test_logs_scan_with_store_is_recorded_and_without_is_not(ws: dict[str, Path]) -> None:
    log = ws["root"] / "access.log"
    log.write_bytes(SQUID)
    _import(ws, 0)
    entry = _one_new(ws, lambda: _cli(ws, "logs", "scan", str(log), "--log-format", "squid"))
    assert (entry.actor, entry.action, entry.target) == (_me(), "logs.scan", "access.log")
    assert entry.after["matched"] == 1 and entry.after["read"] == 2
    count = len(_trail(ws))
    code, output = _cli(ws, "logs", "scan", str(log), "--log-format", "squid", "--no-store")
    assert code in (0, 1), output
    assert len(_trail(ws)) == count


def test_analyze_store_is_recorded(ws: dict[str, Path]) -> None:
    apk = ws["root"] / "broken.apk"
    with zipfile.ZipFile(apk, "w") as z:
        z.writestr("AndroidManifest.xml", b"\x00\x01not binary xml")
    entry = _one_new(ws, lambda: _cli(ws, "analyze", str(apk), "--store", "--jobs", "1", "--quiet"))
    assert (entry.actor, entry.action, entry.target) == (_me(), "analysis", "broken.apk")
    assert entry.after["reports"] == 1 and len(entry.after["apps"][0]["sha256"]) == 64


def test_accounts_and_tokens_are_recorded_with_the_cli_actor(ws: dict[str, Path]) -> None:
    add = _one_new(ws, lambda: _cli(ws, "users", "add", "bob", "--role", "ingest"))
    assert (add.actor, add.action, add.target) == (_me(), "account.add", "bob")
    token = _one_new(ws, lambda: _cli(ws, "tokens", "create", "bob", "nightly"))
    assert (token.actor, token.action) == (_me(), "token.create") and token.after == {"user": "bob", "name": "nightly",
                                                                                   "scopes": ["*"]}
    revoke = _one_new(ws, lambda: _cli(ws, "tokens", "revoke", token.target))
    assert (revoke.action, revoke.target) == ("token.revoke", token.target)
    off = _one_new(ws, lambda: _cli(ws, "users", "disable", "bob"))
    assert (off.actor, off.action, off.target) == (_me(), "account.disable", "bob")


def test_a_change_naming_an_actor_without_a_trail_is_refused_before_it_is_made(ws: dict[str, Path]) -> None:
    text = ws["policy"].read_text()
    changed = text.replace("grace_days: 14\n    scope:", "grace_days: 21\n    scope:", 1)
    assert changed != text
    with pytest.raises(ValueError, match="no audit trail"):
        pipeline.save_policy_text(ws["policy"], changed, actor="cli:someone")
    with pytest.raises(ValueError, match="no audit trail"):
        pipeline.revoke_exception(ws["policy"], "anything", actor="cli:someone")
    assert ws["policy"].read_text() == text
    repo = pipeline.open_repository(f"sqlite:///{ws['db']}")
    log = AuditLog(repo.engine)
    pipeline.save_policy_text(ws["policy"], changed, actor="cli:someone", audit=log)
    pipeline.save_policy_text(ws["policy"], text)  # a library call without an actor records nothing
    entries = log.entries()
    assert [(e.actor, e.action) for e in entries] == [("cli:someone", "policy.update")]
    assert "+    grace_days: 21" in entries[0].after["diff"] and log.verify().ok
    repo.engine.dispose()


def test_verify_prints_a_checkpoint_that_catches_a_cut_tail_later(ws: dict[str, Path]) -> None:
    import re

    import sqlalchemy as sa

    from interdit.storage.audit import audit_table

    _import(ws, 0)
    _import(ws, 1)
    code, output = _cli(ws, "audit", "verify")
    kept = re.search(r"checkpoint: (\d+:[0-9a-f]{64})", output)
    assert code == 0 and kept is not None, output
    code, output = _cli(ws, "audit", "verify", "--checkpoint", kept.group(1))
    assert code == 0 and "intact" in output, output
    repo = pipeline.open_repository(f"sqlite:///{ws['db']}")
    with repo.engine.begin() as conn:  # someone removes the newest entry: the chain alone cannot tell
        conn.execute(sa.delete(audit_table).where(audit_table.c.seq == sa.select(sa.func.max(audit_table.c.seq))
                                                  .scalar_subquery()))
    repo.engine.dispose()
    assert _cli(ws, "audit", "verify")[0] == 0
    code, output = _cli(ws, "audit", "verify", "--checkpoint", kept.group(1))
    assert code == 1 and "cut off its end" in output, output
    code, output = _cli(ws, "audit", "verify", "--checkpoint", "12:nothex")
    assert code == 2 and "not a checkpoint" in output, output
