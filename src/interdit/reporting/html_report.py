"""`html`: one self-contained report file for managers and auditors (templates/report.html.j2).

Inline CSS, an inline SVG chart, no script, no external resource: it opens offline and prints on A4.
Every value is escaped by Jinja's autoescape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any

import jinja2

from interdit.model import Directive, Finding, Summary
from interdit.reporting._scope import outside_line, unplaced_lines
from interdit.reporting._words import coverage_line, review_reason, review_timing
from interdit.reporting.base import HOLDING, Figures, ReportData, family_name, figures, formats, is_overdue, who
from interdit.reporting.i18n import NNBSP, Translator

LIST_LIMIT = 50  # rows shown in the long tables (org units); the rest is counted
DEVICE_LIMIT = 20  # devices listed per state among those not evaluable or stale; the rest is counted


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("interdit.reporting", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# --------------------------------------------------------------------------------------------------
# The chart: compliance over time, as coordinates the template draws


@dataclass(frozen=True, slots=True)
class ChartPoint:
    x: float
    y: float | None  # None: no device in scope that day, no point drawn
    label: str  # the rate, e.g. "97.3%", or "—" when no device was in scope
    date: str  # the long date
    tick: str  # the short date under the axis
    compliant: str
    in_scope: str
    valued: bool = True  # the rate is written by the point (not on every point of a long trend: they would overlap)


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    points: tuple[ChartPoint, ...]
    y_ticks: tuple[tuple[float, str], ...]  # (y, label)
    paths: tuple[str, ...]  # each polyline's points attribute: the line breaks where a date has no rate
    step: str = "day"  # what one earlier point stands for: "day", "week" or "month" (see `trend_step`)

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom

    @property
    def plot_right(self) -> int:
        return self.width - self.right


def short_date(t: Translator, s: Summary) -> str:
    d = s.at.date()
    return f"{d.day} {t(f'month_short.{d.month}')} {d.year}"


def trend_step(points: list[Summary]) -> str:
    """What one earlier point of the trend stands for: "week" when every one is the end of a Sunday and they are
    a week or more apart, "month" when every one is the end of a month and a month or more apart (a long trend
    is bucketed so), "day" otherwise. The last point, the report's own day, is left out."""
    days = [p.at.astimezone(UTC).date() for p in points[:-1]]
    if len(days) < 2:
        return "day"
    gaps = [(b - a).days for a, b in pairwise(days)]
    if all((d + timedelta(days=1)).day == 1 for d in days) and min(gaps) >= 28:
        return "month"
    if all(d.weekday() == 6 for d in days) and min(gaps) >= 7:
        return "week"
    return "day"


def chart(t: Translator, points: list[Summary]) -> Chart:
    """The chart's coordinates. A date with no device in scope has no rate: it keeps its place on the time axis
    and its row in the table ("—"), but no point, and the line does not go through it."""
    width, height, left, right, top, bottom = 720, 300, 64, 32, 28, 56
    rates = [None if p.rate is None else p.rate * 100 for p in points]
    known = [r for r in rates if r is not None]
    lowest = min(known) if known else 100.0
    step = 5 if lowest >= 85 else (10 if lowest >= 50 else 20)
    y_min = max(0.0, math.floor((lowest - 2) / step) * step)
    y_max = 100.0
    pad = 36  # keep the first and last points (and their labels) off the axes
    plot_w, plot_h = width - left - right - 2 * pad, height - top - bottom

    def y_of(rate: float) -> float:
        return round(top + (y_max - rate) / (y_max - y_min) * plot_h, 1)

    times = [p.at.timestamp() for p in points]
    span = (times[-1] - times[0]) if len(times) > 1 else 0.0
    cps = []
    for p, ts, rate in zip(points, times, rates, strict=True):
        x = left + pad + (plot_w / 2 if span == 0 else (ts - times[0]) / span * plot_w)
        y = None if rate is None else y_of(rate)
        cps.append(ChartPoint(round(x, 1), y, t.pct(p.rate), t.date(p.at.date()), short_date(t, p),
                              t.num(p.compliant), t.num(p.devices_in_scope)))
    # label at most 8 dates under the axis so they never overlap
    every = max(1, math.ceil(len(cps) / 8))
    # and write the rate by at most 12 points: those labelled, and always the last one (the table has them all)
    valued = max(1, math.ceil(len(cps) / 12))
    cps = [ChartPoint(c.x, c.y, c.label, c.date, c.tick if i % every == 0 or i == len(cps) - 1 else "",
                      c.compliant, c.in_scope, i % valued == 0 or i == len(cps) - 1)
           for i, c in enumerate(cps)]
    ticks = []
    v = y_min
    while v <= y_max + 0.01:
        ticks.append((y_of(v), t.pct(v / 100).replace(",0", "").replace(".0", "")))
        v += step
    segments: list[list[str]] = [[]]
    for c in cps:
        if c.y is None:
            segments.append([])
        else:
            segments[-1].append(f"{c.x},{c.y}")
    paths = tuple(" ".join(seg) for seg in segments if len(seg) > 1)
    return Chart(width, height, left, right, top, bottom, tuple(cps), tuple(ticks), paths, trend_step(points))


