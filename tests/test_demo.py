"""`interdit demo` as `make demo` runs it: four weeks of a program ending "today" (fixed here with --today, so
the outputs are the same every day): the three MDMs imported on three dates (the last Jamf one synced from its
API by the nightly schedule), the notices written to a folder, the daily figures, the summary, the reports.

Every expectation is derived from the demo's own generator (`interdit.fleet`, `interdit.demo_mdm`), its policy
and the shipped catalogue, so the test follows the data rather than remembering numbers.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from interdit import demo_mdm, fleet, pipeline
from interdit.model import Ownership
from interdit.storage import daily, schedules

DEVICES = 3000  # the command's default, what `make demo` builds
LIMIT_S = 60.0
TODAY = "2026-12-07"
DATES = fleet.demo_dates(datetime.fromisoformat(f"{TODAY}T06:00:00+00:00"))


@dataclass
class Expected:
    """What the generated fleet must give as of the last demo date."""

    known: int = 0
    in_scope: int = 0
    violation: set[str] = field(default_factory=set)
    excepted: set[str] = field(default_factory=set)
    stale: set[str] = field(default_factory=set)
    partial_view: set[str] = field(default_factory=set)  # in scope, enrolled so that not every app is visible
    by_family: Counter[str] = field(default_factory=Counter)
    per_source: dict[tuple[str, datetime], tuple[int, int]] = field(default_factory=dict)  # devices, app rows


def _source(row: dict[str, str]) -> str:
    """Which of the demo's MDMs holds the device (as `demo_mdm.write_multi_mdm_snapshot` splits the fleet)."""
    if row["platform"] == "android":
        return "android"
    return "jamf-gac" if row["org_unit"].startswith(demo_mdm.SECOND_DEPARTMENT + "/") else "intune"


def _under(unit: str, group: str) -> bool:
    return unit == group or unit.startswith(group.rstrip("/") + "/")


def _expected(policy_path: Path) -> Expected:
    loaded = pipeline.read_policy(policy_path)
    policy = loaded.policy
    cat = pipeline.catalogue()
    family_of = {(app.platform.value, app.identifier): fid for fid, fam in cat.families.items()
                 for app in fam.identifiers}
    rules = policy.rules
    assert rules and all(not r.scope.platforms and not r.scope.management and not r.scope.groups for r in rules), \
        "the demo policy scopes by ownership only; extend this test if that changes"
    exp = Expected()
    last = len(DATES) - 1
    as_of = DATES[last]
    for snapshot, at in enumerate(DATES):
        counts: Counter[tuple[str, str]] = Counter()
        spec = fleet.FleetSpec(devices=DEVICES)
        for i in range(DEVICES):
            dev = fleet._device(spec, i, snapshot, at)
            if dev is None:
                continue
            row = dev.row
            counts[(_source(row), "devices")] += 1
            counts[(_source(row), "apps")] += len(dev.apps)
            if snapshot != last:
                continue
            exp.known += 1
            covering = [r for r in rules if Ownership(row["ownership"]) in r.scope.ownership]
            if not covering:
                continue
            exp.in_scope += 1
            did = row["device_id"]
            observed = datetime.fromisoformat(row["observed_at"].replace("Z", "+00:00"))
            if observed < as_of - timedelta(days=policy.stale_after_days):
                exp.stale.add(did)
            if row["management"] != "fully_managed":
                exp.partial_view.add(did)
            for app in dev.apps:
                # none of the three vendor formats carries "hidden by a profile": every present app reads installed
                fid = family_of.get((app["platform"], app["identifier"]))
                if fid is None or not any(fid in r.families for r in covering):
                    continue
                if any(fid in e.families and any(_under(row["org_unit"], g) for g in e.groups)
                       and e.active(as_of) for e in policy.exceptions):
                    exp.excepted.add(did)
                else:
                    exp.violation.add(did)
                    exp.by_family[fid] += 1
        for src in ("intune", "android", "jamf-gac"):
            exp.per_source[(src, at)] = (counts[(src, "devices")], counts[(src, "apps")])
    return exp


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def _line_value(output: str, label: str) -> int:
    found = re.search(rf"^\s*{re.escape(label)}\s+([\d,]+)\s*$", output, re.M)
    assert found, f"no '{label}' line in the summary:\n{output}"
    return _number(found.group(1))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str], float]:
    out = tmp_path_factory.mktemp("demo") / "demo-output"
    command = [str(Path(sys.executable).with_name("interdit")), "demo", "--out", str(out), "--today", TODAY]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=5 * LIMIT_S,
                          env={**os.environ, "COLUMNS": "120"})
    return out, done, time.perf_counter() - started


