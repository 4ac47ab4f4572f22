"""Inventory imports: upload an export file (or several) and read the status of each import run."""

from __future__ import annotations

import shutil
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from interdit import pipeline
from interdit.server import views
from interdit.server.auth import Reader, Uploader
from interdit.server.context import Ctx
from interdit.server.problems import PROBLEM_RESPONSES, Problem
from interdit.server.schemas import ImportOut, ImportRunOut, plain
from interdit.server.uploads import save_uploads, work_dir

router = APIRouter(prefix="/api/v1", tags=["imports"], responses=PROBLEM_RESPONSES)

UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
    "required": ["files"]}}}}}


MAX_REJECTED_PATTERN = r"^(\d{1,9}|\d{1,3}(\.\d{1,3})? ?%|none)$"
MAX_REJECTED_HELP = ("Refuse the whole snapshot (nothing changes, 422) when more records than this are rejected: "
                     "a count (e.g. 25), a percentage of the records read (e.g. 1%), or none.")
ALLOW_SHRINK_HELP = ("Apply a snapshot that marks more than 20 % of the source's devices (from 10 devices) removed "
                     "at once; without it such a snapshot is refused (422) as a likely broken or partial export.")


@router.get("/imports/formats", summary="Inventory formats the server can read")
def formats(who: Reader) -> list[str]:
    return pipeline.inventory_formats()


@router.post("/imports", response_model=ImportOut, status_code=201, openapi_extra=UPLOAD_BODY,
             summary="Import one snapshot of a source from uploaded export files (multipart, field `files`)")
async def create_import(
    request: Request, ctx: Ctx, who: Uploader,
    format: Annotated[str, Query(min_length=1, max_length=50, description="e.g. csv, jsonl, intune")],
    source: Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._-]+$",
                                 description="The source's name, e.g. intune-prod")],
    max_rejected: Annotated[str, Query(max_length=12, pattern=MAX_REJECTED_PATTERN,
                                       description=MAX_REJECTED_HELP)] = "1%",
    allow_shrink: Annotated[bool, Query(description=ALLOW_SHRINK_HELP)] = False,
) -> ImportOut:
    if not who.may_write(source):
        raise Problem(403, f"this token may not write the source {source!r}",
                      fix="use the token made for that source, or create one with "
                          f"'interdit tokens create USER NAME --source {source}'")
    if format not in pipeline.inventory_formats():
        raise Problem(422, f"unknown inventory format {format!r}",
                      fix="use one of: " + ", ".join(pipeline.inventory_formats()))
    folder = work_dir(ctx.options.upload_dir)
    try:
        paths = await save_uploads(request, folder)
        from starlette.concurrency import run_in_threadpool

        result, tally = await run_in_threadpool(lambda: pipeline.import_inventory(
            ctx.repo, format, source, paths, clock=ctx.clock, actor=who.actor, max_rejected=max_rejected,
            allow_shrink=allow_shrink, hide=folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rejections = [{"place": r.place, "reason": r.reason, "fix": r.fix} for r in tally.rejections[:200]]
    out = ImportOut(run_id=getattr(result, "run_id", None), source=source, format=format, read=tally.read,
                    accepted=tally.accepted, rejected=tally.rejected, rejections=rejections, result=plain(result))
    await run_in_threadpool(views.renew, ctx)  # answered once the new evaluation is in place
    return out


@router.get("/imports", response_model=list[ImportRunOut],
            summary="The latest import runs, with their counts and rejections")
def list_imports(ctx: Ctx, who: Reader,
                 limit: Annotated[int, Query(ge=1, le=500)] = 20) -> list[dict[str, Any]]:
    return [plain(r) for r in ctx.repo.import_runs(limit=limit)]


@router.get("/imports/{run_id}", response_model=ImportRunOut, summary="One import run: counts and its first rejections")
def one_import(run_id: int, ctx: Ctx, who: Reader) -> dict[str, Any]:
    for r in ctx.repo.import_runs(limit=10_000):
        if str(getattr(r, "id", getattr(r, "run_id", None))) == str(run_id):
            return plain(r)  # type: ignore[no-any-return]
    raise Problem(404, f"no import run {run_id}", fix="list them with GET /api/v1/imports")
