"""Server load: the findings API and the overview page under 20 concurrent clients, on loopback.

Targets, against the 100,000-device fleet: findings API p95 ≤ 100 ms, overview page p95 ≤ 300 ms, each
under 20 concurrent clients for 60 s. The server runs as its own process (one uvicorn worker), the clients
in this one. Set INTERDIT_BENCH_DEVICES, INTERDIT_BENCH_SECONDS and INTERDIT_BENCH_CLIENTS to try other sizes.
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
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

DEVICES = int(os.environ.get("INTERDIT_BENCH_DEVICES", "100000"))
SECONDS = float(os.environ.get("INTERDIT_BENCH_SECONDS", "60"))
CLIENTS = int(os.environ.get("INTERDIT_BENCH_CLIENTS", "20"))
PASSWORD = "bench password, long enough"
TARGETS = {"findings_api": 0.100, "overview_page": 0.300}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(work: Path) -> tuple[str, Path, str]:
    """Import the fleet's two snapshots, create an admin with a token; return (db url, policy, token)."""
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
    repo.engine.dispose()
    shutil.rmtree(work / "fleet", ignore_errors=True)
    return url, policy, token


def serve(url: str, policy: str, port: int) -> None:
    """The server process: the app with its clock fixed at the fleet's last import plus six hours."""
    import uvicorn

    from interdit import fleet
    from interdit.api import create_app
    from interdit.api.context import ServerOptions
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
    stop = time.monotonic() + seconds

    async def client(n: int) -> None:
        nonlocal errors
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
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(clients)))
    wall = time.perf_counter() - t0
    return {**_percentiles(samples), "errors": errors, "req_per_s": round(len(samples) / wall, 1),
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
        url, policy, token = _prepare(work)
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

        def overview(rng: random.Random) -> tuple[str, dict[str, str]]:
            return "/", {"Cookie": f"interdit_session={cookie}"}

        api = asyncio.run(_load("127.0.0.1", port, findings, SECONDS, CLIENTS))
        page = asyncio.run(_load("127.0.0.1", port, overview, SECONDS, CLIENTS))
        figures: dict[str, Any] = {
            "devices": DEVICES, "devices_in_scope": summary["devices_in_scope"],
            "prepare_seconds": round(prepared, 1), "first_evaluation_seconds": round(first_evaluation, 2),
            "first_overview_seconds": round(first_overview, 2), "findings_api": api, "overview_page": page,
            "targets": {
                name: {"p95_ms_max": limit * 1000, "p95_ms": result.get("p95_ms"),
                       "met": result.get("p95_ms", 1e9) <= limit * 1000 and result["errors"] == 0}
                for name, limit, result in (("findings_api", TARGETS["findings_api"], api),
                                            ("overview_page", TARGETS["overview_page"], page))
            },
        }
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
