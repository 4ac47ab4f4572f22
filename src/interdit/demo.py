"""The demo use case: a sample government's fleet across three MDMs, a program that has run for four weeks and
ends today, the Canadian directive.

The fleet is spread as such fleets are: iPhones in Microsoft Intune, Android phones in the Android Management
API, and a second department's iPhones in Jamf Pro, each in its vendor's own format, none of them seeing the
others' devices. interdit reads all three into one view, and runs the program as an organisation would:

- four weeks ago the department adopted the directive (21 days to comply): the first inventories show TikTok
  and its variants on a few percent of the devices, and their holders are told (one message each);
- two weeks ago most are gone: those told get a closing notice (a retired device gets its own words), the
  others a reminder a week before the deadline; the social media team holds an approved exception;
- today the deadline has passed: the nightly schedule runs once (`schedule.yaml`: Jamf synced from its API,
  served here by a local stand-in, the evaluation stored, the notices sent, the report written), the managers
  of the units with overdue devices hear of them, and the reports are written in English and French (HTML and
  PDF). Work-profile and user-enrolled phones cannot be evaluated; a few devices have stopped reporting.

The notices go to a folder (`notices/`, one `.eml` file each), the daily figures are stored at each import,
so `interdit serve --database demo-output/interdit.db` shows the program as it stands, with its trend.
Every date is relative to `now` (the clock), so a test that fixes the clock gets the same outputs every day.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.resources import files
from pathlib import Path

from interdit import demo_mdm, fleet, pipeline
from interdit.pipeline import schedule
from interdit.policy.evaluate import Evaluation
from interdit.storage.repo import ImportResult, Repository

GRACE_DAYS = 21  # the adoption's deadline: a week before today
JAMF_CLIENT = "interdit-demo"
SYNCED = "jamf-gac"  # the source the schedule syncs from its API; the others come as files


@dataclass(frozen=True)
class DemoResult:
    out: Path
    database_url: str
    policy_path: Path
    imports: tuple[ImportResult, ...]
    evaluation: Evaluation
    reports: dict[str, Path]
    dates: tuple[datetime, ...] = ()
    notices: Path | None = None
    notices_sent: int = 0
    jobs: tuple[schedule.Outcome, ...] = ()


def _fixed(at: datetime) -> pipeline.Clock:
    return lambda: at


def _swap(text: str, old: str, new: str) -> str:
    if old not in text:
        raise RuntimeError(f"the demo policy no longer has {old!r}: update interdit.demo")
    return text.replace(old, new)


def living_policy(start: date, today: date) -> str:
    """The demo policy with its dates moved to the program's: adopted at `start` with `GRACE_DAYS` to comply,
    the interim rule due for review and the exception expiring months after `today`."""
    text = files("interdit").joinpath("data/demo-policy.yaml").read_text("utf-8")
    text = _swap(text, "  - directive: ca-tbs-2023-tiktok\n    grace_days: 14\n",
                 f"  - directive: ca-tbs-2023-tiktok\n    effective: {start}\n    grace_days: {GRACE_DAYS}\n")
    text = _swap(text, "    effective: 2023-03-01\n    grace_days: 14\n",
                 f"    effective: {start}\n    grace_days: {GRACE_DAYS}\n")
    text = _swap(text, "review_by: 2023-06-30", f"review_by: {today + timedelta(days=90)}")
    text = _swap(text, "granted: 2023-03-01", f"granted: {start}")
    text = _swap(text, "expires: 2023-09-01", f"expires: {today + timedelta(days=150)}")
    return _swap(text, "review_by: 2023-08-01", f"review_by: {today + timedelta(days=120)}")


CONTACTS = """\
# Who hears of overdue devices: each department's IT security contact (docs/notifications.md)
default: {contacts: [securite-ti@dept.example]}
org_units:
  /TBS: tbs.it-security@dept.example
  /GAC: {contacts: [gac.securite@dept.example], lang: fr-en}
  /ESDC: esdc.it-security@dept.example
  /PCO: pco.it-security@dept.example
  /DND: dnd.it-security@dept.example
"""

NOTIFY = """\
# Notices in both official languages, English first; written to a folder instead of sent
language: en-fr
reminders: [7]
escalate_after_days: 3
exception_contact: exceptions@dept.example
contacts: contacts.yaml
throttle: {per_run: 5000, per_minute: 0}
channels:
  - type: folder
    path: notices
    sender: "IT Security / Sécurité des TI <securite-ti@dept.example>"
"""


def _schedule(out: Path) -> str:
    return f"""\
# The nightly program (docs/operations.md); `interdit worker --schedule {out / 'schedule.yaml'}` runs it
timezone: UTC
jobs:
  nightly:
    kind: [sync, evaluate, notify]
    cron: "0 6 * * *"
    sources: [{SYNCED}]
    config: {out / 'notify.yaml'}
  weekly-report:
    kind: report
    cron: "30 6 * * 1"
    folder: {out / 'reports'}
    format: html
"""


def _sources(out: Path, url: str) -> str:
    return f"""\
