"""The trend: one point per day with an import, evaluated at that day's end; weeks, then months, for long runs."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta, timezone

import markupsafe
import pytest
from hypothesis import given
from hypothesis import strategies as st

from interdit.errors import InputError
from interdit.model import Summary
from interdit.pipeline.basics import TREND_POINTS, trend_instants
from interdit.pipeline.core import as_of_time
from interdit.reporting.base import figures, formats
from interdit.reporting.i18n import Translator
from interdit.testing.reports import history, report_data

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


def _point(at: datetime, compliant: int) -> Summary:
    return Summary(at=at, devices_total=120, devices_in_scope=100, compliant=compliant, by_state={}, by_family={},
                   by_org_unit={})


def test_the_report_keeps_the_last_summary_of_each_day() -> None:
    night = datetime(2023, 3, 8, 2, tzinfo=UTC)
    same_night = (_point(night, 80), _point(night + timedelta(minutes=20), 81), _point(night + timedelta(hours=1), 82))
    data = dataclasses.replace(report_data(), history=(*history(), *same_night))
    points = figures(data).points
    days = [p.at.date() for p in points]
    assert len(days) == len(set(days)) == 3, "1, 8 and 15 March: one point each"
    assert points[1].compliant == 82, "the day's last summary"
    assert points[-1] is data.summary


def test_a_month_of_points_stays_readable_in_the_html_report() -> None:
    month = tuple(_point(datetime(2023, 2, 12, 23, tzinfo=UTC) + timedelta(days=d), 60 + d) for d in range(31))
    data = dataclasses.replace(report_data(), history=month)
    html = formats.get("html")().render(data, "en")
    svg = html.split("<svg")[1].split("</svg>")[0]
    values = re.findall(r'font-weight="700" fill="#1a1a1a">([^<]+)</text>', svg)
    ticks = re.findall(r'<text x="[\d.]+" y="\d+" text-anchor="middle" fill="#333333">(\d+ \w+ \d{4})</text>', svg)
    assert 0 < len(values) <= 13 and values[-1] == Translator("en").pct(data.summary.rate), "always today's"
    assert 0 < len(ticks) <= 9
    table = html.split('id="s-trend"')[1].split("</table>")[0]
    assert table.count('<th scope="row">') == 32, "every day keeps its row in the table"


@given(st.text(max_size=40))
def test_as_of_time_reads_a_date_or_says_why_never_anything_else(text: str) -> None:
    try:
        value = as_of_time(text)
    except InputError as e:
        assert e.fix
    else:
        assert value.tzinfo is not None and value.utcoffset() == timedelta(0) and 1900 <= value.year <= 9000


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(9000, 12, 31)))
def test_a_date_is_the_end_of_that_day_utc(day: date) -> None:
    assert as_of_time(day.isoformat()) == datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(8999, 12, 31),
                    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-4)),
                                               timezone(timedelta(hours=5, minutes=30))])))
def test_a_time_with_its_zone_is_that_instant(when: datetime) -> None:
    assert as_of_time(when.isoformat()) == when


def test_a_time_whose_utc_instant_leaves_the_years_is_out_of_range() -> None:
    for text in ("1900-01-01T00:00:00+14:00", "9000-12-31T23:00:00-04:00", "0001-01-01T00:00:00+01:00"):
        with pytest.raises(InputError, match="out of range"):
            as_of_time(text)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_chart_says_what_a_point_stands_for(lang: str) -> None:
    """A day, a week (the end of each Sunday) or a month (the end of each month): the caption says which."""
    start = datetime(2021, 1, 1, 2, tzinfo=UTC)
    t = Translator(lang)
    for imports, as_of, key in (
            ([start + timedelta(days=d) for d in range(20)], datetime(2021, 1, 25, tzinfo=UTC), "chart.caption"),
            ([start + timedelta(days=d) for d in range(365)], datetime(2022, 6, 1, tzinfo=UTC), "chart.caption_week"),
            ([start + timedelta(days=d) for d in range(3 * 365)], datetime(2025, 1, 1, tzinfo=UTC),
             "chart.caption_month")):
        points = tuple(_point(at, 70) for at in trend_instants(imports, as_of))
        data = dataclasses.replace(report_data(), history=points,
                                   summary=dataclasses.replace(report_data().summary, at=as_of), as_of=as_of)
        html = formats.get("html")().render(data, lang)
        caption = html.split('id="s-trend"')[1].split("<figcaption>")[1].split("</figcaption>")[0]
        assert caption == str(markupsafe.escape(t(key))), key
