"""APK analyses (upload APKs, read the stored verdicts), network log scans and sightings, enforcement payloads."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from interdit import pipeline
from interdit.api.context import Admin, Analyst, Ctx, Reader, Uploader
from interdit.api.problems import PROBLEM_RESPONSES, Problem
from interdit.api.schemas import plain
from interdit.api.uploads import save_uploads, work_dir

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)

UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
    "required": ["files"]}}}}}


@router.post("/analyses", status_code=201, openapi_extra=UPLOAD_BODY, tags=["analyses"],
             summary="Analyse uploaded APK files (multipart, field `files`); verdicts are stored for evaluation")
async def analyse(request: Request, ctx: Ctx, who: Analyst,
                  lang: Annotated[str, Query(pattern="^(en|fr)$")] = "en") -> list[dict[str, Any]]:
    folder = work_dir(ctx.options.upload_dir)
    try:
        paths = await save_uploads(request, folder, max_files=20)
        reports = await run_in_threadpool(lambda: pipeline.analyze_apks(paths, repo=ctx.repo, lang=lang, jobs=1,
                                                                         clock=ctx.clock, actor=who.actor))
        out = json.loads(pipeline.render_analysis(reports, "json", lang))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    items: list[dict[str, Any]] = out if isinstance(out, list) else out.get("reports", [out])
    ctx.forget("current", "history")
    return items


@router.get("/analyses", tags=["analyses"], summary="The latest stored analysis of each package, with its verdict")
def list_analyses(ctx: Ctx, who: Reader) -> list[dict[str, Any]]:
    from interdit.storage.analyses import latest_analyses

    return [plain(a) for a in latest_analyses(ctx.repo.engine)]


@router.post("/logs", status_code=201, openapi_extra=UPLOAD_BODY, tags=["sightings"],
             summary="Scan uploaded DNS, proxy or TLS logs (multipart, field `files`) for prohibited families")
async def scan(request: Request, ctx: Ctx, who: Uploader,
               format: Annotated[str | None, Query(max_length=50, description="Log format; guessed when absent.")]
               = None,
               tz: Annotated[str, Query(max_length=60, description="Time zone of times without one.")] = "UTC",
               ) -> dict[str, Any]:
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


@router.get("/sightings", tags=["sightings"], summary="Use of prohibited families seen in network logs, per day")
def list_sightings(ctx: Ctx, who: Reader,
                   family: Annotated[str | None, Query(max_length=100)] = None,
                   since: Annotated[date | None, Query()] = None,
                   until: Annotated[date | None, Query()] = None,
                   limit: Annotated[int, Query(ge=1, le=10_000)] = 500) -> list[dict[str, Any]]:
    return [plain(s) for s in pipeline.sightings(ctx.repo, family=family, since=since, until=until, limit=limit)]


@router.get("/enforcement/targets", tags=["enforcement"], summary="Enforcement targets (DNS, proxy, MDM)")
def enforcement_targets(who: Reader) -> list[dict[str, str]]:
    return [{"name": n, "summary": s} for n, s in pipeline.enforcement_targets()]


@router.post("/enforcement/{target}", tags=["enforcement"],
             summary="Build the blocking payload for one target from the policy (recorded in the audit trail)")
def enforcement_payload(target: str, ctx: Ctx, who: Admin) -> dict[str, Any]:
    if target not in {n for n, _ in pipeline.enforcement_targets()}:
        raise Problem(404, f"no enforcement target {target!r}", fix="list them with GET /api/v1/enforcement/targets")
    request = pipeline.enforcement_request(ctx.loaded_policy(), now=ctx.clock())
    payload = pipeline.enforce(target, request, actor=who.actor, audit=ctx.audit)
    files = {name: (content if isinstance(content, str) else base64.b64encode(content).decode("ascii"))
             for name, content in payload.files.items()}
    return {"target": payload.target, "media_type": payload.media_type, "caveats": list(payload.caveats),
            "files": files, "binary": sorted(n for n, c in payload.files.items() if not isinstance(c, str))}