@pytest.fixture(scope="module")
def expected(demo_run: tuple[Path, subprocess.CompletedProcess[str], float]) -> Expected:
    return _expected(demo_run[0] / "policy.yaml")


@pytest.mark.slow
def test_demo_exits_0_in_under_a_minute(demo_run: tuple[Path, subprocess.CompletedProcess[str], float]) -> None:
    _out, done, seconds = demo_run
    assert done.returncode == 0, done.stdout + done.stderr
    assert seconds < LIMIT_S, f"the demo took {seconds:.1f} s"


@pytest.mark.slow
def test_demo_writes_both_reports_in_their_languages(
        demo_run: tuple[Path, subprocess.CompletedProcess[str], float]) -> None:
    out, done, _ = demo_run
    assert done.returncode == 0, done.stdout + done.stderr
    en, fr = out / "report-en.html", out / "report-fr.html"
    assert f"reports: {en}  {fr}" in done.stdout
    english, french = en.read_text("utf-8"), fr.read_text("utf-8")
    assert '<html lang="en">' in english and '<html lang="fr">' in french
    assert "compliance report" in english and "Compliance by org unit" in english
    assert "rapport de conformité" in french and "Conformité par unité administrative" in french
    assert "rapport de conformité" not in english and "Compliance by org unit" not in french
    assert "December 7, 2026" in english or "7 December 2026" in english  # the as-of date: the last import
    assert "7 décembre 2026" in french
    for html in (english, french):
        assert "<script src=" not in html and "<link rel=\"stylesheet\" href=\"http" not in html  # self-contained


@pytest.mark.slow
def test_demo_imports_both_dates_from_the_three_mdms(
        demo_run: tuple[Path, subprocess.CompletedProcess[str], float], expected: Expected) -> None:
    out, done, _ = demo_run
    assert done.returncode == 0, done.stdout + done.stderr
    exp = expected
    for at in DATES:
        assert f"importing the inventories of {at:%Y-%m-%d}" in done.stdout
    repo = pipeline.open_repository(f"sqlite:///{out / 'interdit.db'}")
    try:
        assert repo.import_times() == list(DATES)
        runs = repo.import_runs(limit=100)
    finally:
        repo.close()
    assert len(runs) == 3 * len(DATES)
    assert [r.format for r in runs if r.at == DATES[-1] and r.source == "jamf-gac"] == ["api:jamf"]  # synced
    seen = {}
    for run in runs:
        assert run.status == "ok", run
        assert run.rejected == 0 and run.read == run.accepted, run
        seen[(run.source, run.at)] = (run.devices, run.apps)
    assert seen == exp.per_source


@pytest.mark.slow
def test_demo_summary_matches_the_generated_fleet(
        demo_run: tuple[Path, subprocess.CompletedProcess[str], float], expected: Expected) -> None:
    out, done, _ = demo_run
    assert done.returncode == 0, done.stdout + done.stderr
    exp = expected
    # the story the demo tells must be there to be told
    assert exp.violation and exp.excepted and exp.stale and exp.partial_view
    summary = done.stdout
    assert _line_value(summary, "Devices known") == exp.known
    found = re.search(r"\(([\d,]+) compliant of ([\d,]+) devices in scope\)", summary)
    assert found and _number(found.group(2)) == exp.in_scope
    assert _line_value(summary, "violation") == len(exp.violation)
    assert _line_value(summary, "covered by an exception") == len(exp.excepted)
    assert _line_value(summary, "stale inventory") == len(exp.stale)
    # every device whose enrolment hides part of it is not evaluable (a connector may find more, never fewer)
    assert _line_value(summary, "not evaluable") >= len(exp.partial_view)
    cat = pipeline.catalogue()
    for fid, devices in exp.by_family.items():
        assert _line_value(summary, cat.families[fid].name) == devices
    # the same facts, device by device, from the database the demo left behind
    repo = pipeline.open_repository(f"sqlite:///{out / 'interdit.db'}")
    try:
        evaluation = pipeline.evaluate(repo, pipeline.read_policy(out / "policy.yaml"), as_of=DATES[-1],
                                       store=False)
    finally:
        repo.close()
    states: dict[str, set[str]] = {}
    for f in evaluation.findings:
        states.setdefault(f.state.value, set()).add(f.device_id)
    assert states.get("violation", set()) == exp.violation
    assert states.get("excepted", set()) == exp.excepted
    assert states.get("stale", set()) == exp.stale
    assert exp.partial_view <= states.get("not_evaluable", set())
    assert evaluation.summary.devices_total == exp.known
    assert evaluation.summary.devices_in_scope == exp.in_scope



