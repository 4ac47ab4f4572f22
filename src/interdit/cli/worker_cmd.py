"""`interdit worker` runs the schedule file's jobs at their times; `interdit jobs` shows them and their runs.

The worker is a process of its own, not part of `interdit serve`: a nightly sync holds an MDM's secrets and runs
for minutes, the server answers people and holds none; each can be restarted, scaled and given its rights on its
own (run one server per core behind a load balancer, and one or two workers: a firing runs once whatever their
number). See docs/operations.md.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer

from interdit import i18n
from interdit.cli.common import EXIT_ATTENTION, OutputFormat, State, fail, out, print_json, run_guarded, state

if TYPE_CHECKING:
    from interdit.pipeline.schedule import Schedule


ScheduleOpt = Annotated[Path | None, typer.Option(
    "--schedule", help="Schedule file [env INTERDIT_SCHEDULE; default schedule.yaml]", show_default=False)]
SourcesOpt = Annotated[Path | None, typer.Option(
    "--sources", help="Sources file [env INTERDIT_SOURCES; default sources.yaml]", show_default=False)]


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("jobs")(jobs)


def _lang(s: State, lang: str | None) -> str:
    chosen = lang or s.settings.lang or "en"
    if chosen not in i18n.LANGS:
        fail(f"unknown language {chosen!r}\n  fix: use --lang en or --lang fr")
    return chosen


def _when(value: str | None, t: dict[str, str]) -> str:
    if value is None:
        return t["never"]
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")


def worker(
    ctx: typer.Context,
    schedule: ScheduleOpt = None,
    sources: SourcesOpt = None,
    check: Annotated[bool, typer.Option(
        "--check", help="Read and check the schedule file, show each job's next run, and exit.")] = False,
    once: Annotated[bool, typer.Option(
        "--once", help="Run the jobs that are due (within their catch-up window), then exit.")] = False,
    run: Annotated[str | None, typer.Option(
        "--run", help="Run this job now, then exit (for a systemd timer or by hand).")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="en or fr (log lines)")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also log when each job runs next.")] = False,
) -> None:
    """Run the scheduled jobs (sync, evaluate, notify, report, check-sync) at the times the schedule file gives.

    Example: interdit worker --schedule /etc/interdit/schedule.yaml

    Each firing runs once, whatever the number of workers on the database: the first to claim it runs it, the
    others skip it. Stop with Ctrl-C or SIGTERM: a job in progress is recorded failed. SIGHUP reads the schedule
    file again. Exit code 1 with --once or --run when a job failed.
    """
    from interdit.pipeline import schedule as sched

    s = state(ctx)
    chosen = _lang(s, lang)
    t = i18n.section(chosen, "cli.worker")
    path = schedule or s.settings.schedule_path
    loaded: Schedule = run_guarded(lambda: sched.load_schedule(path))
    if check:
        now = s.clock()
        out.print(t["check"].format(path=path, n=len(loaded.jobs)), markup=False)
        w = max(len(j.name) for j in loaded.jobs)
        for j in loaded.jobs:
            nxt = j.next_firing(now)
            local = nxt.astimezone(ZoneInfo(j.timezone))
            out.print(t["check-row"].format(name=j.name, w=w, kind=j.kind, cron=j.cron, tz=j.timezone,
                                            next=f"{nxt:%Y-%m-%d %H:%M} UTC ({local:%Y-%m-%d %H:%M %Z})"),
                      markup=False, soft_wrap=True)
        out.print(t["kinds"], markup=False)
        for name, kind in sorted(sched.job_kinds().items()):
            out.print(f"  {name:<12} {kind.help[chosen]}", markup=False, soft_wrap=True)
        return
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    options: dict[str, Any] = {"policy_path": s.settings.policy_path, "sources_path": sources, "lang": chosen,
                               "clock": s.clock}
    repo = s.repo
    run_guarded(lambda: sched.publish(repo, loaded, clock=s.clock))
    stop, reload = threading.Event(), threading.Event()

    def stopping(signum: int, _frame: Any) -> None:  # as Ctrl-C: a job in progress stops, recorded failed
        stop.set()
        raise KeyboardInterrupt

    def reloading(signum: int, _frame: Any) -> None:
        reload.set()

    hangup = getattr(signal, "SIGHUP", None)  # not on Windows
    previous = signal.signal(signal.SIGTERM, stopping), hangup and signal.signal(hangup, reloading)
    try:
        if run is not None:
            outcome = run_guarded(lambda: sched.run_now(repo, loaded, run, **options))
            if outcome is None:
                out.print(t["skipped"].format(job=run, at=s.clock().strftime("%Y-%m-%d %H:%M UTC")), markup=False)
                return
            _show_outcomes([outcome], t)
        elif once:
            _show_outcomes(run_guarded(lambda: sched.run_due(repo, loaded, **options)), t)
        else:
            run_guarded(lambda: sched.run_worker(repo, loaded, stop=stop, reload=reload, **options))
    except KeyboardInterrupt:
        if run is not None or once:
            raise typer.Exit(EXIT_ATTENTION) from None  # the job did not finish
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        if hangup is not None:
            signal.signal(hangup, previous[1])


def _show_outcomes(outcomes: list[Any], t: dict[str, str]) -> None:
    for o in outcomes:
        out.print(t["ran"].format(job=o.job, status=t["ok" if o.ok else "failed"],
                                  at=o.scheduled_for.strftime("%Y-%m-%d %H:%M UTC")), markup=False)
        if o.error:
            out.print(t["error"].format(job=o.job, error=o.error), markup=False, soft_wrap=True)
    if any(not o.ok for o in outcomes):
        raise typer.Exit(EXIT_ATTENTION)


def jobs(
    ctx: typer.Context,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    lang: Annotated[str | None, typer.Option("--lang", help="en or fr")] = None,
) -> None:
    """The scheduled jobs: when each last ran and how it went, when it runs next, its failures.

    Example: interdit jobs --format json

    The jobs are those the worker last read from its schedule file. Exit code 1 when a job's latest run failed.
    """
    from interdit.pipeline import schedule as sched

    s = state(ctx)
    doc = run_guarded(lambda: sched.schedule_status(s.repo, clock=s.clock))
    failing = any(j["enabled"] and j["last_run"] and j["last_run"]["status"] == "failed" for j in doc["jobs"])
    if output is OutputFormat.json:
        print_json(doc)
    else:
        for line in render_jobs(doc, _lang(s, lang)):
            out.print(line, markup=False, highlight=False, soft_wrap=True)
    if failing:
        raise typer.Exit(EXIT_ATTENTION)


def render_jobs(doc: dict[str, Any], lang: str) -> list[str]:
    t = i18n.section(lang, "cli.worker")
    if not doc["jobs"]:
        return [t["no-jobs"]]
    rows = []
    for j in doc["jobs"]:
        last = j["last_run"]
        status = f"{t[last['status']]} {_when(last['scheduled_for'], t)}" if last else t["never"]
        failures = str(j["failures"])
        if j["failures_in_a_row"]:
            failures += " (" + t["in-a-row"].format(n=j["failures_in_a_row"]) + ")"
        rows.append((j["name"], j["kind"], f"{j['cron']} {j['timezone']}", status,
                     _when(j["next_run"], t) if j["enabled"] else t["removed"], failures))
    head = (t["job"], t["kind"], t["when"], t["last"], t["next"], t["failures"])
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in (head, *rows)]
    lines += [t["error"].format(job=j["name"], error=j["last_run"]["error"]) for j in doc["jobs"]
              if j["last_run"] and j["last_run"]["error"]]
    return lines
