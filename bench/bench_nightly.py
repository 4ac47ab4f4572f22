"""Targets for the nightly cycle on 100,000 devices: the whole night ≤ 5 minutes, each step's peak memory ≤ 1 GB
(on 2 cores), and the report's time not growing with the days of history.

The night is the commands a scheduler runs, each timed as its own process (wall seconds and peak RSS):

1. `interdit sources sync` from a Jamf Pro stand-in on 127.0.0.1 (`interdit.demo_mdm.serve_jamf`) serving
   recorded `mobile-devices/detail` pages (100 devices a page, 30 apps a device): a token, then every page;
2. `interdit evaluate`: the findings and the day's figures stored (the trend's point);
3. `interdit notify`: ~2 % of the devices in violation (TikTok; WeChat too on half of them, so those holders
   get one message listing two apps), each holder's message rendered and sent over SMTP to a local aiosmtpd
   server, every finding's notice recorded;
4. `interdit report --format pdf`.

Then nine more nights (a small second source imported each day, and the day before's figures stored as the
trend keeps them, evaluated at the end of that day) and the report again: its time after ten days of history
against its time after one. Set INTERDIT_BENCH_DEVICES to
try another size (20,000 while developing), INTERDIT_BENCH_DAYS for another history.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.measure import Run, measure_peak

DEVICES = int(os.environ.get("INTERDIT_BENCH_DEVICES", "100000"))
DAYS = max(2, int(os.environ.get("INTERDIT_BENCH_DAYS", "10")))
APPS = 30
PAGE = 100  # the Jamf Pro API's page size as the connector asks for it
UNITS = ("Finance", "Communications", "Operations", "Policy", "Legal", "Human Resources", "Trade", "Consular")
TIKTOK, WECHAT = ("com.zhiliaoapp.musically", "TikTok"), ("com.tencent.xin", "WeChat")
CLIENT, SECRET = "bench", "a-secret-for-the-stand-in"
LIMIT_S, LIMIT_MB = 300.0, 1024.0
REPORT_RUNS = 2


def _interdit(*args: str) -> list[str]:
    return [sys.executable, "-m", "interdit.cli.main", *args]


def _device(i: int, at: datetime) -> dict[str, Any]:
    """Device i as Jamf Pro's `mobile-devices/detail` gives it; i % 100 in (7, 57) holds TikTok, 7 WeChat too."""
    holder = f"user{i // 2}@dept.example"  # two devices each: a phone and a tablet
    apps = [(f"ca.gc.app{(i * 7 + k * 31) % 2000:04d}", f"App {(i * 7 + k * 31) % 2000:04d}") for k in range(APPS)]
    if i % 100 in (7, 57):
        apps.append(TIKTOK)
    if i % 100 == 7:
        apps.append(WECHAT)
    seen = (at - timedelta(minutes=i % 600)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"mobileDeviceId": str(100000 + i), "deviceType": "iOS",
            "general": {"displayName": f"{'iPhone' if i % 2 else 'iPad'}-{i:06d}", "lastInventoryUpdateDate": seen,
                        "osVersion": "17.5", "managed": True, "supervised": True,
                        "deviceOwnershipType": "Institutional"},
            "hardware": {"model": "iPhone 15" if i % 2 else "iPad Air"},
            "userAndLocation": {"username": holder.split("@")[0], "emailAddress": holder,
                                "department": UNITS[i // 2 % len(UNITS)]},
            "groups": [{"groupName": "All Devices"}],
            "applications": [{"identifier": ident, "name": name, "version": "1.0", "shortVersion": "1.0",
                              "managementStatus": "Unmanaged"} for ident, name in apps]}


def _write_pages(path: Path, at: datetime) -> int:
    with path.open("w", encoding="utf-8") as fh:
        for start in range(0, DEVICES, PAGE):
            page = [_device(i, at) for i in range(start, min(start + PAGE, DEVICES))]
            fh.write(json.dumps({"totalCount": DEVICES, "results": page}, separators=(",", ":")) + "\n")
    return path.stat().st_size


def _files(work: Path, at: datetime, smtp_port: int) -> None:
    start = (at - timedelta(days=DAYS + 20)).date()
    (work / "policy.yaml").write_text(f"""\
organisation: Nightly benchmark
language: en
stale_after_days: 60
rules:
  - id: no-tiktok-wechat
    description: TikTok and WeChat on departmental devices
    families: [tiktok, wechat]
    effective: {start}
    grace_days: 14
    scope:
      ownership: [corporate]
org_units:
""" + "".join(f"  - {{source: jamf, department: {u}, org_unit: /Dept/{u}}}\n" for u in UNITS), "utf-8")
    (work / "contacts.yaml").write_text("default: {contacts: [it-security@dept.example]}\n", "utf-8")
    (work / "notify.yaml").write_text(f"""\
language: en-fr
escalate_after_days: 3650
contacts: contacts.yaml
throttle: {{per_run: 1000000, per_minute: 0}}
channels:
  - type: email
    host: 127.0.0.1
    port: {smtp_port}
    security: none
    sender: "IT Security <it-security@dept.example>"
""", "utf-8")


class _Mailbox:
    """A local SMTP server (aiosmtpd) that counts what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages = 0
        self.recipients = 0
        self.bytes = 0
        self.lock = threading.Lock()
        box = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                with box.lock:
                    box.messages += 1
                    box.recipients += len(envelope.rcpt_tos)
                    box.bytes += len(envelope.content)
                return "250 OK"

        with socket.socket() as probe:  # a free port (aiosmtpd checks its own server by connecting to it)
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> _Mailbox:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


def _checked(run: Run, what: str, ok: tuple[int, ...] = (0,)) -> Run:
    if run.returncode not in ok:
        raise RuntimeError(f"{what}: exit {run.returncode}: {run.output[-3000:]}")
    return run


def _json(run: Run) -> dict[str, Any]:
    """The JSON document a command printed (GNU time's line follows it)."""
    doc, _ = json.JSONDecoder().raw_decode(run.output[run.output.index("{"):])
    return dict(doc)


def _phase(run: Run) -> dict[str, float]:
    return {"seconds": round(run.seconds, 2), "peak_mb": round(run.peak_mb)}


def _reports(base: list[str], out: Path) -> list[Run]:
    """The PDF report, REPORT_RUNS times (the best is compared: one run is at the mercy of the machine's load)."""
    return [_checked(measure_peak(_interdit(*base, "report", "--format", "pdf", "-o", str(out))), "report")
            for _ in range(REPORT_RUNS)]


def run(results_dir: Path) -> dict[str, Any]:
    from interdit.demo_mdm import serve_jamf

    work = Path(tempfile.mkdtemp(prefix="interdit-bench-nightly-"))
    try:
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        days = [now - timedelta(days=DAYS - 1 - k, hours=1) for k in range(DAYS)]  # the nights, the last today
        first = days[0]
        t0 = time.perf_counter()
        pages = work / "mobile-devices-detail.jsonl"
        size = _write_pages(pages, first)
        generate = time.perf_counter() - t0
        db = work / "nightly.db"
        base = ["--db", str(db), "--policy", str(work / "policy.yaml")]
        env = {**os.environ, "INTERDIT_SECRET_BENCH_JAMF": SECRET}
        phases: dict[str, dict[str, float]] = {}
        with _Mailbox() as mailbox, serve_jamf(pages, client_id=CLIENT, secret=SECRET) as url:
            _files(work, first, mailbox.port)
            (work / "sources.yaml").write_text(f"sources:\n  bench-jamf:\n    type: jamf\n    base_url: {url}\n"
                                               f"    auth: client\n    client_id: {CLIENT}\n", "utf-8")
            sync = _checked(measure_peak(_interdit(*base, "sources", "sync", "bench-jamf", "--sources",
                                                   str(work / "sources.yaml"), "--at", first.isoformat(),
                                                   "--format", "json"), env=env), "sync")
            evaluate = _checked(measure_peak(_interdit(*base, "evaluate", "--as-of", first.isoformat())),
                                "evaluate")
            notify = _checked(measure_peak(_interdit(*base, "notify", "--config", str(work / "notify.yaml"),
                                                     "--format", "json")), "notify")
            sent = _json(notify)
            reports_1 = _reports(base, work / "report-1.pdf")
        synced = _json(sync)
        phases = {"sync": _phase(sync), "evaluate": _phase(evaluate), "notify": _phase(notify),
                  "report_pdf": _phase(reports_1[0])}  # the night's own report: its first run
        # nine more nights: a small second source imported, the day's figures stored
        extra = work / "extra"
        extra.mkdir()
        (extra / "devices.csv").write_text(
            "device_id,platform,ownership,management,observed_at,user,name,model,os_version,org_unit\n"
            + "".join(f"x{k},android,corporate,fully_managed,{{at}},x{k}@dept.example,x{k},Pixel 8,15,/Dept/Trade\n"
                      for k in range(5)), "utf-8")
        later: list[float] = []
        for day in days[1:]:
            stamp = day.isoformat()
            dev = extra / f"devices-{day:%Y%m%d}.csv"
            dev.write_text((extra / "devices.csv").read_text("utf-8").replace("{at}", stamp), "utf-8")
            apps = extra / f"apps-{day:%Y%m%d}.csv"
            apps.write_text("device_id,platform,identifier,observed_at,name\n"
                            f"x0,android,com.android.chrome,{stamp},Chrome\n", "utf-8")
            _checked(measure_peak(_interdit(*base, "import", "csv", str(dev), str(apps), "--source", "extra",
                                            "--at", stamp, "--quiet")), "import")
            # yesterday's point of the trend, at the end of that day: what the nightly report's trend computes
            # and keeps when the night's own evaluation ran before the day ended
            yesterday = (day - timedelta(days=1)).date().isoformat()
            night = _checked(measure_peak(_interdit(*base, "evaluate", "--as-of", yesterday)), "evaluate")
            later.append(night.seconds)
        reports_n = _reports(base, work / f"report-{DAYS}.pdf")
        report_1, report_n = min(reports_1, key=lambda r: r.seconds), min(reports_n, key=lambda r: r.seconds)
        with sqlite3.connect(db) as conn:
            figure_days = conn.execute("SELECT count(DISTINCT day) FROM daily_figures").fetchone()[0]
            recorded = conn.execute("SELECT count(*) FROM notices WHERE status = 'sent'").fetchone()[0]
        night = sum(p["seconds"] for p in phases.values())
        peak = max(p["peak_mb"] for p in phases.values())
        expected_messages = sum(1 for i in range(DEVICES) if i % 100 in (7, 57))
        expected_findings = expected_messages + sum(1 for i in range(DEVICES) if i % 100 == 7)
        growth = report_n.seconds / report_1.seconds
        return {
            "devices": DEVICES, "app_rows": synced.get("result", {}).get("apps"), "pages_mb": round(size / 2**20),
            "generate_s": round(generate, 1), "phases": phases, "night_s": round(night, 2), "night_peak_mb": peak,
            "notices": {"messages_sent": sent["sent"], "smtp_messages": mailbox.messages,
                        "findings_recorded": recorded, "smtp_mb": round(mailbox.bytes / 2**20, 1)},
            "daily_figures_days": figure_days, "later_evaluate_s": [round(s, 2) for s in later],
            "report_pdf_after_1_day_s": round(report_1.seconds, 2),
            f"report_pdf_after_{DAYS}_days_s": round(report_n.seconds, 2),
            "report_pdf_runs_s": {"1": [round(r.seconds, 2) for r in reports_1],
                                  str(DAYS): [round(r.seconds, 2) for r in reports_n]},
            "report_pdf_peak_mb": round(max(r.peak_mb for r in (*reports_1, *reports_n))),
            "db_mb": round(db.stat().st_size / 2**20), "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "targets": {
                "night ≤ 5 min": {"value": round(night, 1), "met": night <= LIMIT_S},
                "every step's peak ≤ 1 GB": {"value": peak, "met": peak <= LIMIT_MB},
                "one message per holder, every finding recorded": {
                    "value": [sent["sent"], mailbox.messages, recorded],
                    "met": sent["sent"] == mailbox.messages == expected_messages and recorded == expected_findings},
                f"report after {DAYS} days ≤ 1.5× after 1": {"value": round(growth, 2), "met": growth <= 1.5},
            },
        }
    finally:
        if os.environ.get("INTERDIT_BENCH_KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
