"""Schedules: the jobs of the schedule file, run by `interdit worker` at their times, each firing exactly once.

    timezone: America/Toronto          # the default for every job (an IANA name); UTC when absent
    catch_up_minutes: 60               # a firing missed by up to this long (no worker running) still runs
    jobs:
      nightly-sync:
        kind: sync                     # every source of the sources file, one after another
        cron: "0 2 * * *"              # minute hour day-of-month month day-of-week (crontab; 0 = Sunday)
      evaluate:
        kind: evaluate
        cron: "30 2 * * *"

A job's `kind` is one of `KINDS` (`interdit worker --check` lists them), or a list of kinds run in order as
steps of one job (`kind: [sync, evaluate]`; a failed step stops the job). Every other key of a job is a setting
of its kinds (`sources`, `folder`, `within_hours`...) or `timezone` / `timeout_minutes`.

Crontab expressions are read by croniter, in the job's time zone: "0 2 * * *" in America/Toronto is 02:00 local
time all year, across daylight-saving changes (a time skipped in spring fires at the next hour, once).

Exactly once: the firing (the job and the UTC time it was due) is claimed in the database before the job runs
(`interdit.storage.schedules.claim_run`); another process that finds it claimed skips it. See `run_firing`.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from interdit import i18n
from interdit.errors import ConfigError, InterditError
from interdit.pipeline import schedule_kinds  # noqa: F401  (registers the built-in kinds)
from interdit.pipeline.basics import Clock, system_clock
from interdit.pipeline.schedule_registry import KINDS, JobContext, JobFailed, JobKind, log
from interdit.storage import schedules as store
from interdit.storage.repo import Repository

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
TOP_KEYS = frozenset({"timezone", "catch_up_minutes", "jobs"})
JOB_KEYS = frozenset({"kind", "cron", "timezone", "timeout_minutes"})
DEFAULT_TIMEOUT = timedelta(hours=4)
DEFAULT_CATCH_UP = timedelta(minutes=60)
LONGEST_WAIT_S = 60.0  # the worker looks again at least this often (a changed clock, a stop request)

# -- job kinds (the registry is pipeline/schedule_registry.py; the built-in kinds pipeline/schedule_kinds.py) -----


def job_kinds() -> dict[str, JobKind]:
    return dict(KINDS)


# -- the schedule file --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    steps: tuple[str, ...]
    cron: str
    timezone: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    timeout: timedelta = DEFAULT_TIMEOUT
    catch_up: timedelta = DEFAULT_CATCH_UP

    @property
    def kind(self) -> str:
        return "+".join(self.steps)

    def _iter(self, start: datetime) -> Any:
        from croniter import croniter

        return croniter(self.cron, start.astimezone(ZoneInfo(self.timezone)))

    def next_firing(self, now: datetime) -> datetime:
        """The first firing strictly after `now` (UTC)."""
        value: datetime = self._iter(now).get_next(datetime)
        return value.astimezone(UTC)

    def latest_firing(self, now: datetime) -> datetime | None:
        """The latest firing at or before `now` if it is within the catch-up window (UTC), else None."""
        # croniter's get_prev is strictly before its start, which it reads to the second: start just past `now`'s
        # second, and step back once more should a firing still fall after `now`
        found = self._iter(now.replace(microsecond=0) + timedelta(seconds=1))
        value: datetime = found.get_prev(datetime).astimezone(UTC)
        if value > now:
            value = found.get_prev(datetime).astimezone(UTC)
        return value if now - value <= self.catch_up else None


@dataclass(frozen=True)
class Schedule:
    path: Path
    jobs: tuple[ScheduledJob, ...]

    def job(self, name: str) -> ScheduledJob:
        for j in self.jobs:
            if j.name == name:
                return j
        raise ConfigError(f"no job named {name!r} in {self.path} (jobs: {', '.join(j.name for j in self.jobs)})",
                          fix="use a name the schedule file defines (interdit worker --check lists them)")


def _zone(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError("timezone must be an IANA name", where=where, fix="e.g. timezone: America/Toronto")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {value!r}", where=where,
                          fix="use an IANA name such as America/Toronto, Europe/Paris or UTC") from None
    return value


def _cron(value: Any, where: str) -> str:
    from croniter import croniter

    text = value.strip() if isinstance(value, str) else ""
    fields = text.split()
    if not ((text.startswith("@") and len(fields) == 1) or len(fields) == 5) or not croniter.is_valid(text):
        raise ConfigError(f"cannot read the cron expression {value!r}", where=where,
                          fix='write five fields: minute hour day-of-month month day-of-week, e.g. "0 2 * * *" '
                              '(02:00 every day) or "0 6 1 * *" (06:00 on the 1st of each month)')
    return text


def _minutes(value: Any, where: str, key: str) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{key} must be a whole number of minutes above 0, not {value!r}", where=where,
                          fix=f"e.g. {key}: 60")
    return timedelta(minutes=value)


def parse_schedule(doc: Any, path: Path) -> Schedule:
    """A schedule from the file's parsed text; every problem names the file, the job and the key."""
    kinds = job_kinds()
    where = str(path)
    if not isinstance(doc, Mapping):
        raise ConfigError("the schedule file must be a mapping with 'jobs:'", where=where,
                          fix="start from the example in docs/operations.md")
    unknown = sorted(set(doc) - TOP_KEYS)
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(map(str, unknown))}", where=where,
                          fix=f"use only {', '.join(sorted(TOP_KEYS))}")
    zone = _zone(doc["timezone"], f"{where}: timezone") if "timezone" in doc else "UTC"
    catch_up = (_minutes(doc["catch_up_minutes"], where, "catch_up_minutes") if "catch_up_minutes" in doc
                else DEFAULT_CATCH_UP)
    entries = doc.get("jobs")
    if not isinstance(entries, Mapping) or not entries:
        raise ConfigError("no jobs", where=where, fix="add a 'jobs:' mapping, one entry per job")
    jobs = []
    for name, entry in entries.items():
        at = f"{where}: job {name}"
        if not isinstance(name, str) or not NAME.match(name):
            raise ConfigError(f"the job name {name!r} is not usable", where=at,
                              fix="use lower-case letters, digits, '.', '_' and '-' (e.g. nightly-sync)")
        if not isinstance(entry, Mapping):
            raise ConfigError("a job must be a mapping with kind and cron", where=at,
                              fix='e.g. kind: sync\n      cron: "0 2 * * *"')
        for key in ("kind", "cron"):
            if key not in entry:
                raise ConfigError(f"missing {key}", where=at, fix=f"add '{key}:' to the job")
        raw = entry["kind"]
        steps = tuple(raw) if isinstance(raw, list) else (raw,)
        if not steps or not all(isinstance(s, str) for s in steps):
            raise ConfigError(f"kind {raw!r} is not a kind or a list of kinds", where=at,
                              fix=f"use one of: {', '.join(sorted(kinds))}")
        for step in steps:
            if step not in kinds:
                raise ConfigError(f"unknown job kind {step!r}", where=at,
                                  fix=f"use one of: {', '.join(sorted(kinds))}")
        allowed = JOB_KEYS.union(*(kinds[s].settings for s in steps))
        extra = sorted(set(map(str, entry)) - allowed)
        if extra:
            raise ConfigError(f"unknown setting(s) {', '.join(extra)} for kind {'+'.join(steps)}", where=at,
                              fix=f"use only {', '.join(sorted(allowed))}")
        settings = {k: v for k, v in entry.items() if k not in JOB_KEYS}
        for step in steps:
            check = kinds[step].check
            if check is not None:
                check(settings, at)
        jobs.append(ScheduledJob(
            name, steps, _cron(entry["cron"], f"{at}: cron"),
            _zone(entry["timezone"], f"{at}: timezone") if "timezone" in entry else zone, settings,
            _minutes(entry["timeout_minutes"], at, "timeout_minutes") if "timeout_minutes" in entry
            else DEFAULT_TIMEOUT, catch_up))
    return Schedule(path, tuple(jobs))


