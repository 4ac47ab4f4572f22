"""The overview as of a date: reading the page's `as_of`, evaluating the fleet as it was then (not stored), and
noticing a fleet whose newest inventory is past the policy's stale limit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import Request

from interdit import pipeline
from interdit.server import views
from interdit.server.context import ServerContext


def picked(request: Request) -> datetime | None:
    """The page's `as_of` (a date, or a time with its zone, as `interdit status --as-of` reads it); None for now.
    A bad one is an InputError: the page answers 422 with the fix."""
    text = request.query_params.get("as_of", "").strip()
    return pipeline.as_of_time(text) if text else None


def current(ctx: ServerContext, as_of: datetime) -> views.Current:
    """The evaluation as of `as_of`, through the pipeline like `interdit status --as-of` (`views.at`)."""
    return views.at(ctx, as_of)


def history(ctx: ServerContext, cur: views.Current) -> tuple[Any, ...]:
    return views.history(ctx, cur)


def stale_latest(cur: views.Current, imports: list[datetime]) -> date | None:
    """The day of the newest import when it is older than the policy's stale limit (every device is then stale
    today, and the figures say nothing of the fleet as last seen): the overview offers it as an as-of."""
    if not imports:
        return None
    newest = max(imports)
    if cur.as_of - newest <= timedelta(days=cur.loaded.policy.stale_after_days):
        return None
    return newest.astimezone(UTC).date()
