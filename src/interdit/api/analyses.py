"""APK analyses (upload APKs, read the stored verdicts), network log scans and sightings, enforcement payloads."""

from __future__ import annotations

import base64
import shutil
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from interdit import pipeline
from interdit.api.context import Admin, Analyst, Ctx, Reader, Uploader
from interdit.api.problems import PROBLEM_RESPONSES, Problem, ProblemModel, check_day
from interdit.api.schemas import (
    AnalysisJobFile,
    AnalysisJobOut,
    AnalysisOut,
    AnalysisReportOut,
    EnforcementPayloadOut,
    EnforcementTargetOut,
    LogScanOut,
    SightingOut,
    plain,
)
from interdit.api.uploads import save_uploads, work_dir
from interdit.errors import OptionError
from interdit.storage.accounts import LOGS

if TYPE_CHECKING:
    from interdit.storage.jobs import Job

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)

UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
    "required": ["files"]}}}}}


@router.post("/analyses", status_code=202, response_model=AnalysisJobOut, openapi_extra=UPLOAD_BODY,
             tags=["analyses"], responses={202: {"headers": {"Location": {
                 "description": "Where to poll the job", "schema": {"type": "string"}}}}},
             summary="Queue uploaded APK files (multipart, field `files`) for analysis; poll the job it answers")
async def analyse(request: Request, response: Response, ctx: Ctx, who: Analyst,
                  lang: Annotated[str, Query(pattern="^(en|fr)$")] = "en") -> AnalysisJobOut:
    from interdit.api.jobs import owner_name
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


@router.get("/enforcement/targets", response_model=list[EnforcementTargetOut], tags=["enforcement"],
            summary="Enforcement targets (DNS, proxy, MDM)")
def enforcement_targets(who: Reader) -> list[dict[str, str]]:
    return [{"name": n, "summary": s} for n, s in pipeline.enforcement_targets()]


@router.post("/enforcement/{target}", response_model=EnforcementPayloadOut, tags=["enforcement"],
             summary="Build the blocking payload for one target from the policy (recorded in the audit trail)")
def enforcement_payload(target: str, ctx: Ctx, who: Admin, options: Annotated[dict[str, str] | None, Body(
        embed=True, description="The target's options (as `--option KEY=VALUE`), e.g. {\"policy\": \"sinkhole\"}; "
                                "an unknown, ill-typed or inapplicable one answers 422")] = None) -> dict[str, Any]:
    if target not in {n for n, _ in pipeline.enforcement_targets()}:
        raise Problem(404, f"no enforcement target {target!r}", fix="list them with GET /api/v1/enforcement/targets")
    request = pipeline.enforcement_request(ctx.loaded_policy(), now=ctx.clock(), options=options)
    try:
        payload = pipeline.enforce(target, request, actor=who.actor, audit=ctx.audit)
    except OptionError as e:
        raise Problem(422, e.message, fix=e.fix) from None
    files = {name: (content if isinstance(content, str) else base64.b64encode(content).decode("ascii"))
             for name, content in payload.files.items()}
    return {"target": payload.target, "media_type": payload.media_type, "caveats": list(payload.caveats),
            "files": files, "binary": sorted(n for n, c in payload.files.items() if not isinstance(c, str))}
