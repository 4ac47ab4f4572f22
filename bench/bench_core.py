"""Targets for the compliance core, on a generated fleet of 100,000 devices and ~6,000,000 app rows.

- import from CSV ≤ 60 s, peak memory ≤ 1 GB; the floor: `sqlite3 .import` of the same CSV files;
- closer to the floor: import ≤ 30 s, peak ≤ 600 MB, ≤ 3.5× the floor measured in the same run;
- re-import of the same fleet with ~1% changed ≤ 60 s;
- evaluation ≤ 2 s; `status` ≤ 1 s (each the best of three runs, every run kept).
Set INTERDIT_BENCH_DEVICES to try another size.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import measure_peak, measure_tree

DEVICES = int(os.environ.get("INTERDIT_BENCH_DEVICES", "100000"))
QUICK_RUNS = 3
FILLER = 49  # ~11 common apps on average + 49 filler = ~60 apps per device: 6,000,000 rows


def _interdit(*args: str) -> list[str]:
    return [sys.executable, "-m", "interdit.cli.main", *args]


def run(results_dir: Path) -> dict[str, Any]:
    from interdit import fleet

    work = Path(tempfile.mkdtemp(prefix="interdit-bench-"))
    try:
        spec = fleet.FleetSpec(devices=DEVICES, filler_apps=FILLER)
        t0 = time.perf_counter()
        d1, a1, nd, na = fleet.write_snapshot(spec, work / "s1", 0, fleet.DEMO_DATES[0])
        d2, a2, _, na2 = fleet.write_snapshot(spec, work / "s2", 1, fleet.DEMO_DATES[1])
        gen = time.perf_counter() - t0
        db = work / "bench.db"
        policy = work / "policy.yaml"
        policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text())
        base = ["--db", str(db), "--policy", str(policy)]
        # an import's peak is its own and its staging process's together (storage/stage_process.py)
        first, _ = measure_tree(_interdit(*base, "import", "csv", str(d1), str(a1), "--source", "mdm", "--quiet",
                                       "--at", fleet.DEMO_DATES[0].isoformat()))
        second, _ = measure_tree(_interdit(*base, "import", "csv", str(d2), str(a2), "--source", "mdm", "--quiet",
                                        "--at", fleet.DEMO_DATES[1].isoformat()))
        as_of = fleet.DEMO_DATES[1].isoformat()
        # the short commands, a few seconds each, are the best of QUICK_RUNS runs (every run is kept): one run is
        # at the mercy of a moment's load on a 2-core machine. Each `evaluate` computes and stores the evaluation
        # anew (it never reuses the stored one), and `status` reads it back.
        evaluations = [measure_peak(_interdit(*base, "evaluate", "--as-of", as_of)) for _ in range(QUICK_RUNS)]
        statuses = [measure_peak(_interdit(*base, "status", "--as-of", as_of)) for _ in range(QUICK_RUNS)]
        evaluation = min(evaluations, key=lambda r: r.seconds)
        status = min(statuses, key=lambda r: r.seconds)
        floor_db = work / "floor.db"
        t0 = time.perf_counter()
        subprocess.run(["sqlite3", str(floor_db)], input=f".mode csv\n.import {d1} devices\n.import {a1} apps\n",
                       text=True, check=True)
        floor = time.perf_counter() - t0
        for r in (first, second, *evaluations, *statuses):
            if r.returncode not in (0, 3):
                raise RuntimeError(r.output[-2000:])
        return {
            "devices": nd, "app_rows": na, "app_rows_second": na2, "generate_s": round(gen, 1),
            "import_s": round(first.seconds, 2), "import_peak_mb": round(first.peak_mb),
            "reimport_s": round(second.seconds, 2), "reimport_peak_mb": round(second.peak_mb),
            "evaluate_s": round(evaluation.seconds, 2), "status_s": round(status.seconds, 2),
            "evaluate_runs_s": [round(r.seconds, 2) for r in evaluations],
            "status_runs_s": [round(r.seconds, 2) for r in statuses],
            "sqlite3_import_floor_s": round(floor, 2), "import_over_floor": round(first.seconds / floor, 2),
            "db_mb": round(db.stat().st_size / 2**20), "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "targets": {
                "import ≤ 60 s": {"value": first.seconds, "met": first.seconds <= 60},
                "import peak ≤ 1 GB": {"value": first.peak_mb, "met": first.peak_mb <= 1024},
                "import ≤ 30 s": {"value": first.seconds, "met": first.seconds <= 30},
                "import peak ≤ 600 MB": {"value": first.peak_mb, "met": first.peak_mb <= 600},
                "import ≤ 3.5× the sqlite3 .import floor": {"value": round(first.seconds / floor, 2),
                                                            "met": first.seconds <= 3.5 * floor},
                "re-import ≤ 60 s": {"value": second.seconds, "met": second.seconds <= 60},
                "evaluation ≤ 2 s": {"value": evaluation.seconds, "met": evaluation.seconds <= 2},
                "status ≤ 1 s": {"value": status.seconds, "met": status.seconds <= 1},
            },
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
