"""Reports: generate one in any registered format and language, and download it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from interdit import pipeline
from interdit.server import views
from interdit.server.auth import Reader
from interdit.server.context import Ctx
from interdit.server.problems import PROBLEM_RESPONSES, Problem

router = APIRouter(prefix="/api/v1", tags=["reports"], responses=PROBLEM_RESPONSES)

MEDIA = {"html": ("text/html; charset=utf-8", "html"), "json": ("application/json", "json"),
         "findings-json": ("application/json", "json"), "csv": ("text/csv; charset=utf-8", "csv")}


@router.get("/reports/formats", summary="The report formats the server can produce")
def report_formats(who: Reader) -> list[str]:
    return pipeline.report_formats()


@router.get("/reports/{fmt}", summary="Generate a report and download it (evaluates the policy first)",
            response_class=Response, responses={200: {
                "description": "The report, as a download (Content-Disposition: attachment)",
                "content": {"text/html": {"schema": {"type": "string"}},
                            "application/json": {"schema": {"type": "object"}},
                            "text/csv": {"schema": {"type": "string"}},
                            "text/plain": {"schema": {"type": "string"}}}}})
def report(fmt: str, ctx: Ctx, who: Reader,
           lang: Annotated[str, Query(pattern="^(en|fr)$")] = "en",
           as_of: views.AsOf = None,
           history: Annotated[bool, Query(
               description="Include the trend: compliance at the end of each earlier day with an import.")] = False,
           ) -> Response:
    if fmt not in pipeline.report_formats():
        raise Problem(404, f"no report format {fmt!r}", fix="use one of: " + ", ".join(pipeline.report_formats()))
    when = views.as_of_param(as_of) or ctx.clock()
    data = pipeline.report_data(ctx.repo, ctx.loaded_policy(), as_of=when, clock=ctx.clock, with_history=history)
    text = pipeline.render(fmt, data, lang)
    media, ext = MEDIA.get(fmt, ("text/plain; charset=utf-8", "txt"))
    name = f"interdit-{fmt}-{when:%Y%m%d}-{lang}.{ext}"
    return Response(text, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})
