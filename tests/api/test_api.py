"""The API as scripts and machines use it: findings, policy edits, exceptions, imports, reports, audit, limits."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import Workspace, build_workspace, clock, options
from interdit import fleet, pipeline
from interdit.pipeline.schedule import parse_schedule, publish
from interdit.server.app import create_app


def _all_findings(client: TestClient, ws: Workspace, query: str, limit: int) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    for _ in range(100):
        url = f"/api/v1/findings?{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=bearer(ws, "analyst")).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def test_cursor_pages_cover_every_finding_once(client: TestClient, ws: Workspace) -> None:
    whole = client.get("/api/v1/findings?limit=1000", headers=bearer(ws, "analyst")).json()
    assert whole["next_cursor"] is None and len(whole["items"]) > 10
    paged = _all_findings(client, ws, "", 7)
    assert [f["id"] for f in paged] == [f["id"] for f in whole["items"]]


def test_filters_select_what_they_say(client: TestClient, ws: Workspace) -> None:
    everything = client.get("/api/v1/findings?limit=1000", headers=bearer(ws, "analyst")).json()["items"]
    violations = _all_findings(client, ws, "state=violation&family=tiktok", 2)
    expected = [f["id"] for f in everything if f["state"] == "violation" and f["family"] == "tiktok"]
    assert [f["id"] for f in violations] == expected and expected
    two = _all_findings(client, ws, "state=stale&state=not_evaluable", 5)
    assert [f["id"] for f in two] == [f["id"] for f in everything if f["state"] in ("stale", "not_evaluable")]
    unit = "/TBS/Communications"
    below = _all_findings(client, ws, f"org_unit={unit}", 50)
    assert [f["id"] for f in below] == [f["id"] for f in everything
                                        if f["org_unit"] == unit or (f["org_unit"] or "").startswith(unit + "/")]
    assert any(f["org_unit"] != unit for f in below), "units below are included"
    late = client.get("/api/v1/findings?since=2023-03-14T00:00:00Z&limit=1000", headers=bearer(ws, "analyst")).json()
    assert all(f["last_seen"] >= "2023-03-14" for f in late["items"])
    naive = client.get("/api/v1/findings?since=2023-03-14T00:00:00", headers=bearer(ws, "analyst"))
    assert naive.status_code == 422 and naive.headers["content-type"] == "application/problem+json"
    bad = client.get("/api/v1/findings?state=nonsense", headers=bearer(ws, "analyst"))
    assert bad.status_code == 422 and bad.json()["errors"]


def test_summary_matches_the_findings(client: TestClient, ws: Workspace) -> None:
    s = client.get("/api/v1/summary", headers=bearer(ws, "auditor")).json()
    items = client.get("/api/v1/findings?state=violation&limit=1000", headers=bearer(ws, "auditor")).json()["items"]
    assert s["by_state"].get("violation", 0) == len({(f["source"], f["device_id"]) for f in items})
    assert 0 < s["rate"] < 1 and s["compliant"] <= s["devices_in_scope"] <= s["devices_total"]
    history = client.get("/api/v1/summary/history", headers=bearer(ws, "auditor")).json()
    # one summary per day with an import: 1 March (at its end), then now (15 March, the day of the last import)
    assert [h["at"][:10] for h in history] == ["2023-03-01", "2023-03-15"]
    assert history[-1]["rate"] == s["rate"]
    assert history[0]["rate"] < history[-1]["rate"], "the demo fleet improves between its two imports"


def test_device_pages(client: TestClient, ws: Workspace) -> None:
    v = client.get("/api/v1/findings?state=violation&limit=1", headers=bearer(ws, "auditor")).json()["items"][0]
    d = client.get(f"/api/v1/devices/{v['source']}/{v['device_id']}", headers=bearer(ws, "auditor"))
    assert d.status_code == 200
    body = d.json()
    assert body["device"]["device_id"] == v["device_id"]
    assert any(f["id"] == v["id"] for f in body["current_findings"])
    apps = client.get(f"/api/v1/devices/{v['source']}/{v['device_id']}/apps", headers=bearer(ws, "auditor")).json()
    assert any(f"{a['app']['platform']}:{a['app']['identifier']}" == v["app"] for a in apps)
    missing = client.get("/api/v1/devices/mdm/NOPE", headers=bearer(ws, "auditor"))
    assert missing.status_code == 404 and missing.json()["title"] == "Not found"
    listing = client.get("/api/v1/devices?limit=5&org_unit=/TBS", headers=bearer(ws, "auditor")).json()
    assert len(listing["items"]) == 5 and all(x["org_unit"].startswith("/TBS/") for x in listing["items"])
    nxt = client.get("/api/v1/devices", params={"limit": 5, "org_unit": "/TBS", "cursor": listing["next_cursor"]},
                     headers=bearer(ws, "auditor")).json()
    assert {x["device_id"] for x in nxt["items"]}.isdisjoint({x["device_id"] for x in listing["items"]})


def test_policy_update_is_validated_diffed_and_audited(client: TestClient, ws: Workspace) -> None:
    admin = bearer(ws, "admin")
    before = ws.policy.read_text()
    broken = before.replace("ca-tbs-2023-tiktok", "ca-tbs-2023-tiktk")
    r = client.put("/api/v1/policy", headers=admin, json={"text": broken})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert "tiktk" in json.dumps(r.json())
    assert ws.policy.read_text() == before, "an invalid policy is never saved"
    changed = before.replace("grace_days: 14\n    scope:", "grace_days: 21\n    scope:", 1)
    dry = client.put("/api/v1/policy?dry_run=true", headers=admin, json={"text": changed}).json()
    assert not dry["saved"] and "-    grace_days: 14" in dry["diff"] and "+    grace_days: 21" in dry["diff"]
    assert ws.policy.read_text() == before
    done = client.put("/api/v1/policy", headers=admin, json={"text": changed})
    assert done.status_code == 200 and done.json()["saved"]
    assert ws.policy.read_text() == changed
    last = client.get("/api/v1/audit?limit=1000", headers=bearer(ws, "auditor")).json()[-1]
    assert last["action"] == "policy.update" and last["actor"] == "token:admin token"
    assert last["before"]["text"] == before and last["after"]["text"] == changed


def test_exception_grant_changes_the_rate_keeps_comments_and_is_revocable(client: TestClient, ws: Workspace) -> None:
    admin = bearer(ws, "admin")
    v = client.get("/api/v1/findings?state=violation&family=tiktok&limit=1", headers=admin).json()["items"][0]
    rate_before = client.get("/api/v1/summary", headers=admin).json()["compliant"]
    body = {"id": "EXC-TEST-1", "families": ["tiktok"], "devices": [f"{v['source']}:{v['device_id']}"],
            "approver": "CIO", "reason": "investigation", "expires": "2023-06-30",
            "safeguards": ["no contact sync"]}
    r = client.post("/api/v1/exceptions", headers=admin, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["days_to_expiry"] == 107
    text = ws.policy.read_text()
    assert "# Demo policy" in text and '# "TikTok may not be installed' in text, "comments are kept"
    assert "EXC-TEST-1" in text
    again = client.post("/api/v1/exceptions", headers=admin, json=body)
    assert again.status_code == 409
    after = client.get(f"/api/v1/findings?device={v['device_id']}&family=tiktok", headers=admin).json()["items"]
    assert after and all(f["state"] == "excepted" and f["exception"] == "EXC-TEST-1" for f in after)
    assert client.get("/api/v1/summary", headers=admin).json()["compliant"] >= rate_before
    assert client.delete("/api/v1/exceptions/EXC-TEST-1", headers=admin).status_code == 204
    assert "EXC-TEST-1" not in ws.policy.read_text() and "# Demo policy" in ws.policy.read_text()
    actions = [e["action"] for e in client.get("/api/v1/audit?limit=1000", headers=admin).json()]
    assert actions[-2:] == ["exception.grant", "exception.revoke"]
    assert client.get("/api/v1/audit/verify", headers=admin).json()["ok"]


def test_an_exception_must_be_scoped_and_in_the_future(client: TestClient, ws: Workspace) -> None:
    admin = bearer(ws, "admin")
    base = {"id": "EXC-X", "families": ["tiktok"], "approver": "CIO", "reason": "r", "expires": "2023-06-30"}
    assert client.post("/api/v1/exceptions", headers=admin, json=base).status_code == 422
    past = {**base, "users": ["alex"], "expires": "2023-01-01"}
    assert client.post("/api/v1/exceptions", headers=admin, json=past).status_code == 422
    unknown = {**base, "users": ["alex"], "families": ["no-such-family"]}
    r = client.post("/api/v1/exceptions", headers=admin, json=unknown)
    assert r.status_code == 422 and "EXC-X" not in ws.policy.read_text()


def _csv_pair(tmp: Path, devices: int = 20) -> tuple[bytes, bytes]:
    d, a, _, _ = fleet.write_snapshot(fleet.FleetSpec(devices=devices, seed=3), tmp / "upload", 1,
                                      fleet.DEMO_DATES[-1])
    return d.read_bytes(), a.read_bytes()


def test_an_ingest_token_uploads_an_inventory(tmp_path: Path) -> None:
    ws = build_workspace(tmp_path / "ws", f"sqlite:///{tmp_path / 'own.db'}", devices=40)
    app = create_app(ws.settings, clock=clock, options=options(tmp_path))
    client = TestClient(app)
    devices, apps = _csv_pair(tmp_path)
    apps += b"not,a,valid,row\n"
    files = [("files", ("devices.csv", devices, "text/csv")), ("files", ("apps.csv", apps, "text/csv"))]
    r = client.post("/api/v1/imports?format=csv&source=upload-test", headers=bearer(ws, "ingest"), files=files)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["read"] == out["accepted"] + out["rejected"] and out["accepted"] > 20
    assert out["rejected"] >= 1 and out["rejections"][0]["place"].startswith("apps.csv:")
    runs = client.get("/api/v1/imports", headers=bearer(ws, "analyst")).json()
    assert runs[0]["source"] == "upload-test" and runs[0]["rejected"] == out["rejected"]
    one = client.get(f"/api/v1/imports/{runs[0]['id']}", headers=bearer(ws, "analyst")).json()
    assert one["id"] == runs[0]["id"]
    entry = client.get("/api/v1/audit?action=import", headers=bearer(ws, "auditor")).json()[-1]
    assert entry["actor"] == "token:ingest token" and entry["after"]["rejected"] == out["rejected"]


def test_uploads_over_the_limit_get_413(client: TestClient, ws: Workspace) -> None:
    big = io.BytesIO(b"x" * (3 * 1024 * 1024))
    r = client.post("/api/v1/imports?format=csv&source=big", headers=bearer(ws, "ingest"),
                    files=[("files", ("devices.csv", big, "text/csv"))])
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while the body streams in
        for _ in range(40):
            yield b"y" * (100 * 1024)

    headers = {**bearer(ws, "ingest"), "content-type": "multipart/form-data; boundary=zzz"}
    r = client.post("/api/v1/imports?format=csv&source=big", headers=headers, content=chunks())
    assert r.status_code == 413
    r = client.post("/api/v1/imports?format=nope&source=x", headers=bearer(ws, "ingest"),
                    files=[("files", ("a.csv", b"a", "text/csv"))])
    assert r.status_code == 422


def test_reports_download(client: TestClient, ws: Workspace) -> None:
    r = client.get("/api/v1/reports/json?lang=fr", headers=bearer(ws, "auditor"))
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    assert r.json()["schema_version"] == 2
    html = client.get("/api/v1/reports/html?lang=fr", headers=bearer(ws, "auditor"))
    assert html.headers["content-type"].startswith("text/html") and 'lang="fr"' in html.text
    assert client.get("/api/v1/reports/nope", headers=bearer(ws, "auditor")).status_code == 404


def test_security_headers_and_metrics(client: TestClient, ws: Workspace) -> None:
    r = client.get("/healthz")
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "same-origin"
    client.get("/api/v1/summary", headers=bearer(ws, "auditor"))
    m = client.get("/metrics", headers=bearer(ws, "auditor"))
    assert m.headers["content-type"].startswith("text/plain")
    assert 'interdit_http_requests_total{method="GET",route="/api/v1/summary",status="200"}' in m.text
    assert "interdit_compliance_rate " in m.text


def test_metrics_export_the_workers_jobs(client: TestClient, ws: Workspace, tmp_path: Path) -> None:
    schedule = parse_schedule({"timezone": "America/Toronto",
                               "jobs": {"nightly-evaluate": {"kind": "evaluate", "cron": "0 2 * * *"}}},
                              tmp_path / "schedule.yaml")
    publish(pipeline.open_repository(ws.settings.database_url), schedule)
    m = client.get("/metrics", headers=bearer(ws, "auditor"))
    assert 'interdit_job_next_run_timestamp_seconds{job="nightly-evaluate"}' in m.text
    assert "# TYPE interdit_job_failures_total counter" in m.text


def test_openapi_documents_the_api(client: TestClient, ws: Workspace) -> None:
    assert client.get("/openapi.json").status_code == 401, "only /healthz answers without credentials"
    assert client.get("/docs").status_code == 401
    spec = client.get("/openapi.json", headers=bearer(ws, "ingest")).json()
    assert spec["info"]["title"] == "interdit" and "/api/v1/findings" in spec["paths"]
    assert all(op.get("summary") for ops in spec["paths"].values() for op in ops.values())
    docs = client.get("/docs", headers=bearer(ws, "auditor"))
    assert docs.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
