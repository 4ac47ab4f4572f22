"""Configured sources: the sources file, credentials kept out of it, and `interdit sources add|list|test|sync`
end to end against the local faulty server, into a real SQLite database."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from interdit import pipeline, sources
from interdit.cli.common import State
from interdit.cli.sources_cmd import register
from interdit.errors import ConfigError
from interdit.testing import MdmServer, Reply, Request

REC = Path(__file__).parent / "recorded" / "jamf"
runner = CliRunner()


def _app(db: Path) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = State.create(db=str(db), policy=None, lang=None)

    register(app)
    return app


def _secret(tmp_path: Path, value: str, mode: int = 0o600) -> Path:
    path = tmp_path / "jamf.secret"
    path.write_text(value + "\n")
    os.chmod(path, mode)
    return path


def test_add_list_and_refusals(tmp_path: Path) -> None:
    file = tmp_path / "sources.yaml"
    secret = _secret(tmp_path, "jamf-secret")
    pipeline.add_source("jamf-ipads", "jamf", {"base_url": "https://jamf.test", "client_id": "c1"},
                        secret_file=secret, path=file)
    specs = sources.load_sources(file)
    assert specs["jamf-ipads"].settings == {"base_url": "https://jamf.test", "client_id": "c1"}
    assert "jamf-secret" not in file.read_text()
    assert sources.read_secret(specs["jamf-ipads"], environ={}) == "jamf-secret"
    assert sources.read_secret(specs["jamf-ipads"], environ={"INTERDIT_SECRET_JAMF_IPADS": "from-env"}) == "from-env"
    with pytest.raises(ConfigError, match="already exists"):
        pipeline.add_source("jamf-ipads", "jamf", {}, path=file)
    with pytest.raises(ConfigError, match="unknown source type"):
        pipeline.add_source("x", "nope", {}, path=file)
    os.chmod(secret, 0o644)
    with pytest.raises(ConfigError) as e:
        sources.read_secret(specs["jamf-ipads"], environ={})
    assert "readable by other users" in str(e.value) and f"chmod 600 {secret}" in str(e.value)
    file.write_text("sources:\n  bad:\n    type: intune\n    client_secret: oops\n")
    with pytest.raises(ConfigError, match="secrets do not go in the sources file"):
        sources.load_sources(file)
    toml = tmp_path / "sources.toml"
    toml.write_text('[sources.intune-prod]\ntype = "intune"\ntenant = "t"\nlimits = {attempts = 3}\n')
    assert sources.load_sources(toml)["intune-prod"].limits == {"attempts": 3.0}


def _jamf_server(server: MdmServer, fail_second_page: dict[str, bool]) -> None:
    server.route("POST", "/api/oauth/token", lambda r: Reply(200, {"access_token": "t", "expires_in": 600}))

    def detail(request: Request) -> Reply:
        page = int(request.query["page"][0])
        if page == 1 and fail_second_page["on"]:
            return Reply(500, {"httpStatus": 500})
        return Reply(200, json.loads((REC / f"detail-page{page}.json").read_text()))

    server.route("GET", "/api/v2/mobile-devices/detail", detail)


def test_cli_add_test_sync_and_a_failed_sync_changes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "interdit.db"
    file = tmp_path / "sources.yaml"
    app = _app(db)
    secret = _secret(tmp_path, "jamf-secret")
    fail = {"on": False}
    with MdmServer() as server:
        _jamf_server(server, fail)
        result = runner.invoke(app, ["sources", "add", "jamf-ipads", "--type", "jamf", "--base-url", server.url,
                                     "--client-id", "c1", "--secret-file", str(secret), "--sources", str(file),
                                     "--setting", "api=pro"])
        assert result.exit_code == 0, result.output
        assert sources.load_sources(file)["jamf-ipads"].settings == {"base_url": server.url, "client_id": "c1",
                                                                     "api": "pro"}
        spec = sources.load_sources(file)["jamf-ipads"]
        sources.add_source(file, sources.SourceSpec(spec.name, spec.type, spec.settings, spec.secret_file,
                                                    limits={"attempts": 3, "backoff": 0.01}), force=True)
        listed = runner.invoke(app, ["sources", "list", "--format", "json", "--sources", str(file)])
        row = json.loads(listed.output)["sources"][0]
        assert row["credentials"] == f"file {secret}" and "jamf-secret" not in listed.output
        tested = runner.invoke(app, ["sources", "test", "jamf-ipads", "--sources", str(file)])
        assert tested.exit_code == 0 and "4 mobile devices" in tested.output, tested.output
        refused = runner.invoke(app, ["sources", "sync", "jamf-ipads", "--sources", str(file), "--format", "json",
                                      "--at", "2025-03-02T00:00:00Z"])  # 1 of 9 records: over the default 1 %
        assert refused.exit_code == 2 and json.loads(refused.output)["status"] == "refused", refused.output
        synced = runner.invoke(app, ["sources", "sync", "jamf-ipads", "--sources", str(file), "--format", "json",
                                     "--at", "2025-03-02T00:00:00Z", "--max-rejected", "2"])
        assert synced.exit_code == 3, synced.output  # a tvOS device rejected (an app with a bad id is kept by name)
        report: dict[str, Any] = json.loads(synced.output)
        assert (report["result"]["devices"], report["result"]["apps"], report["rejected"]) == (3, 5, 1)
        fail["on"] = True
        failed = runner.invoke(app, ["sources", "sync", "jamf-ipads", "--sources", str(file),
                                     "--at", "2025-03-03T00:00:00Z"])
        assert failed.exit_code == 2 and "jamf-ipads" in failed.output and "HTTP 500" in failed.output
    repo = pipeline.open_repository(f"sqlite:///{db}")
    runs = repo.import_runs(limit=10)
    assert [r.status for r in runs if r.status == "ok"] == ["ok"]
    assert "refused" in [r.status for r in runs]
    from datetime import UTC, datetime

    states = list(repo.device_states(datetime(2025, 3, 4, tzinfo=UTC), frozenset(), ()))
    assert len(states) == 3  # the failed sync removed nothing


def test_unknown_source_says_how_to_add_it(tmp_path: Path) -> None:
    result = runner.invoke(_app(tmp_path / "db.sqlite"), ["sources", "test", "ghost", "--sources",
                                                          str(tmp_path / "none.yaml")])
    assert result.exit_code == 2 and "interdit sources add ghost" in result.output


def test_settings_come_from_the_connector_declaration(tmp_path: Path) -> None:
    file = tmp_path / "sources.yaml"
    app = _app(tmp_path / "db.sqlite")
    base = ["sources", "add", "uem", "--type", "workspace-one", "--sources", str(file), "--secret-env", "X"]
    # --KEY VALUE, --KEY=VALUE and --setting KEY=VALUE say the same; the dash of a flag is the key's underscore
    added = runner.invoke(app, [*base, "--base-url", "https://uem.test", "--tenant-code=K3Y"])
    assert added.exit_code == 0, added.output
    assert sources.load_sources(file)["uem"].settings == {"base_url": "https://uem.test", "tenant_code": "K3Y"}
    listed = runner.invoke(app, ["sources", "list", "--format", "json", "--sources", str(file)])
    assert json.loads(listed.output)["sources"][0]["settings"] == {"base_url": "https://uem.test",
                                                                   "tenant_code": "(set)"}
    assert "K3Y" not in listed.output
    before = file.read_bytes()
    for extra, said, fix in [
        (["--setting", "base_url=https://u.test", "--setting", "tenant_cod=K"], "a setting 'tenant_cod' it does "
         "not read", "did you mean 'tenant_code'?"),
        (["--setting", "base_url=uem.test", "--tenant-code", "K"], "base_url 'uem.test' is not an http(s) URL",
         "--setting base_url=..."),
        (["--base-url", "https://u.test"], "has no 'tenant_code'", "--setting tenant_code=..."),
        (["--base-url"], "--base-url has no value", "--base-url VALUE"),
    ]:
        result = runner.invoke(app, [*base, *extra, "--force"])
        assert result.exit_code == 2 and said in result.output and fix in result.output, result.output
    assert file.read_bytes() == before  # a refused add writes nothing
    # a hand-edited file is checked by the declaration too, before anything is requested
    file.write_text(file.read_text().replace("tenant_code: K3Y", "tenant_code: K3Y\n    pagesize: '9'"))
    tested = runner.invoke(app, ["sources", "test", "uem", "--sources", str(file)])
    assert tested.exit_code == 2 and "a setting 'pagesize' it does not read" in tested.output
    assert f"{file}: sources.uem" in tested.output and "base_url, tenant_code" in tested.output


def test_a_secret_setting_is_never_recorded(tmp_path: Path) -> None:
    from interdit.pipeline.sources import _source_fields

    spec = sources.SourceSpec("uem", "workspace-one", {"base_url": "https://uem.test", "tenant_code": "K3Y"})
    assert _source_fields(spec)["settings"] == {"base_url": "https://uem.test", "tenant_code": "(set)"}
    other = sources.SourceSpec("ipads", "jamf", {"base_url": "https://jamf.test", "client_id": "c1"})
    assert _source_fields(other)["settings"] == {"base_url": "https://jamf.test", "client_id": "c1"}
    gone = sources.SourceSpec("old", "retired-mdm", {"base_url": "https://old.test"})
    assert _source_fields(gone)["settings"] == {"base_url": "(set)"}  # no declaration: nothing shown
