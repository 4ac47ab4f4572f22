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
    """The evaluation as of `as_of`, through the pipeline like `interdit status --as-of`; not stored (the
    current findings stay today's), kept while the policy and the imports stay the same."""
    loaded = ctx.loaded_policy()

    def make() -> views.Current:
        result = pipeline.evaluate(ctx.repo, loaded, as_of=as_of, store=False)
        return views.Current(as_of, loaded, result.summary, tuple(sorted(result.findings, key=lambda f: f.id)),
                             tuple(pipeline.review_items(loaded.policy, as_of)))

    value = ctx.cache.get("as-of", (loaded.digest, len(ctx.repo.import_times()), as_of), make)
    assert isinstance(value, views.Current)
    return value


def history(ctx: ServerContext, cur: views.Current) -> tuple[Any, ...]:
    value = ctx.cache.get("as-of-history", (cur.loaded.digest, len(ctx.repo.import_times()), cur.as_of),
                       lambda: pipeline.history(ctx.repo, cur.loaded, as_of=cur.as_of))
    return tuple(value)


def stale_latest(cur: views.Current, imports: list[datetime]) -> date | None:
    """The day of the newest import when it is older than the policy's stale limit (every device is then stale
    today, and the figures say nothing of the fleet as last seen): the overview offers it as an as-of."""
    if not imports:
        return None
    newest = max(imports)
    if cur.as_of - newest <= timedelta(days=cur.loaded.policy.stale_after_days):
        return None
    return newest.astimezone(UTC).date()