def load_schedule(path: Path) -> Schedule:
    """Read and check the schedule file (YAML)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    if not path.is_file():
        raise ConfigError(f"no schedule file at {path}", fix="write one (see docs/operations.md), or name it with "
                                                             "--schedule PATH or INTERDIT_SCHEDULE")
    try:
        doc = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"cannot read the YAML: {getattr(e, 'problem', None) or e}", where=f"{path}{line}",
                          fix="check the indentation and quote cron expressions (\"0 2 * * *\")") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the file ({e})", where=str(path), fix="check it is UTF-8 text") from None
    return parse_schedule(doc, path)


# -- running ------------------------------------------------------------------------------------------


def process_owner() -> str:
    """Who runs a firing: host and process id (shown in the runs, and when a run is abandoned)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def publish(repo: Repository, schedule: Schedule, *, clock: Clock = system_clock) -> None:
    """Store the schedule's jobs so that `interdit jobs`, the dashboard and `/metrics` can list them."""
    store.publish_jobs(repo.engine, [
        store.StoredJob(j.name, j.kind, j.cron, j.timezone, {**j.settings, "timeout_minutes":
                        int(j.timeout.total_seconds() // 60), "catch_up_minutes": int(j.catch_up.total_seconds()
                                                                                       // 60)},
                        True, clock()) for j in schedule.jobs], at=clock())


@dataclass(frozen=True)
class Outcome:
    job: str
    scheduled_for: datetime
    run_id: int
    ok: bool
    summary: dict[str, Any]
    error: str | None


def _lang(lang: str | None) -> str:
    return lang if lang in i18n.LANGS else "en"


def _words(lang: str | None) -> dict[str, str]:
    return i18n.section(_lang(lang), "worker")


def run_firing(repo: Repository, job: ScheduledJob, scheduled_for: datetime, *, policy_path: Path,
               sources_path: Path | None = None, lang: str | None = None, clock: Clock = system_clock,
               owner: str | None = None) -> Outcome | None:
    """Claim the firing and run the job's steps; None when another process claimed it (nothing was run).

    A failure is recorded (status failed, the error and what was done) and logged at error level; it never stops
    the worker. A stop (Ctrl-C, SIGTERM) marks the run failed and goes on stopping."""
    t = _words(lang)
    owner = owner or process_owner()
    started = clock()
    run_id = store.claim_run(repo.engine, job.name, scheduled_for, kind=job.kind, owner=owner, at=started,
                             deadline=started + job.timeout)
    shown = scheduled_for.isoformat(timespec="minutes")
    if run_id is None:
        log.info(t["skip"].format(job=job.name, at=shown))
        return None
    log.info(t["run"].format(job=job.name, at=shown))
    ctx = JobContext(repo, job, scheduled_for, policy_path, sources_path, lang, clock)
    kinds = job_kinds()
    summary: dict[str, Any] = {}
    error: str | None = None
    try:
        for step in job.steps:
            summary[step] = kinds[step].run(ctx)
    except JobFailed as e:
        summary[step] = e.summary
        error = str(e)
    except InterditError as e:
        error = str(e) + (f" (fix: {e.fix})" if e.fix else "")
    except Exception as e:  # a job's bug or an outage: recorded and logged, the worker goes on
        log.exception("job %s: unexpected error", job.name)
        error = f"{type(e).__name__}: {e}"
    except BaseException:
        store.finish_run(repo.engine, run_id, at=clock(), ok=False, summary=summary,
                         error="the worker was stopped while the job ran")
        raise
    took = (clock() - started).total_seconds()
    store.finish_run(repo.engine, run_id, at=clock(), ok=error is None, summary=summary, error=error)
    if error is None:
        log.info(t["ok"].format(job=job.name, s=i18n.number(took, _lang(lang), 1)))
    else:
        log.error(t["failed"].format(job=job.name, s=i18n.number(took, _lang(lang), 1), error=error))
    return Outcome(job.name, scheduled_for, run_id, error is None, summary, error)


def run_now(repo: Repository, schedule: Schedule, name: str, **options: Any) -> Outcome | None:
    """Run one job now (`interdit worker --run JOB`, e.g. from a systemd timer). The firing is the current minute,
    so timers on two machines that fire together still run it once."""
    clock: Clock = options.get("clock", system_clock)
    job = schedule.job(name)
    return run_firing(repo, job, clock().replace(second=0, microsecond=0), **options)


def run_due(repo: Repository, schedule: Schedule, *, now: datetime | None = None,
            done: dict[str, datetime] | None = None, **options: Any) -> list[Outcome]:
    """One pass: every job whose latest firing (within its catch-up window) no process has run yet."""
    clock: Clock = options.get("clock", system_clock)
    now = now or clock()
    done = {} if done is None else done
    outcomes = []
    for job in schedule.jobs:
        firing = job.latest_firing(now)
        if firing is None or done.get(job.name) == firing:
            continue
        outcome = run_firing(repo, job, firing, **options)
        done[job.name] = firing  # claimed, by this process or another: not asked again
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def run_worker(repo: Repository, schedule: Schedule, *, stop: threading.Event,
               reload: threading.Event | None = None, **options: Any) -> None:
    """Run the schedule until `stop` is set: a pass over the jobs, then a wait until the next firing (at most a
    minute). Jobs run one after another in this process; start more workers for more capacity.

    When `reload` is set (SIGHUP), the schedule file is read again before the next pass; a file that no longer
    reads is logged at error level and the schedule in use is kept. A pass that fails (the database cannot be
    reached) is logged at error level and tried again a minute later: the worker outlives an outage."""
    clock: Clock = options.get("clock", system_clock)
    t = _words(options.get("lang"))
    owner = options.setdefault("owner", process_owner())
    publish(repo, schedule, clock=clock)
    log.info(t["start"].format(owner=owner, n=len(schedule.jobs), path=schedule.path))
    done: dict[str, datetime] = {}
    try:
        while not stop.is_set():
            if reload is not None and reload.is_set():
                reload.clear()
                try:
                    fresh = load_schedule(schedule.path)
                    publish(repo, fresh, clock=clock)
                    schedule = fresh
                    log.info(t["reloaded"].format(n=len(schedule.jobs), path=schedule.path))
                except InterditError as e:
                    log.error(t["reload-failed"].format(path=schedule.path, error=e))
            try:
                run_due(repo, schedule, done=done, **options)
            except Exception as e:  # the database unreachable, a disk full: logged, tried again
                wait = i18n.number(LONGEST_WAIT_S, _lang(options.get("lang")), 0)
                log.error(t["pass-failed"].format(error=e, s=wait))
                _sleep(LONGEST_WAIT_S, stop, reload)
                continue
            now = clock()
            upcoming = min(((j.next_firing(now), j) for j in schedule.jobs), key=lambda p: p[0])
            log.debug(t["next"].format(job=upcoming[1].name, at=upcoming[0].isoformat(timespec="minutes")))
            _sleep(min(max((upcoming[0] - now).total_seconds(), 0.5), LONGEST_WAIT_S), stop, reload)
    finally:
        log.info(t["stop"].format(owner=owner))


def _sleep(seconds: float, stop: threading.Event, reload: threading.Event | None) -> None:
    """Wait `seconds`, or less when asked to stop or to read the schedule again."""
    end = time.monotonic() + seconds
    while not stop.is_set() and not (reload is not None and reload.is_set()):
        left = end - time.monotonic()
        if left <= 0:
            return
        stop.wait(min(left, 0.5))


# -- status -------------------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _next_run(job: store.StoredJob, now: datetime) -> datetime | None:
    if not job.enabled:
        return None
    try:
        return ScheduledJob(job.name, tuple(job.kind.split("+")), job.cron, job.timezone).next_firing(now)
    except (ValueError, KeyError, ZoneInfoNotFoundError):  # written by another version: shown without a next run
        return None


def schedule_status(repo: Repository, *, now: datetime | None = None, clock: Clock = system_clock) -> dict[str, Any]:
    """Every stored job with its last run, last success, failures and next run (schema-versioned JSON): what
    `interdit jobs`, the dashboard and `/metrics` show. A run left running past its deadline shows failed."""
    now = now or clock()
    totals = store.run_totals(repo.engine, now=now)
    jobs = []
    for job in store.stored_jobs(repo.engine):
        total = totals.get(job.name)
        last = total.last if total else None
        jobs.append({
            "name": job.name, "kind": job.kind, "cron": job.cron, "timezone": job.timezone,
            "enabled": job.enabled, "next_run": _iso(_next_run(job, now)),
            "last_run": None if last is None else {
                "scheduled_for": _iso(last.scheduled_for), "started_at": _iso(last.started_at),
                "finished_at": _iso(last.finished_at), "status": last.status, "owner": last.owner,
                "error": last.error, "summary": last.summary},
            "last_success": _iso(total.last_ok if total else None),
            "failures": total.failures if total else 0,
            "failures_in_a_row": total.failing_since if total else 0,
        })
    return {"schema_version": 1, "as_of": now.isoformat(), "jobs": jobs}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")


def _seconds(value: str | None) -> str | None:
    return None if value is None else f"{datetime.fromisoformat(value).timestamp():.0f}"


METRICS = (
    ("interdit_job_last_run_timestamp_seconds", "gauge", "When the job's latest run was due (Unix time)."),
    ("interdit_job_last_success_timestamp_seconds", "gauge", "When the job's latest successful run finished."),
    ("interdit_job_next_run_timestamp_seconds", "gauge", "When the job runs next (Unix time)."),
    ("interdit_job_last_run_ok", "gauge", "1 when the job's latest run succeeded, 0 when it failed."),
    ("interdit_job_running", "gauge", "1 while a run of the job is in progress."),
    ("interdit_job_failures_total", "counter", "Failed runs of the job."),
    ("interdit_job_failures_in_a_row", "gauge", "Failed runs since the job's latest success."),
)


def schedule_metrics(status: Mapping[str, Any]) -> str:
    """The Prometheus text exposition of `schedule_status(...)`: one series per job (label `job`)."""
    values: dict[str, list[tuple[str, str]]] = {name: [] for name, _, _ in METRICS}
    for job in status["jobs"]:
        label = f'{{job="{_label(job["name"])}"}}'
        last = job["last_run"]
        found = {
            "interdit_job_last_run_timestamp_seconds": _seconds(last["scheduled_for"]) if last else None,
            "interdit_job_last_success_timestamp_seconds": _seconds(job["last_success"]),
            "interdit_job_next_run_timestamp_seconds": _seconds(job["next_run"]),
            "interdit_job_last_run_ok": None if not last or last["status"] == store.RUNNING
            else str(int(last["status"] == store.OK)),
            "interdit_job_running": str(int(bool(last) and last["status"] == store.RUNNING)),
            "interdit_job_failures_total": str(job["failures"]),
            "interdit_job_failures_in_a_row": str(job["failures_in_a_row"]),
        }
        for name, value in found.items():
            if value is not None:
                values[name].append((label, value))
    lines = []
    for name, kind, text in METRICS:
        lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
        lines += [f"{name}{label} {value}" for label, value in values[name]]
    return "\n".join(lines) + "\n"
