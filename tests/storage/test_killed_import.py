"""An import killed half way (SIGKILL, no chance to clean up) leaves the previous state intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from storage_fixtures import DAY, T0, TIKTOK, do_import, fleet

from interdit.storage.repo import Repository

HERE = Path(__file__).resolve().parent

CHILD = r"""
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from sqlalchemy import event
from storage_fixtures import DAY, T0, counted, fleet
from interdit.inventory.base import Tally
from interdit.storage.repo import Repository

url, marker, mode = sys.argv[1:4]
repo = Repository(url)

def hang():
    Path(marker).write_text("now")
    time.sleep(120)

def records():
    yield from fleet(25, 5, T0 + DAY, tiktok_every=2)
    if mode == "stream":
        hang()

if mode == "diff":  # hang once the import has written to the main tables, before it commits
    @event.listens_for(repo.engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO device_versions"):
            hang()

tally = Tally()
repo.import_snapshot("mdm", "csv", counted(records(), tally), tally, at=T0 + DAY)
print("committed")
"""


def _snapshot(repo: Repository) -> tuple[object, ...]:
    with repo.engine.connect() as conn:
        counts = tuple(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                       for name in ("devices", "device_versions", "app_intervals", "import_runs"))
        open_apps = conn.execute(text("SELECT count(*) FROM app_intervals WHERE removed_at IS NULL")).scalar_one()
    states = sorted((s.device.device_id, s.device.observed_at, tuple(str(a.app) for a in s.apps))
                    for s in repo.device_states(T0 + 5 * DAY, (TIKTOK,), ()))
    return counts, open_apps, tuple(states)


@pytest.mark.parametrize("mode", ["stream", "diff"])
def test_a_killed_import_leaves_the_previous_state(db_url: str, tmp_path: Path, mode: str) -> None:
    repo = Repository(db_url)
    repo.migrate()
    do_import(repo, fleet(30, 4, T0, tiktok_every=3), T0)
    before = _snapshot(repo)
    marker = tmp_path / "marker"
    child = subprocess.Popen([sys.executable, "-c", CHILD, db_url, str(marker), mode, str(HERE)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None or time.monotonic() > deadline:
                out, err = child.communicate(timeout=5)
                pytest.fail(f"the import did not reach its {mode} phase: {out!r} {err.decode()[-2000:]}")
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    repo.close()
    reopened = Repository(db_url)
    reopened.migrate()
    assert _snapshot(reopened) == before
    # the database is not left locked: the same import now goes through
    result = do_import(reopened, fleet(25, 5, T0 + DAY, tiktok_every=2), T0 + DAY)
    assert result.devices_removed == 5 and _snapshot(reopened) != before
    reopened.close()
