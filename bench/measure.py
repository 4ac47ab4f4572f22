"""Time and peak memory of a command, measured as a separate process (so peaks are the command's own)."""

from __future__ import annotations

import resource
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    returncode: int
    output: str


def measure(cmd: Sequence[str], *, stdin: str | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `cmd` under /usr/bin/time-like accounting: wall seconds and the child's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run(list(cmd), input=stdin, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far: run the heaviest last or read it per run
    return Run(seconds, max(after, before) / 1024, proc.returncode, proc.stdout + proc.stderr)


def measure_peak(cmd: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Like `measure`, but reads the peak of this very child with GNU time's format when available."""
    import shutil

    gnu_time = shutil.which("time") or ("/usr/bin/time" if shutil.which("/usr/bin/time") else None)
    if gnu_time is None:
        return measure(cmd, env=env)
    start = time.perf_counter()
    proc = subprocess.run([gnu_time, "-f", "%M", *cmd], capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "0"
    peak = int(last) / 1024 if last.isdigit() else float("nan")
    return Run(seconds, peak, proc.returncode, proc.stdout + proc.stderr)


def measure_tree(cmd: Sequence[str], env: dict[str, str] | None = None, every: float = 0.05,
                 skip_root: bool = False) -> tuple[Run, str]:
    """Like `measure_peak`, but the peak is the sum over the command and the processes it starts (an import
    stages its rows in a child process: both are resident at once), sampled every `every` seconds. Returns the
    run (its output is the standard output) and the standard error. `skip_root`: the command is a wrapper (GNU
    time) whose own memory is not counted."""
    import psutil

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=env)
        root = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                tree = [*([] if skip_root else [root]), *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:  # a process ended while it was read
                pass
            time.sleep(every)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return (Run(seconds, peak / (1024 * 1024), proc.returncode, out.read().decode("utf-8", "replace")),
                err.read().decode("utf-8", "replace"))
