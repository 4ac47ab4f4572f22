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

from api.fixtures import build_workspace, running_server
from interdit import fleet
from interdit.storage.repo import Repository

ROUNDS = 4  # uploads per ingest client
PUSHERS = ("push-a", "push-b")
READS = ("/api/v1/findings?limit=50", "/api/v1/summary", "/api/v1/devices?limit=100", "/api/v1/imports?limit=5",
         "/api/v1/findings?state=violation")
BAD_ROW = b"not,a,valid,row\n"

def _uploads(root: Path, seed: int) -> list[fleet.Upload]:
    out = fleet.csv_uploads(fleet.FleetSpec(devices=60, seed=seed), root / f"push-{seed}", extra_app_rows=BAD_ROW,
                            extra_rejected=1)
    assert out[0][0] != out[1][0], "the two snapshots differ, so each import changes something"
    return out


def _stored(url: str) -> dict[str, tuple[int, int]]:
    """Per source: devices present and app rows open."""
    repo = Repository(url)
    try:
        return repo.present_by_source()
    finally:
        repo.engine.dispose()


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
