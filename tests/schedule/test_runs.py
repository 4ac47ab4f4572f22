"""Running the schedule against a database (SQLite and PostgreSQL): each firing once, failures recorded and
logged, runs abandoned by a dead process reported failed, what `interdit jobs` and `/metrics` show."""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from interdit.cli.main import app
from interdit.pipeline.schedule import (
    Schedule,
    load_schedule,
    publish,
    run_due,
    run_firing,
    run_now,
    schedule_metrics,
    schedule_status,
)
from interdit.storage import schedules as store
from interdit.storage.audit import AuditLog
from interdit.storage.repo import Repository

AT = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)  # the fleet's import; 02:30 in Toronto
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
    within_hours: 26
  monthly-report:
    kind: report
    cron: "0 6 1 * *"
    folder: {folder}
    lang: fr
"""


def _schedule(tmp_path: Path, text: str = SCHEDULE) -> Schedule:
    path = tmp_path / "schedule.yaml"
    path.write_text(text.format(folder=tmp_path / "reports"), "utf-8")
    return load_schedule(path)


def _evaluations(repo: Repository) -> list[Any]:
    return [e for e in AuditLog(repo.engine).entries() if e.action == "evaluate"]


def _options(policy: Path, now: datetime, **more: Any) -> dict[str, Any]:
    return {"policy_path": policy, "clock": lambda: now, **more}


def test_each_due_firing_runs_once_whatever_the_number_of_passes_and_processes(
        repo: Repository, policy: Path, tmp_path: Path) -> None:
    schedule = _schedule(tmp_path)
    now = AT + timedelta(minutes=5)  # 02:35 Toronto: the 02:00 evaluation and the 02:00 freshness check are due
    first = run_due(repo, schedule, **_options(policy, now, owner="host-a:1"))
    assert sorted((o.job, o.scheduled_for, o.ok) for o in first) == [
        ("evaluate", datetime(2026, 12, 7, 7, tzinfo=UTC), True),
        ("freshness", datetime(2026, 12, 7, 7, tzinfo=UTC), True)]
    # the same pass again, in this process and in another one: nothing more runs
    assert run_due(repo, schedule, **_options(policy, now, owner="host-a:1")) == []
    assert run_due(repo, schedule, **_options(policy, now + timedelta(minutes=20), owner="host-b:2")) == []
    assert len(_evaluations(repo)) == 1
    assert _evaluations(repo)[0].actor == "schedule:evaluate"
    # the next hour's freshness check is a new firing
    later = run_due(repo, schedule, **_options(policy, AT + timedelta(minutes=31), owner="host-b:2"))
    assert [(o.job, o.scheduled_for) for o in later] == [("freshness", datetime(2026, 12, 7, 8, tzinfo=UTC))]
    runs = store.runs(repo.engine, now=now)
    assert sorted((r.job, r.owner, r.status) for r in runs) == [
        ("evaluate", "host-a:1", "ok"), ("freshness", "host-a:1", "ok"), ("freshness", "host-b:2", "ok")]


def test_a_stale_source_fails_the_check_and_is_logged_at_error_level(
        repo: Repository, policy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    schedule = _schedule(tmp_path)
    publish(repo, schedule, clock=lambda: AT)
    fine = run_now(repo, schedule, "freshness", **_options(policy, AT + timedelta(hours=25)))
    assert fine is not None and fine.ok  # within the window the check passes
    late = AT + timedelta(hours=27, minutes=5)  # the last import was 27 h ago, the check allows 26
    with caplog.at_level(logging.INFO, logger="interdit.schedule"):
        outcome = run_now(repo, schedule, "freshness", **_options(policy, late))
    assert outcome is not None and not outcome.ok
    assert outcome.error is not None and "mdm: last synced 2026-12-07T07:30:00+00:00" in outcome.error
    assert outcome.summary["check-sync"]["stale"] == ["mdm"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "freshness" in errors[0].getMessage() and "mdm" in errors[0].getMessage()
    status = schedule_status(repo, now=late)
    fresh = {j["name"]: j for j in status["jobs"]}["freshness"]
    assert (fresh["failures"], fresh["failures_in_a_row"], fresh["last_run"]["status"]) == (1, 1, "failed")
    assert fresh["last_success"] is not None


def test_a_sync_job_tries_every_source_and_fails_with_each_reason(
        repo: Repository, policy: Path, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sources = tmp_path / "sources.yaml"
    secret = tmp_path / "secret"
    secret.write_text("user:password\n")
    secret.chmod(0o600)
    sources.write_text("sources:\n" + "".join(
        f"  {name}:\n    type: jamf\n    base_url: http://127.0.0.1:{port}\n    client_id: x\n"
        f"    secret_file: {secret}\n    limits: {{attempts: 1}}\n" for name in ("jamf-a", "jamf-b")), "utf-8")
    schedule = _schedule(tmp_path, 'jobs:\n  nightly:\n    kind: [sync, evaluate]\n    cron: "0 2 * * *"\n')
    outcome = run_now(repo, schedule, "nightly", **_options(policy, AT, sources_path=sources))
    assert outcome is not None and not outcome.ok
    tried = outcome.summary["sync"]["sources"]
    assert sorted(tried) == ["jamf-a", "jamf-b"] and not any(t["ok"] for t in tried.values())
    assert "2 of 2 sources failed" in (outcome.error or "")
    assert "evaluate" not in outcome.summary and _evaluations(repo) == []  # a failed step stops the job


def test_the_monthly_report_is_written_in_its_folder_under_its_local_date(
        repo: Repository, policy: Path, tmp_path: Path) -> None:
    schedule = _schedule(tmp_path)
    first = datetime(2027, 1, 1, 11, tzinfo=UTC)  # 06:00 in Toronto on the 1st
    outcomes = run_due(repo, schedule, **_options(policy, first + timedelta(minutes=2)))
    report = next(o for o in outcomes if o.job == "monthly-report")
    assert report.ok
    path = Path(report.summary["report"]["path"])
    assert path == tmp_path / "reports" / "interdit-report-2027-01-01.fr.html"
    assert '<html lang="fr"' in path.read_text("utf-8")
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_a_scheduled_report_can_be_a_pdf_or_a_spreadsheet(repo: Repository, policy: Path, tmp_path: Path) -> None:
    schedule = _schedule(tmp_path, SCHEDULE.replace("    lang: fr\n", "    lang: fr\n    format: pdf\n")
                         + "  findings-xlsx:\n    kind: report\n    cron: \"0 6 1 * *\"\n    folder: {folder}\n"
                           "    format: xlsx\n".format(folder=tmp_path / "reports"))
    outcomes = run_due(repo, schedule, **_options(policy, datetime(2027, 1, 1, 11, 2, tzinfo=UTC)))
    written = {o.job: Path(o.summary["report"]["path"]) for o in outcomes if o.job in ("monthly-report",
                                                                                       "findings-xlsx")}
    assert all(o.ok for o in outcomes if o.job in written), [o.error for o in outcomes]
    assert written["monthly-report"].name == "interdit-report-2027-01-01.fr.pdf"
    assert written["monthly-report"].read_bytes().startswith(b"%PDF-")
    assert written["findings-xlsx"].name == "interdit-report-2027-01-01.xlsx"
    assert written["findings-xlsx"].read_bytes().startswith(b"PK")  # a zip: the OOXML package


def test_a_run_whose_process_died_reads_failed_and_is_not_run_again(
        repo: Repository, policy: Path, tmp_path: Path) -> None:
    schedule = _schedule(tmp_path)
    publish(repo, schedule, clock=lambda: AT)
    due = datetime(2026, 12, 7, 7, tzinfo=UTC)
    claimed = store.claim_run(repo.engine, "evaluate", due, kind="evaluate", owner="host-c:9", at=due,
                              deadline=due + timedelta(hours=4))
    assert claimed is not None
    during = schedule_status(repo, now=due + timedelta(hours=1))
    assert {j["name"]: j for j in during["jobs"]}["evaluate"]["last_run"]["status"] == "running"
    assert 'interdit_job_running{job="evaluate"} 1' in schedule_metrics(during)
    after = due + timedelta(hours=5)
    doc = schedule_status(repo, now=after)
    last = {j["name"]: j for j in doc["jobs"]}["evaluate"]["last_run"]
    assert last["status"] == "failed" and "host-c:9" in last["error"]
    assert run_firing(repo, schedule.job("evaluate"), due, **_options(policy, after)) is None
    assert _evaluations(repo) == []


def test_status_json_metrics_and_the_jobs_command(repo: Repository, policy: Path, tmp_path: Path) -> None:
    schedule = _schedule(tmp_path)
    publish(repo, schedule, clock=lambda: AT)
    run_now(repo, schedule, "freshness", **_options(policy, AT + timedelta(hours=30)))  # fails: stale
    run_now(repo, schedule, "evaluate", **_options(policy, AT))
    now = AT + timedelta(hours=30, minutes=1)
    doc = schedule_status(repo, now=now)
    jobs = {j["name"]: j for j in doc["jobs"]}
    assert jobs["evaluate"]["next_run"] == "2026-12-09T07:00:00+00:00"  # 02:00 in Toronto, the next night
    assert jobs["monthly-report"]["next_run"] == "2027-01-01T11:00:00+00:00"
    assert jobs["monthly-report"]["last_run"] is None and jobs["monthly-report"]["failures"] == 0
    assert jobs["freshness"]["last_run"]["status"] == "failed" and jobs["freshness"]["failures_in_a_row"] == 1
    metrics = schedule_metrics(doc)
    assert 'interdit_job_last_run_ok{job="freshness"} 0' in metrics
    assert 'interdit_job_last_run_ok{job="evaluate"} 1' in metrics
    assert 'interdit_job_failures_total{job="freshness"} 1' in metrics
    assert f'interdit_job_next_run_timestamp_seconds{{job="monthly-report"}} ' \
           f'{datetime(2027, 1, 1, 11, tzinfo=UTC).timestamp():.0f}' in metrics
    assert 'interdit_job_last_run_ok{job="monthly-report"}' not in metrics  # never ran: no value, not a 0
    assert metrics.count("# TYPE interdit_job_failures_total counter") == 1

    db = ["--db", repo.url]
    shown = runner.invoke(app, [*db, "jobs", "--format", "json"])
    assert shown.exit_code == 1, shown.output  # a job's latest run failed
    assert {j["name"] for j in json.loads(shown.stdout)["jobs"]} == {"evaluate", "freshness", "monthly-report"}
    french = runner.invoke(app, [*db, "jobs", "--lang", "fr"])
    assert "TÂCHE" in french.stdout and "en échec" in french.stdout and "jamais" in french.stdout
    assert "freshness :" in french.stdout.replace("\u00a0", " ")  # the failure's reason is shown


def test_a_job_removed_from_the_file_stays_listed_without_a_next_run(
        repo: Repository, policy: Path, tmp_path: Path) -> None:
    publish(repo, _schedule(tmp_path), clock=lambda: AT)
    publish(repo, _schedule(tmp_path, 'jobs:\n  evaluate:\n    kind: evaluate\n    cron: "0 3 * * *"\n'),
            clock=lambda: AT)
    jobs = {j["name"]: j for j in schedule_status(repo, now=AT)["jobs"]}
    assert jobs["evaluate"]["enabled"] and jobs["evaluate"]["cron"] == "0 3 * * *"
    assert not jobs["freshness"]["enabled"] and jobs["freshness"]["next_run"] is None
    shown = runner.invoke(app, ["--db", repo.url, "jobs"])
    assert "(no longer scheduled)" in shown.stdout


def test_the_run_rows_key_refuses_a_second_claim_at_the_database(repo: Repository) -> None:
    due = datetime(2026, 12, 7, 7, tzinfo=UTC)
    assert store.claim_run(repo.engine, "j", due, kind="k", owner="a", at=due, deadline=due) is not None
    with pytest.raises(sa.exc.IntegrityError), repo.engine.begin() as conn:  # the key itself, not the code
        conn.execute(sa.insert(store.schedule_runs).values(
            job="j", scheduled_for=due, kind="k", owner="b", started_at=due, deadline=due, status="running",
            summary="{}"))


def test_the_migration_creates_the_tables_as_defined(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    repo = Repository(db_url)
    repo.migrate()
    ours = {store.schedule_jobs.name, store.schedule_runs.name}

    def include_name(name: str | None, type_: str, parents: dict[str, str | None]) -> bool:
        return True if type_ == "schema" else (name if type_ == "table" else parents.get("table_name")) in ours

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table in ours

    with repo.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name,
                                                         "include_object": include_object})
        assert compare_metadata(context, store.metadata) == []
    assert ours <= set(sa.inspect(repo.engine).get_table_names())
    repo.close()


def test_the_worker_reads_its_file_again_on_request_and_outlives_a_failed_pass(
        repo: Repository, policy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    import threading
    import time

    from interdit.errors import StorageError
    from interdit.pipeline import schedule as sched

    monkeypatch.setattr(sched, "LONGEST_WAIT_S", 0.2)
    real_claim = store.claim_run
    calls = {"n": 0}

    def claim_failing_once(*args: Any, **kwargs: Any) -> int | None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise StorageError("cannot reach the database (connection refused)")
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(store, "claim_run", claim_failing_once)
    path = tmp_path / "schedule.yaml"
    path.write_text('timezone: America/Toronto\njobs:\n  evaluate:\n    kind: evaluate\n    cron: "0 2 * * *"\n')
    stop, reload = threading.Event(), threading.Event()
    now = AT + timedelta(minutes=5)
    worker = threading.Thread(target=sched.run_worker, args=(repo, load_schedule(path)),
                              kwargs={"stop": stop, "reload": reload, **_options(policy, now)})

    def wait_for(condition: Any) -> None:
        deadline = time.monotonic() + 60
        while not condition():
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.05)

    with caplog.at_level(logging.INFO, logger="interdit.schedule"):
        worker.start()
        try:
            wait_for(lambda: len(_evaluations(repo)) == 1)  # after the failed pass, the next one ran it
            path.write_text(path.read_text() + '  freshness:\n    kind: check-sync\n    cron: "0 * * * *"\n')
            reload.set()
            wait_for(lambda: any(r.job == "freshness" for r in store.runs(repo.engine, now=now)))
            path.write_text("jobs: [\n")
            reload.set()
            wait_for(lambda: any("could not be read again" in r.getMessage() for r in caplog.records))
        finally:
            stop.set()
            worker.join(timeout=30)
    assert not worker.is_alive()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("connection refused" in m and "trying again" in m for m in errors)
    assert any("could not be read again" in m for m in errors)
    assert {j.name for j in store.stored_jobs(repo.engine, enabled_only=True)} == {"evaluate", "freshness"}
    assert len(_evaluations(repo)) == 1


def test_a_failed_run_says_why_in_the_workers_language(repo: Repository, policy: Path, tmp_path: Path) -> None:
    schedule = _schedule(tmp_path)
    late = AT + timedelta(hours=30)
    outcome = run_now(repo, schedule, "freshness", **_options(policy, late, lang="fr"))
    assert outcome is not None and not outcome.ok
    assert outcome.error == ("1 source non synchronisée depuis 26 h\u00a0: mdm\u00a0: dernière "
                             "synchronisation 2026-12-07T07:30:00+00:00")


def test_reading_the_status_never_waits_for_a_writer(tmp_path: Path) -> None:
    """SQLite has one writer at a time (an import holds it for minutes): `/metrics` and `interdit jobs` only read."""
    import sqlite3
    import time

    repo = Repository(f"sqlite:///{tmp_path / 'x.db'}")
    repo.migrate()
    publish(repo, _schedule(tmp_path), clock=lambda: AT)
    store.claim_run(repo.engine, "evaluate", AT, kind="evaluate", owner="a:1", at=AT, deadline=AT + timedelta(hours=1))
    writer = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process's import, holding the write lock
        writer.execute("UPDATE schedule_jobs SET enabled = enabled")
        started = time.monotonic()
        doc = schedule_status(repo, now=AT + timedelta(minutes=5))
        assert time.monotonic() - started < 5
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert {j["name"]: j for j in doc["jobs"]}["evaluate"]["last_run"]["status"] == "running"
    repo.close()
