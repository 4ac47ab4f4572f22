"""Concurrent imports and reads against the real server (uvicorn, SQLite and PostgreSQL) lose nothing.

Two ingest clients push their own source's snapshots again and again (two snapshots in turn, each with one bad
row) while readers call the findings, summary, devices and import-run APIs. Afterwards every upload has its
import run with exactly the devices, app rows and rejections sent, read = accepted + rejected, the database
holds exactly each source's last snapshot beside the untouched fleet, and no request got a 5xx.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from api.fixtures import build_workspace, running_server
from interdit import fleet
from interdit.storage import tables as t
from interdit.storage.repo import Repository

ROUNDS = 4  # uploads per ingest client
PUSHERS = ("push-a", "push-b")
READS = ("/api/v1/findings?limit=50", "/api/v1/summary", "/api/v1/devices?limit=100", "/api/v1/imports?limit=5",
         "/api/v1/findings?state=violation")
BAD_ROW = b"not,a,valid,row\n"

Upload = tuple[list[tuple[str, bytes]], dict[str, int]]


def _uploads(root: Path, seed: int) -> list[Upload]:
    spec = fleet.FleetSpec(devices=60, seed=seed)
    out: list[Upload] = []
    for n, at in enumerate(fleet.DEMO_DATES[:2]):
        d, a, n_devices, n_apps = fleet.write_snapshot(spec, root / f"push-{seed}-{n}", n, at)
        out.append(([("devices.csv", d.read_bytes()), ("apps.csv", a.read_bytes() + BAD_ROW)],
                    {"devices": n_devices, "apps": n_apps, "read": n_devices + n_apps + 1,
                     "accepted": n_devices + n_apps, "rejected": 1}))
    assert out[0][0] != out[1][0], "the two snapshots differ, so each import changes something"
    return out


def _stored(url: str) -> dict[str, tuple[int, int]]:
    """Per source: devices present and app rows open."""
    repo = Repository(url)
    try:
        with repo.engine.connect() as conn:
            devices = {s: n for s, n in conn.execute(select(t.devices.c.source, func.count()).where(
                t.devices.c.removed_at.is_(None)).group_by(t.devices.c.source))}
            apps = {s: n for s, n in conn.execute(select(t.app_intervals.c.source, func.count()).where(
                t.app_intervals.c.removed_at.is_(None)).group_by(t.app_intervals.c.source))}
    finally:
        repo.engine.dispose()
    return {s: (int(devices.get(s, 0)), int(apps.get(s, 0))) for s in {*devices, *apps}}


def test_concurrent_imports_and_reads_reconcile(db_url: str, tmp_path: Path) -> None:
    ws = build_workspace(tmp_path / "ws", db_url, devices=150)
    before = _stored(db_url)
    uploads = {source: _uploads(tmp_path, seed) for seed, source in enumerate(PUSHERS, start=21)}
    sent: dict[str, list[tuple[int, dict[str, Any], dict[str, int]]]] = {s: [] for s in PUSHERS}
    reads: list[tuple[str, int]] = []
    done = threading.Event()
    crashes: list[BaseException] = []

    def push(base: str, source: str) -> None:
        try:
            with httpx.Client(base_url=base, timeout=120,
                              headers={"Authorization": f"Bearer {ws.tokens['ingest']}"}) as http:
                for n in range(ROUNDS):
                    files, expected = uploads[source][n % 2]
                    r = http.post(f"/api/v1/imports?format=csv&source={source}",
                                  files=[("files", (name, data, "text/csv")) for name, data in files])
                    sent[source].append((r.status_code, r.json(), expected))
        except BaseException as e:  # reported by the test, not lost in the thread
            crashes.append(e)

    def read(base: str, k: int) -> None:
        try:
            with httpx.Client(base_url=base, timeout=120,
                              headers={"Authorization": f"Bearer {ws.tokens['analyst']}"}) as http:
                n = k
                while not done.is_set() or n < k + len(READS):
                    path = READS[n % len(READS)]
                    reads.append((path, http.get(path).status_code))
                    n += 1
        except BaseException as e:
            crashes.append(e)

    with running_server(ws) as base:
        pushers = [threading.Thread(target=push, args=(base, s)) for s in PUSHERS]
        readers = [threading.Thread(target=read, args=(base, k)) for k in range(3)]
        for th in (*pushers, *readers):
            th.start()
        for th in pushers:
            th.join(timeout=300)
        done.set()
        for th in readers:
            th.join(timeout=300)
        assert not crashes, crashes
        runs = httpx.get(base + "/api/v1/imports?limit=100",
                         headers={"Authorization": f"Bearer {ws.tokens['analyst']}"}).json()
        summary = httpx.get(base + "/api/v1/summary",
                            headers={"Authorization": f"Bearer {ws.tokens['analyst']}"}).json()

    assert reads and all(status == 200 for _, status in reads), [r for r in reads if r[1] != 200][:5]
    by_id = {r["id"]: r for r in runs}
    assert all(r["status"] == "ok" for r in runs), [r for r in runs if r["status"] != "ok"]
    for source in PUSHERS:
        assert len(sent[source]) == ROUNDS
        for status, body, expected in sent[source]:
            assert status == 201, body
            assert body["read"] == body["accepted"] + body["rejected"]
            assert {k: body.get(k, body["result"].get(k)) for k in expected} == expected
            run = by_id[body["run_id"]]
            assert run["source"] == source and {k: run[k] for k in expected} == expected
        assert sorted(r["id"] for r in runs if r["source"] == source) == sorted(b["run_id"] for _, b, _ in sent[source])
    last = {source: sent[source][-1][2] for source in PUSHERS}
    assert _stored(db_url) == {**before, **{s: (e["devices"], e["apps"]) for s, e in last.items()}}
    assert summary["devices_total"] == sum(d for d, _ in _stored(db_url).values())
