"""`interdit worker --check | --run | --once` and their exit codes, in English and French."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from interdit.cli.main import app
from interdit.storage import schedules as store
from interdit.storage.repo import Repository

runner = CliRunner()

SCHEDULE = """\
timezone: America/Toronto
jobs:
  evaluate:
    kind: evaluate
    cron: "0 2 * * *"
  freshness:
    kind: check-sync
    cron: "0 * * * *"
    within_hours: 1
"""


def _schedule(tmp_path: Path, text: str = SCHEDULE) -> Path:
    path = tmp_path / "schedule.yaml"
    path.write_text(text, "utf-8")
    return path


def test_check_shows_each_jobs_next_run_in_utc_and_in_its_zone(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--db", f"sqlite:///{tmp_path / 'x.db'}", "worker", "--schedule",
                                 str(_schedule(tmp_path)), "--check"])
    assert result.exit_code == 0, result.output
    assert "evaluate" in result.stdout and "America/Toronto" in result.stdout
    assert "EST)" in result.stdout or "EDT)" in result.stdout
    assert "check-sync" in result.stdout and "sync" in result.stdout  # the kinds are listed
    assert not (tmp_path / "x.db").exists()  # a check touches no database
    french = runner.invoke(app, ["--lang", "fr", "worker", "--schedule", str(_schedule(tmp_path)), "--check"])
    assert "Types de tâches\u00a0:" in french.stdout


def test_a_bad_schedule_exits_2_naming_the_file(tmp_path: Path) -> None:
    path = _schedule(tmp_path, SCHEDULE.replace("0 2 * * *", "at two"))
    result = runner.invoke(app, ["--db", f"sqlite:///{tmp_path / 'x.db'}", "worker", "--schedule", str(path)])
    assert result.exit_code == 2
    assert f"{path}: job evaluate: cron" in result.stderr and "fix:" in result.stderr


def test_run_runs_one_job_now_and_exits_1_when_it_failed(repo: Repository, policy: Path, tmp_path: Path) -> None:
    base = ["--db", repo.url, "--policy", str(policy), "worker", "--schedule", str(_schedule(tmp_path))]
    failed = runner.invoke(app, [*base, "--run", "freshness"])  # the fleet's import is older than an hour
    assert failed.exit_code == 1, failed.output
    assert "freshness: failed" in failed.stdout and "mdm" in failed.stdout
    done = runner.invoke(app, [*base, "--run", "evaluate"])
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, [*base, "--run", "evaluate"])  # the same minute: claimed already
    assert again.exit_code == 0 and "nothing was run" in again.stdout
    unknown = runner.invoke(app, [*base, "--run", "nightly"])
    assert unknown.exit_code == 2 and "no job named 'nightly'" in unknown.stderr
    runs = store.runs(repo.engine, now=datetime.now(UTC))
    assert sorted((r.job, r.status) for r in runs) == [("evaluate", "ok"), ("freshness", "failed")]

