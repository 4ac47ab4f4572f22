"""Reports as files: any format as bytes with its media type and file name (what a download button serves),
and the trend read from the stored daily figures (see `interdit.storage.daily`)."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

from interdit.errors import ConfigError
from interdit.model import SourceSummary, Summary
from interdit.pipeline.basics import Clock, system_clock
from interdit.policy import candidate_patterns
from interdit.policy import evaluate as evaluate_policy
from interdit.reporting.base import ReportData, formats
from interdit.storage import daily

# the file name's extension for each built-in format (a format may declare its own `extension`)
EXTENSIONS = {"html": "html", "pdf": "pdf", "xlsx": "xlsx", "csv": "csv", "csv-excel": "csv", "json": "json",
              "findings-json": "json", "table": "txt", "findings-table": "txt"}


def made_format(fmt: str, *, width: int | None = None, **options: str | None) -> Any:
    """An instance of the format `fmt` with its options set: `width` (terminal columns) for the formats laid
    out for a terminal, and any option the format declares as an attribute (`separator`, `paper`). An option
    the format does not take is a ConfigError naming it."""
    made = formats.get(fmt)()
    if width is not None and hasattr(made, "width"):
        made.width = max(int(width), 40)
    for name, value in options.items():
        if value is None:
            continue
        if not hasattr(made, name):
            raise ConfigError(f"the {fmt} format takes no {name} option", where=f"--{name}",
                              fix=f"leave --{name} out with --format {fmt}")
        setattr(made, name, value)
    return made


def render_bytes(fmt: str, data: ReportData, lang: str, **options: str | None) -> bytes:
    """`data` in the format `fmt` as the bytes of a file: UTF-8 for the text formats."""
    made = made_format(fmt, width=None, **options)
    out = made.render(data, lang)
    return out.encode("utf-8") if isinstance(out, str) else bytes(out)


def file_name(fmt: str, data: ReportData, stem: str = "report") -> str:
    """e.g. `report-2023-03-15.pdf`: what a browser saves the download as."""
    made = formats.get(fmt)
    ext = getattr(made, "extension", None) or EXTENSIONS.get(fmt, "txt")
    return f"{stem}-{data.as_of.date().isoformat()}.{ext}"


def download(fmt: str, data: ReportData, lang: str, *, stem: str = "report",
             **options: str | None) -> tuple[bytes, str, str]:
    """(content, media type, file name) of `data` in the format `fmt`: what a download button serves, e.g.

        content, media_type, name = download("pdf", report_data(...), "fr", paper="letter")
        Response(content, media_type=media_type,
                 headers={"Content-Disposition": f'attachment; filename="{name}"'})
    """
    content = render_bytes(fmt, data, lang, **options)
    return content, str(formats.get(fmt).media_type), file_name(fmt, data, stem)


# -- the trend, from the stored daily figures --------------------------------------------------------


def figures_key(loaded: Any) -> str:
    """What the daily figures depend on besides the data: the policy file, the catalogue and the code."""
    from interdit import __version__

    return hashlib.sha256(f"{loaded.digest} {loaded.catalogue.version} {__version__}".encode()).hexdigest()


def day_end(d: date) -> datetime:
    """The last instant of `d` (UTC): the trend's point for that day."""
    return datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1, microseconds=-1)


def day_figures(summary: Summary, at: datetime, stamp: str) -> list[daily.DailyFigure]:
    """The rows the daily figures keep of one evaluation: the whole fleet's ("" source) and each source's."""
    day = at.astimezone(UTC).date()
    by_state = summary.by_state
    rows = [daily.DailyFigure(day, daily.WHOLE, at, stamp, summary.devices_total, summary.devices_in_scope,
                              summary.compliant, by_state.get("violation", 0), by_state.get("not_evaluable", 0),
                              by_state.get("stale", 0), summary)]
    rows += [daily.DailyFigure(day, name, at, stamp, s.devices, s.in_scope, s.compliant, s.violations,
                               s.not_evaluable, s.stale) for name, s in sorted(summary.by_source.items())]
    return rows


def as_summary(rows: list[daily.DailyFigure]) -> Summary:
    """A trend point from a day's stored rows: the evaluation's full summary when kept (it always is, since the
    figures are written from one), else the whole fleet's figures and each source's."""
    whole = next(r for r in rows if r.source == daily.WHOLE)
    if whole.summary is not None:
        return whole.summary
    return Summary(
        at=whole.at, devices_total=whole.devices, devices_in_scope=whole.in_scope, compliant=whole.compliant,
        by_state={"violation": whole.violations, "not_evaluable": whole.not_evaluable, "stale": whole.stale},
        by_family={}, by_org_unit={},
        by_source={r.source: SourceSummary(devices=r.devices, in_scope=r.in_scope, compliant=r.compliant,
                                           violations=r.violations, not_evaluable=r.not_evaluable, stale=r.stale)
                   for r in rows if r.source != daily.WHOLE})


