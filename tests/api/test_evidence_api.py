"""APK analyses, network logs and sightings, and enforcement payloads through the API."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import Workspace

SQUID = (b"1678780827.995      0 10.1.2.3 TCP_DENIED/403 3417 CONNECT www.tiktok.com:443 - HIER_NONE/- text/html\n"
         b"1678780828.995      0 10.1.2.4 TCP_MISS/200 3417 CONNECT www.example.org:443 - HIER_DIRECT/- -\n"
         b"this is not a squid line\n")


def test_logs_are_scanned_and_sightings_listed(client: TestClient, ws: Workspace) -> None:
    r = client.post("/api/v1/logs?format=squid", headers=bearer(ws, "ingest"),
                    files=[("files", ("access.log", SQUID, "text/plain"))])
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["read"] == body["matched"] + body["unmatched"] + body["rejected"] == 3
    assert body["matched"] == 1 and body["rejected"] == 1 and body["rejections"][0]["place"].startswith("access.log:")
    seen = client.get("/api/v1/sightings?family=tiktok", headers=bearer(ws, "auditor")).json()
    assert any(s["client"] == "10.1.2.3" and s["family"] == "tiktok" for s in seen)
    entry = client.get("/api/v1/audit?action=logs.scan", headers=bearer(ws, "auditor")).json()[-1]
    assert entry["actor"] == "token:ingest token" and entry["after"]["matched"] == 1


def test_a_broken_apk_is_reported_not_a_server_error(client: TestClient, ws: Workspace) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("AndroidManifest.xml", b"\x00\x01not binary xml")
    r = client.post("/api/v1/analyses", headers=bearer(ws, "analyst"),
                    files=[("files", ("broken.apk", buf.getvalue(), "application/vnd.android.package-archive"))])
    assert r.status_code == 202, r.text  # queued: the job reports the outcome (test_analysis_jobs.py)
    assert client.post("/api/v1/analyses", headers=bearer(ws, "ingest"),
                       files=[("files", ("x.apk", b"x", "application/octet-stream"))]).status_code == 403
    assert client.get("/api/v1/analyses", headers=bearer(ws, "auditor")).status_code == 200


def test_enforcement_payload_is_built_and_audited(client: TestClient, ws: Workspace) -> None:
    names = {t["name"] for t in client.get("/api/v1/enforcement/targets", headers=bearer(ws, "auditor")).json()}
    assert {"unbound", "amapi"} <= names
    r = client.post("/api/v1/enforcement/unbound", headers=bearer(ws, "admin"))
    assert r.status_code == 200, r.text
    text = "\n".join(v for v in r.json()["files"].values())
    assert "tiktok.com" in text
    entry = client.get("/api/v1/audit?action=enforcement.build", headers=bearer(ws, "auditor")).json()[-1]
    assert entry["target"] == "unbound" and entry["after"]["domains"] > 0
    assert entry["actor"] == "token:admin token" and len(entry["after"]["digest"]) == 64
