"""Configured inventory sources (live MDM APIs): list them, and sync one now (administrators)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from interdit import pipeline
from interdit.server import views
from interdit.server.api.imports import ALLOW_SHRINK_HELP, MAX_REJECTED_HELP, MAX_REJECTED_PATTERN
from interdit.server.auth import Admin, Reader
from interdit.server.context import Ctx
from interdit.server.problems import PROBLEM_RESPONSES, Problem
from interdit.server.schemas import SourceOut, SyncOut

router = APIRouter(prefix="/api/v1", tags=["sources"], responses=PROBLEM_RESPONSES)


@router.get("/sources", response_model=list[SourceOut],
            summary="Configured sources: name, type and how their credentials are given (never them)")
def list_sources(who: Reader) -> list[dict[str, Any]]:
    specs = pipeline.configured_sources()
    return [{"name": name, "type": spec.type, "credentials": pipeline.source_credentials(spec)}
            for name, spec in sorted(specs.items())]


@router.post("/sources/{name}/sync", status_code=201, response_model=SyncOut,
             summary="Read a full snapshot from a source's API now and import it (one transaction)")
async def sync(name: str, ctx: Ctx, who: Admin,
               max_rejected: Annotated[str, Query(max_length=12, pattern=MAX_REJECTED_PATTERN,
                                                  description=MAX_REJECTED_HELP)] = "1%",
               allow_shrink: Annotated[bool, Query(description=ALLOW_SHRINK_HELP)] = False) -> dict[str, Any]:
    if name not in pipeline.configured_sources():
        raise Problem(404, f"no configured source {name!r}", fix="add it with 'interdit sources add'")
    result, tally = await run_in_threadpool(lambda: pipeline.sync_source(
        ctx.repo, name, clock=ctx.clock, actor=who.actor, max_rejected=max_rejected, allow_shrink=allow_shrink))
    body = {"source": name, "read": tally.read, "accepted": tally.accepted, "rejected": tally.rejected,
            "run_id": getattr(result, "run_id", None),
            "rejections": [{"place": r.place, "reason": r.reason, "fix": r.fix} for r in tally.rejections[:200]]}
    await run_in_threadpool(views.renew, ctx)  # answered once the new evaluation is in place
    return body
