"""Network logs: scan uploaded DNS, proxy or TLS logs for prohibited families, and read the sightings."""

from __future__ import annotations

import shutil
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from interdit import pipeline
from interdit.server.auth import Reader, Uploader
from interdit.server.context import Ctx
from interdit.server.problems import PROBLEM_RESPONSES, Problem, check_day
from interdit.server.schemas import LogScanOut, SightingOut, plain
from interdit.server.uploads import UPLOAD_BODY, save_uploads, work_dir
from interdit.storage.accounts import LOGS

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)


@router.post("/logs", status_code=201, response_model=LogScanOut, openapi_extra=UPLOAD_BODY, tags=["sightings"],
             summary="Scan uploaded DNS, proxy or TLS logs (multipart, field `files`) for prohibited families")
async def scan(request: Request, ctx: Ctx, who: Uploader,
               format: Annotated[str | None, Query(max_length=50, description="Log format; guessed when absent.")]
               = None,
               tz: Annotated[str, Query(max_length=60, description="Time zone of times without one.")] = "UTC",
               ) -> dict[str, Any]:
    if not who.may_write(LOGS):
        raise Problem(403, "this token may not upload logs",
                      fix="create a token for the log feed with 'interdit tokens create USER NAME --logs'")
    folder = work_dir(ctx.options.upload_dir)
    try:
        paths = await save_uploads(request, folder, max_files=20)
        domains = pipeline.policy_domains(ctx.loaded_policy())
        result = await run_in_threadpool(lambda: pipeline.scan_logs(paths, families_domains=domains, repo=ctx.repo,
                                                                    fmt=format, tz=tz, jobs=1, clock=ctx.clock,
                                                                    actor=who.actor))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    files = [{**plain(f), "path": f.path.rsplit("/", 1)[-1]} for f in result.files]
    body = {"read": result.read, "matched": result.matched, "unmatched": result.unmatched,
            "rejected": result.rejected, "files": files, "sightings": len(result.sightings),
            "rejections": [{"place": r.place.rsplit("/", 1)[-1], "reason": r.reason, "fix": r.fix}
                           for r in result.rejections[:200]]}
    return body


@router.get("/sightings", response_model=list[SightingOut], tags=["sightings"],
            summary="Use of prohibited families seen in network logs, per day")
def list_sightings(ctx: Ctx, who: Reader,
                   family: Annotated[str | None, Query(max_length=100)] = None,
                   since: Annotated[date | None, Query()] = None,
                   until: Annotated[date | None, Query()] = None,
                   limit: Annotated[int, Query(ge=1, le=10_000)] = 500) -> list[dict[str, Any]]:
    check_day("since", since)
    check_day("until", until)
    return [plain(s) for s in pipeline.sightings(ctx.repo, family=family, since=since, until=until, limit=limit)]
