"""PostgreSQL as the scale path: the compliance core and the findings API on a throwaway PostgreSQL cluster.

The benchmark starts its own cluster (initdb + pg_ctl from /usr/lib/postgresql/*/bin, as the tests do) in a
temporary folder, imports the generated fleet's two snapshots through the CLI (`COPY` into staging tables, the
app rows from a staging process, then set-based SQL), evaluates, asks for the status, then serves the stored
evaluation to 20 concurrent clients of the findings API. The floor beside it: `COPY` of the same CSV files into
plain tables by `psql`.

Targets at 100,000 devices / ~6,000,000 app rows: import ≤ 60 s, evaluation ≤ 3 s, findings API p95 ≤ 100 ms
at 20 clients. At 1,000,000 devices (`INTERDIT_BENCH_DEVICES=1000000`, opt-in: about 15 GB of disk and most of
an hour on 2 cores): import ≤ 10 min and ≤ 2 GB peak for interdit's processes (the import and its staging
process together), re-import (the second snapshot) ≤ 5 min, evaluation ≤ 30 s, status ≤ 2 s, findings API
p95 ≤ 150 ms. INTERDIT_BENCH_SECONDS and INTERDIT_BENCH_CLIENTS set the load test's length and clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import measure_peak, measure_tree

DEVICES = int(os.environ.get("INTERDIT_BENCH_DEVICES", "100000"))
SECONDS = float(os.environ.get("INTERDIT_BENCH_SECONDS", "30"))
CLIENTS = int(os.environ.get("INTERDIT_BENCH_CLIENTS", "20"))
FILLER = 49  # ~60 apps per device, as bench_core
LARGE = DEVICES >= 1_000_000
SERVER_USER = "postgres"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its programs as the `postgres` user (or nobody)."""
    if os.geteuid() != 0:
        return args
    import pwd

    try:
        user = pwd.getpwnam(SERVER_USER).pw_name
    except KeyError:
        user = "nobody"
    return ["runuser", "-u", user, "--", *args]


