"""The repository on SQLite and on a real PostgreSQL: migrations, interval history, imports, findings."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from storage_fixtures import DAY, T0, TIKTOK, Count, app, counted, dev, do_import, fleet

from interdit.errors import StorageError
from interdit.inventory.base import Record, Tally
from interdit.model import (
    AppId,
    AppState,
    Finding,
    FindingKind,
    FindingState,
    Platform,
    Rejection,
    Summary,
)
from interdit.storage import tables
from interdit.storage.repo import Repository, json_strings


def _state(repo: Repository, as_of: datetime, exact: tuple[AppId, ...] = (TIKTOK,),
           prefixes: tuple[AppId, ...] = ()) -> dict[str, object]:
    return {s.device.device_id: s for s in repo.device_states(as_of, exact, prefixes)}


# -- migrations ---------------------------------------------------------------------------------------


def test_migrations_create_every_table_from_empty(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import inspect

    repo = Repository(db_url)
    assert repo.schema_revisions() == ()
    repo.migrate()
    script = ScriptDirectory.from_config(repo._alembic_config())
    assert set(repo.schema_revisions()) == set(script.get_heads())
    assert "0001" in {s.revision for s in script.walk_revisions()}
    assert set(tables.metadata.tables) <= set(inspect(repo.engine).get_table_names())
    repo.migrate()  # a second time is a no-op
    ours = set(tables.metadata.tables)

    def include_name(name: str | None, type_: str, parents: dict[str, str | None]) -> bool:
        if type_ == "schema":
            return True
        return (name in ours) if type_ == "table" else (parents.get("table_name") in ours)

    with repo.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False, "include_name": include_name})
        relevant = compare_metadata(context, tables.metadata)
    assert relevant == [], f"the migrations and tables.py disagree: {relevant}"
    repo.close()


def test_schema_newer_than_code_is_refused_with_a_fix(db_url: str) -> None:
    repo = Repository(db_url)
    repo.migrate()
    with repo.engine.begin() as conn:
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('ffff9999')"))
    with pytest.raises(StorageError) as info:
        repo.migrate()
    assert "newer" in info.value.message and "upgrade interdit" in (info.value.fix or "")
    repo.close()


def test_unreachable_databases_say_how_to_fix() -> None:
    with pytest.raises(StorageError) as info:
        Repository("sqlite:////nonexistent-folder-for-interdit/x.db")
    assert "mkdir" in (info.value.fix or "")
    repo = Repository("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StorageError) as info:
        repo.migrate()
    assert "cannot reach" in info.value.message and "--db" in (info.value.fix or "")
    with pytest.raises(StorageError):
        Repository("mysql://x@y/z")


# -- imports and intervals ------------------------------------------------------------------------------


def test_reimporting_an_identical_snapshot_adds_no_rows(repo: Repository, count: Count) -> None:
    snapshot = fleet(20, 5, tiktok_every=4)
    first = do_import(repo, snapshot, T0)
    assert (first.devices, first.apps, first.devices_new, first.apps_opened) == (20, 105, 20, 105)
    # the first import into an empty database rebuilds the app index at the end: it must be there
    from sqlalchemy import inspect

    assert "ix_app_intervals_app" in {i["name"] for i in inspect(repo.engine).get_indexes("app_intervals")}
    before = {name: count(name) for name in ("devices", "device_versions", "app_intervals")}
    again = do_import(repo, snapshot, T0 + DAY)
    assert (again.devices_new, again.devices_changed, again.devices_removed) == (0, 0, 0)
    assert (again.apps_opened, again.apps_closed) == (0, 0)
    assert {name: count(name) for name in before} == before
    # the source saw the devices again later: one new version each (observed_at moved), still no app rows
    moved = do_import(repo, fleet(20, 5, T0 + DAY, tiktok_every=4), T0 + 2 * DAY)
    assert moved.devices_changed == 0 and moved.apps_opened == 0
    assert count("device_versions") == 40 and count("app_intervals") == 105
    assert count("import_runs") == 3


def test_a_version_change_updates_the_open_interval_and_keeps_its_history(repo: Repository) -> None:
    do_import(repo, [dev("D1"), app("D1", TIKTOK.identifier, "30.1")], T0)
    t1 = T0 + DAY
    result = do_import(repo, [dev("D1", t1), app("D1", TIKTOK.identifier, "30.2")], t1)
    assert (result.apps_opened, result.apps_closed, result.apps_updated) == (0, 0, 1)
    detail = repo.device("mdm", "D1")
    assert detail is not None
    (only,) = detail.apps
    assert (only.version, only.first_seen, only.removed_at, only.last_seen) == ("30.2", T0, None, t1)
    assert [(v.version, v.interval_first_seen, v.first_seen) for v in detail.app_versions] == [
        ("30.1", T0, T0), ("30.2", T0, t1)]
    # hiding it (state change) is not a removal either: the same presence, now blocked
    t2 = T0 + 2 * DAY
    hidden = do_import(repo, [dev("D1", t2), app("D1", TIKTOK.identifier, "30.2", state=AppState.BLOCKED)], t2)
    assert (hidden.apps_opened, hidden.apps_closed, hidden.apps_updated) == (0, 0, 1)
    now = _state(repo, t2)["D1"]
    assert [(a.version, a.state, a.first_seen, a.removed_at) for a in now.apps] == [  # type: ignore[attr-defined]
        ("30.2", AppState.BLOCKED, T0, None)]
    # removed for real, then installed again: a new presence, with its own first_seen
    t3, t4 = T0 + 3 * DAY, T0 + 4 * DAY
    gone = do_import(repo, [dev("D1", t3), app("D1", "com.microsoft.teams")], t3)
    assert (gone.apps_closed, gone.apps_opened) == (1, 1)
    do_import(repo, [dev("D1", t4), app("D1", "com.microsoft.teams"), app("D1", TIKTOK.identifier, "31")], t4)
    detail = repo.device("mdm", "D1")
    assert detail is not None
    assert [(a.first_seen, a.removed_at, a.version) for a in detail.apps if a.app == TIKTOK] == [
        (T0, t3, "30.2"), (t4, None, "31")]


def test_removed_devices_leave_the_fleet_and_can_come_back(repo: Repository, count: Count) -> None:
    do_import(repo, [dev("D1"), dev("D2"), app("D2", TIKTOK.identifier)], T0)
    t1, t2 = T0 + DAY, T0 + 2 * DAY
    gone = do_import(repo, [dev("D1", t1)], t1)
    assert gone.devices_removed == 1 and gone.apps_closed == 1
    assert set(_state(repo, T0)) == {"D1", "D2"}
    assert set(_state(repo, t1)) == {"D1"}
    detail = repo.device("mdm", "D2")
    assert detail is not None and detail.removed_at == t1 and detail.apps[0].removed_at == t1
    back = do_import(repo, [dev("D1", t2), dev("D2", t2), app("D2", TIKTOK.identifier)], t2)
    assert back.devices_new == 1 and back.apps_opened == 1
    assert set(_state(repo, t2)) == {"D1", "D2"} and set(_state(repo, t1)) == {"D1"}
    apps = _state(repo, t2)["D2"].apps  # type: ignore[attr-defined]
    assert [(a.first_seen, a.removed_at) for a in apps] == [(T0, t1), (t2, None)]
    assert count("devices") == 2


def test_as_of_answers_with_the_past_as_it_was(repo: Repository) -> None:
    t1, t2 = T0 + 14 * DAY, T0 + 30 * DAY
    do_import(repo, [dev("D1", org_unit="/TBS/Communications"), app("D1", TIKTOK.identifier, "30.1"),
                     app("D1", "com.microsoft.teams")], T0)
    do_import(repo, [dev("D1", t1, org_unit="/TBS/Finance"), app("D1", "com.microsoft.teams")], t1)
    do_import(repo, [dev("D1", t2, org_unit="/TBS/Finance"), app("D1", "com.microsoft.teams"),
                     app("D1", "com.kms.free", "11")], t2)
    kaspersky = (AppId(Platform.ANDROID, "com.kms"),)
    before_any = _state(repo, T0 - DAY)
    assert before_any == {}
    then = _state(repo, T0 + DAY, prefixes=kaspersky)["D1"]
    assert then.device.org_unit == "/TBS/Communications" and then.device.observed_at == T0  # type: ignore
    assert [(str(a.app), a.removed_at) for a in then.apps] == [(str(TIKTOK), None)]  # type: ignore
    middle = _state(repo, t1, prefixes=kaspersky)["D1"]
    assert middle.device.org_unit == "/TBS/Finance"  # type: ignore[attr-defined]
    assert [(a.version, a.removed_at, a.last_seen) for a in middle.apps] == [("30.1", t1, T0)]  # type: ignore
    later = _state(repo, t2, prefixes=kaspersky)["D1"]
    assert sorted(str(a.app) for a in later.apps) == ["android:com.kms.free", str(TIKTOK)]  # type: ignore


def test_prefixes_match_the_vendor_and_below_only(repo: Repository) -> None:
    do_import(repo, [dev("D1"), app("D1", "com.kms"), app("D1", "com.kms.free"), app("D1", "com.kmsx.other"),
                     app("D1", "com.kms.free", platform=Platform.IOS)], T0)
    state = _state(repo, T0, exact=(), prefixes=(AppId(Platform.ANDROID, "com.kms"),))["D1"]
    assert sorted(str(a.app) for a in state.apps) == ["android:com.kms", "android:com.kms.free"]  # type: ignore


def test_duplicate_records_last_one_wins(repo: Repository) -> None:
    result = do_import(repo, [dev("D1", user="old@x"), app("D1", TIKTOK.identifier, "1"), dev("D1", user="new@x"),
                              app("D1", TIKTOK.identifier, "2")], T0)
    assert result.apps_opened == 1
    state = _state(repo, T0)["D1"]
    assert state.device.user == "new@x" and [a.version for a in state.apps] == ["2"]  # type: ignore


def test_an_app_record_repeated_after_another_device_still_last_one_wins(repo: Repository) -> None:
    """The same app of one device twice, with another device's records between them: the later record wins,
    on a first import and on a re-import that diffs the device (both ways of applying a snapshot)."""
    other = "com.example.notes"
    result = do_import(repo, [dev("D1"), dev("D2"), app("D1", TIKTOK.identifier, "1"), app("D2", other, "5"),
                              app("D1", TIKTOK.identifier, "2")], T0)
    assert (result.apps, result.apps_opened) == (2, 2)
    assert [a.version for a in _state(repo, T0)["D1"].apps] == ["2"]  # type: ignore
    again = do_import(repo, [dev("D1"), dev("D2"), app("D1", TIKTOK.identifier, "3"), app("D2", other, "5"),
                             app("D1", TIKTOK.identifier, "4"), app("D2", other, "6")], T0 + DAY)
    assert (again.apps_opened, again.apps_closed, again.apps_updated) == (0, 0, 2)
    states = _state(repo, T0 + DAY)
    assert [a.version for a in states["D1"].apps] == ["4"]  # type: ignore


def test_a_snapshot_older_than_the_last_import_is_refused(repo: Repository) -> None:
    do_import(repo, [dev("D1")], T0)
    with pytest.raises(StorageError) as info:
        do_import(repo, [dev("D1")], T0 - DAY)
    assert "time order" in (info.value.fix or "")
    assert [r.status for r in repo.import_runs()] == ["failed", "ok"]


def test_a_failing_record_stream_rolls_back_and_records_a_failed_run(repo: Repository, count: Count) -> None:
    do_import(repo, fleet(5, 3), T0)
    before = {name: count(name) for name in ("devices", "device_versions", "app_intervals")}

    def broken() -> Iterator[Record]:
        yield from fleet(3, 3, T0 + DAY)
        yield Rejection("apps.csv:9", "bad platform", "use android or ios")
        raise OSError("the export was cut short")

    tally = Tally()
    with pytest.raises(OSError):
        repo.import_snapshot("mdm", "csv", counted(broken(), tally), tally, at=T0 + DAY)
    assert {name: count(name) for name in before} == before
    runs = repo.import_runs()
    assert [r.status for r in runs] == ["failed", "ok"]
    assert "cut short" in (runs[0].error or "") and runs[0].rejected == 1
    assert runs[0].rejections[0].place == "apps.csv:9"
    assert repo.import_times() == [T0]
    assert set(_state(repo, T0 + 2 * DAY)) == {f"D{i:05d}" for i in range(5)}


def test_concurrent_imports_of_two_sources_do_not_mix(db_url: str) -> None:
    Repository(db_url).migrate()
    errors: list[BaseException] = []

    def run(source: str, n: int) -> None:
        try:
            repo = Repository(db_url)
            for k in range(3):
                do_import(repo, fleet(n, 4, T0 + k * DAY, source=source, tiktok_every=3), T0 + k * DAY, source)
            repo.close()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=("intune", 60)), threading.Thread(target=run, args=("jamf", 40))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    repo = Repository(db_url)
    states = list(repo.device_states(T0 + 3 * DAY, (TIKTOK,), ()))
    by_source = {s: sum(1 for x in states if x.device.source == s) for s in ("intune", "jamf")}
    assert by_source == {"intune": 60, "jamf": 40}
    assert all(a.source == x.device.source for x in states for a in x.apps)
    runs = repo.import_runs()
    assert len(runs) == 6 and all(r.status == "ok" for r in runs)
    assert sorted(r.apps_opened for r in runs if r.source == "jamf") == [0, 0, 40 * 4 + 14]
    repo.close()


# -- findings -------------------------------------------------------------------------------------------


def _finding(n: int, state: FindingState, org_unit: str, family: str = "tiktok") -> Finding:
    first = T0 + n * DAY
    fid = Finding.make_id(FindingKind.INSTALLED, "mdm", f"D{n}", "ban", family, TIKTOK, first)
    return Finding(fid, FindingKind.INSTALLED, state, "mdm", f"D{n}", "ban", family, "ca-tbs-2023-tiktok", first,
                   first + DAY, date(2023, 3, 28), app=TIKTOK, org_unit=org_unit, evidence=(f"seen {n}",))


def _summary() -> Summary:
    return Summary(T0, 10, 8, 5, {"violation": 3}, {"tiktok": 3}, {"/A": (8, 5)})


def test_findings_filters_and_pagination(repo: Repository) -> None:
    units = ["/TBS/Communications", "/TBS/Communications/Social Media", "/TBS/Finance", "/TBS/Comm", None]
    found = [_finding(n, FindingState.VIOLATION if n % 2 else FindingState.EXCEPTED, units[n % 5] or "")
             for n in range(25)]
    repo.save_evaluation(found[:3], _summary(), policy_hash="old", as_of=T0)
    repo.save_evaluation(found, _summary(), policy_hash="abc", as_of=T0 + DAY)
    everything = repo.findings()
    assert [f.id for f in everything] == sorted(f.id for f in found)
    assert everything == sorted(found, key=lambda f: f.id)  # every field survives the round trip
    violations = repo.findings(state="violation")
    assert {f.id for f in violations} == {f.id for f in found if f.state is FindingState.VIOLATION}
    assert repo.findings(state=[FindingState.VIOLATION, FindingState.EXCEPTED]) == everything
    comms = repo.findings(org_unit="/TBS/Communications")
    assert {f.org_unit for f in comms} == {"/TBS/Communications", "/TBS/Communications/Social Media"}
    assert repo.findings(family="wechat") == [] and repo.findings(source="other") == []
    assert repo.findings(kind="installed", device_id="D7") == [found[7]]
    pages, after = [], None
    while True:
        page = repo.findings(limit=10, after=after)
        if not page:
            break
        pages.append(page)
        after = page[-1].id
    assert [len(p) for p in pages] == [10, 10, 5]
    assert [f for p in pages for f in p] == everything
    latest = repo.latest_evaluation()
    assert latest is not None and latest[1] == "abc" and latest[3] == _summary()


def test_device_detail_has_versions_apps_and_findings(repo: Repository) -> None:
    do_import(repo, [dev("D1", org_unit="/A"), app("D1", TIKTOK.identifier)], T0)
    do_import(repo, [dev("D1", T0 + DAY, org_unit="/B"), app("D1", TIKTOK.identifier)], T0 + DAY)
    repo.save_evaluation([_finding(1, FindingState.VIOLATION, "/B")], _summary(), policy_hash="x", as_of=T0 + DAY)
    detail = repo.device("mdm", "D1")
    assert detail is not None
    assert [(v.valid_from, v.valid_to, v.device.org_unit) for v in detail.versions] == [
        (T0, T0 + DAY, "/A"), (T0 + DAY, None, "/B")]
    assert detail.current.org_unit == "/B" and detail.first_seen == T0 and detail.removed_at is None
    assert len(detail.apps) == 1 and detail.apps[0].last_seen == T0 + DAY
    assert [f.device_id for f in detail.findings] == ["D1"]
    assert repo.device("mdm", "nope") is None


def test_import_runs_and_times(repo: Repository) -> None:
    r1 = do_import(repo, fleet(3, 2), T0)
    r2 = do_import(repo, fleet(2, 2, T0 + DAY), T0 + DAY)
    runs = repo.import_runs(limit=5)
    assert [r.id for r in runs] == [r2.run_id, r1.run_id]
    assert runs[0].devices_removed == 1 and runs[0].status == "ok" and runs[0].read == 6
    assert runs[0].at == T0 + DAY and runs[0].at.tzinfo is not None
    assert repo.import_times() == [T0, T0 + DAY]
    assert len(repo.import_runs(limit=1)) == 1


def test_naive_times_are_refused(repo: Repository) -> None:
    with pytest.raises(ValueError):
        list(repo.device_states(datetime(2023, 3, 1), (), ()))
    assert datetime.now(UTC).tzinfo is UTC


def test_importing_the_same_instant_again_replaces_that_import(repo: Repository, count: Count) -> None:
    do_import(repo, [dev("D1"), app("D1", TIKTOK.identifier, "1")], T0)
    t1 = T0 + DAY
    do_import(repo, [dev("D1", t1), dev("D2", t1), app("D1", TIKTOK.identifier, "2"), app("D2", "com.tencent.mm")],
              t1)
    # the same snapshot time again, corrected: D2 was never there, and D1's app is still version 2
    again = do_import(repo, [dev("D1", t1), app("D1", TIKTOK.identifier, "2")], t1)
    assert again.devices_removed == 1
    assert set(_state(repo, t1)) == {"D1"} and set(_state(repo, T0)) == {"D1"}
    detail = repo.device("mdm", "D1")
    assert detail is not None
    assert [(a.version, a.first_seen, a.removed_at) for a in detail.apps] == [("2", T0, None)]
    assert [(v.version, v.first_seen) for v in detail.app_versions] == [("1", T0), ("2", t1)]
    assert [(v.valid_from, v.valid_to) for v in detail.versions] == [(T0, t1), (t1, None)]
    assert repo.device("mdm", "D2") is None  # it existed for no time at all
    assert count("app_intervals") == 1 and count("device_versions") == 2 and count("app_versions") == 2


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=12), max_size=5))
def test_stored_string_lists_read_back_exactly(values: list[str]) -> None:
    assert json_strings(json.dumps(values)) == tuple(values)


def test_a_locked_sqlite_database_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from interdit.storage import repo as repo_module

    monkeypatch.setattr(repo_module, "BUSY_TIMEOUT_S", 1)
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    repo = Repository(url)
    repo.migrate()
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer, mid-transaction
    try:
        with pytest.raises(StorageError) as info:
            do_import(repo, [dev("D1")], T0)
        assert "locked" in info.value.message and "wait" in (info.value.fix or "")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert do_import(repo, [dev("D1")], T0).devices_new == 1
    repo.close()
