"""The background worker for queued APK analyses: a small thread pool, its jobs' state in the database.

Uploads are saved to a folder of their own, a job row is written, and the pool analyses the files with the
analyzer's own size bounds. Any server process answers for any job, since the state lives in the database;
a job its process never finished is reported failed once its deadline has passed.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from interdit import pipeline
from interdit.errors import InterditError
from interdit.server.problems import TITLES, interdit_status

log = logging.getLogger("interdit.api")


def owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def problem(status: int, detail: str, fix: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status,
                            "detail": detail}
    if fix:
        body["fix"] = fix
    body.update(extra)
    return body


@dataclass
class AnalysisQueue:
    """At most `workers` analyses at a time in this process; the rest wait in the pool's queue."""

    workers: int = 1
    timeout: timedelta = timedelta(minutes=15)
    _pool: ThreadPoolExecutor | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def submit(self, ctx: Any, job_id: str, folder: Path, lang: str, actor: str) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=max(1, self.workers), thread_name_prefix="interdit-apk")
            self._pool.submit(self._run, ctx, job_id, folder, lang, actor)

    def shutdown(self) -> None:
        """Stop taking jobs; those still queued are reported failed once their deadline passes."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, ctx: Any, job_id: str, folder: Path, lang: str, actor: str) -> None:
        from interdit.storage.jobs import finish_job, start_job

        engine = ctx.repo.engine
        results: list[dict[str, Any]] = []
        error: dict[str, Any] | None = None
        try:
            if not start_job(engine, job_id, at=ctx.clock(), timeout=self.timeout):
                return
            paths = sorted(p for p in folder.iterdir() if p.is_file())
            reports = pipeline.analyze_apks(paths, repo=ctx.repo, lang=lang, jobs=1, clock=ctx.clock, actor=actor)
            results = [file_result(r) for r in reports]
            broken = [r for r in results if not r["ok"]]
            if broken:
                error = problem(422, "; ".join(f"{r['file']}: {', '.join(r['problems']) or 'not readable'}"
                                               for r in broken)[:2000],
                                fix="upload complete APK files (the problems say what is wrong with each)")
            ctx.cache.forget("current", "history")
        except InterditError as e:
            error = problem(interdit_status(e), e.message if not e.where else f"{e.where}: {e.message}", e.fix)
        except Exception:
            log.exception("the analysis job %s failed", job_id)
            error = problem(500, "the analysis could not be completed", "retry; the server log has the details")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        try:
            finish_job(engine, job_id, at=ctx.clock(), results=results, error=error)
        except Exception:  # the deadline reports it failed
            log.exception("could not record the end of analysis job %s", job_id)


def file_result(report: Any) -> dict[str, Any]:
    """One file's outcome: a report nothing identifies (no package) or that crashed is not usable."""
    serious = [p for p in report.problems if p.severity == "high" or p.code == "analysis.failed"]
    ok = report.identity.package is not None and not any(p.code == "analysis.failed" for p in report.problems)
    return {"file": report.identity.file_name or "", "sha256": report.identity.sha256 or "",
            "package": report.identity.package, "version_name": report.identity.version_name,
            "score": report.score.total if report.score else None, "ok": ok,
            "problems": [f"{p.code}: {p.message}" for p in serious][:20]}
