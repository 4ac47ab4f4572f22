"""`interdit notify` and `interdit notices` as a person runs them: the dry run, sending, what was recorded."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from notify_fleet import T0, import_snapshot, write_policy, write_settings
from notify_receivers import SMTP_PASSWORD, SmtpServer
from typer.testing import CliRunner

from interdit import pipeline
from interdit.cli.common import out
from interdit.cli.main import app
from interdit.notify.channels import channels

runner = CliRunner()
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _workspace(tmp_path: Path) -> list[str]:
    db = tmp_path / "interdit.db"
    repo = pipeline.open_repository(str(db))
    import_snapshot(repo, tmp_path / "in", T0)
    repo.close()
    return ["--db", str(db), "--policy", str(write_policy(tmp_path))]


def test_the_dry_run_lists_who_would_get_what_and_sends_nothing(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(out, "width", 160)  # the console reads COLUMNS once, when it is made
    base = _workspace(tmp_path)
    write_settings(tmp_path, channels="")
    args = [*base, "notify", "--contacts", str(tmp_path / "contacts.yaml"), "--dry-run", "--as-of", "2026-03-16"]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["dry_run"] is True
    assert sorted((n["kind"], n["recipients"][0]) for n in doc["notices"]) == [
        ("escalation", "it.manager@example.org"), ("first", "alice@example.org")]
    assert doc["skipped"] == {"excepted": 1, "not_evaluable": 1}
    result = runner.invoke(app, [*args, "--language", "fr-en"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "alice@example.org" in result.output and "it.manager@example.org" in result.output
    assert "Action requise" in result.output and "2 would be sent" in result.output
    assert "1 excepted" in result.output and "1 not evaluable" in result.output
    assert "No channel is configured" in result.output
    recorded = runner.invoke(app, [*base, "notices", "--format", "json"])
    assert json.loads(recorded.stdout)["notices"] == []


def test_sending_from_the_command_line_then_reading_what_was_sent(tmp_path: Path, smtp_server: SmtpServer) -> None:
    base = _workspace(tmp_path)  # its deadline (2026-03-15) is past: notices go out now
    settings = write_settings(tmp_path, smtp=smtp_server)
    env = {"TEST_SMTP_PASSWORD": SMTP_PASSWORD, "COLUMNS": "160"}
    args = [*base, "notify", "--config", str(settings)]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "2 sent" in result.output and "1 excepted" in result.output
    # Alice first (the manager hears on the next run); Bob cannot be told, so his manager hears at once
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == ["alice@example.org", "it.manager@example.org"]
    listed = runner.invoke(app, [*base, "notices", "--format", "json"])
    records = json.loads(listed.stdout)["notices"]
    assert {(r["channel"], r["status"], r["kind"]) for r in records} == {("email", "sent", "first"),
                                                                         ("email", "sent", "escalation")}
    # the next run owes Alice's manager an escalation; the relay refuses the password: exit 1, retried later
    wrong = runner.invoke(app, args, env={**env, "TEST_SMTP_PASSWORD": "nope"})
    assert wrong.exit_code == 1 and "1 deliveries failed" in wrong.output
    assert len(smtp_server.messages) == 2
    again = runner.invoke(app, args, env=env)
    assert again.exit_code == 0 and "1 sent" in again.output
    assert smtp_server.messages[-1].rcpt_tos == ["finance.manager@example.org"]
    assert "0 sent" in runner.invoke(app, args, env=env).output  # and nothing more
    refused = runner.invoke(app, [*args, "--as-of", "2026-03-16"], env=env)
    assert refused.exit_code == 2 and "--dry-run" in refused.output


def test_wrong_settings_stop_before_anything_is_sent(tmp_path: Path) -> None:
    base = _workspace(tmp_path)
    (tmp_path / "notify.yaml").write_text("language: fr\nchannels:\n  - type: pigeon\n", "utf-8")
    result = runner.invoke(app, [*base, "notify", "--config", str(tmp_path / "notify.yaml")])
    assert result.exit_code == 2 and "notify.yaml:3" in result.output and "email" in result.output
    result = runner.invoke(app, [*base, "notify", "--config", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2 and "docs/notifications.md" in result.output
    (tmp_path / "notify.yaml").write_text("channels: []\n", "utf-8")
    result = runner.invoke(app, [*base, "notify", "--config", str(tmp_path / "notify.yaml")])
    assert result.exit_code == 2 and "--dry-run" in result.output


def test_every_channel_is_documented() -> None:
    text = (DOCS / "notifications.md").read_text("utf-8")
    documented = set(re.findall(r"^- `([a-z-]+)`:", text, re.M))
    built_in = {name for name, kind in channels.items() if kind.__module__.startswith("interdit.notify.channels")}
    assert built_in >= {"email", "teams", "slack", "webhook", "folder"} and built_in <= documented


def test_the_templates_are_copied_to_edit_then_used(tmp_path: Path) -> None:
    base = _workspace(tmp_path)
    folder = tmp_path / "templates"
    result = runner.invoke(app, [*base, "notify", "--write-templates", str(folder)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in folder.iterdir()} >= {f"{k}.{lang}.txt" for k in ("first", "reminder", "escalation",
                                                                             "closing") for lang in ("en", "fr")}
    first = folder / "first.en.txt"
    first.write_text(first.read_text("utf-8").replace("Hello,", "Dear colleague,"), "utf-8")
    again = runner.invoke(app, [*base, "notify", "--write-templates", str(folder)])
    assert again.exit_code == 0 and "0 templates written" in again.output  # an edited file is kept
    write_settings(tmp_path, channels="", extra="templates: templates")
    result = runner.invoke(app, [*base, "notify", "--config", str(tmp_path / "notify.yaml"), "--dry-run",
                                 "--as-of", "2026-03-03", "--format", "json"])
    assert result.exit_code == 0, result.output
    [notice] = json.loads(result.stdout)["notices"]
    assert notice["body"].startswith("Dear colleague,")
