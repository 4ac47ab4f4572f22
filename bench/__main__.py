"""`python -m bench [NAME...]`: run the benchmarks and write bench/results/<name>.json.

Each benchmark module has `run(results_dir: Path) -> dict`; its figures, each target with whether it was met,
go to bench/results/<name>.json. The file's `machine` block names the Python, the platform, the CPU count and
the load average at the start and at the end of the run, since wall times on a shared machine move with it.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

BENCHES = ("bench_core", "bench_postgres", "bench_connectors", "bench_analysis", "bench_network", "bench_server",
           "bench_nightly")


def _load_average() -> list[float] | None:
    """The 1, 5 and 15-minute load averages (wall times move with them); None where the system has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # not available on this system
        return None


def _compile() -> None:
    """Compile interdit's modules once, as installing the package does: where PYTHONDONTWRITEBYTECODE is set,
    a source checkout would otherwise compile every module at each command's start and time that instead."""
    import compileall

    import interdit

    compileall.compile_dir(str(Path(interdit.__file__).parent), quiet=1)


def main(argv: list[str]) -> int:
    names = argv or list(BENCHES)
    _compile()
    results_dir = Path(__file__).parent / "results"
    results_dir.mkdir(exist_ok=True)
    failed = 0
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as e:
            print(f"{name}: not available ({e})")
            continue
        print(f"== {name}", flush=True)
        load_at_start = _load_average()
        figures = module.run(results_dir)
        figures["machine"] = {"python": sys.version.split()[0], "platform": platform.platform(),
                              "cpus": os.cpu_count(), "load_average_at_start": load_at_start,
                              "load_average": _load_average(),
                              "when": datetime.now(UTC).isoformat(timespec="seconds")}
        (results_dir / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
        print(json.dumps(figures, indent=2))
        failed += sum(1 for t in figures.get("targets", {}).values() if not t.get("met", True))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