def record_day(repo: Any, loaded: Any, summary: Summary, *, at: datetime, clock: Clock = system_clock) -> None:
    """Keep an evaluation's figures as its day's (`at`'s, UTC), replacing what was kept for that day. The trend
    uses them for that day when they were evaluated in the day's last second; earlier ones are kept until then."""
    stamp = daily.day_stamp(repo.engine, at)
    daily.save_day(repo.engine, figures_key(loaded), day_figures(summary, at, stamp), computed_at=clock())


def _usable(rows: list[daily.DailyFigure] | None, instant: datetime, stamp: str) -> bool:
    """Stored rows answer for `instant` when evaluated in its last second, on the same stored data."""
    if not rows or not any(r.source == daily.WHOLE for r in rows):
        return False
    whole = next(r for r in rows if r.source == daily.WHOLE)
    return instant - timedelta(seconds=1) <= whole.at <= instant and whole.stamp == stamp


def history(repo: Any, loaded: Any, *, as_of: datetime, clock: Clock = system_clock) -> tuple[Summary, ...]:
    """Compliance at the end of each earlier day with an import (one point a day, a week or a month: see
    `basics.trend_instants`), under today's policy: each point the state of every source as last seen that day.

    Each point is read from the stored daily figures; a day without figures, or whose figures were computed on
    other data (an import or log scan since that reaches back to that day), is evaluated once and its figures
    stored. So a report evaluates at most the days that are new since the last one, however many imports there
    were."""
    from interdit.pipeline.basics import trend_instants

    instants = trend_instants(repo.import_times(), as_of)
    if not instants:
        return ()
    key = figures_key(loaded)
    stored = daily.read_days(repo.engine, key, {t.date() for t in instants})
    points: dict[datetime, Summary] = {}
    missing: list[tuple[datetime, str]] = []
    for t in instants:
        stamp = daily.day_stamp(repo.engine, t)
        rows = stored.get(t.date())
        if rows is not None and _usable(rows, t, stamp):
            points[t] = dataclasses.replace(as_summary(rows), at=t)
        else:
            missing.append((t, stamp))
    for t, summary in evaluate_instants(repo, loaded, [t for t, _ in missing]):
        points[t] = summary
    for t, stamp in missing:
        if t == day_end(t.date()):  # a day that is over (not the report's own, cut at `as_of`)
            daily.save_day(repo.engine, key, day_figures(points[t], t, stamp), computed_at=clock())
    return tuple(points[t] for t in instants)


def evaluate_instants(repo: Any, loaded: Any, instants: list[datetime]) -> list[tuple[datetime, Summary]]:
    """The policy evaluated at each instant, from stored history. What does not depend on the instant (the APK
    evidence, the patterns the policy asks the storage for, the sources' types) is read once for all."""
    from interdit.pipeline.analysis import app_evidence
    from interdit.pipeline.basics import gc_paused
    from interdit.pipeline.network import sightings
    from interdit.pipeline.orgunits import source_types

    if not instants:
        return []
    by_evidence = any(r.sdk_vendors or r.endpoint_vendors for r in loaded.policy.rules)
    evidence = app_evidence(repo) if by_evidence else None
    exact, prefixes = candidate_patterns(loaded.policy, loaded.catalogue, evidence=evidence or ())
    types = source_types(repo)
    out = []
    with gc_paused():
        for t in instants:
            states = repo.device_states(t, exact, prefixes)
            result = evaluate_policy(loaded.policy, loaded.catalogue, states, t,
                                     sightings=sightings(repo, until=t.date()), evidence=evidence,
                                     source_types=types)
            out.append((t, result.summary))
    return out


def backfill(repo: Any, loaded: Any, *, as_of: datetime, clock: Clock = system_clock) -> int:
    """Compute and store the daily figures the trend at `as_of` needs and does not have; the days computed."""
    from interdit.pipeline.basics import trend_instants

    instants = trend_instants(repo.import_times(), as_of)
    before = daily.read_days(repo.engine, figures_key(loaded), {t.date() for t in instants})
    missing = sum(1 for t in instants if not _usable(before.get(t.date()), t, daily.day_stamp(repo.engine, t)))
    history(repo, loaded, as_of=as_of, clock=clock)
    return missing
