"""Two `interdit worker` processes on one database (PostgreSQL, and SQLite): every firing runs exactly once.

Both processes start together and find the same six evaluations due; each one claims what it can, skips what
the other claimed, and stops cleanly on SIGTERM. Each evaluation is counted where it leaves its mark: one
stored evaluation and one audit entry per job."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from interdit.storage import schedules as store
from interdit.storage.audit import AuditLog
from interdit.storage.repo import Repository

JOBS = [f"evaluate-{n}" for n in range(6)]


def _wait(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_two_workers_run_each_firing_exactly_once(repo: Repository, policy: Path, tmp_path: Path) -> None:
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("timezone: UTC\ncatch_up_minutes: 1440\njobs:\n" + "".join(
        f'  {name}:\n    kind: evaluate\n    cron: "0 0 * * *"\n' for name in JOBS), "utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    command = [sys.executable, "-m", "interdit.cli.main", "--db", repo.url, "--policy", str(policy),
               "worker", "--schedule", str(schedule)]
    logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
    handles = [log.open("w") for log in logs]
    workers = [subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env) for handle in handles]
    try:
        def considered(log: Path) -> set[str]:
            text = log.read_text("utf-8")
            return set(re.findall(r"job (evaluate-\d): (?:running|the run due at .* is already claimed)", text))

        _wait(lambda: all(considered(log) == set(JOBS) for log in logs), "both workers to consider every job")
        _wait(lambda: all(r.status != store.RUNNING for r in store.runs(repo.engine, now=_now())),
              "the runs to finish")
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=60) for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        for handle in handles:
            handle.close()
    texts = [log.read_text("utf-8") for log in logs]
    assert codes == [0, 0], texts
    assert all("stopping" in text for text in texts)

    runs = store.runs(repo.engine, now=_now())
    assert sorted(r.job for r in runs) == JOBS  # one run per job
    assert all(r.status == store.OK for r in runs), [r.error for r in runs]
    assert len({r.scheduled_for for r in runs}) == 1
    ran = [len(re.findall(r"job evaluate-\d: running", text)) for text in texts]
    assert sum(ran) == len(JOBS), ran
    print(f"runs per worker: {ran}")
    assert {r.owner.rsplit(":", 1)[1] for r in runs} <= {str(w.pid) for w in workers}
    # the work itself, counted where it leaves its mark
    evaluations = [e for e in AuditLog(repo.engine).entries() if e.action == "evaluate"]
    assert sorted(e.actor for e in evaluations) == sorted(f"schedule:{name}" for name in JOBS)
    with repo.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM evaluations")).scalar_one() == len(JOBS)


def _now() -> datetime:
    return datetime.now(UTC)


def test_sigterm_stops_a_job_in_progress_and_records_it_failed(repo: Repository, policy: Path,
                                                               tmp_path: Path) -> None:
    """A sync waits on an MDM that never answers; SIGTERM ends it: the run reads failed, not running, at once."""
    import socket

    silent = socket.socket()  # accepts connections (the kernel's backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    secret = tmp_path / "secret"
    secret.write_text("user:password\n")
    secret.chmod(0o600)
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"sources:\n  jamf-slow:\n    type: jamf\n    base_url: http://127.0.0.1:"
                       f"{silent.getsockname()[1]}\n    client_id: x\n    secret_file: {secret}\n"
                       "    limits: {attempts: 1}\n", "utf-8")
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text('jobs:\n  nightly-sync:\n    kind: sync\n    cron: "0 2 * * *"\n', "utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    log = tmp_path / "worker.log"
    with log.open("w") as handle:
        worker = subprocess.Popen([sys.executable, "-m", "interdit.cli.main", "--db", repo.url, "--policy",
                                   str(policy), "worker", "--schedule", str(schedule), "--sources", str(sources),
                                   "--run", "nightly-sync"], stdout=handle, stderr=subprocess.STDOUT, env=env)
        try:
            _wait(lambda: "job nightly-sync: running" in log.read_text("utf-8"), "the sync to start")
            time.sleep(0.5)  # waiting on the silent MDM
            worker.send_signal(signal.SIGTERM)
            code = worker.wait(timeout=60)
        finally:
            if worker.poll() is None:
                worker.kill()
            silent.close()
    assert code == 1, log.read_text("utf-8")  # the job did not finish
    [run] = store.runs(repo.engine, now=_now())
    assert run.status == store.FAILED and run.error == "the worker was stopped while the job ran"
