"""Two `interdit serve` processes over one PostgreSQL database, as behind a load balancer: an import through
either is read from the other, imports through both at once lose nothing, and the evaluation one stores is the
database's, which the other reads back."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from interdit import fleet, pipeline
from interdit.storage.accounts import AccountStore, Role
from interdit.storage.repo import Repository

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _serve(url: str, policy: Path, log: Path) -> Iterator[str]:
    """`interdit serve` as its own process (the CLI, as an operator starts it); yields its base URL."""
    port = _free_port()
    env = {**os.environ, "INTERDIT_SECRET_KEY": "one secret for every process behind the balancer"}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "interdit.cli.main", "--db", url, "--policy", str(policy),
                                 "serve", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"interdit serve did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _upload(base: str, token: str, source: str, files: list[tuple[str, bytes]]) -> dict[str, Any]:
    r = httpx.post(f"{base}/api/v1/imports?format=csv&source={source}", headers={"Authorization": f"Bearer {token}"},
                   files=[("files", (name, data, "text/csv")) for name, data in files], timeout=300)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_two_servers_share_one_database(postgres_db_url: str, tmp_path: Path) -> None:
    url = postgres_db_url
    policy = tmp_path / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    repo = pipeline.open_repository(url)
    accounts = AccountStore(repo.engine)
    accounts.add("admin", Role.ADMIN, "a long enough password for the admin")
    admin = accounts.create_token("admin", "test")[1]
    accounts.add("push", Role.INGEST, None)
    push = accounts.create_token("push", "test")[1]
    repo.close()
    # two sources of the same shape, each with two snapshots a fortnight apart; each upload stays under the
    # server's 64 KiB head bound, whatever way the network splits it
    first = fleet.csv_uploads(fleet.FleetSpec(devices=40, seed=11, filler_apps=0, banned_rate=0.2), tmp_path / "e")
    second = fleet.csv_uploads(fleet.FleetSpec(devices=30, seed=12, filler_apps=0, banned_rate=0.2), tmp_path / "w")
    assert max(sum(len(data) for _, data in files) for files, _ in first + second) < 60_000
    auth = {"Authorization": f"Bearer {admin}"}

    with _serve(url, policy, tmp_path / "a.log") as a, _serve(url, policy, tmp_path / "b.log") as b:
        # an import through A is read from B: its run, its devices, its findings
        done = _upload(a, push, "east", first[0][0])
        assert (done["result"]["devices"], done["result"]["apps"]) == (first[0][1]["devices"], first[0][1]["apps"])
        runs = httpx.get(f"{b}/api/v1/imports", headers=auth).json()
        assert [(r["id"], r["source"], r["status"]) for r in runs] == [(done["run_id"], "east", "ok")]
        summary_b = httpx.get(f"{b}/api/v1/summary", headers=auth).json()
        assert summary_b["devices_total"] == first[0][1]["devices"]

        # imports through both at once, of two sources, each snapshot in turn: nothing lost, nothing mixed
        results: dict[str, list[dict[str, Any]]] = {"east": [], "west": []}
        errors: list[BaseException] = []

        def push_all(base: str, source: str, uploads: list[fleet.Upload]) -> None:
            try:
                for files, _ in uploads:
                    results[source].append(_upload(base, push, source, files))
            except BaseException as e:  # reported by the test thread
                errors.append(e)

        threads = [threading.Thread(target=push_all, args=(b, "east", first[1:])),
                   threading.Thread(target=push_all, args=(a, "west", second))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        for source, uploads in (("east", first[1:]), ("west", second)):
            assert [(r["result"]["devices"], r["result"]["apps"], r["read"], r["rejected"])
                    for r in results[source]] == [
                (e["devices"], e["apps"], e["read"], e["rejected"]) for _, e in uploads]
        stored = Repository(url)
        try:
            assert stored.present_by_source() == {
                "east": (first[-1][1]["devices"], first[-1][1]["apps"]),
                "west": (second[-1][1]["devices"], second[-1][1]["apps"])}
            runs_stored = stored.import_runs(limit=50)
        finally:
            stored.close()
        assert sorted(r.source for r in runs_stored if r.status == "ok") == ["east", "east", "west", "west"]
        # both servers list the same runs (read from the database, not from either process's memory)
        listed_a = httpx.get(f"{a}/api/v1/imports", headers=auth).json()
        listed_b = httpx.get(f"{b}/api/v1/imports", headers=auth).json()
        assert [r["id"] for r in listed_a] == [r["id"] for r in listed_b] == [r.id for r in runs_stored]

        # an evaluation made through A is stored in the database; B answers the same figures from the same data
        # once it has seen the last import (a process reads the import runs at most once a second, and answers
        # from its previous evaluation while it makes the next one)
        evaluated = httpx.post(f"{a}/api/v1/evaluations", headers=auth, timeout=300)
        assert evaluated.status_code == 200, evaluated.text
        figures = ("devices_total", "devices_in_scope", "by_state", "rate")
        deadline = time.monotonic() + 60
        while True:
            from_b = httpx.get(f"{b}/api/v1/summary", headers=auth, timeout=300).json()
            if all(from_b[k] == evaluated.json()[k] for k in figures) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert from_b["devices_total"] == evaluated.json()["devices_total"] == (
            first[-1][1]["devices"] + second[-1][1]["devices"])
        for key in ("devices_in_scope", "by_state", "rate"):
            assert from_b[key] == evaluated.json()[key]
        stored = Repository(url)
        try:
            latest = stored.latest_evaluation()
        finally:
            stored.close()
        assert latest is not None and latest[3].devices_total == from_b["devices_total"]
