"""Run exodus-core's tracker detection on APK files and print one JSON line per file.

Runs inside a separate virtual environment that has `exodus-core` (its pinned dependencies conflict with
interdit's), with Debian's `dexdump` on the PATH: see bench/bench_analysis.py. Signatures come from the same
exodus_trackers.json file interdit reads, so only the matching differs.

    python bench/exodus_peer.py SIGNATURES.json APK...
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import namedtuple


def main(argv: list[str]) -> int:
    from exodus_core.analysis.static_analysis import StaticAnalysis

    logging.disable(logging.CRITICAL)
    try:
        from loguru import logger

        logger.remove()
    except ImportError:
        pass
    with open(argv[0], encoding="utf-8") as fh:
        raw = json.load(fh)
    trackers = raw.get("trackers", raw)
    signatures = [namedtuple("tracker", t.keys())(*t.values()) for t in trackers.values()]
    for path in argv[1:]:
        out: dict[str, object] = {"file": path.rsplit("/", 1)[-1]}
        t0 = time.perf_counter()
        try:
            sa = StaticAnalysis()
            sa.apk_path = path
            sa.signatures = signatures
            sa._compile_signatures()
            found = sa.detect_trackers()
            out["trackers"] = sorted({t.name for t in found})
        except BaseException as exc:  # a peer's refusal is its result; SystemExit when dexdump is missing
            out["error"] = f"{type(exc).__name__}: {exc}"[:300]
        out["seconds"] = round(time.perf_counter() - t0, 4)
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
