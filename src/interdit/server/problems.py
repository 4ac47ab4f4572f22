"""Errors as RFC 9457 problem details (`application/problem+json`), in one place for every route."""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from interdit.errors import ConfigError, InputError, InterditError, PolicyError, StorageError

PROBLEM = "application/problem+json"
log = logging.getLogger("interdit.api")

TITLES = {400: "Bad request", 401: "Authentication required", 403: "Forbidden", 404: "Not found",
          405: "Method not allowed", 409: "Conflict", 413: "Content too large", 415: "Unsupported media type",
          422: "Invalid input", 429: "Too many requests", 500: "Internal error", 503: "Unavailable",
          507: "Insufficient storage"}


class ProblemModel(BaseModel):
    """RFC 9457 problem details; `errors` lists each problem of an invalid input, `fix` says what to do."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    fix: str | None = None
    errors: list[dict[str, Any]] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemModel, "content": {PROBLEM: {}}, "description": TITLES[code]}
    for code in (401, 403, 404, 422)
}


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, fix: str | None = None, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None, type_: str = "about:blank") -> None:
        super().__init__(detail)
        self.status, self.detail, self.fix, self.errors, self.headers, self.type = status, detail, fix, errors, \
            headers, type_


def problem_response(status: int, detail: str | None, *, instance: str | None = None, fix: str | None = None,
                     errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
                     type_: str = "about:blank") -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "title": TITLES.get(status, "Error"), "status": status}
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if fix:
        body["fix"] = fix
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


EARLIEST, LATEST = 1900, 9000  # years a time parameter may name (beyond, date arithmetic overflows)


def check_time(name: str, value: datetime | None) -> None:
    """422 for a time without a time zone, or one out of the years interdit can compute with."""
    if value is None:
        return
    if value.tzinfo is None:
        raise Problem(422, f"{name} has no time zone", fix=f"add Z for UTC, e.g. {value.isoformat()}Z")
    if not EARLIEST <= value.year <= LATEST:
        raise Problem(422, f"{name} is out of range", fix=f"use a time between the years {EARLIEST} and {LATEST}")


def check_day(name: str, value: date | None) -> None:
    if value is not None and not EARLIEST <= value.year <= LATEST:
        raise Problem(422, f"{name} is out of range", fix=f"use a date between the years {EARLIEST} and {LATEST}")


def interdit_status(error: InterditError) -> int:
    from interdit.inflate import InflateLimit

    if isinstance(error, InflateLimit):
        return 413
    if isinstance(error, PolicyError | InputError):
        return 422
    if isinstance(error, ConfigError):
        return 409 if "already exists" in error.message else 422
    if isinstance(error, StorageError):
        return 503
    return 400


def install(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc.status, exc.detail, instance=request.url.path, fix=exc.fix, errors=exc.errors,
                                headers=exc.headers, type_=exc.type)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return problem_response(exc.status_code, str(exc.detail) if exc.detail else None, instance=request.url.path,
                                headers=dict(exc.headers) if exc.headers else None)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [{"where": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))}
                  for e in exc.errors()]
        return problem_response(422, "the request is not valid", instance=request.url.path, errors=errors,
                                fix="correct the fields listed in errors")

    async def on_interdit(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, InterditError)
        errors = None
        if isinstance(exc, PolicyError) and exc.problems:
            errors = [{"where": p.where or "", "message": p.message, "fix": p.fix or ""} for p in exc.problems]
        return problem_response(interdit_status(exc), exc.message if not exc.where else f"{exc.where}: {exc.message}",
                                instance=request.url.path, fix=exc.fix, errors=errors)

    async def on_any(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "the server could not complete the request", instance=request.url.path,
                                fix="retry; if it persists, the server log has the details")

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(InterditError, on_interdit)
    app.add_exception_handler(Exception, on_any)
