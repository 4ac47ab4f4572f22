"""The daily figures: the trend reads them instead of evaluating the history again, so a report evaluates only
the days that are new since the last one, however many imports there were; an import that reaches back into a
day has that day computed again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from interdit import fleet, pipeline
from interdit.pipeline import reports
from interdit.storage import daily

START = datetime(2023, 3, 20, 2, tzinfo=UTC)


@pytest.fixture()
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    return path


@pytest.fixture()
def snaps(tmp_path: Path) -> list[Any]:
    return list(fleet.snapshots(fleet.FleetSpec(devices=40, seed=3), tmp_path / "fleet", fleet.DEMO_DATES))


@pytest.fixture()
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[datetime]]:
    """Every evaluation the trend makes, by instant."""
    seen: list[datetime] = []
    real = reports.evaluate_policy

    def counting(*args: Any, **kwargs: Any) -> Any:
        seen.append(args[3])
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "evaluate_policy", counting)
    yield seen


def sync(repo: Any, snaps: list[Any], nights: range, per_night: int) -> None:
    """`per_night` syncs of three sources each night (a night's later syncs a few minutes apart)."""
    for night in nights:
        for k in range(per_night):
            for n, source in enumerate(("intune", "jamf", "ws1")):
                at = START + timedelta(days=night, minutes=15 * n + 60 * k)
                _, devices, apps = snaps[(night + n + k) % len(snaps)]
                pipeline.import_inventory(repo, "csv", source, [devices, apps], at=at, clock=lambda at=at: at)


@pytest.mark.parametrize("per_night", [1, 4])
def test_report_evaluates_each_day_once_whatever_the_number_of_imports(
        db_url: str, policy: Path, snaps: list[Any], calls: list[datetime], per_night: int) -> None:
    repo = pipeline.open_repository(db_url)
    loaded = pipeline.read_policy(policy)
    sync(repo, snaps, range(4), per_night)
    as_of = START + timedelta(days=3, hours=12)
    first = pipeline.history(repo, loaded, as_of=as_of)
    assert len(first) == 3 and len(calls) == 3, "three earlier days, each evaluated once"
    calls.clear()
    again = pipeline.history(repo, loaded, as_of=as_of)
    assert calls == [], "the second report reads every day from the stored figures"
    assert [(p.at, p.devices_total, p.devices_in_scope, p.compliant) for p in again] == [
        (p.at, p.devices_total, p.devices_in_scope, p.compliant) for p in first]
    # a new night: only the day that is now over is evaluated
    sync(repo, snaps, range(4, 5), per_night)
    later = pipeline.history(repo, loaded, as_of=as_of + timedelta(days=1))
    assert len(later) == 4 and calls == [reports.day_end((START + timedelta(days=3)).date())]
    repo.engine.dispose()


def test_stored_figures_are_the_evaluation_at_the_days_end(db_url: str, policy: Path, snaps: list[Any]) -> None:
    repo = pipeline.open_repository(db_url)
    loaded = pipeline.read_policy(policy)
    sync(repo, snaps, range(3), 1)
    as_of = START + timedelta(days=2, hours=12)
    pipeline.history(repo, loaded, as_of=as_of)  # computes and stores
    stored = pipeline.history(repo, loaded, as_of=as_of)  # reads back
    for p in stored:
        expected = pipeline.evaluate(repo, loaded, as_of=p.at, store=False).summary
        assert (p.devices_total, p.devices_in_scope, p.compliant) == (
            expected.devices_total, expected.devices_in_scope, expected.compliant)
        # what the dashboard and the API show of each point: by state, family, org unit, rule, source
        assert (dict(p.by_state), dict(p.by_family), dict(p.by_org_unit), dict(p.by_rule), dict(p.by_source)) == (
            dict(expected.by_state), dict(expected.by_family), dict(expected.by_org_unit), dict(expected.by_rule),
            dict(expected.by_source))
    rows = daily.read_days(repo.engine, reports.figures_key(loaded), {p.at.date() for p in stored})
    assert all({r.source for r in day_rows} == {"", "intune", "jamf", "ws1"} for day_rows in rows.values())
    for p in stored:  # the typed columns, per source, for whoever reads the table
        by_source = {r.source: r for r in rows[p.at.date()]}
        assert by_source[""].violations == p.by_state.get("violation", 0)
        for name, s in p.by_source.items():
            r = by_source[name]
            assert (r.devices, r.in_scope, r.compliant, r.violations, r.not_evaluable, r.stale) == (
                s.devices, s.in_scope, s.compliant, s.violations, s.not_evaluable, s.stale)
    repo.engine.dispose()


def test_an_import_reaching_back_recomputes_that_day_and_after(
        db_url: str, policy: Path, snaps: list[Any], calls: list[datetime]) -> None:
    repo = pipeline.open_repository(db_url)
    loaded = pipeline.read_policy(policy)
    sync(repo, snaps, range(4), 1)
    as_of = START + timedelta(days=3, hours=12)
    pipeline.history(repo, loaded, as_of=as_of)
    calls.clear()
    at = START + timedelta(days=1, hours=5)  # a late export of the second day
    _, devices, apps = snaps[0]
    pipeline.import_inventory(repo, "csv", "late", [devices, apps], at=at, clock=lambda: at)
    points = pipeline.history(repo, loaded, as_of=as_of)
    assert calls == [reports.day_end((START + timedelta(days=d)).date()) for d in (1, 2)]
    assert "late" in points[1].by_source and "late" not in points[0].by_source
    repo.engine.dispose()


def test_an_evaluation_keeps_its_days_figures(db_url: str, policy: Path, snaps: list[Any],
                                               calls: list[datetime]) -> None:
    repo = pipeline.open_repository(db_url)
    loaded = pipeline.read_policy(policy)
    sync(repo, snaps, range(3), 1)
    day = (START + timedelta(days=1)).date()
    result = pipeline.evaluate(repo, loaded, as_of=pipeline.as_of_time(day.isoformat()), clock=lambda: START)
    rows = daily.read_days(repo.engine, reports.figures_key(loaded), [day])[day]
    whole = next(r for r in rows if r.source == daily.WHOLE)
    assert (whole.in_scope, whole.compliant) == (result.summary.devices_in_scope, result.summary.compliant)
    # evaluated in the day's last second: the trend uses it for that day without evaluating it again
    pipeline.history(repo, loaded, as_of=START + timedelta(days=2, hours=12))
    assert calls == [reports.day_end(START.date())]
    repo.engine.dispose()


def test_backfill_fills_the_days_without_figures(db_url: str, policy: Path, snaps: list[Any]) -> None:
    repo = pipeline.open_repository(db_url)
    loaded = pipeline.read_policy(policy)
    sync(repo, snaps, range(3), 1)
    as_of = START + timedelta(days=2, hours=12)
    assert reports.backfill(repo, loaded, as_of=as_of) == 2
    assert daily.stored_days(repo.engine, reports.figures_key(loaded)) == [
        (START + timedelta(days=d)).date() for d in range(2)]
    assert reports.backfill(repo, loaded, as_of=as_of) == 0
    repo.engine.dispose()


def test_two_processes_storing_the_same_day_at_once_both_succeed(db_url: str) -> None:
    """Two workers' evaluations (or a report filling its trend) may store one day's figures at the same moment:
    neither fails on the other's row, and the day ends with one row per source."""
    import threading

    repo = pipeline.open_repository(db_url)
    day = datetime(2023, 3, 15, 23, 59, tzinfo=UTC)
    errors: list[BaseException] = []

    def figures(n: int) -> list[daily.DailyFigure]:
        return [daily.DailyFigure(day.date(), source, day, "stamp", 10 + n, 9, 8, 1, 0, 0)
                for source in ("", "intune", "jamf")]

    for round_ in range(15):
        start = threading.Barrier(2)

        def store(n: int, start: threading.Barrier = start) -> None:
            try:
                start.wait()
                daily.save_day(repo.engine, "policy", figures(n), computed_at=day)
            except BaseException as e:  # any failure fails the test below
                errors.append(e)

        threads = [threading.Thread(target=store, args=(round_ * 2 + k,)) for k in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    repo.close()
    assert errors == []
    stored = daily.read_days(pipeline.open_repository(db_url).engine, "policy", [day.date()])[day.date()]
    assert sorted(f.source for f in stored) == ["", "intune", "jamf"]
