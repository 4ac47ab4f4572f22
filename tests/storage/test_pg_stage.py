"""A big PostgreSQL import stages its app rows from a child process into an unlogged table of its own: the stored
history is the same as when they are staged by the importing process, a failed child fails the whole import
(nothing changed), the child's table is gone after the import either way, and a table left by a killed import
is dropped by the next one. A first import rebuilds the keys of `app_intervals`, which keep guarding it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from storage_fixtures import DAY, T0, TIKTOK, app, dev, do_import, fleet

from interdit.errors import StorageError
from interdit.inventory.base import Record
from interdit.storage import pg_stage, snapshot
from interdit.storage.repo import Repository

pytestmark = pytest.mark.postgres


def _history(repo: Repository, source: str = "mdm") -> tuple[list[tuple[object, ...]], ...]:
    with repo.engine.connect() as conn:
        p = {"s": source}
        apps = conn.execute(text("SELECT device_id, platform, identifier, name, version, state, first_seen, "
                                 "removed_at FROM app_intervals WHERE source = :s ORDER BY 1, 2, 3, 7"), p).all()
        devices = conn.execute(text("SELECT device_id, removed_at, apps_digest IS NOT NULL FROM devices "
                                    "WHERE source = :s ORDER BY 1"), p).all()
        runs = conn.execute(text("SELECT status, devices, apps, apps_opened, apps_closed, apps_updated "
                                 "FROM import_runs WHERE source = :s ORDER BY id"), p).all()
    return [tuple(r) for r in apps], [tuple(r) for r in devices], [tuple(r) for r in runs]


def _staging_tables(repo: Repository) -> set[str]:
    with repo.engine.connect() as conn:
        return {r[0] for r in conn.execute(text("SELECT relname FROM pg_class WHERE relname LIKE 'interdit_stage_%' "
                                                                "AND relkind = 'r'"))}


def _snapshots() -> Iterator[tuple[datetime, list[Record]]]:
    yield T0, fleet(40, 12, T0, tiktok_every=3)  # no app listed twice: taken as staged
    second = fleet(40, 12, T0 + DAY, tiktok_every=5)  # TikTok removed from some, versions kept
    second = [r for r in second if getattr(r, "device_id", "") != "D00007"]  # one device gone
    # the same app listed twice for one device, apart: the last record wins
    second += [dev("D00001", T0 + DAY), app("D00001", "org.example.app001", "9.9", observed=T0 + DAY)]
    yield T0 + DAY, second
    third = fleet(40, 12, T0 + 2 * DAY, tiktok_every=5)
    third.append(app("D00002", "org.example.app003", "4.0", observed=T0 + 2 * DAY))  # an update
    yield T0 + 2 * DAY, third


@pytest.fixture()
def pg_repos(postgres_url: str, postgres_db_url: str) -> Iterator[tuple[Repository, Repository]]:
    import psycopg

    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    repos = (Repository(postgres_db_url), Repository(postgres_url.rsplit("/", 1)[0] + "/" + name))
    try:
        for r in repos:
            r.migrate()
        yield repos
    finally:
        for r in repos:
            r.close()
        with contextlib.suppress(Exception), psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture()
def repo_pg(postgres_db_url: str) -> Iterator[Repository]:
    r = Repository(postgres_db_url)
    r.migrate()
    yield r
    r.close()


def test_a_child_process_stores_what_the_importing_process_would(
        pg_repos: tuple[Repository, Repository], monkeypatch: pytest.MonkeyPatch) -> None:
    inprocess, child = pg_repos
    used: list[tuple[int, bool]] = []
    real = pg_stage.PgStageProcess.finish

    def finish(self: pg_stage.PgStageProcess) -> None:
        real(self)
        used.append((self.rows, self.apps_unique))

    monkeypatch.setattr(pg_stage.PgStageProcess, "finish", finish)
    for n, (at, records) in enumerate(_snapshots()):
        do_import(inprocess, records, at)
        with monkeypatch.context() as m:
            m.setattr(snapshot, "PROCESS_MIN_ROWS", 50)  # past 50 app rows: a child process
            m.setattr(snapshot, "CHUNK", 20)
            do_import(child, records, at)
        assert len(used) == n + 1 and used[-1][0] > 400  # the import went through a child, the other did not
        # the later snapshots list a device's records apart (the second one an app twice): the last one is picked
        assert used[-1][1] is (n == 0)
        assert _history(child) == _history(inprocess)
        assert _staging_tables(child) == set()
        if n == 1:
            apps, _, _ = _history(child)
            last_wins = [a[:6] for a in apps if a[:3] == ("D00001", "android", "org.example.app001")]
            assert last_wins[-1] == ("D00001", "android", "org.example.app001", "app001", "9.9", "installed")


def test_a_failed_child_fails_the_import_and_changes_nothing(
        repo_pg: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = repo_pg
    do_import(repo, fleet(10, 3, T0, tiktok_every=2), T0)
    before = _history(repo)
    real = pg_stage.PgStageProcess.submit

    def submit(self: pg_stage.PgStageProcess, rows: list[tuple[object, ...]]) -> None:
        real(self, rows)
        assert self.proc is not None
        self.proc.kill()  # the child dies (out of memory, killed by an operator...)
        self.proc.wait()

    monkeypatch.setattr(snapshot, "PROCESS_MIN_ROWS", 20)
    monkeypatch.setattr(snapshot, "CHUNK", 10)
    monkeypatch.setattr(pg_stage.PgStageProcess, "submit", submit)
    with pytest.raises(StorageError) as raised:
        do_import(repo, fleet(30, 12, T0 + DAY), T0 + DAY)
    assert "could not be staged" in str(raised.value) and "create tables" in (raised.value.fix or "")
    apps, devices, runs = _history(repo)
    assert (apps, devices) == before[:2]
    assert runs[:-1] == before[2] and runs[-1][0] == "failed"
    assert _staging_tables(repo) == set()
    assert TIKTOK.identifier in {a[2] for a in apps}


def test_a_child_that_cannot_connect_fails_the_import_with_its_reason(
        repo_pg: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot, "PROCESS_MIN_ROWS", 20)
    monkeypatch.setattr(snapshot, "CHUNK", 10)
    monkeypatch.setattr(pg_stage, "_child_url", lambda url: url.rsplit("/", 1)[0] + "/no_such_database")
    with pytest.raises(StorageError) as raised:
        do_import(repo_pg, fleet(30, 12, T0), T0)
    assert "could not be staged" in str(raised.value) and "no_such_database" in str(raised.value)
    assert _history(repo_pg)[:2] == ([], [])


def test_a_staging_table_left_by_a_killed_import_is_dropped_by_the_next_one(
        repo_pg: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    with repo_pg.engine.connect() as holder:  # an import that still runs: its server process is alive
        alive = int(holder.execute(text("SELECT pg_backend_pid()")).scalar_one())
        with repo_pg.engine.begin() as conn:
            # no server process has pid 0: an import killed long ago
            conn.execute(text("CREATE UNLOGGED TABLE interdit_stage_0_abc123 (device_id text)"))
            conn.execute(text(f"CREATE UNLOGGED TABLE interdit_stage_{alive}_def456 (device_id text)"))
        monkeypatch.setattr(snapshot, "PROCESS_MIN_ROWS", 20)
        monkeypatch.setattr(snapshot, "CHUNK", 10)
        do_import(repo_pg, fleet(30, 12, T0), T0)
        assert _staging_tables(repo_pg) == {f"interdit_stage_{alive}_def456"}
        assert _history(repo_pg)[2][-1][0] == "ok"


def test_a_first_import_keeps_the_keys_of_app_intervals(repo_pg: Repository) -> None:
    do_import(repo_pg, fleet(20, 5, T0, tiktok_every=2), T0)
    with repo_pg.engine.connect() as conn:
        indexes = {r[0] for r in conn.execute(text("SELECT indexname FROM pg_indexes "
                                                   "WHERE tablename = 'app_intervals'"))}
        assert indexes == {"pk_app_intervals", "ix_app_intervals_app"}
        row = conn.execute(text("SELECT source, device_id, platform, identifier, first_seen, state "
                                "FROM app_intervals LIMIT 1")).one()
        with pytest.raises(IntegrityError):
            conn.execute(text("INSERT INTO app_intervals (source, device_id, platform, identifier, first_seen, "
                              "state) VALUES (:a, :b, :c, :d, :e, :f)"),
                         dict(zip("abcdef", row, strict=True)))


KILLED = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from sqlalchemy import event
from storage_fixtures import DAY, T0, counted, fleet
from interdit.inventory.base import Tally
from interdit.storage import snapshot
from interdit.storage.repo import Repository

url, marker = sys.argv[1:3]
snapshot.PROCESS_MIN_ROWS, snapshot.CHUNK = 20, 10  # a staging process, as for a big snapshot
repo = Repository(url)

@event.listens_for(repo.engine, "after_cursor_execute")
def _after(conn, cursor, statement, parameters, context, executemany):
    if statement.startswith("INSERT INTO device_versions"):  # staged, written, not committed
        Path(marker).write_text("now")
        time.sleep(120)

tally = Tally()
repo.import_snapshot("mdm", "csv", counted(fleet(30, 12, T0 + DAY), tally), tally, at=T0 + DAY)
"""


