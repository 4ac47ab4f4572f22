"""uvicorn on 127.0.0.1 against SQLite and PostgreSQL: the same answers from both databases."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from api.fixtures import PASSWORD, build_workspace, running_server


def test_server_on_each_database(db_url: str, tmp_path: Path) -> None:
    ws = build_workspace(tmp_path / "ws", db_url, devices=150)
    with running_server(ws) as base:
        token = {"Authorization": f"Bearer {ws.tokens['analyst']}"}
        health = httpx.get(base + "/healthz")
        assert health.json() == {"status": "ok", "database": "ok", "version": health.json()["version"]}
        summary = httpx.get(base + "/api/v1/summary", headers=token).json()
        assert summary["devices_total"] == 150 and 0 < summary["rate"] < 1
        violations = httpx.get(base + "/api/v1/findings?state=violation", headers=token).json()["items"]
        assert summary["by_state"].get("violation", 0) == len({f["device_id"] for f in violations})

        with httpx.Client(base_url=base, follow_redirects=False) as browser:
            form = browser.get("/login").text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert csrf is not None
            r = browser.post("/login", data={"username": "admin", "password": PASSWORD,
                                             "csrf_token": csrf.group(1), "next": "/"})
            assert r.status_code == 303 and "interdit_session" in browser.cookies
            page = browser.get("/")
            assert page.status_code == 200 and "Compliance rate" in page.text
            # a session may not change anything without the CSRF token, even on the API
            refused = browser.post("/api/v1/evaluations")
            assert refused.status_code == 403
            session_csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert session_csrf is not None
            ok = browser.post("/api/v1/evaluations", headers={"X-CSRF-Token": session_csrf.group(1)})
            assert ok.status_code == 200 and ok.json()["devices_total"] == 150

        audit = httpx.get(base + "/api/v1/audit/verify", headers={"Authorization": f"Bearer {ws.tokens['auditor']}"})
        assert audit.json()["ok"] and audit.json()["entries"] >= 2  # sign-in and evaluation
