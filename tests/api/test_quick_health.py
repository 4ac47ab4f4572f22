"""`interdit serve` answers /healthz before routing (QuickHealth): the same answer, headers and /metrics count
as the routed one, and everything else passes through untouched."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import Workspace, clock, options
from interdit.server.api.health import HEALTH_SECONDS
from interdit.server.app import QuickHealth, create_app


@pytest.mark.parametrize("behind_tls", [True, False], ids=["tls", "plain-http"])
def test_healthz_answered_first_is_the_same_answer(ws: Workspace, tmp_path: Path, behind_tls: bool) -> None:
    routed = create_app(ws.settings, clock=clock, options=options(tmp_path, secure_cookies=behind_tls))
    app = create_app(ws.settings, clock=clock, options=options(tmp_path, secure_cookies=behind_tls))
    with TestClient(routed) as plain, TestClient(QuickHealth(app, app.state.ctx)) as quick:
        want, got = plain.get("/healthz"), quick.get("/healthz")
        assert got.status_code == want.status_code == 200
        assert got.json() == want.json() and got.json()["database"] == "ok"
        for name in ("content-type", "content-security-policy", "x-content-type-options", "x-frame-options",
                     "cache-control", "strict-transport-security"):
            assert got.headers.get(name) == want.headers.get(name), name
        assert quick.post("/healthz").status_code == 405  # only GET is answered first; the rest is routed
        assert quick.get("/login").status_code == 200
        metrics = quick.get("/metrics", headers=bearer(ws, "auditor")).text
        assert 'route="/healthz",status="200"} 1' in metrics


def test_a_stale_check_is_refreshed_without_waiting(ws: Workspace, tmp_path: Path) -> None:
    app = create_app(ws.settings, clock=clock, options=options(tmp_path))
    ctx = app.state.ctx
    with TestClient(QuickHealth(app, ctx)) as quick:
        assert quick.get("/healthz").json()["database"] == "ok"
        first = ctx.health[0]
        ctx.health[1] = "unreachable"  # what a failed check left
        ctx.health[0] = first - HEALTH_SECONDS - 1  # and it is old: the next answer starts a new one
        assert quick.get("/healthz").json()["status"] == "degraded"  # answered from the last check, at once
        deadline = time.monotonic() + 10
        while ctx.health[1] != "ok" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert quick.get("/healthz").json() == {"status": "ok", "database": "ok",
                                                "version": quick.get("/healthz").json()["version"]}
