"""`/healthz` (no sign-in: for load balancers) and `/metrics` (Prometheus text format)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from interdit import __version__
from interdit.pipeline.schedule import schedule_metrics, schedule_status
from interdit.server.auth import Reader
from interdit.server.context import Ctx, ServerContext

router = APIRouter(tags=["health"])


HEALTH_SECONDS = 1.0  # the database is asked at most once a second; answers in between reuse its reply


@router.get("/healthz", summary="Liveness: the process answers and its database is reachable")
async def healthz(ctx: Ctx) -> dict[str, str]:
    """Answered on the event loop (no worker thread to wait for under load), from the last database check; see
    `health_reply`. `interdit serve` answers it before routing (`QuickHealth`); this route serves the rest."""
    return await health_reply(ctx)


async def health_reply(ctx: ServerContext) -> dict[str, str]:
    """The reply to /healthz, from the last database check: a check older than HEALTH_SECONDS starts a new one
    in a worker thread, which this reply does not wait for (only the very first reply waits for its check)."""
    import asyncio
    import time

    state = ctx.health
    if time.monotonic() - state[0] >= HEALTH_SECONDS and not state[2]:
        state[2] = True
        task = asyncio.get_running_loop().create_task(_check(ctx))
        ctx.health_task = task  # kept, so that the check is not collected while it runs
        if state[0] == 0.0:
            await task
    while state[0] == 0.0 and state[2]:  # the first check is still running
        await asyncio.sleep(0.01)
    db = state[1]
    return {"status": "ok" if db == "ok" else "degraded", "database": db, "version": __version__}


async def _check(ctx: ServerContext) -> None:
    import time

    from starlette.concurrency import run_in_threadpool

    state = ctx.health
    try:
        state[1] = await run_in_threadpool(_database, ctx)
        state[0] = time.monotonic()
    finally:
        state[2] = False


def _database(ctx: ServerContext) -> str:
    import sqlalchemy as sa

    try:
        with ctx.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return "ok"
    except Exception:
        return "unreachable"


@router.get("/metrics", response_class=PlainTextResponse, summary="Request counts and latencies, Prometheus text")
def metrics(ctx: Ctx, who: Reader) -> PlainTextResponse:
    lines = [
        "# HELP interdit_http_requests_total HTTP requests answered, by method, route and status.",
        "# TYPE interdit_http_requests_total counter",
    ]
    sums = ["# HELP interdit_http_request_seconds_sum Seconds spent answering, by method and route.",
            "# TYPE interdit_http_request_seconds_sum counter"]
    for (method, route, status), (count, seconds) in sorted(ctx.metrics.items()):
        labels = f'method="{method}",route="{_esc(route)}",status="{status}"'
        lines.append(f"interdit_http_requests_total{{{labels}}} {int(count)}")
        sums.append(f"interdit_http_request_seconds_sum{{{labels}}} {seconds:.6f}")
    cur = ctx.cache.entries.get("current")
    gauges = []
    if cur is not None:
        s = cur.value.summary
        # no device in scope: no rate; Prometheus reads NaN as "no value", never as a 100 % of nothing
        rate = "NaN" if s.rate is None else f"{s.rate:.6f}"
        gauges = ["# HELP interdit_compliance_rate Compliant devices / devices in scope, at the last evaluation "
                  "(NaN when no device is in scope).",
                  "# TYPE interdit_compliance_rate gauge", f"interdit_compliance_rate {rate}",
                  "# HELP interdit_devices_in_scope Devices the policy covers, at the last evaluation.",
                  "# TYPE interdit_devices_in_scope gauge", f"interdit_devices_in_scope {s.devices_in_scope}"]
    # the worker's jobs (docs/operations.md): last run, next run, failures, read from the database that every
    # worker and server process shares
    jobs = schedule_metrics(schedule_status(ctx.repo, clock=ctx.clock)).splitlines()
    body = "\n".join([*lines, *sums, *gauges, *jobs]) + "\n"
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
