"""The schedule file: what it accepts, what it refuses (naming the file, the job and the key), and when its
crontab expressions fire in a time zone, across daylight-saving changes."""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from interdit.errors import ConfigError
from interdit.pipeline.schedule import ScheduledJob, job_kinds, load_schedule, parse_schedule

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
TORONTO = ZoneInfo("America/Toronto")


def _doc(text: str) -> object:
    return YAML(typ="safe", pure=True).load(text)


def _documented_schedules() -> list[str]:
    return [b for b in re.findall(r"```yaml\n(.*?)```", DOCS.read_text("utf-8"), re.S) if "jobs:" in b]


def test_the_documented_schedules_load(tmp_path: Path) -> None:
    blocks = _documented_schedules()
    assert blocks, "docs/operations.md shows a schedule file"
    for block in blocks:
        doc = _doc(block)
        assert isinstance(doc, dict)
        if importlib.util.find_spec("interdit.pipeline.notify") is None:  # notify jobs need the notices module
            doc["jobs"] = {k: v for k, v in doc["jobs"].items() if v["kind"] != "notify"}
        schedule = parse_schedule(doc, tmp_path / "schedule.yaml")
        assert len(schedule.jobs) >= 4 and all(j.timezone == "America/Toronto" for j in schedule.jobs)


def test_every_job_kind_is_documented() -> None:
    text = DOCS.read_text("utf-8")
    missing = [name for name in job_kinds() if f"| `{name}` |" not in text]
    assert not missing, f"document these job kinds in docs/operations.md: {missing}"


def test_notify_is_refused_with_a_reason_where_notices_do_not_exist(tmp_path: Path) -> None:
    doc = _doc('jobs:\n  notices:\n    kind: notify\n    cron: "0 8 * * 1-5"\n')
    if importlib.util.find_spec("interdit.pipeline.notify") is not None:
        assert parse_schedule(doc, tmp_path / "s.yaml").jobs[0].steps == ("notify",)
        return
    with pytest.raises(ConfigError, match="cannot send notices"):
        parse_schedule(doc, tmp_path / "s.yaml")


NIGHTLY = 'timezone: America/Toronto\njobs:\n  nightly:\n    kind: evaluate\n    cron: "0 2 * * *"\n'


