"""The trend: one point per day with an import, evaluated at that day's end; weeks, then months, for long runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from interdit.pipeline.core import TREND_POINTS, trend_instants

AS_OF = datetime(2023, 4, 1, 12, tzinfo=UTC)


def test_three_sources_synced_the_same_night_make_one_point_at_the_days_end() -> None:
    night = datetime(2023, 3, 1, 2, tzinfo=UTC)
    points = trend_instants([night, night + timedelta(minutes=20), night + timedelta(hours=3)], AS_OF)
    assert points == [datetime(2023, 3, 2, tzinfo=UTC) - timedelta(microseconds=1)]


def test_a_month_of_nightly_syncs_of_three_sources_gives_one_point_a_day() -> None:
    imports = [datetime(2023, 3, 1, 2, tzinfo=UTC) + timedelta(days=d, minutes=10 * s)
               for d in range(31) for s in range(3)]
    points = trend_instants(imports, AS_OF)
    assert len(points) == 31
    assert [p.date() for p in points] == [(datetime(2023, 3, 1) + timedelta(days=d)).date() for d in range(31)]


def test_the_as_of_day_is_left_to_the_current_summary_and_later_imports_are_ignored() -> None:
    imports = [AS_OF - timedelta(hours=2), AS_OF + timedelta(days=3), datetime(2023, 3, 30, 23, tzinfo=UTC)]
    assert trend_instants(imports, AS_OF) == [datetime(2023, 3, 31, tzinfo=UTC) - timedelta(microseconds=1)]


def test_a_long_run_is_bucketed_by_week_then_month_and_the_point_count_stays_bounded() -> None:
    start = datetime(2021, 1, 1, 2, tzinfo=UTC)
    daily_for_a_year = [start + timedelta(days=d) for d in range(365)]
    weekly = trend_instants(daily_for_a_year, datetime(2022, 6, 1, tzinfo=UTC))
    assert len(weekly) <= TREND_POINTS
    assert all(p.weekday() == 6 for p in weekly), "each point is the end of a Sunday"
    daily_for_three_years = [start + timedelta(days=d) for d in range(3 * 365)]
    monthly = trend_instants(daily_for_three_years, datetime(2025, 1, 1, tzinfo=UTC))
    assert len(monthly) == 36
    assert all((p + timedelta(microseconds=1)).day == 1 for p in monthly), "each point is a month's end"
