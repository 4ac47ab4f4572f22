"""APK analyses: upload APK files (a job analyses them), poll the job, read the stored verdicts and reports."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from interdit import pipeline
from interdit.server.auth import Analyst, Reader
from interdit.server.context import Ctx
from interdit.server.problems import PROBLEM_RESPONSES, Problem, ProblemModel
from interdit.server.schemas import AnalysisJobFile, AnalysisJobOut, AnalysisOut, AnalysisReportOut, plain
from interdit.server.uploads import UPLOAD_BODY, save_uploads, work_dir

if TYPE_CHECKING:
    from interdit.storage.jobs import Job

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)


@router.post("/analyses", status_code=202, response_model=AnalysisJobOut, openapi_extra=UPLOAD_BODY,
             tags=["analyses"], responses={202: {"headers": {"Location": {
                 "description": "Where to poll the job", "schema": {"type": "string"}}}}},
             summary="Queue uploaded APK files (multipart, field `files`) for analysis; poll the job it answers")
async def analyse(request: Request, response: Response, ctx: Ctx, who: Analyst,
                  lang: Annotated[str, Query(pattern="^(en|fr)$")] = "en") -> AnalysisJobOut:
    from interdit.server.jobs import owner_name
    from interdit.storage.jobs import create_job, get_job

    folder = work_dir(ctx.options.upload_dir)
    try:
        paths = await save_uploads(request, folder, max_files=20)
        queue = ctx.analysis_queue
        job_id = await run_in_threadpool(lambda: create_job(
            ctx.repo.engine, files=[p.name for p in paths], actor=who.actor, lang=lang, owner=owner_name(),
            at=ctx.clock(), timeout=queue.timeout))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    queue.submit(ctx, job_id, folder, lang, who.actor)
    job = await run_in_threadpool(lambda: get_job(ctx.repo.engine, job_id, now=ctx.clock()))
    assert job is not None
    response.headers["Location"] = f"/api/v1/analyses/jobs/{job_id}"
    return job_out(job)


def job_out(job: Job) -> AnalysisJobOut:
    files = [AnalysisJobFile.model_validate(
        {**{k: v for k, v in r.items() if k in AnalysisJobFile.model_fields},
         "result": f"/api/v1/analyses/{r['sha256']}" if r.get("sha256") and r.get("ok") else None})
        for r in job.results]
    return AnalysisJobOut(id=job.id, status=job.status, created_at=job.created_at, started_at=job.started_at,
                          finished_at=job.finished_at, files=list(job.files), results=files,
                          error=ProblemModel(**job.error) if job.error else None,
                          links={"self": f"/api/v1/analyses/jobs/{job.id}",
                                 **({"result": files[0].result} if len(files) == 1 and files[0].result else {})})


@router.get("/analyses/jobs/{job_id}", response_model=AnalysisJobOut, tags=["analyses"],
            summary="A queued analysis: queued, running, done or failed (with a problem), and links to its results")
def analysis_job(job_id: Annotated[str, Path(pattern="^[0-9a-f]{32}$")], ctx: Ctx, who: Reader) -> AnalysisJobOut:
    from interdit.storage.jobs import get_job

    job = get_job(ctx.repo.engine, job_id, now=ctx.clock())
    if job is None:
        raise Problem(404, f"no analysis job {job_id!r}", fix="upload the files with POST /api/v1/analyses")
    return job_out(job)


@router.get("/analyses", response_model=list[AnalysisOut], tags=["analyses"],
            summary="The latest stored analysis of each package, with its verdict")
def list_analyses(ctx: Ctx, who: Reader) -> list[dict[str, Any]]:
    from interdit.storage.analyses import latest_analyses

    return [plain(a) for a in latest_analyses(ctx.repo.engine)]


@router.get("/analyses/{sha256}", response_model=AnalysisReportOut, tags=["analyses"],
            summary="One file's full stored report, as `interdit analyze --format json` writes it")
def one_analysis(sha256: Annotated[str, Path(pattern="^[0-9a-fA-F]{64}$")], ctx: Ctx, who: Reader,
                 lang: Annotated[str, Query(pattern="^(en|fr)$")] = "en") -> dict[str, Any]:
    out = pipeline.stored_analysis(ctx.repo, sha256, lang)
    if out is None:
        raise Problem(404, f"no stored analysis of a file with SHA-256 {sha256}",
                      fix="upload it with POST /api/v1/analyses")
    return out
