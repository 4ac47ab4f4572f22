"""The server application: the API routers, the dashboard, /docs, /openapi.json and the security headers.

`create_app(settings)` builds the whole server; nothing is opened until the first request (or start-up).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from interdit import __version__
from interdit.server.auth import require
from interdit.server.context import ServerContext, ServerOptions
from interdit.settings import Settings
from interdit.storage.accounts import Role

DESCRIPTION = """\
The prohibited-apps program of your organisation, over HTTP: devices and their apps, the catalogue of app
families and directives, the policy and its exceptions, findings, imports, reports and the audit trail.

Authenticate with an API token (`Authorization: Bearer idt_...`, created with `interdit tokens create`), or
sign in to the dashboard. Roles: `admin` (policy, exceptions, sources, accounts), `analyst` (findings,
analyses, imports), `auditor` (reads everything, changes nothing), `ingest` (uploads inventories and logs).
Errors are RFC 9457 problem details (`application/problem+json`).
"""

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
# Swagger UI sets style attributes on the elements it draws; scripts stay limited to this server.
DOCS_CSP = CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class Headers:
    """ASGI middleware: security headers on every answer, and request counts and times for /metrics."""

    def __init__(self, app: ASGIApp, ctx: ServerContext) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        path = scope.get("path", "")
        if "\x00" in path or b"%00" in scope.get("query_string", b"").lower():
            # no name holds a NUL, and PostgreSQL refuses to be asked about one: refuse it here, plainly
            from interdit.server.problems import problem_response

            await problem_response(400, "the address holds a NUL character", instance=path.replace("\x00", ""),
                                   fix="remove %00 from the address")(scope, receive, send)
            return
        csp = (DOCS_CSP if path == "/docs" else CSP).encode()
        hsts = self.ctx.options.secure_cookies

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers += [(b"content-security-policy", csp), (b"x-content-type-options", b"nosniff"),
                            (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
                            (b"cross-origin-opener-policy", b"same-origin"),
                            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]
                if not path.startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                if hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or ("/static" if path.startswith("/static/") else "other")
            key = (scope.get("method", ""), name, status)
            entry = self.ctx.metrics.setdefault(key, [0.0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - start


class _Route:
    path = "/healthz"  # how /metrics names the requests answered by QuickHealth


class QuickHealth:
    """ASGI: `GET /healthz` answered first, before routing and the other middleware, from the last database
    check (`health_reply`), with the same security headers and /metrics count as every answer.

    Under a flood of other requests (sign-in guesses) the event loop's turn is what a health check waits for;
    this answer takes one short turn and touches nothing slow (no routing through every route, no body limit,
    no worker thread)."""

    def __init__(self, app: ASGIApp, ctx: ServerContext) -> None:
        from interdit.server.api.health import health_reply

        self.app = app
        self.ctx = ctx
        self._answer = Headers(self._reply, ctx)
        self._health = health_reply

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == "/healthz" and scope.get("method") == "GET":
            scope["route"] = _Route
            await self._answer(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _reply(self, scope: Scope, receive: Receive, send: Send) -> None:
        import json

        body = json.dumps(await self._health(self.ctx), separators=(",", ":")).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings, *, clock: Callable[[], datetime] | None = None,
               options: ServerOptions | None = None) -> FastAPI:
    """The whole server: API routers under /api/v1, /healthz, /metrics, /docs and the dashboard under /."""
    from importlib.resources import files

    from interdit import pipeline
    from interdit.server import problems
    from interdit.server.api import (
        accounts,
        analyses,
        audit,
        catalogue,
        devices,
        enforcement,
        findings,
        health,
        imports,
        logs,
        policy,
        reports,
        sources,
    )
    from interdit.server.uploads import BodyLimit, BodyTooLarge
    from interdit.server.web import files as web_files
    from interdit.server.web import routes as web_routes

    opts = options or ServerOptions.from_env()
    ctx = ServerContext(settings, opts, clock or pipeline.system_clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            ctx.analysis_queue.shutdown()  # the APK analysis worker (started by the first upload)

    app = FastAPI(title="interdit", version=__version__, description=DESCRIPTION, docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan)
    app.state.ctx = ctx
    problems.install(app)

    async def too_large(request: Any, exc: Exception) -> Any:
        assert isinstance(exc, BodyTooLarge)
        return problems.problem_response(413, str(exc), instance=request.url.path, fix="send a smaller body")

    app.add_exception_handler(BodyTooLarge, too_large)
    for module in (health, catalogue, devices, findings, policy, imports, sources, analyses, logs, enforcement, reports,
                   accounts, audit):
        app.include_router(module.router)
    static = files("interdit").joinpath("server/web/static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    signed_in = Depends(require(*Role))

    @app.get("/openapi.json", include_in_schema=False, dependencies=[signed_in])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[signed_in])
    def docs() -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>interdit API</title>"
            "<link rel=\"stylesheet\" href=\"/static/vendor/swagger-ui/swagger-ui.css\"></head><body>"
            "<div id=\"swagger-ui\"></div><script src=\"/static/vendor/swagger-ui/swagger-ui-bundle.js\"></script>"
            "<script src=\"/static/docs.js\"></script></body></html>")

    app.include_router(web_routes.router)
    app.include_router(web_files.router)
    app.add_middleware(BodyLimit, max_upload=opts.max_upload_bytes)
    app.add_middleware(Headers, ctx=ctx)
    return app
