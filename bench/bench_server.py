"""Server load: the findings API and the overview page under 20 concurrent clients, on loopback; then the same
readers while an ingest client uploads inventories, after which every count must reconcile.

Targets, against the 100,000-device fleet: findings API p95 ≤ 100 ms, overview page p95 ≤ 300 ms, each
under 20 concurrent clients for 60 s. Concurrent imports and reads lose nothing: while the readers run, an
ingest token uploads a second source's snapshot again and again (two snapshots in turn, each with one bad
row); afterwards every upload has its import run with exactly the devices, app rows and rejections sent
(read = accepted + rejected), the stored fleet holds exactly the last snapshot beside the untouched benchmark
fleet, and no request failed. The server runs as its own process (one uvicorn worker), the clients in this
one. Set INTERDIT_BENCH_DEVICES, INTERDIT_BENCH_SECONDS, INTERDIT_BENCH_CLIENTS and
INTERDIT_BENCH_INGEST_DEVICES to try other sizes.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from interdit import fleet

DEVICES = int(os.environ.get("INTERDIT_BENCH_DEVICES", "100000"))
SECONDS = float(os.environ.get("INTERDIT_BENCH_SECONDS", "60"))
CLIENTS = int(os.environ.get("INTERDIT_BENCH_CLIENTS", "20"))
INGEST_DEVICES = int(os.environ.get("INTERDIT_BENCH_INGEST_DEVICES", "2000"))
PASSWORD = "bench password, long enough"
TARGETS = {"findings_api": 0.100, "overview_page": 0.300}
INGEST_SOURCE = "nightly-push"
BAD_ROW = b"not,a,valid,row\n"  # one rejected app row per upload
MAX_UPLOADS = 400  # the import runs API lists at most 500


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(work: Path) -> tuple[str, Path, str, str]:
    """Import the fleet's two snapshots, create an admin and an ingest account with a token each; return
    (db url, policy, admin token, ingest token)."""
    from interdit import fleet, pipeline
    from interdit.storage.accounts import AccountStore, Role

    url = f"sqlite:///{work / 'bench.db'}"
    policy = work / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    repo = pipeline.open_repository(url)
    spec = fleet.FleetSpec(devices=DEVICES)
    for at, devices_csv, apps_csv in fleet.snapshots(spec, work / "fleet", fleet.DEMO_DATES):
        pipeline.import_inventory(repo, "csv", "mdm", [devices_csv, apps_csv], at=at, clock=lambda at=at: at)
    accounts = AccountStore(repo.engine)
    accounts.add("bench", Role.ADMIN, PASSWORD)
    _, token = accounts.create_token("bench", "load test")
    accounts.add("nightly", Role.INGEST, None)
    _, ingest_token = accounts.create_token("nightly", "nightly push")
    repo.engine.dispose()
    shutil.rmtree(work / "fleet", ignore_errors=True)
    return url, policy, token, ingest_token


def ingest_uploads(work: Path, devices: int) -> list[fleet.Upload]:
    """Two snapshots of a second source (the second differs from the first as a fortnight does), each with one
    bad app row, and the counts each must give: devices, app rows, read = accepted + rejected."""
    return fleet.csv_uploads(fleet.FleetSpec(devices=devices, seed=4242), work / "ingest", extra_app_rows=BAD_ROW,
                             extra_rejected=1)


def stored_counts(url: str) -> dict[str, tuple[int, int]]:
    """Per source, the devices present and the app rows open in the database: (devices, apps)."""
    from interdit.storage.repo import Repository

    repo = Repository(url)
    try:
        return repo.present_by_source()
    finally:
        repo.engine.dispose()


def ingest(base: str, token: str, uploads: list[fleet.Upload], stop: threading.Event, *,
           max_uploads: int = MAX_UPLOADS) -> list[dict[str, Any]]:
    """Upload the snapshots in turn until `stop` is set: what each upload sent, got back and took."""
    import httpx

    sent: list[dict[str, Any]] = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=600) as http:
        while not stop.is_set() and len(sent) < max_uploads:
            files, expected = uploads[len(sent) % len(uploads)]
            t0 = time.perf_counter()
            try:
                r = http.post(f"/api/v1/imports?format=csv&source={INGEST_SOURCE}",
                              files=[("files", (name, data, "text/csv")) for name, data in files])
            except httpx.HTTPError as e:  # counted as a failed upload: status 0
                sent.append({"status": 0, "seconds": time.perf_counter() - t0, "expected": expected,
                             "body": {"error": repr(e)}})
                continue
            seconds = time.perf_counter() - t0
            body = r.json() if r.headers.get("content-type", "").endswith("json") else {}
            sent.append({"status": r.status_code, "seconds": seconds, "expected": expected, "body": body})
    return sent


def reconcile(base: str, token: str, sent: list[dict[str, Any]], before: dict[str, tuple[int, int]],
              after: dict[str, tuple[int, int]]) -> list[str]:
    """Everything that does not add up after the concurrent imports; empty when nothing was lost."""
    import httpx

    problems: list[str] = []
    for n, s in enumerate(sent):
        body, expected = s["body"], s["expected"]
        if s["status"] != 201:
            problems.append(f"upload {n}: HTTP {s['status']} {body}")
            continue
        got = {k: body.get(k, body.get("result", {}).get(k)) for k in expected}
        if got != expected:
            problems.append(f"upload {n}: answered {got}, sent {expected}")
        if body["read"] != body["accepted"] + body["rejected"]:
            problems.append(f"upload {n}: read {body['read']} != accepted + rejected")
    runs = httpx.get(base + f"/api/v1/imports?limit={min(500, len(sent) + 50)}",
                     headers={"Authorization": f"Bearer {token}"}, timeout=600).json()
    mine = {r["id"]: r for r in runs if r["source"] == INGEST_SOURCE}
    ok_uploads = [s for s in sent if s["status"] == 201]
    if sorted(mine) != sorted(s["body"]["run_id"] for s in ok_uploads):
        problems.append(f"{len(ok_uploads)} uploads answered, {len(mine)} import runs stored")
    for s in ok_uploads:
        run = mine.get(s["body"]["run_id"])
        if run is None:
            continue
        stored = {k: run[k] for k in s["expected"]}
        if run["status"] != "ok" or stored != s["expected"]:
            problems.append(f"run {run['id']}: {run['status']} {stored}, sent {s['expected']}")
    failed = [r for r in runs if r["status"] != "ok"]
    if failed:
        problems.append(f"{len(failed)} failed import runs: {[r.get('error') for r in failed][:3]}")
    if ok_uploads:
        last = ok_uploads[-1]["expected"]
        want = {**{k: v for k, v in before.items() if k != INGEST_SOURCE},
                INGEST_SOURCE: (last["devices"], last["apps"])}
        if after != want:
            problems.append(f"stored (devices, app rows) per source {after}, expected {want}")
    return problems


def serve(url: str, policy: str, port: int) -> None:
    """The server process: the app with its clock fixed at the fleet's last import plus six hours."""
    import uvicorn

    from interdit import fleet
    from interdit.server.app import create_app
    from interdit.server.context import ServerOptions
    from interdit.settings import Settings

    now = fleet.DEMO_DATES[-1] + timedelta(hours=6)
    app = create_app(Settings.resolve(db=url, policy=Path(policy), environ={}), clock=lambda: now,
                     options=ServerOptions(secret="bench", cache_seconds=3600))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _percentiles(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"count": 0}
    ordered = sorted(samples)

    def p(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"count": len(ordered), "p50_ms": p(0.50), "p95_ms": p(0.95), "p99_ms": p(0.99),
            "max_ms": round(ordered[-1] * 1000, 2)}