@pytest.mark.parametrize(("text", "where", "message"), [
    (NIGHTLY.replace("evaluate", "evaluation"), "job nightly", "unknown job kind 'evaluation'"),
    (NIGHTLY.replace("0 2 * * *", "0 25 * * *"), "job nightly: cron", "cannot read the cron expression"),
    (NIGHTLY.replace("0 2 * * *", "0 0 2 * * *"), "job nightly: cron", "cannot read the cron expression"),
    (NIGHTLY.replace("America/Toronto", "America/Montreal-Est"), "timezone", "unknown time zone"),
    (NIGHTLY + "    folder: /tmp\n", "job nightly", "unknown setting(s) folder for kind evaluate"),
    (NIGHTLY.replace("evaluate", "report"), "job nightly: folder", "needs the folder"),
    (NIGHTLY.replace("evaluate", "check-sync") + "    within_hours: -3\n", "within_hours", "above 0"),
    (NIGHTLY.replace("evaluate", "[sync, evaluate]") + "    sources: intune\n", "sources", "list of source"),
    (NIGHTLY.replace("nightly", "Nightly Sync"), "job Nightly Sync", "not usable"),
    (NIGHTLY + "    timeout_minutes: 0\n", "job nightly", "timeout_minutes"),
    (NIGHTLY.replace('    cron: "0 2 * * *"\n', ""), "job nightly", "missing cron"),
    ("timezone: UTC\n", "schedule.yaml", "no jobs"),
    (NIGHTLY + "jobz: {}\n", "schedule.yaml", "unknown key(s) jobz"),
])
def test_a_bad_schedule_is_refused_where_it_is_wrong(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as info:
        load_schedule(path)
    assert info.value.where is not None and where in info.value.where and str(path) in info.value.where
    assert message in info.value.message
    assert info.value.fix


def test_unreadable_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "schedule.yaml"
    path.write_text("jobs:\n  nightly:\n    kind: evaluate\n   cron: [\n", "utf-8")
    with pytest.raises(ConfigError) as info:
        load_schedule(path)
    assert info.value.where and re.search(r"schedule\.yaml, line \d+", info.value.where)


def test_a_missing_file_says_how_to_name_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_schedule(tmp_path / "nowhere.yaml")
    assert "INTERDIT_SCHEDULE" in (info.value.fix or "")


def _job(cron: str, zone: str = "America/Toronto", catch_up: int = 60) -> ScheduledJob:
    return ScheduledJob("j", ("evaluate",), cron, zone, catch_up=timedelta(minutes=catch_up))


def test_two_in_the_morning_in_toronto_is_seven_utc_in_winter_and_six_in_summer() -> None:
    nightly = _job("0 2 * * *")
    assert nightly.next_firing(datetime(2026, 12, 7, 12, tzinfo=UTC)) == datetime(2026, 12, 8, 7, tzinfo=UTC)
    assert nightly.next_firing(datetime(2026, 7, 7, 12, tzinfo=UTC)) == datetime(2026, 7, 8, 6, tzinfo=UTC)


def test_the_night_02_00_does_not_exist_it_runs_once() -> None:
    """8 March 2026: Toronto's clocks jump from 02:00 to 03:00. The 02:00 job runs once that night, not never."""
    nightly = _job("0 2 * * *")
    evening = datetime(2026, 3, 7, 23, tzinfo=TORONTO)
    first = nightly.next_firing(evening)
    second = nightly.next_firing(first)
    assert first.date() == datetime(2026, 3, 8).date() and first.astimezone(TORONTO).hour in (2, 3)
    assert second == datetime(2026, 3, 9, 2, tzinfo=TORONTO).astimezone(UTC)


def test_the_monthly_report_runs_on_the_first() -> None:
    monthly = _job("0 6 1 * *")
    assert monthly.next_firing(datetime(2026, 12, 7, 20, tzinfo=UTC)) == datetime(2027, 1, 1, 11, tzinfo=UTC)


def test_day_of_week_zero_is_sunday_as_in_crontab() -> None:
    sundays = _job("0 8 * * 0")
    assert sundays.next_firing(datetime(2026, 12, 7, 12, tzinfo=UTC)).astimezone(TORONTO).strftime("%A") == "Sunday"


def test_a_firing_missed_longer_than_the_catch_up_window_is_not_run() -> None:
    nightly = _job("0 2 * * *", catch_up=60)
    due = datetime(2026, 12, 7, 7, tzinfo=UTC)
    assert nightly.latest_firing(due) == due
    assert nightly.latest_firing(due + timedelta(minutes=59)) == due
    assert nightly.latest_firing(due + timedelta(minutes=61)) is None
    assert nightly.latest_firing(due - timedelta(seconds=1)) is None
    assert nightly.latest_firing(due - timedelta(microseconds=999_999)) is None  # found by hypothesis
    assert nightly.latest_firing(due + timedelta(microseconds=500_000)) == due


@settings(deadline=None)  # time zones and crontab arithmetic, not speed, are under test (the machine may be busy)
@given(minute=st.integers(0, 59), hour=st.integers(0, 23),
       now=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)))
def test_a_daily_job_fires_at_its_local_time_within_a_day(minute: int, hour: int, now: datetime) -> None:
    job = _job(f"{minute} {hour} * * *", catch_up=24 * 60 + 60)
    following = job.next_firing(now)
    latest = job.latest_firing(now)
    assert now < following <= now + timedelta(hours=25)
    assert latest is not None and latest <= now < latest + timedelta(hours=25)
    local = following.astimezone(TORONTO)
    if hour != 2:  # 02:xx is skipped once a year in Toronto (it then fires at 03:xx)
        assert (local.hour, local.minute) == (hour, minute)


def test_job_settings_stay_with_the_job(tmp_path: Path) -> None:
    doc = _doc('timezone: Europe/Paris\njobs:\n  rapport:\n    kind: report\n    cron: "0 6 1 * *"\n'
               '    folder: out\n    lang: fr\n    timezone: America/Toronto\n    timeout_minutes: 30\n'
               '  frais:\n    kind: check-sync\n    cron: "0 * * * *"\n    within_hours: 30\n')
    schedule = parse_schedule(doc, tmp_path / "s.yaml")
    rapport, frais = schedule.jobs
    assert (rapport.timezone, rapport.settings, rapport.timeout) == (
        "America/Toronto", {"folder": "out", "lang": "fr"}, timedelta(minutes=30))
    assert (frais.timezone, frais.settings, frais.steps) == ("Europe/Paris", {"within_hours": 30}, ("check-sync",))
