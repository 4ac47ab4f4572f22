"""Every change made through the API lands in the audit trail exactly once, named after the signed-in account.

The recording happens in the use cases (shared with the command line), so an endpoint that also recorded the
change itself would show up here as two entries. A workspace of its own keeps these changes away from the
other server tests.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.fixtures import Workspace, build_workspace, clock, options
from interdit import fleet, pipeline
from interdit.server.app import create_app

JAMF = Path(__file__).resolve().parents[1] / "inventory" / "recorded" / "jamf"
SQUID = b"1678780827.995      0 10.1.2.3 TCP_DENIED/403 3417 CONNECT www.tiktok.com:443 - HIER_NONE/- text/html\n"


@pytest.fixture(scope="module")
def own_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("server-audit")
    return build_workspace(root, f"sqlite:///{root / 'interdit.db'}", devices=40)


@pytest.fixture()
def app_client(own_ws: Workspace, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(own_ws.settings, clock=clock, options=options(tmp_path))
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def _auth(ws: Workspace, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ws.tokens[role]}"}


def _one_new(client: TestClient, ws: Workspace, change: Callable[[], httpx.Response]) -> dict[str, Any]:
    """Make one change; the trail must gain exactly one entry and still verify."""
    auditor = _auth(ws, "auditor")
    start = client.get("/api/v1/audit/verify", headers=auditor).json()["entries"]  # sequence numbers start at 1
    r = change()
    assert r.status_code < 300, r.text
    new = client.get(f"/api/v1/audit?after={start}&limit=100", headers=auditor).json()
    assert len(new) == 1, [(e["actor"], e["action"], e["target"]) for e in new]
    assert client.get("/api/v1/audit/verify", headers=auditor).json()["ok"]
    return new[0]  # type: ignore[no-any-return]


def test_policy_edits_are_recorded_once(app_client: TestClient, own_ws: Workspace) -> None:
    admin = _auth(own_ws, "admin")
    text = own_ws.policy.read_text()
    changed = text.replace("grace_days: 14\n    scope:", "grace_days: 21\n    scope:", 1)
    assert changed != text
    e = _one_new(app_client, own_ws, lambda: app_client.put("/api/v1/policy", headers=admin, json={"text": changed}))
    assert (e["actor"], e["action"], e["target"]) == ("token:admin token", "policy.update", str(own_ws.policy))
    assert e["before"]["text"] == text and e["after"]["text"] == changed and "+    grace_days: 21" in e["after"]["diff"]
    body = {"id": "EXC-AUDIT-1", "families": ["tiktok"], "users": ["alex"], "approver": "CIO", "reason": "r",
            "expires": "2023-06-30"}
    g = _one_new(app_client, own_ws, lambda: app_client.post("/api/v1/exceptions", headers=admin, json=body))
    assert (g["actor"], g["action"], g["target"]) == ("token:admin token", "exception.grant", "EXC-AUDIT-1")
    assert g["after"]["exception"]["approver"] == "CIO" and "EXC-AUDIT-1" in g["after"]["text"]
    v = _one_new(app_client, own_ws, lambda: app_client.delete("/api/v1/exceptions/EXC-AUDIT-1", headers=admin))
    assert (v["action"], v["target"]) == ("exception.revoke", "EXC-AUDIT-1") and "EXC-AUDIT-1" in v["before"]["text"]
    own_ws.policy.write_text(text)


def test_an_import_is_recorded_once_with_the_previous_run(app_client: TestClient, own_ws: Workspace,
                                                         tmp_path: Path) -> None:
    d, a, _, _ = fleet.write_snapshot(fleet.FleetSpec(devices=10, seed=3), tmp_path / "up", 1, fleet.DEMO_DATES[-1])
    files = [("files", ("devices.csv", d.read_bytes(), "text/csv")),
             ("files", ("apps.csv", a.read_bytes(), "text/csv"))]
    e = _one_new(app_client, own_ws, lambda: app_client.post("/api/v1/imports?format=csv&source=mdm&allow_shrink=true",
                                                             headers=_auth(own_ws, "ingest"), files=files))
    assert (e["actor"], e["action"], e["target"]) == ("token:ingest token", "import", "mdm")
    assert e["after"]["files"] == ["devices.csv", "apps.csv"] and e["after"]["format"] == "csv"
    assert e["before"] is not None and e["before"]["run_id"] < e["after"]["run_id"]


def test_logs_analyses_and_enforcement_are_recorded_once(app_client: TestClient, own_ws: Workspace) -> None:
    e = _one_new(app_client, own_ws, lambda: app_client.post(
        "/api/v1/logs?format=squid", headers=_auth(own_ws, "ingest"),
        files=[("files", ("access.log", SQUID, "text/plain"))]))
    assert (e["actor"], e["action"], e["target"]) == ("token:ingest token", "logs.scan", "access.log")
    assert e["after"]["matched"] == 1
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("AndroidManifest.xml", b"\x00\x01not binary xml")

    def analysed() -> httpx.Response:  # queued: the entry is written when the job has run
        import time

        apk = ("broken.apk", buf.getvalue(), "application/vnd.android.package-archive")
        r = app_client.post("/api/v1/analyses", headers=_auth(own_ws, "analyst"), files=[("files", apk)])
        assert r.status_code == 202, r.text
        for _ in range(600):
            job = app_client.get(r.headers["location"], headers=_auth(own_ws, "auditor"))
            if job.json()["status"] in ("done", "failed"):
                return job
            time.sleep(0.1)
        raise AssertionError("the analysis job did not finish")

    e = _one_new(app_client, own_ws, analysed)
    assert (e["actor"], e["action"], e["target"]) == ("token:analyst token", "analysis", "broken.apk")
    e = _one_new(app_client, own_ws, lambda: app_client.post("/api/v1/enforcement/unbound",
                                                             headers=_auth(own_ws, "admin")))
    assert (e["actor"], e["action"], e["target"]) == ("token:admin token", "enforcement.build", "unbound")
    assert len(e["after"]["digest"]) == 64


def test_accounts_and_tokens_are_recorded_once(app_client: TestClient, own_ws: Workspace) -> None:
    admin = _auth(own_ws, "admin")
    e = _one_new(app_client, own_ws, lambda: app_client.post("/api/v1/users", headers=admin,
                                                             json={"username": "carol", "role": "auditor"}))
    assert (e["actor"], e["action"], e["target"]) == ("token:admin token", "account.add", "carol")
    made: dict[str, Any] = {}

    def create() -> httpx.Response:
        r = app_client.post("/api/v1/tokens", headers=admin, json={"username": "carol", "name": "weekly export"})
        made.update(r.json())
        return r

    e = _one_new(app_client, own_ws, create)
    assert (e["action"], e["target"]) == ("token.create", made["id"])
    e = _one_new(app_client, own_ws, lambda: app_client.delete(f"/api/v1/tokens/{made['id']}", headers=admin))
    assert (e["action"], e["target"]) == ("token.revoke", made["id"])


def test_an_explicit_evaluation_is_recorded_once_and_reading_is_not(app_client: TestClient,
                                                                    own_ws: Workspace) -> None:
    analyst = _auth(own_ws, "analyst")
    e = _one_new(app_client, own_ws, lambda: app_client.post("/api/v1/evaluations", headers=analyst))
    assert (e["actor"], e["action"], e["target"]) == ("token:analyst token", "evaluate", "policy")
    count = app_client.get("/api/v1/audit/verify", headers=_auth(own_ws, "auditor")).json()["entries"]
    assert app_client.get("/api/v1/summary", headers=analyst).status_code == 200
    assert app_client.get("/api/v1/audit/verify", headers=_auth(own_ws, "auditor")).json()["entries"] == count


def test_a_signed_in_person_is_named_user(app_client: TestClient, own_ws: Workspace) -> None:
    from api.fixtures import PASSWORD

    form = app_client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    r = app_client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token.group(1)},
                        follow_redirects=False)
    assert r.status_code == 303, r.text
    page = app_client.get("/exceptions")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    body = {"id": "EXC-AUDIT-2", "families": ["tiktok"], "users": ["sam"], "approver": "CIO", "reason": "r",
            "expires": "2023-06-30"}
    text = own_ws.policy.read_text()
    e = _one_new(app_client, own_ws, lambda: app_client.post("/api/v1/exceptions", json=body,
                                                             headers={"x-csrf-token": csrf.group(1)}))
    assert (e["actor"], e["action"], e["target"]) == ("user:admin", "exception.grant", "EXC-AUDIT-2")
    own_ws.policy.write_text(text)


def _jamf(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/oauth/token":
        return httpx.Response(200, json={"access_token": "t", "expires_in": 600})
    page = int(request.url.params["page"])
    return httpx.Response(200, json=json.loads((JAMF / f"detail-page{page}.json").read_text()))


@pytest.mark.skipif(not JAMF.is_dir(), reason="the recorded Jamf answers (tests/inventory/recorded/jamf) are absent")
def test_a_source_sync_is_recorded_once(app_client: TestClient, own_ws: Workspace, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from interdit.pipeline import sources as source_use_cases

    secret = tmp_path / "jamf.secret"
    secret.write_text("jamf-secret\n")
    os.chmod(secret, 0o600)
    file = tmp_path / "sources.yaml"
    pipeline.add_source("jamf-ipads", "jamf", {"base_url": "https://jamf.test", "client_id": "c1"},
                        secret_file=secret, path=file)
    monkeypatch.setenv("INTERDIT_SOURCES", str(file))
    monkeypatch.setattr(source_use_cases, "_http_client", lambda: httpx.Client(transport=httpx.MockTransport(_jamf)))
    e = _one_new(app_client, own_ws, lambda: app_client.post("/api/v1/sources/jamf-ipads/sync?max_rejected=1",
                                                             headers=_auth(own_ws, "admin")))
    assert (e["actor"], e["action"], e["target"]) == ("token:admin token", "source.sync", "jamf-ipads")
    assert e["after"]["format"] == "api:jamf" and e["after"]["devices"] == 3 and e["before"] is None