def _mails(folder: Path) -> dict[str, list[Any]]:
    """The notices the demo wrote, by step (first, reminder-7, escalation, closing)."""
    by_step: dict[str, list[Any]] = {}
    for path in sorted(folder.glob("*.eml")):
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        by_step.setdefault(mail["X-Interdit-Notice"].rsplit("/", 1)[1], []).append(mail)
    return by_step


@pytest.mark.slow
def test_demo_runs_the_program_notices_to_holders_and_managers(
        demo_run: tuple[Path, subprocess.CompletedProcess[str], float]) -> None:
    out, done, _ = demo_run
    assert done.returncode == 0, done.stdout + done.stderr
    mails = _mails(out / "notices")
    assert set(mails) == {"first", "reminder-7", "escalation", "closing"}
    sent = sum(len(m) for m in mails.values())
    assert f"notices: {sent:,} sent to {out / 'notices'}" in done.stdout
    # one message per holder and step: no holder gets two first notices
    holders = [m["To"] for m in mails["first"]]
    assert len(holders) == len(set(holders))
    # today's escalations: the managers hear of every finding still open past its deadline whose holder was told
    # (one message per contact, listing them); a finding new today gets its first notice instead
    def refs(step: str) -> set[str]:
        return {ref for m in mails[step] for ref in re.findall(r"Reference: (F-[0-9a-f]{16})", m.get_content())}

    repo = pipeline.open_repository(f"sqlite:///{out / 'interdit.db'}")
    try:
        open_now = {f.id for f in pipeline.evaluate(repo, pipeline.read_policy(out / "policy.yaml"), as_of=DATES[-1],
                                                     store=False).findings
                    if f.state.value in ("violation", "blocked_present")}
    finally:
        repo.close()
    assert refs("escalation") and refs("escalation") <= open_now
    assert open_now <= refs("escalation") | refs("first")
    subjects = [" ".join(str(m["Subject"]).split()) for m in mails["escalation"]]
    assert all("Overdue: " in s and "Échéance dépassée" in s for s in subjects)  # both official languages
    firsts = [" ".join(str(m["Subject"]).split()) for m in mails["first"]]
    assert any(s.startswith("Action requise") and "Action required" in s for s in firsts)  # Global Affairs: fr-en
    # a device retired with the app still on it is closed in its own words; removed apps are thanked for
    closings = [m.get_content() for m in mails["closing"]]
    assert any("is no longer managed" in c and "n'est plus géré" in c for c in closings)
    assert any("Thank you" in c for c in closings)


@pytest.mark.slow
def test_demo_leaves_a_living_dashboard_behind(demo_run: tuple[Path, subprocess.CompletedProcess[str], float],
                                               expected: Expected) -> None:
    out, done, _ = demo_run
    assert done.returncode == 0, done.stdout + done.stderr
    for lang in ("en", "fr"):
        assert (out / f"report-{lang}.pdf").read_bytes()[:5] == b"%PDF-"
    assert list((out / "reports").glob("interdit-report-*.html"))  # the schedule's report job
    repo = pipeline.open_repository(f"sqlite:///{out / 'interdit.db'}")
    try:
        latest = repo.latest_evaluation()
        days = daily.stored_days(repo.engine)
        runs = schedules.runs(repo.engine, now=DATES[-1] + timedelta(hours=1))
    finally:
        repo.close()
    assert latest is not None and latest[0] == DATES[-1]  # the stored evaluation the dashboard shows
    summary = latest[3]
    assert summary.devices_in_scope == expected.in_scope and summary.rate is not None and 0 < summary.rate < 1
    assert set(days) >= {d.date() for d in DATES}  # one trend point per import
    assert sorted(r.job for r in runs) == ["nightly", "weekly-report"] and all(r.status == "ok" for r in runs)
    # the deadlines are the program's own: a week ago, and the exception is still in force
    assert re.search(r"Deadlines\n.*\n\s+ca-tbs-2023-tiktok\s+ca-tbs-2023-tiktok\s+2026-11-30", done.stdout)
    assert expected.excepted