# --------------------------------------------------------------------------------------------------
# The executive summary


def _amended(t: Translator, d: Directive, day: date) -> str:
    """The directive's title, with the date of the amendment in force on `day` if there is one."""
    amended = d.amended_on(day)
    return t("directive.as_amended", title=d.title_in(t.lang), date=t.date(amended)) if amended else d.title_in(t.lang)


def executive_summary(t: Translator, data: ReportData, fig: Figures) -> list[str]:
    sm = data.summary
    if sm.rate is not None:
        opening = t("summary.opening", date=t.date(data.as_of.date()), compliant=t.num(sm.compliant),
                    in_scope=t.n("unit.devices_in_scope", sm.devices_in_scope), rate=t.pct(sm.rate),
                    organisation=data.organisation)
    else:
        opening = t("summary.no_scope", date=t.date(data.as_of.date()), organisation=data.organisation)
    sentences = [opening]
    titles = [_amended(t, d, data.as_of.date()) for d in fig.directives]
    if len(titles) == 1:
        sentences.append(t("summary.directive_one", title=titles[0]))
    elif titles:
        sep = NNBSP + "; " if t.lang == "fr" else "; "  # French: a narrow no-break space before ;
        sentences.append(t("summary.directive_many", n=t.num(len(titles)), titles=sep.join(titles)))
    blocked = fig.by_state.get("blocked_present", 0)
    if fig.holding:  # the blocked-but-installed clause only when some are
        sentences.append(t.n("summary.holding" if blocked else "summary.holding_unblocked", fig.holding,
                             overdue=t.num(fig.holding_overdue), blocked=t.num(blocked)))
    else:
        sentences.append(t("summary.holding_none"))
    unseen_ne, unseen_stale = fig.by_state.get("not_evaluable", 0), fig.by_state.get("stale", 0)
    if unseen_ne or unseen_stale:
        sentences.append(t("summary.unseen", not_evaluable=t.n("frag.not_evaluable", unseen_ne),
                           stale=t.n("frag.stale", unseen_stale)))
    if fig.not_evaluable_by_reason:
        sentences.append(coverage_line(t, fig.not_evaluable_by_reason) + ".")
    if fig.used_devices:
        sentences.append(t.n("summary.used", fig.used_devices))
    excepted = fig.by_state.get("excepted", 0)
    if excepted:
        sentences.append(t.n("summary.excepted", excepted, exceptions=t.n("unit.exceptions", len(fig.exceptions))))
    return sentences


def holding_rows(data: ReportData) -> list[tuple[Finding, dict[str, str | None], bool]]:
    """Each finding of a device that still holds a prohibited app, with who holds the device and whether it
    is past the deadline: overdue first, then by org unit and device."""
    rows = [(f, who(data, f), is_overdue(f, data.as_of)) for f in data.findings if f.state in HOLDING]
    rows.sort(key=lambda r: (not r[2], r[0].org_unit or "", r[0].source, r[0].device_id, r[0].family or ""))
    return rows


def unseen_units(fig: Figures) -> list[tuple[str, int, int]]:
    """(org unit, devices not evaluable, devices with a stale inventory), most first."""
    counts: dict[str, list[int]] = {}
    for f in fig.unseen:
        row = counts.setdefault(f.org_unit or "", [0, 0])
        row[0 if f.state.value == "not_evaluable" else 1] += 1
    return sorted(((u, ne, st) for u, (ne, st) in counts.items()), key=lambda r: (-(r[1] + r[2]), r[0]))


@formats.register
class HtmlReport:
    name = "html"
    extension = "html"
    media_type = "text/html; charset=utf-8"

    def render(self, data: ReportData, lang: str) -> str:
        t = Translator(lang)
        fig = figures(data)
        context: dict[str, Any] = {
            "t": t,
            "lang": lang,
            "data": data,
            "fig": fig,
            "summary": executive_summary(t, data, fig),
            "chart": chart(t, fig.points),
            "family_name": lambda f: family_name(data, f),
            "families": lambda ids: ", ".join(family_name(data, f) for f in ids),
            "review_reason": lambda k, i, d: review_reason(t, data, k, i, d),
            "review_timing": lambda d: review_timing(t, data, d),
            "coverage_line": coverage_line(t, fig.not_evaluable_by_reason),
            "limit": LIST_LIMIT,
            "device_limit": DEVICE_LIMIT,
            "unseen_units": unseen_units(fig),
            "holding": holding_rows(data),
            "unseen_devices": [(s, [f for f in fig.unseen if f.state.value == s])
                               for s in ("not_evaluable", "stale") if any(f.state.value == s for f in fig.unseen)],
            "outside": outside_line(t, data.summary),
            "unplaced": unplaced_lines(t, data.summary, data.catalogue),
            "states": ("violation", "blocked_present", "excepted", "not_evaluable", "stale", "resolved"),
        }
        return _environment().get_template("report.html.j2").render(context)
