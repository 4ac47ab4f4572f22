"""The current state of compliance, shared by the API and the dashboard, computed once and cached.

An evaluation of a large fleet takes seconds, so it is made once per (policy, latest import) and kept for
`cache_seconds`; the stored findings the API pages through come from that same evaluation.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Query

from interdit import pipeline
from interdit.errors import InputError, InterditError
from interdit.model import Device, Finding, Summary
from interdit.server.context import Actor, ServerContext
from interdit.server.problems import Problem, check_time
from interdit.server.schemas import ExceptionIn, ExceptionOut, exception_out, finding_out, plain


@dataclass(frozen=True)
class Current:
    as_of: datetime
    loaded: pipeline.LoadedPolicy
    summary: Summary
    findings: tuple[Finding, ...]
    review: tuple[tuple[str, str, date, str], ...]
    ids: tuple[str, ...] = ()  # the findings' ids, in order: cursors are positions in it
    documents: tuple[dict[str, Any], ...] = ()  # the findings as the API returns them, made once
    index: Mapping[str, Mapping[str, tuple[int, ...]]] = field(default_factory=dict)  # field -> value -> positions
    devices: Mapping[tuple[str, str], Device] = field(default_factory=dict)  # the findings' devices, as of then

    def candidates(self, **wanted: Sequence[str] | str | None) -> Iterable[int] | None:
        """Positions that may match, in order, from the narrowest indexed filter (None: no indexed filter)."""
        best: list[tuple[int, ...]] | None = None
        for name, value in wanted.items():
            if not value or name not in self.index:
                continue
            values = [value] if isinstance(value, str) else list(value)
            if name == "org_unit":
                unit = str(value).rstrip("/")
                values = [u for u in self.index[name] if u == unit or u.startswith(unit + "/")]
            lists = [self.index[name].get(v, ()) for v in values]
            if best is None or sum(map(len, lists)) < sum(map(len, best)):
                best = lists
        if best is None:
            return None
        return best[0] if len(best) == 1 else heapq.merge(*best)


def _import_key(ctx: ServerContext) -> tuple[Any, ...]:
    """What the imports look like, read from the database at most once a second."""

    def make() -> tuple[Any, ...]:
        times = ctx.repo.import_times()
        return (len(times), max(times) if times else None)

    value = ctx.cache.get("imports", (), make, ttl=1.0)
    assert isinstance(value, tuple)
    return value


def _made(ctx: ServerContext, loaded: pipeline.LoadedPolicy, as_of: datetime, summary: Summary,
          findings: Iterable[Finding]) -> Current:
    """An evaluation as both faces read it: the findings in id order, as documents, indexed by what they filter on."""
    review = tuple(pipeline.review_items(loaded.policy, as_of))
    ordered = tuple(sorted(findings, key=lambda f: f.id))
    devices = pipeline.finding_devices(ctx.repo, ordered, as_of=as_of)
    documents = tuple(finding_out(f, devices.get((f.source, f.device_id))).model_dump(mode="json") for f in ordered)
    index: dict[str, dict[str, list[int]]] = {"state": {}, "family": {}, "org_unit": {}, "source": {}, "device": {}}
    for n, f in enumerate(ordered):
        for name, value in (("state", f.state.value), ("family", f.family), ("org_unit", f.org_unit),
                            ("source", f.source), ("device", f.device_id)):
            if value is not None:
                index[name].setdefault(value, []).append(n)
    frozen = {k: {v: tuple(ns) for v, ns in d.items()} for k, d in index.items()}
    return Current(as_of, loaded, summary, ordered, review, tuple(f.id for f in ordered), documents, frozen, devices)


def current(ctx: ServerContext, *, actor: str | None = None) -> Current:
    """The latest evaluation, made again when the policy or the imports changed. An evaluation made for
    `actor` (an explicit request) is recorded in the audit trail; one made to answer a page is not."""
    loaded = ctx.loaded_policy()
    key = (loaded.digest, *_import_key(ctx))

    def make() -> Current:
        as_of = ctx.clock()
        # a page's evaluation is shared through the database: another server process over the same database
        # may have stored one moments ago, on the same policy and data (an explicit request computes its own)
        within = timedelta(seconds=ctx.options.cache_seconds) if actor is None else None
        result = pipeline.evaluate(ctx.repo, loaded, as_of=as_of, store=True, actor=actor, clock=ctx.clock,
                                   reuse_within=within)
        return _made(ctx, loaded, as_of, result.summary, result.findings)

    value = ctx.cache.get("current", key, make, stale_ok=True)
    assert isinstance(value, Current)
    return value


def at(ctx: ServerContext, when: datetime | None) -> Current:
    """The evaluation now (`current`), or as of `when` as `interdit status --as-of` makes it: not stored (the
    current findings stay today's), kept while the policy and the imports stay the same."""
    if when is None:
        return current(ctx)
    loaded = ctx.loaded_policy()

    def make() -> Current:
        result = pipeline.evaluate(ctx.repo, loaded, as_of=when, store=False)
        return _made(ctx, loaded, when, result.summary, result.findings)

    value = ctx.cache.get("as-of", (loaded.digest, *_import_key(ctx), when), make)
    assert isinstance(value, Current)
    return value


AS_OF_HELP = ("Answer for this date or time instead of now, as the CLI's --as-of reads it: "
              "2023-03-01 (the end of that day, UTC) or 2023-03-01T12:00:00Z (with its zone).")


AsOf = Annotated[str | None, Query(description=AS_OF_HELP, max_length=64, examples=["2023-03-01"])]


def as_of_param(text: str | None, name: str = "as_of") -> datetime | None:
    """An `as_of` query parameter read as the CLI's --as-of is (`pipeline.as_of_time`); None when absent; the
    CLI's error, as a 422 problem naming the parameter, otherwise."""
    if text is None or not text.strip():
        return None
    try:
        value = pipeline.as_of_time(text)
    except InputError as e:
        raise Problem(422, f"{name}: {e.message}", fix=e.fix) from None
    check_time(name, value)
    return value


def renew(ctx: ServerContext) -> None:
    """After an import: make the evaluation it changed before answering, so the importer reads its own data
    while other requests are answered from the previous evaluation instead of waiting (`cached(stale_ok)`)."""
    ctx.cache.forget("history", "fleet", "per-device", "imports")
    try:
        current(ctx)
    except Exception:  # the import stands; the next read tries again
        logging.getLogger("interdit.api").exception("could not evaluate after the import")
        ctx.cache.forget("current")


def history(ctx: ServerContext, cur: Current | None = None) -> tuple[Summary, ...]:
    """Compliance on each earlier day with an import, under today's policy (recomputed when imports or policy
    move), before the latest evaluation or before `cur` (an evaluation as of another date)."""
    if cur is None:  # the latest evaluation's: kept while the policy and the imports stay the same
        name, cur = "history", current(ctx)
        key: tuple[Any, ...] = (cur.loaded.digest, *_import_key(ctx))
    else:
        name, key = "as-of-history", (cur.loaded.digest, *_import_key(ctx), cur.as_of)
    value = ctx.cache.get(name, key, lambda: pipeline.history(ctx.repo, cur.loaded, as_of=cur.as_of), ttl=86400)
    return tuple(value)


def refresh(ctx: ServerContext, *, actor: str | None = None) -> Current:
    ctx.cache.forget("current", "history", "imports")
    return current(ctx, actor=actor)


def deadlines(cur: Current) -> list[tuple[str, str | None, date, int]]:
    """(rule id, directive, deadline, days left) for every rule, soonest first."""
    today = cur.as_of.date()
    rows = [(r.id, r.directive, r.deadline, (r.deadline - today).days) for r in cur.loaded.policy.rules]
    return sorted(rows, key=lambda r: r[2])


def matcher(*, state: Sequence[str] = (), kind: str | None = None, family: str | None = None,
            org_unit: str | None = None, source: str | None = None, since: datetime | None = None,
            until: datetime | None = None, device: str | None = None) -> Callable[[Finding], bool]:
    """A test for the findings the API and the dashboard filter on (an org unit includes the units below it)."""
    states = frozenset(state)
    unit = org_unit.rstrip("/") if org_unit else None
    below = unit + "/" if unit else ""

    def keep(f: Finding) -> bool:
        if states and f.state.value not in states:
            return False
        if (kind and f.kind.value != kind) or (family and f.family != family) or (source and f.source != source):
            return False
        if unit and not (f.org_unit == unit or (f.org_unit or "").startswith(below)):
            return False
        if (since and f.last_seen < since) or (until and f.first_seen > until):
            return False
        return not (device and f.device_id != device)

    return keep


def select(findings: Sequence[Finding], **filters: Any) -> list[Finding]:
    """The findings that pass `matcher(**filters)`, in order."""
    keep = matcher(**filters)
    return [f for f in findings if keep(f)]


def devices_by_rule(ctx: ServerContext) -> dict[tuple[str, str | None], int]:
    """(rule, directive) -> devices with a violation or a blocked-but-present app under it (cached)."""
    cur = current(ctx)

    def make() -> dict[tuple[str, str | None], int]:
        per_rule: dict[tuple[str, str | None], set[tuple[str, str]]] = {}
        for f in cur.findings:
            if f.state.value in ("violation", "blocked_present"):
                per_rule.setdefault((f.rule, f.directive), set()).add((f.source, f.device_id))
        return {k: len(v) for k, v in per_rule.items()}

    value = ctx.cache.get("by-rule", (id(cur),), make, ttl=86400)
    assert isinstance(value, dict)
    return value


# -- what both faces read and change -----------------------------------------------------------------

def device_detail(ctx: ServerContext, source: str, device_id: str) -> dict[str, Any]:
    detail = ctx.repo.device(source, device_id)
    if detail is None:
        raise Problem(404, f"no device {device_id!r} in source {source!r}", fix="list them with GET /api/v1/devices")
    out: dict[str, Any] = plain(detail)
    if getattr(detail, "versions", None):
        out["device"] = plain(detail.current)
    findings = [finding_out(f).model_dump(mode="json") for f in current(ctx).findings
                if f.source == source and f.device_id == device_id]
    out["current_findings"] = findings
    return out


def grant_exception(ctx: ServerContext, who: Actor, body: ExceptionIn) -> ExceptionOut:
    """Add an exception to the policy file (the API's and the dashboard's; the rules are the pipeline's)."""
    from interdit.pipeline.policy_edit import ExceptionRefused

    today = ctx.clock().date()
    fields = body.model_dump()
    fields["granted"] = today
    known = {f.casefold(): f for f in pipeline.catalogue().families}  # family ids are matched whatever their case
    fields["families"] = [known.get(f.casefold(), f) for f in body.families]
    path = ctx.settings.policy_path
    try:
        _, _, loaded = pipeline.add_exception(path, fields, today=today, actor=who.actor, audit=ctx.audit)
    except ExceptionRefused as e:
        raise Problem(422, e.message, fix=e.fix) from None
    except InterditError as e:
        raise _unplaced(e, path) from None
    ctx.cache.forget("policy", "current", "history")
    made = next(e for e in loaded.policy.exceptions if e.id == body.id)
    return exception_out(made, today)


def revoke_exception(ctx: ServerContext, who: Actor, exception_id: str) -> None:
    path = ctx.settings.policy_path
    try:
        pipeline.revoke_exception(path, exception_id, actor=who.actor, audit=ctx.audit)
    except InterditError as e:
        raise _unplaced(e, path) from None
    ctx.cache.forget("policy", "current", "history")


def _unplaced(error: InterditError, path: Path) -> InterditError:
    """The error naming the policy file by its name only: the server's folders are not shown to its users."""
    for e in (error, *getattr(error, "problems", ())):
        for attr in ("where", "message", "fix"):
            value = getattr(e, attr)
            if value:
                setattr(e, attr, value.replace(str(path), path.name))
        e.args = (str(e),)
    return error