# Global Affairs' Jamf Pro, read through its API (here a local stand-in serving the recorded pages)
sources:
  {SYNCED}:
    type: jamf
    base_url: {url}
    auth: client
    client_id: {JAMF_CLIENT}
    secret_file: {out / 'jamf-gac.secret'}
"""


def run(out: Path, *, devices: int = 3000, say: Callable[[str], None] = print,
        clock: pipeline.Clock = pipeline.system_clock) -> DemoResult:
    """Build the demo into `out` (replaced): see the module's description. `clock` is now: the last import's
    time, and every date of the program is counted from it."""
    from interdit.pipeline.notify import notify_settings, send_notices
    from interdit.pipeline.reports import render_bytes

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    out = out.resolve()
    dates = fleet.demo_dates(clock())
    start, end = dates[0], dates[-1]
    policy_path = out / "policy.yaml"
    policy_path.write_text(living_policy(start.date(), end.date()), "utf-8")
    (out / "contacts.yaml").write_text(CONTACTS, "utf-8")
    (out / "notify.yaml").write_text(NOTIFY, "utf-8")
    (out / "schedule.yaml").write_text(_schedule(out), "utf-8")
    secret = out / "jamf-gac.secret"
    secret.write_text(os.urandom(16).hex(), "utf-8")
    secret.chmod(0o600)
    url = f"sqlite:///{out / 'interdit.db'}"
    repo = pipeline.open_repository(url)
    loaded = pipeline.read_policy(policy_path)
    settings = notify_settings(out / "notify.yaml", environ={})
    spec = fleet.FleetSpec(devices=devices)
    results: list[ImportResult] = []
    sent = 0
    outcomes: list[schedule.Outcome] = []
    try:
        for n, at in enumerate(dates):
            say(f"importing the inventories of {at:%Y-%m-%d}")
            written = demo_mdm.write_multi_mdm_snapshot(spec, out / "fleet" / f"snapshot-{n + 1}", n, at)
            for source, fmt, inputs in written:
                if at == end and source == SYNCED:
                    continue  # today the schedule syncs it from its API
                result, tally = pipeline.import_inventory(repo, fmt, source, inputs, at=at, clock=_fixed(at))
                results.append(result)
                say(f"  {source:<8} ({fmt}): read {tally.read:,} records, {tally.accepted:,} accepted, "
                    f"{tally.rejected:,} rejected")
            if at == end:
                jamf_pages = next(inputs for source, _, inputs in written if source == SYNCED)[0]
                outcomes = _nightly(repo, out, jamf_pages, secret.read_text("utf-8"), at, say)
                sent += sum(int(o.summary.get("notify", {}).get("sent", 0)) for o in outcomes)
                continue
            # the nightly evaluation (its figures kept for the trend) and notices of the earlier dates
            pipeline.evaluate(repo, loaded, as_of=at, clock=_fixed(at))
            run = send_notices(repo, loaded, settings, now=at, clock=_fixed(at), environ={})
            sent += run.sent
            say(f"  notices: {run.sent:,} sent")
        data = pipeline.report_data(repo, loaded, as_of=end, clock=_fixed(end))
        reports: dict[str, Path] = {}
        for lang in ("en", "fr"):
            html = out / f"report-{lang}.html"
            html.write_text(pipeline.render("html", data, lang), encoding="utf-8")
            reports[lang] = html
            pdf = out / f"report-{lang}.pdf"
            pdf.write_bytes(render_bytes("pdf", data, lang))
            reports[f"{lang}-pdf"] = pdf
        say(pipeline.render("table", data, loaded.policy.language))
        evaluation = pipeline.evaluate(repo, loaded, as_of=end, store=False)
    finally:
        repo.close()
    return DemoResult(out, url, policy_path, tuple(results), evaluation, reports, dates, out / "notices", sent,
                      tuple(outcomes))


def _nightly(repo: Repository, out: Path, pages: Path, secret: str, at: datetime,
             say: Callable[[str], None]) -> list[schedule.Outcome]:
    """The schedule's jobs, each run once at `at`, Jamf's API served by a local stand-in."""
    outcomes = []
    with demo_mdm.serve_jamf(pages, client_id=JAMF_CLIENT, secret=secret) as url:
        (out / "sources.yaml").write_text(_sources(out, url), "utf-8")
        plan = schedule.load_schedule(out / "schedule.yaml")
        schedule.publish(repo, plan, clock=_fixed(at))
        for job in plan.jobs:
            outcome = schedule.run_firing(repo, job, at, policy_path=out / "policy.yaml",
                                          sources_path=out / "sources.yaml", clock=_fixed(at), owner="demo")
            if outcome is None:
                continue
            outcomes.append(outcome)
            if not outcome.ok:
                raise RuntimeError(f"the demo's {job.name} job failed: {outcome.error}")
            say(f"  job {job.name} ({'+'.join(job.steps)}): done")
    synced = outcomes[0].summary.get("sync", {}).get("sources", {}).get(SYNCED, {}) if outcomes else {}
    say(f"  {SYNCED:<8} (jamf API): {synced.get('accepted', 0):,} accepted, {synced.get('rejected', 0):,} rejected")
    notify = outcomes[0].summary.get("notify", {}) if outcomes else {}
    say(f"  notices: {notify.get('sent', 0):,} sent")
    return outcomes

