"""The dashboard's downloads and its jobs page: the management report (HTML, PDF) and the findings (XLSX, CSV)
as of the day the overview shows, in the viewer's language; the worker's scheduled jobs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from interdit.errors import InterditError
from interdit.pipeline import downloads, schedule
from interdit.server.auth import READERS, Principal
from interdit.server.context import ServerContext, server
from interdit.server.problems import Problem
from interdit.server.web import as_of, routes

router = APIRouter(include_in_schema=False)

# what a dashboard button asks for -> (the pipeline's function, its format)
KINDS: dict[tuple[str, str], tuple[Any, str]] = {
    ("report", "html"): (downloads.report_download, "html"),
    ("report", "pdf"): (downloads.report_download, "pdf"),
    ("findings", "xlsx"): (downloads.findings_download, "xlsx"),
    ("findings", "csv"): (downloads.findings_download, "csv-excel"),  # a person opens it: a byte-order mark
}
PAPERS = ("a4", "letter")


@router.get("/download/{what}.{fmt}")
def download(request: Request, what: str, fmt: str) -> Response:
    """The file, as an attachment: as of the page's `as_of` (now without one), in the viewer's language; the
    report on A4 or US Letter paper (`paper`)."""
    made = KINDS.get((what, fmt))
    try:
        routes.signed_in(request, READERS)
        if made is None:
            raise Problem(404, f"no download {what}.{fmt}")
        ctx = server(request)
        when = as_of.picked(request) or ctx.clock()
        lang = routes.lang_of(request)
        make, kind = made
        options: dict[str, str | None] = {}
        if what == "report":
            paper = request.query_params.get("paper", "").strip().lower() or None
            if paper is not None and paper not in PAPERS:
                raise Problem(422, f"no paper {paper!r}", fix="use a4 or letter")
            options["paper"] = paper
        if kind == "csv-excel":  # `;` in French (the decimal separator is a comma), `,` in English
            options["separator"] = ";" if lang == "fr" else ","
        content, media, name = make(ctx.repo, ctx.loaded_policy(), kind, lang, as_of=when, **options)
    except routes.Redirect as r:
        return RedirectResponse(r.url, status_code=303)
    except (Problem, InterditError) as e:  # the same error pages as every other page
        return routes.page(request, "error.html", READERS, _raise(e))
    return Response(content, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Content-Language": lang,
        "Cache-Control": "no-store", "Vary": "Accept-Language, Cookie"})


def _raise(error: Exception) -> Any:
    def make(ctx: ServerContext, who: Principal) -> dict[str, Any]:
        raise error

    return make


@router.get("/jobs")
def jobs_page(request: Request) -> Response:
    def make(ctx: ServerContext, who: Principal) -> dict[str, Any]:
        status = schedule.schedule_status(ctx.repo, clock=ctx.clock)
        return {"jobs": [_job(j) for j in status.get("jobs", [])], "at": _time(status.get("as_of"))}

    return routes.page(request, "jobs.html", READERS, make)


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _job(job: dict[str, Any]) -> dict[str, Any]:
    last = job.get("last_run") or {}
    return {**job, "next": _time(job.get("next_run")), "last": last,
            "last_at": _time(last.get("started_at") or last.get("scheduled_for")),
            "last_ok": _time(job.get("last_success"))}
