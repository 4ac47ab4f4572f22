"""iOS app analysis figures, reported inside bench_analysis: the whole command on a 20 MB IPA and the
../shared/data/ipa corpus.

Targets: a 20 MB IPA analysed in ≤ 1.0 s wall and ≤ 150 MB peak (the whole command, as a user runs it,
`interdit analyze FILE --no-cache -q --format json`, best of 3); the whole corpus (18 archives) ≤ 5 s. The
20 MB IPA is the tvOS corpus app (4 MB, a real 8 MB Mach-O with 70 endpoints and 6 privacy manifests) with
the real Facebook Login and Bolts frameworks (fat, 4 slices each) and 11 MB of incompressible assets
added: the shape of a store build, with more binary code than most.

MobSF, the usual peer for iOS static analysis, is a Django server with a database and a task queue; it is
not run here (no figure of its own for iOS static analysis time is published in its documentation).
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

IPA_TARGET_BYTES = 20 * 1024 * 1024


def build_big_ipa(ipa_dir: Path, dest: Path) -> Path:
    """The 20 MB IPA described above, built once under `dest`."""
    import io
    import zipfile

    out = dest / "big-20mb.ipa"
    if out.is_file() and out.stat().st_size >= IPA_TARGET_BYTES * 0.95:
        return out
    src = (ipa_dir / "appinfo__apple-tv.ipa").read_bytes()
    fb = ipa_dir / "frameworks" / "FacebookSDK-4.27.1-Carthage"
    app = "Payload/BilibiliLive.app/"
    buf = io.BytesIO()
    rng = random.Random(20)
    with zipfile.ZipFile(io.BytesIO(src)) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        for fw in ("FBSDKLoginKit.framework", "Bolts.framework"):
            for f in sorted((fb / fw).rglob("*")):
                if f.is_file():
                    zout.writestr(f"{app}Frameworks/{fw}/{f.relative_to(fb / fw)}", f.read_bytes())
        size = buf.tell()
        zout.writestr(f"{app}Assets.car", rng.randbytes(max(0, IPA_TARGET_BYTES - size - 4096)),
                      compress_type=zipfile.ZIP_STORED)
    dest.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue())
    return out


def run_ios(ipa_dir: Path, work: Path, whole_command: Callable[[Path], dict[str, Any]],
            target: Callable[[float, float], dict[str, Any]]) -> dict[str, Any]:
    if not ipa_dir.is_dir():
        return {"skipped": f"iOS corpus not found at {ipa_dir}"}
    from interdit.analysis.batch import AnalysisSettings, analyze_one, make_context

    big = build_big_ipa(ipa_dir, work)
    command = whole_command(big)
    files = sorted(p for p in ipa_dir.iterdir() if p.name.endswith((".ipa", ".zip")))
    ctx = make_context(AnalysisSettings())
    analyze_one(files[0], ctx)
    per_file: dict[str, float] = {}
    t0 = time.perf_counter()
    c0 = time.process_time()
    for f in files:
        t = time.perf_counter()
        analyze_one(f, ctx)
        per_file[f.name] = round(time.perf_counter() - t, 4)
    corpus_s, corpus_cpu = time.perf_counter() - t0, time.process_time() - c0
    t = time.perf_counter()
    report = analyze_one(big, ctx)
    big_s = time.perf_counter() - t
    return {
        "big_ipa": {"bytes": big.stat().st_size, "analyze_s": round(big_s, 3), "command": command,
                    "sdks": sorted(s.name for s in report.sdks), "endpoints": len(report.endpoints)},
        "corpus": {"files": len(files), "analyze_s": round(corpus_s, 3), "analyze_cpu_s": round(corpus_cpu, 3),
                   "slowest": sorted(per_file.items(), key=lambda kv: -kv[1])[:5]},
        "peers": {"mobsf": "not run: MobSF is a server (Django, database, queue); no published iOS timing"},
        "targets": {"ipa_20mb_command_s": target(command["wall_s"], 1.0),
                    "ipa_20mb_command_peak_mb": target(command["peak_mb"], 150.0),
                    "ipa_corpus_s": target(corpus_s, 5.0)},
    }


if __name__ == "__main__":  # python -m bench.bench_ios: the iOS figures alone
    import json

    from bench.bench_analysis import SHARED, _target, _whole_command

    print(json.dumps(run_ios(SHARED / "data" / "ipa", Path(os.environ.get("TMPDIR", "/tmp")) / "interdit-bench",
                             _whole_command, _target), indent=2))
    sys.exit(0)
