"""`interdit serve` under 40 anonymous clients guessing passwords: memory stays bounded, /healthz stays quick.

Each argon2id check takes 64 MiB. The server runs in its own process (its memory is what is measured), with
throttling set out of reach so that only the bound on concurrent checks holds memory down.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from api.fixtures import build_workspace, free_port

CLIENTS = 40
SECONDS = 12.0


ATTACK = """
import re, sys, threading, time
import httpx
base, clients, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
stop = time.monotonic() + seconds
statuses = []
def guess(n):
    with httpx.Client(base_url=base, timeout=30) as c:
        i = 0
        while time.monotonic() < stop:
            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
            r = c.post("/login", data={"username": f"guess-{n}-{i}", "password": "wrong password!!",
                                       "csrf_token": token.group(1)})
            statuses.append(r.status_code)
            i += 1
threads = [threading.Thread(target=guess, args=(n,)) for n in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(" ".join(map(str, statuses)))
"""


def _probe(port: int, n: int) -> list[float]:
    """Seconds for /healthz on a new connection each time, as a load balancer asks: connect, send, read to the
    end. A plain socket, so that what is timed is the server (an HTTP client library's own setup, such as its
    TLS context, costs tens of milliseconds on a busy machine)."""
    times = []
    for _ in range(n):
        began = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        times.append(time.perf_counter() - began)
        assert answer.startswith(b"HTTP/1.1 200 ") and b'"database":"ok"' in answer, answer[:300]
    return times


def _rss_peak(pid: int) -> int:
    """The process's peak resident memory (VmHWM), in bytes."""
    text = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"VmHWM:\s+(\d+) kB", text)
    assert found is not None
    return int(found.group(1)) * 1024


def test_forty_anonymous_clients_keep_the_server_small_and_answering(tmp_path: Path) -> None:
    ws = build_workspace(tmp_path / "ws", f"sqlite:///{tmp_path / 'load.db'}", devices=30)
    port = free_port()
    env = {**os.environ, "INTERDIT_DATABASE_URL": ws.url, "INTERDIT_SECRET_KEY": "k" * 32,
           "INTERDIT_SIGN_IN_FAILURES": "1000000", "INTERDIT_SIGN_IN_ADDRESS_FAILURES": "1000000",
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    server = subprocess.Popen([sys.executable, "-c", "from interdit.cli.main import app; app()", "--policy",
                               str(ws.policy), "serve", "--port", str(port)], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        start_rss = _rss_peak(server.pid)
        quiet = _probe(port, 10)
        # the clients run in a process of their own, so that their work does not slow the probe down
        clients = subprocess.Popen([sys.executable, "-c", ATTACK, base, str(CLIENTS), str(SECONDS)],
                                   env=env, stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)
        times: list[float] = []
        while clients.poll() is None:
            times += _probe(port, 1)
            time.sleep(0.2)
        out, _ = clients.communicate(timeout=60)
        statuses = [int(x) for x in out.split()]
        peak = _rss_peak(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
    assert statuses and set(statuses) <= {401, 503}, set(statuses)
    assert statuses.count(401) >= 10  # passwords were checked all along
    assert 503 in statuses  # the clients beyond the queue were told to come back, at once
    assert peak < 300 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB (from {start_rss / 2**20:.0f} MiB)"
    # /healthz answers in 100 ms (median); 95 % of the answers within half a second, half the one-second
    # timeout of a Kubernetes probe's default (load balancers allow 2 to 5 s)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"peak {peak / 2**20:.0f} MiB from {start_rss / 2**20:.0f}; healthz median {statistics.median(quiet):.3f} s "
          f"quiet, {statistics.median(times):.3f} s under attack (95 % within {p95:.3f} s, slowest {times[-1]:.3f}); "
          f"{len(statuses)} answers, {statuses.count(401)} checked, {statuses.count(503)} told to retry")
    assert statistics.median(times) <= 0.1, times
    assert p95 <= 0.5, times
