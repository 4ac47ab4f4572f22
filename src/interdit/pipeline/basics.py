"""What every use case shares and costs nothing to import: the clock, the loaded policy, the shipped catalogue
and the words of an analysis report."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from interdit.model import Catalogue, Directive, Policy

if TYPE_CHECKING:
    from interdit.catalogue import BannedApp

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy as read, with the catalogue it was checked against and the digest of its text."""

    policy: Policy
    catalogue: Catalogue
    digest: str


# the catalogue is imported on first use: the clock and the loaded policy cost nothing to import (the CLI's own)


def catalogue() -> Catalogue:
    from interdit.catalogue import load_catalogue

    return load_catalogue()


def search_catalogue(text: str) -> list[tuple[str, str, str]]:
    from interdit.catalogue import load_catalogue
    from interdit.catalogue import search as catalogue_search

    return catalogue_search(load_catalogue(), text)


def directive_bans(directive: Directive) -> tuple[tuple[BannedApp, ...], tuple[str, ...]]:
    """The identifiers, namespaces and store names by platform, and the domains, that `directive` bans."""
    from interdit.catalogue import directive_bans as catalogue_bans
    from interdit.catalogue import load_catalogue

    return catalogue_bans(load_catalogue(), directive)


def analysis_words(lang: str) -> dict[str, Callable[..., str]]:
    """The analyzer's report vocabulary in `lang` ("en" or "fr"), for a face that lays an analysis report out
    itself: `word(key, *args)`, and the titles of a permission `group`, a `protection` level, a `severity`, an
    SDK `category`, a `weakness` (by id) and a file `problem` (by code), each `(key, default=None)`."""
    from interdit.analysis import i18n as words

    def table(entries: words.Table) -> Callable[..., str]:
        return lambda key, default=None: words.pick(entries, key, lang, default)

    return {"word": lambda key, *args: words.word(key, lang, *args), "group": table(words.GROUPS),
            "protection": table(words.PROTECTIONS), "severity": table(words.SEVERITIES),
            "category": table(words.SDK_CATEGORIES), "weakness": table(words.WEAKNESSES),
            "problem": table(words.PROBLEMS)}


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: an evaluation builds hundreds of thousands of small objects with no
    cycles among them, and the collector's repeated passes over them cost more than the evaluation itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()



# the trend keeps at most about this many points: one a day, then one a week, then one a month
TREND_POINTS = 62


def trend_instants(imports: Iterable[datetime], as_of: datetime) -> list[datetime]:
    """When the trend is evaluated: the end of each day (UTC) with an import before `as_of`'s day, so that
    several sources synced the same night make one point, the state of every source as last seen that day.
    Past TREND_POINTS days, the end of each week (Sunday) with one; past TREND_POINTS weeks, of each month.
    `as_of`'s own day is the current summary, never a point of its own here."""
    cut = as_of.astimezone(UTC).date()
    days = sorted({t.astimezone(UTC).date() for t in imports if t < as_of and t.astimezone(UTC).date() < cut})

    def week_end(d: date) -> date:
        return d + timedelta(days=6 - d.weekday())

    def month_end(d: date) -> date:
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return nxt - timedelta(days=1)

    for bucket in (week_end, month_end):
        if len(days) <= TREND_POINTS:
            break
        days = sorted({bucket(d) for d in days})
    return [min(datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1, microseconds=-1), as_of)
            for d in days[-TREND_POINTS:]]