def test_an_import_killed_after_staging_leaves_a_table_the_next_import_drops(
        repo_pg: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    do_import(repo_pg, fleet(30, 4, T0, tiktok_every=3), T0)
    before = _history(repo_pg)
    marker = tmp_path / "marker"
    here = str(Path(__file__).resolve().parent)
    child = subprocess.Popen([sys.executable, "-c", KILLED, repo_pg.url, str(marker), here],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None or time.monotonic() > deadline:
                _, err = child.communicate(timeout=5)
                pytest.fail(f"the import did not reach its last step: {err.decode()[-2000:]}")
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert len(_staging_tables(repo_pg)) == 1  # committed by the staging process, never dropped
    assert _history(repo_pg) == before  # the import itself left nothing
    monkeypatch.setattr(snapshot, "PROCESS_MIN_ROWS", 20)
    monkeypatch.setattr(snapshot, "CHUNK", 10)
    deadline = time.monotonic() + 30
    while True:  # the killed import's server process ends once it sees its client gone
        with repo_pg.engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'"))\
                    .scalar_one() == 0 or time.monotonic() > deadline:
                break
        time.sleep(0.1)
    do_import(repo_pg, fleet(30, 12, T0 + DAY), T0 + DAY)
    assert _staging_tables(repo_pg) == set()
    assert _history(repo_pg)[2][-1][0] == "ok"
