"""APK analysis, peers side by side, on the corpus in ../shared/data/apk; iOS figures beside them
(bench_ios.py). Since the built-in SDK rules, every figure is taken with them loaded.

Targets: the full default analysis of pypi__airtest-1.4.3__Yosemite.apk (24.6 MB, 2 DEX) ≤ 1.0 s wall and
≤ 150 MB peak memory, in a separate process (so the peak is its own; its start-up and the loading of the
signature data are reported beside it), and the whole command as a user runs it
(`interdit analyze FILE --no-cache -q --format json`, best of 3 after one run that compiles the modules, as an
installed package has them compiled; its peak memory the largest of the 3); the whole
corpus ≤ 20 s. The machine is shared: the load average is
recorded, and CPU time beside wall time.

Peers, measured on the same files in the same run (ratios are peer time / interdit time):
- androguard's `APK` (manifest and signatures) on every file, and `AnalyzeAPK` (full DEX analysis) on the
  airtest APK; set INTERDIT_BENCH_ANALYZEAPK_CORPUS=1 to run `AnalyzeAPK` on the whole corpus too (minutes);
- exodus-core's tracker detection on every file, with the trackers each tool names. exodus-core pins
  androguard 4.1.1 and old libraries, so it runs from its own virtualenv: $INTERDIT_EXODUS_PYTHON, else
  ~/.cache/interdit/bench-peers/exodus (created with `pip install exodus-core` when missing, unless
  INTERDIT_BENCH_NO_INSTALL=1). It needs Debian's `dexdump` (apt-get install dexdump).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_ios import run_ios
from bench.measure import measure_peak

SHARED = Path(os.environ.get("INTERDIT_SHARED") or Path(__file__).resolve().parents[2] / "shared")
APKS = SHARED / "data" / "apk"
SIGNATURES = SHARED / "data" / "sdk-signatures"
AIRTEST = "pypi__airtest-1.4.3__Yosemite.apk"
EXODUS_VENV = Path.home() / ".cache" / "interdit" / "bench-peers" / "exodus"

_ONE = """
import sys, time
from pathlib import Path
t0 = time.perf_counter()
from interdit.analysis.batch import AnalysisSettings, analyze_one, make_context
ctx = make_context(AnalysisSettings(signatures_dir=sys.argv[2]))
t1 = time.perf_counter()
c1 = time.process_time()
report = analyze_one(Path(sys.argv[1]), ctx)
t2 = time.perf_counter()
c2 = time.process_time()
print(f"{t1 - t0:.4f} {t2 - t1:.4f} {c2 - c1:.4f} {report.score.verdict}")
"""


def _target(value: float, limit: float) -> dict[str, Any]:
    return {"value": round(value, 3), "limit": limit, "met": value <= limit}


def _androguard_apk(files: list[Path]) -> float | None:
    try:
        from androguard.core.apk import APK
        from loguru import logger
    except ImportError:
        return None
    logger.remove()
    t0 = time.perf_counter()
    for f in files:
        try:
            APK(str(f))
        except Exception:  # a peer's refusal is its own result; timing continues
            continue
    return time.perf_counter() - t0


def _androguard_analyze(files: list[Path]) -> float | None:
    try:
        from androguard.misc import AnalyzeAPK
        from loguru import logger
    except ImportError:
        return None
    logger.remove()
    t0 = time.perf_counter()
    for f in files:
        try:
            AnalyzeAPK(str(f))
        except Exception:  # as above
            continue
    return time.perf_counter() - t0


def _exodus_python() -> tuple[str | None, str]:
    chosen = os.environ.get("INTERDIT_EXODUS_PYTHON")
    if chosen:
        return (chosen, "") if Path(chosen).is_file() else (None, f"INTERDIT_EXODUS_PYTHON={chosen} not found")
    python = EXODUS_VENV / "bin" / "python"
    if not python.is_file():
        if os.environ.get("INTERDIT_BENCH_NO_INSTALL") == "1":
            return None, f"exodus-core not installed at {EXODUS_VENV}"
        try:
            subprocess.run([sys.executable, "-m", "venv", str(EXODUS_VENV)], check=True, capture_output=True)
            subprocess.run([str(python), "-m", "pip", "install", "--quiet", "exodus-core"], check=True,
                           capture_output=True, timeout=600)
        except (subprocess.SubprocessError, OSError) as exc:
            return None, f"could not install exodus-core in {EXODUS_VENV}: {exc}"
    return str(python), ""


def _exodus(files: list[Path]) -> dict[str, Any]:
    if shutil.which("dexdump") is None:
        return {"skipped": "dexdump is not installed (apt-get install dexdump); exodus-core needs it"}
    python, why = _exodus_python()
    if python is None:
        return {"skipped": why}
    import resource

    peer = Path(__file__).with_name("exodus_peer.py")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([python, str(peer), str(SIGNATURES / "exodus_trackers.json"), *map(str, files)],
                          capture_output=True, text=True, timeout=1800, check=False)
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {"seconds": seconds, "cpu_s": cpu, "rows": {r["file"]: r for r in rows}, "returncode": proc.returncode}


def _whole_command(apk: Path) -> dict[str, Any]:
    """`interdit analyze APK --no-cache -q --format json` as a user runs it: best wall time of 3, largest peak."""
    exe = Path(sys.executable).with_name("interdit")
    cmd = [str(exe), "analyze", str(apk), "--no-cache", "-q", "--format", "json"]
    if not exe.is_file():
        cmd = [sys.executable, "-c", "import sys; from interdit.cli.main import app; sys.argv[0] = 'interdit'; app()",
               *cmd[1:]]
    env = {k: v for k, v in os.environ.items() if k not in ("INTERDIT_SDK_SIGNATURES", "PYTHONDONTWRITEBYTECODE")}
    # An installed interdit has its compiled .pyc files; a source checkout run with PYTHONDONTWRITEBYTECODE would
    # compile every module on every start (~0.4 s): compiled files go to a folder of the bench's own instead,
    # written by one run that is not counted.
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "interdit-bench" / "pycache")
    subprocess.run(cmd, env=env, capture_output=True, check=False, timeout=600)
    import resource

    runs, cpu = [], []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        runs.append(measure_peak(cmd, env=env))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    bad = [r for r in runs if r.returncode != 0]
    if bad:
        raise RuntimeError(bad[0].output[-2000:])
    # wall time stretches with the machine's load; CPU time (the command and GNU time's own share) much less
    return {"wall_s": round(min(r.seconds for r in runs), 3), "wall_all_s": [round(r.seconds, 3) for r in runs],
            "cpu_s": round(min(cpu), 3), "peak_mb": round(max(r.peak_mb for r in runs), 1)}


def run(results_dir: Path) -> dict[str, Any]:
    if not APKS.is_dir():
        return {"skipped": f"corpus not found at {APKS}"}
    from interdit.analysis.batch import AnalysisSettings, analyze_one, analyze_paths, make_context

    airtest = APKS / AIRTEST
    one = measure_peak([sys.executable, "-c", _ONE, str(airtest), str(SIGNATURES)])
    if one.returncode != 0:
        raise RuntimeError(one.output[-2000:])
    fields = one.output.split()
    import_s, airtest_s, airtest_cpu_s = float(fields[0]), float(fields[1]), float(fields[2])

    command = _whole_command(airtest)

    files = sorted(APKS.glob("*.apk"))
    settings = AnalysisSettings(signatures_dir=str(SIGNATURES))
    ctx = make_context(settings)
    analyze_one(files[0], ctx)  # warm caches
    per_file: dict[str, float] = {}
    per_file_cpu: dict[str, float] = {}
    ours: dict[str, Any] = {}
    t0, c0 = time.perf_counter(), time.process_time()
    for f in files:
        t, c = time.perf_counter(), time.process_time()
        report = analyze_one(f, ctx)
        per_file[f.name] = round(time.perf_counter() - t, 4)
        per_file_cpu[f.name] = round(time.process_time() - c, 4)
        ours[f.name] = report
    corpus_s, corpus_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    analyze_paths(files, settings, jobs=2)
    corpus_parallel_s = time.perf_counter() - t0

    peers: dict[str, Any] = {}
    ag_apk_corpus = _androguard_apk(files)
    if ag_apk_corpus is not None:
        peers["androguard_APK_corpus_s"] = round(ag_apk_corpus, 3)
        peers["androguard_APK_corpus_ratio"] = round(ag_apk_corpus / corpus_s, 2)
    ag_full = _androguard_analyze([airtest])
    if ag_full is not None:
        peers["androguard_AnalyzeAPK_airtest_s"] = round(ag_full, 3)
        peers["androguard_AnalyzeAPK_airtest_ratio"] = round(ag_full / airtest_s, 1)
    if ag_full is not None and os.environ.get("INTERDIT_BENCH_ANALYZEAPK_CORPUS") == "1":
        full_corpus = _androguard_analyze(files)
        if full_corpus is not None:
            peers["androguard_AnalyzeAPK_corpus_s"] = round(full_corpus, 3)
            peers["androguard_AnalyzeAPK_corpus_ratio"] = round(full_corpus / corpus_s, 1)
    exodus = _exodus(files)
    trackers: dict[str, Any] = {}
    if "rows" in exodus:
        peers["exodus_core_corpus_s"] = round(exodus["seconds"], 3)
        peers["exodus_core_corpus_ratio"] = round(exodus["seconds"] / corpus_s, 1)
        # CPU seconds (user + system) move far less with the machine's load than wall times
        peers["exodus_core_corpus_cpu_s"] = round(exodus["cpu_s"], 3)
        peers["exodus_core_corpus_cpu_ratio"] = round(exodus["cpu_s"] / corpus_cpu_s, 1)
        airtest_row = exodus["rows"].get(AIRTEST, {})
        if "seconds" in airtest_row:
            peers["exodus_core_airtest_s"] = airtest_row["seconds"]
            peers["exodus_core_airtest_ratio"] = round(airtest_row["seconds"] / airtest_s, 1)
        peers["exodus_core_errors"] = sorted(f for f, r in exodus["rows"].items() if "error" in r)
        for name, report in ours.items():
            theirs = exodus["rows"].get(name, {}).get("trackers", [])
            mine = sorted(f"{s.name} [{s.strength}, {s.vendor or '?'}]" for s in report.sdks)
            if theirs or mine:
                trackers[name] = {"exodus_core": theirs, "interdit": mine}
    else:
        peers["exodus_core"] = exodus
    return {
        # the machine is shared: a load average above its 2 cores stretches wall times, not CPU times
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "airtest": {"analyze_s": round(airtest_s, 3), "analyze_cpu_s": round(airtest_cpu_s, 3),
                    "import_and_signatures_s": round(import_s, 3),
                    "process_wall_s": round(one.seconds, 3), "peak_mb": round(one.peak_mb, 1),
                    "command": command},
        "corpus": {"files": len(files), "analyze_s": round(corpus_s, 3), "analyze_cpu_s": round(corpus_cpu_s, 3),
                   "analyze_2_workers_s": round(corpus_parallel_s, 3),
                   "slowest": sorted(per_file.items(), key=lambda kv: -kv[1])[:5],
                   "slowest_cpu": sorted(per_file_cpu.items(), key=lambda kv: -kv[1])[:5]},
        "peers": peers,
        "trackers": trackers,
        "ios": run_ios(SHARED / "data" / "ipa", Path(tempfile.gettempdir()) / "interdit-bench", _whole_command,
                       _target),
        "targets": {
            "airtest_analyze_s": _target(airtest_s, 1.0),
            "airtest_peak_mb": _target(one.peak_mb, 150.0),
            "airtest_command_s": _target(command["wall_s"], 1.0),
            "airtest_command_peak_mb": _target(command["peak_mb"], 150.0),
            "corpus_s": _target(corpus_s, 20.0),
        },
    }