class _Connection:
    """A minimal keep-alive HTTP/1.1 client: the load generator must cost far less than the server it measures."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}", *(f"{k}: {v}" for k, v in headers.items())]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            elif name.strip().lower() == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        body = b""
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body += chunk[:-2]

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _load(host: str, port: int, make_request: Any, seconds: float, clients: int) -> dict[str, Any]:
    samples: list[float] = []
    errors = 0
    server_errors = 0
    stop = time.monotonic() + seconds

    async def client(n: int) -> None:
        nonlocal errors, server_errors
        rng = random.Random(n)
        conn = _Connection(host, port)
        try:
            while time.monotonic() < stop:
                path, headers = make_request(rng)
                t0 = time.perf_counter()
                status, _ = await conn.get(path, headers)
                samples.append(time.perf_counter() - t0)
                if status != 200:
                    errors += 1
                    server_errors += status >= 500
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    wall = time.perf_counter() - t0
    return {**_percentiles(samples), "errors": errors, "server_errors": server_errors,
            "req_per_s": round(len(samples) / wall, 1),
            "clients": clients, "seconds": round(wall, 1)}


def _session_cookie(base: str) -> str:
    import httpx

    with httpx.Client(base_url=base, follow_redirects=False) as http:
        form = http.get("/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        r = http.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": csrf.group(1)})
        assert r.status_code == 303, r.text
        return str(http.cookies["interdit_session"])


def run(results_dir: Path) -> dict[str, Any]:
    import httpx

    work = Path(tempfile.mkdtemp(prefix="interdit-bench-server-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        t0 = time.perf_counter()
        url, policy, token, ingest_token = _prepare(work)
        uploads = ingest_uploads(work, INGEST_DEVICES)
        prepared = time.perf_counter() - t0
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen([sys.executable, "-m", "bench.bench_server", "--serve", url, str(policy), str(port)],
                                cwd=Path(__file__).resolve().parents[1])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        auth = {"Authorization": f"Bearer {token}"}
        t1 = time.perf_counter()
        summary = httpx.get(base + "/api/v1/summary", headers=auth, timeout=600).json()
        first_evaluation = time.perf_counter() - t1
        cookie = _session_cookie(base)
        t2 = time.perf_counter()
        assert httpx.get(base + "/", cookies={"interdit_session": cookie}, timeout=600).status_code == 200
        first_overview = time.perf_counter() - t2
        findings = findings_requests(summary, auth)

        def overview(rng: random.Random) -> tuple[str, dict[str, str]]:
            return "/", {"Cookie": f"interdit_session={cookie}"}

        api = asyncio.run(_load("127.0.0.1", port, findings, SECONDS, CLIENTS))
        page = asyncio.run(_load("127.0.0.1", port, overview, SECONDS, CLIENTS))

        # the same readers while the ingest client uploads inventories; then everything must reconcile
        before = stored_counts(url)
        stop = threading.Event()
        sent: list[dict[str, Any]] = []
        pusher = threading.Thread(target=lambda: sent.extend(ingest(base, ingest_token, uploads, stop)))
        pusher.start()
        try:
            during = asyncio.run(_load("127.0.0.1", port, findings, SECONDS, CLIENTS))
        finally:
            stop.set()
            pusher.join()
        problems = reconcile(base, token, sent, before, stored_counts(url))
        import_times = _percentiles([s["seconds"] for s in sent])
        imports = {"uploads": len(sent), "devices_per_upload": INGEST_DEVICES,
                   "rows_per_upload": max((s["expected"]["read"] for s in sent), default=0),
                   "server_errors": sum(s["status"] >= 500 or s["status"] == 0 for s in sent),
                   "seconds": {k.replace("_ms", "_s"): round(v / 1000, 2) if k.endswith("_ms") else v
                               for k, v in import_times.items()},
                   "reconciled": not problems, "problems": problems[:20]}
        figures: dict[str, Any] = {
            "devices": DEVICES, "devices_in_scope": summary["devices_in_scope"],
            "prepare_seconds": round(prepared, 1), "first_evaluation_seconds": round(first_evaluation, 2),
            "first_overview_seconds": round(first_overview, 2), "findings_api": api, "overview_page": page,
            "findings_api_during_imports": during, "imports_during_reads": imports,
            "targets": {
                name: {"p95_ms_max": limit * 1000, "p95_ms": result.get("p95_ms"),
                       "met": result.get("p95_ms", 1e9) <= limit * 1000 and result["errors"] == 0}
                for name, limit, result in (("findings_api", TARGETS["findings_api"], api),
                                            ("overview_page", TARGETS["overview_page"], page))
            },
        }
        # recorded beside the targets: reads must not fail while imports run, and every count must reconcile
        figures["targets"]["findings_api_during_imports"] = {
            "p95_ms": during.get("p95_ms"), "p99_ms": during.get("p99_ms"), "errors": during["errors"],
            "met": during["errors"] == 0}
        figures["targets"]["concurrent_imports_reconcile"] = {
            "uploads": len(sent), "import_p50_s": imports["seconds"].get("p50_s"),
            "import_p95_s": imports["seconds"].get("p95_s"), "import_max_s": imports["seconds"].get("max_s"),
            "met": bool(sent) and not problems and imports["server_errors"] == 0}
        return figures
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        print("usage: python -m bench bench_server", file=sys.stderr)
        raise SystemExit(2)


def findings_requests(summary: dict[str, Any],
                      auth: dict[str, str]) -> Callable[[random.Random], tuple[str, dict[str, str]]]:
    """The findings-API requests the clients make: a page of 50 to 200, filtered by a state, an org unit or a
    family the fleet has (or not at all), drawn at random."""
    units = [u["org_unit"] for u in summary["by_org_unit"]] or [None]
    families = list(summary["by_family"]) or ["tiktok"]
    states = ["violation", "not_evaluable", "stale", "resolved", "blocked_present"]

    def findings(rng: random.Random) -> tuple[str, dict[str, str]]:
        params: dict[str, Any] = {"limit": rng.choice((50, 100, 200))}
        pick = rng.random()
        if pick < 0.4:
            params["state"] = rng.choice(states)
        elif pick < 0.7:
            params["org_unit"] = rng.choice(units)
        elif pick < 0.85:
            params["family"] = rng.choice(families)
        return "/api/v1/findings?" + urlencode(params), auth

    return findings