@contextlib.contextmanager
def throwaway_cluster(work: Path) -> Iterator[str]:
    """A running PostgreSQL cluster in `work` for the benchmark's life; yields its `postgres` database URL.

    Durability is off (fsync, full page writes, synchronous commit), as in the tests: the cluster is thrown away.
    The memory settings are a modest server's (256 MB of shared buffers, 64 MB per sort, 256 MB per index build).
    """
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found in /usr/lib/postgresql/*/bin: "
                           "run scripts/system-deps.sh (or apt-get install postgresql)")
    bindir = Path(found[-1]).parent
    root = work / "pg"
    root.mkdir()
    if os.geteuid() == 0:
        import pwd

        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(work, entry.pw_uid, entry.pw_gid)
            os.chown(root, entry.pw_uid, entry.pw_gid)
    data, log = root / "data", root / "server.log"
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                    "-E", "UTF8", "--no-sync"]), check=True, capture_output=True, env=env, cwd=root)
    port = _free_port()
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=80 -c shared_buffers=256MB -c work_mem=64MB "
               "-c maintenance_work_mem=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min")
    subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w",
                                    "-t", "60", "start"]), check=True, capture_output=True, env=env, cwd=root)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                       capture_output=True, env=env, cwd=root)


def _interdit(*args: str) -> list[str]:
    return [sys.executable, "-m", "interdit.cli.main", *args]


def _copy_floor(url: str, devices_csv: Path, apps_csv: Path) -> float:
    """`COPY` of the same CSV files into plain text tables: what loading them costs PostgreSQL at all."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute("CREATE DATABASE floor")
    floor_url = plain.rsplit("/", 1)[0] + "/floor"
    t0 = time.perf_counter()
    with psycopg.connect(floor_url) as conn:
        for table, path in (("devices", devices_csv), ("apps", apps_csv)):
            header = path.open(encoding="utf-8").readline().strip().split(",")
            conn.execute(f"CREATE TABLE {table} ({', '.join(f'{chr(34)}{c}{chr(34)} text' for c in header)})")
            with conn.cursor().copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                    path.open("rb") as f:
                while block := f.read(1 << 20):
                    copy.write(block)
    return time.perf_counter() - t0


def _findings_load(url: str, policy: Path, work: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The findings API under CLIENTS concurrent clients for SECONDS, served by `interdit`'s app over `url`."""
    import httpx

    from bench.bench_server import _load, findings_requests
    from interdit import pipeline
    from interdit.storage.accounts import AccountStore, Role

    repo = pipeline.open_repository(url)
    accounts = AccountStore(repo.engine)
    accounts.add("bench", Role.ADMIN, "bench password, long enough")
    _, token = accounts.create_token("bench", "load test")
    repo.close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "bench.bench_server", "--serve", url, str(policy), str(port)],
                            cwd=Path(__file__).resolve().parents[1])
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        auth = {"Authorization": f"Bearer {token}"}
        t0 = time.perf_counter()
        summary = httpx.get(base + "/api/v1/summary", headers=auth, timeout=600).json()
        first = time.perf_counter() - t0
        findings = findings_requests(summary, auth)

        result = asyncio.run(_load("127.0.0.1", port, findings, SECONDS, CLIENTS))
        return result, {"first_summary_seconds": round(first, 2), "devices_in_scope": summary["devices_in_scope"]}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def run(results_dir: Path) -> dict[str, Any]:
    from interdit import fleet

    work = Path(tempfile.mkdtemp(prefix="interdit-bench-pg-"))
    try:
        with throwaway_cluster(work) as admin_url:
            import psycopg

            plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(plain, autocommit=True) as conn:
                conn.execute("CREATE DATABASE interdit")
            url = admin_url.rsplit("/", 1)[0] + "/interdit"
            spec = fleet.FleetSpec(devices=DEVICES, filler_apps=FILLER)
            t0 = time.perf_counter()
            d1, a1, nd, na = fleet.write_snapshot(spec, work / "s1", 0, fleet.DEMO_DATES[0])
            d2, a2, _, na2 = fleet.write_snapshot(spec, work / "s2", 1, fleet.DEMO_DATES[1])
            gen = time.perf_counter() - t0
            policy = work / "policy.yaml"
            policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
            base = ["--db", url, "--policy", str(policy)]
            # an import's peak is its own and its staging process's together (storage/pg_stage.py)
            first, _ = measure_tree(_interdit(*base, "import", "csv", str(d1), str(a1), "--source", "mdm",
                                              "--quiet", "--at", fleet.DEMO_DATES[0].isoformat()))
            second, _ = measure_tree(_interdit(*base, "import", "csv", str(d2), str(a2), "--source", "mdm",
                                               "--quiet", "--at", fleet.DEMO_DATES[1].isoformat()))
            as_of = fleet.DEMO_DATES[1].isoformat()
            evaluation = measure_peak(_interdit(*base, "evaluate", "--as-of", as_of))
            status = measure_peak(_interdit(*base, "status", "--as-of", as_of))
            for r in (first, second, evaluation, status):
                if r.returncode not in (0, 3):
                    raise RuntimeError(r.output[-2000:])
            floor = _copy_floor(admin_url, d1, a1)
            api, served = _findings_load(url, policy, work)
        targets = {
            "import": (600 if LARGE else 60, first.seconds),
            "evaluation": (30 if LARGE else 3, evaluation.seconds),
        }
        if LARGE:  # the 1,000,000-device run's own targets
            targets |= {"re-import": (300, second.seconds), "status": (2, status.seconds)}
        p95_limit = 150 if LARGE else 100
        return {
            "devices": nd, "app_rows": na, "app_rows_second": na2, "generate_s": round(gen, 1),
            "import_s": round(first.seconds, 2), "import_peak_mb": round(first.peak_mb),
            "reimport_s": round(second.seconds, 2), "reimport_peak_mb": round(second.peak_mb),
            "evaluate_s": round(evaluation.seconds, 2), "status_s": round(status.seconds, 2),
            "copy_floor_s": round(floor, 2), "import_over_floor": round(first.seconds / floor, 2),
            "findings_api": api, **served, "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "targets": {
                **{f"{name} ≤ {limit} s": {"value": round(value, 2), "met": value <= limit}
                   for name, (limit, value) in targets.items()},
                **({"import peak ≤ 2 GB": {"value": round(first.peak_mb), "met": first.peak_mb <= 2048}}
                   if LARGE else {}),
                f"findings API p95 ≤ {p95_limit} ms at {CLIENTS} clients": {
                    "value": api.get("p95_ms"), "met": api.get("p95_ms", 1e9) <= p95_limit and not api["errors"]},
            },
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
