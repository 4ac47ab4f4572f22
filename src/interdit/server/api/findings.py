"""Findings (filtered, cursor-paginated), the compliance summary and its history, and re-evaluation."""

from __future__ import annotations

import bisect
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from interdit import pipeline
from interdit.model import FindingKind, FindingState
from interdit.server import views
from interdit.server.auth import Analyst, Reader
from interdit.server.context import Ctx
from interdit.server.problems import PROBLEM_RESPONSES, Problem, check_time
from interdit.server.schemas import DeadlinesOut, FindingOut, FindingPage, SummaryOut, finding_out, summary_out

router = APIRouter(prefix="/api/v1", tags=["findings"], responses=PROBLEM_RESPONSES)

MAX_PAGE = 1000


@router.get("/findings", response_model=FindingPage,
            summary="Findings of the latest evaluation (or as of a date), filtered")
def list_findings(
    ctx: Ctx, who: Reader,
    state: Annotated[list[FindingState] | None, Query(description="Only these states (repeatable).")] = None,
    kind: Annotated[FindingKind | None, Query()] = None,
    family: Annotated[str | None, Query(max_length=100, description="App family id, e.g. tiktok.")] = None,
    org_unit: Annotated[str | None, Query(max_length=500, description="Org unit; includes units below.")] = None,
    source: Annotated[str | None, Query(max_length=200, description="Inventory source name.")] = None,
    device: Annotated[str | None, Query(max_length=300, description="Device id within its source.")] = None,
    since: Annotated[datetime | None, Query(description="Last seen at or after this time.")] = None,
    until: Annotated[datetime | None, Query(description="First seen at or before this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    cursor: Annotated[str | None, Query(max_length=100, description="`next_cursor` of the previous page.")] = None,
    as_of: views.AsOf = None,
) -> Any:
    check_time("since", since)
    check_time("until", until)
    cur = views.at(ctx, views.as_of_param(as_of))
    start = bisect.bisect_right(cur.ids, cursor) if cursor else 0
    keep = views.matcher(state=[s.value for s in state or ()], kind=kind.value if kind else None, family=family,
                         org_unit=org_unit, source=source, since=since, until=until, device=device)
    picked: list[int] = []
    positions = cur.candidates(state=[s.value for s in state or ()], family=family, org_unit=org_unit,
                               source=source, device=device)
    # scan forward from the cursor (through the narrowest index when a filter has one); stop when the page is full
    for i in range(start, len(cur.findings)) if positions is None else (i for i in positions if i >= start):
        if keep(cur.findings[i]):
            picked.append(i)
            if len(picked) > limit:
                break
    page = picked[:limit]
    more = len(picked) > limit
    body = {"items": [cur.documents[i] for i in page], "next_cursor": cur.ids[page[-1]] if more and page else None,
            "evaluated_at": cur.as_of.isoformat().replace("+00:00", "Z")}
    return JSONResponse(body)  # the documents were validated once, when the evaluation was made


@router.get("/findings/{finding_id}", response_model=FindingOut, summary="One finding with its evidence")
def one_finding(finding_id: str, ctx: Ctx, who: Reader, as_of: views.AsOf = None) -> dict[str, Any]:
    when = views.as_of_param(as_of)
    cur = views.at(ctx, when)
    i = bisect.bisect_left(cur.ids, finding_id)
    if i >= len(cur.ids) or cur.ids[i] != finding_id:
        raise Problem(404, f"no finding {finding_id!r} in the " + ("latest evaluation" if when is None else
                                                                   f"evaluation as of {as_of}"))
    f = cur.findings[i]
    return finding_out(f, cur.devices.get((f.source, f.device_id))).model_dump(mode="json")


@router.get("/summary", response_model=SummaryOut,
            summary="Compliance now (or as of a date): rate, by state, family, org unit and rule (directive)")
def summary(ctx: Ctx, who: Reader, as_of: views.AsOf = None) -> SummaryOut:
    return summary_out(views.at(ctx, views.as_of_param(as_of)).summary)


@router.get("/summary/history", response_model=list[SummaryOut],
            summary="Compliance on each earlier day with an import, under today's policy")
def summary_history(ctx: Ctx, who: Reader, as_of: views.AsOf = None) -> list[SummaryOut]:
    when = views.as_of_param(as_of)
    if when is None:
        return [summary_out(s) for s in (*views.history(ctx), views.current(ctx).summary)]
    cur = views.at(ctx, when)
    return [summary_out(s) for s in (*views.history(ctx, cur), cur.summary)]


@router.get("/deadlines", response_model=DeadlinesOut,
            summary="Each rule's deadline and the days left; policy items due for review")
def deadlines(ctx: Ctx, who: Reader, as_of: views.AsOf = None) -> dict[str, Any]:
    cur = views.at(ctx, views.as_of_param(as_of))
    return {"rules": [{"rule": r, "directive": d, "deadline": dl.isoformat(), "days_left": n}
                      for r, d, dl, n in views.deadlines(cur)],
            "review": [{"kind": k, "id": i, "date": dt.isoformat(), "why": why} for k, i, dt, why in cur.review]}


@router.post("/evaluations", response_model=SummaryOut,
             summary="Evaluate the policy now (or as of a date, as `interdit evaluate --as-of`) and store the findings")
def evaluate_now(ctx: Ctx, who: Analyst, as_of: views.AsOf = None) -> SummaryOut:
    when = views.as_of_param(as_of)
    if when is None:
        return summary_out(views.refresh(ctx, actor=who.actor).summary)
    result = pipeline.evaluate(ctx.repo, ctx.loaded_policy(), as_of=when, store=True, actor=who.actor, clock=ctx.clock)
    return summary_out(result.summary)
