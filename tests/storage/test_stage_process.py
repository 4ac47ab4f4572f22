"""A big SQLite import stages its app rows in a child process: the stored history is the same as when they are
staged in the importing process, a failed child fails the whole import (nothing changed), and no staging file
is left behind either way."""

from __future__ import annotations

import glob
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from storage_fixtures import DAY, T0, TIKTOK, app, dev, do_import, fleet

from interdit.errors import StorageError
from interdit.inventory.base import Record
from interdit.storage import snapshot, stage_process
from interdit.storage.repo import Repository


def _history(repo: Repository) -> tuple[list[tuple[object, ...]], ...]:
    with repo.engine.connect() as conn:
        apps = conn.execute(text("SELECT device_id, platform, identifier, name, version, state, first_seen, "
                                 "removed_at FROM app_intervals ORDER BY 1, 2, 3, 7")).all()
        # the digest too: the child takes it as the importing process would, so changing paths diffs nothing more
        devices = conn.execute(text("SELECT device_id, removed_at, apps_digest FROM devices ORDER BY 1")).all()
        runs = conn.execute(text("SELECT status, devices, apps, apps_opened, apps_closed, apps_updated "
                                 "FROM import_runs ORDER BY id")).all()
    return [tuple(r) for r in apps], [tuple(r) for r in devices], [tuple(r) for r in runs]


def _snapshots() -> Iterator[tuple[datetime, list[Record]]]:
    first = fleet(40, 12, T0, tiktok_every=3)
    # the same app listed twice for one device, apart: the last record wins
    first += [dev("D00001", T0), app("D00001", "org.example.app001", "9.9", observed=T0)]
    yield T0, first
    second = fleet(40, 12, T0 + DAY, tiktok_every=5)  # TikTok removed from some, versions kept
    second = [r for r in second if getattr(r, "device_id", "") != "D00007"]  # one device gone
    second.append(app("D00002", "org.example.app003", "4.0", observed=T0 + DAY))  # an update
    yield T0 + DAY, second


def _staging_files() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "interdit-stage-*")))


@pytest.fixture()
def sqlite_repos(tmp_path: Path) -> Iterator[tuple[Repository, Repository]]:
    repos = (Repository(f"sqlite:///{tmp_path / 'inprocess.db'}"), Repository(f"sqlite:///{tmp_path / 'child.db'}"))
    for r in repos:
        r.migrate()
    yield repos
    for r in repos:
        r.close()


def test_a_child_process_stores_what_the_importing_process_would(
        sqlite_repos: tuple[Repository, Repository], monkeypatch: pytest.MonkeyPatch) -> None:
    inprocess, child = sqlite_repos
    before = _staging_files()
    used: list[int] = []
    real = stage_process.StageProcess.finish

    def finish(self: stage_process.StageProcess) -> None:
        used.append(self.rows)
        real(self)

    monkeypatch.setattr(stage_process.StageProcess, "finish", finish)
    monkeypatch.setattr(snapshot, "CHUNK", 20)  # the same batches both ways (a digest is summed per batch)
    for n, (at, records) in enumerate(_snapshots()):
        do_import(inprocess, records, at)
        with monkeypatch.context() as m:
            m.setattr(snapshot, "PROCESS_MIN_ROWS", 50)  # past 50 app rows: a child process
            do_import(child, records, at)
        assert len(used) == n + 1 and used[-1] > 400  # the import went through a child, the other did not
        assert _history(child) == _history(inprocess)
        assert all(d[2] is not None for d in _history(child)[1] if d[1] is None)
        if n == 0:
            apps, _, _ = _history(child)
            last_wins = [a[:6] for a in apps if a[:3] == ("D00001", "android", "org.example.app001")]
            assert last_wins == [("D00001", "android", "org.example.app001", "app001", "9.9", "installed")]
    assert _staging_files() == before


def test_a_failed_child_fails_the_import_and_changes_nothing(
        sqlite_repos: tuple[Repository, Repository], monkeypatch: pytest.MonkeyPatch) -> None:
    repo, _ = sqlite_repos
    do_import(repo, fleet(10, 3, T0, tiktok_every=2), T0)
    before, files = _history(repo), _staging_files()
    real = stage_process.StageProcess.submit

    def submit(self: stage_process.StageProcess, rows: list[tuple[object, ...]]) -> None:
        real(self, rows)
        assert self.proc is not None
        self.proc.kill()  # the child dies (out of memory, killed by an operator...)
        self.proc.wait()

    monkeypatch.setattr(snapshot, "PROCESS_MIN_ROWS", 20)
    monkeypatch.setattr(snapshot, "CHUNK", 10)
    monkeypatch.setattr(stage_process.StageProcess, "submit", submit)
    with pytest.raises(StorageError) as raised:
        do_import(repo, fleet(30, 12, T0 + DAY), T0 + DAY)
    assert "could not be staged" in str(raised.value) and "TMPDIR" in (raised.value.fix or "")
    apps, devices, runs = _history(repo)
    assert (apps, devices) == before[:2]
    assert runs[:-1] == before[2] and runs[-1][0] == "failed"
    assert _staging_files() == files
    assert TIKTOK.identifier in {a[2] for a in apps}


def test_the_child_keeps_every_row_and_the_last_record_of_an_app() -> None:
    # more rows than one INSERT statement holds, and not a multiple of it; an app listed twice in one batch, once
    # within one statement and once across two; managed true, false and unknown
    n = stage_process.MULTI * 2 + 37
    rows = [(f"D{k // 50:05d}", "android", f"org.example.app{k % 50:03d}", f"app {k}", None if k % 3 else "1.0",
             (True, False, None)[k % 3], "installed") for k in range(n)]
    for at, k in ((0, 20), (3, stage_process.MULTI + 10)):  # the first record of each comes before the other
        rows.insert(at, (*rows[k][:3], "first", "0.1", True, "blocked"))
    process = stage_process.StageProcess(1024)
    try:
        process.submit(rows[:100])
        process.submit(rows[100:])
        process.finish()
        db = sqlite3.connect(process.path)
        stored = db.execute("SELECT * FROM stage_apps ORDER BY 1, 2, 3").fetchall()
        db.close()
    finally:
        process.close()
    expected: dict[tuple[str, str, str], tuple[object, ...]] = {}
    for r in rows:  # the last record of an app wins; bools stored as SQLite stores them, 1 and 0
        expected[r[:3]] = (*r[:5], None if r[5] is None else int(r[5]), r[6])
    assert stored == sorted(expected.values())
    assert len(stored) == n
    assert [r for r in stored if r[3] == "first"] == []
    assert not os.path.exists(process.path)
