"""APK analyses through the API are queued: upload -> 202 and a job -> poll it -> the stored report."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import NOW, Workspace, clock, options
from interdit import pipeline
from interdit.server.app import create_app

APK = Path(__file__).resolve().parents[3] / "shared" / "data" / "apk" / "ag__hello-world.apk"
needs_apk = pytest.mark.skipif(not APK.is_file(), reason=f"the APK corpus is not present at {APK}")


def _poll(client: TestClient, ws: Workspace, location: str, role: str = "auditor") -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        r = client.get(location, headers=bearer(ws, role))
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        assert job["status"] in ("queued", "running", "done", "failed")
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"the job at {location} did not finish")


@needs_apk
def test_upload_queues_a_job_and_the_result_equals_a_direct_analysis(client: TestClient, ws: Workspace,
                                                                     tmp_path: Path) -> None:
    r = client.post("/api/v1/analyses", headers=bearer(ws, "analyst"),
                    files=[("files", (APK.name, APK.read_bytes(), "application/vnd.android.package-archive"))])
    assert r.status_code == 202, r.text
    location = r.headers["location"]
    assert location == f"/api/v1/analyses/jobs/{r.json()['id']}" and r.json()["files"] == [APK.name]
    job = _poll(client, ws, location)
    assert job["status"] == "done" and job["error"] is None, job
    [result] = job["results"]
    assert result["ok"] and result["package"] and job["links"]["result"] == result["result"]
    stored = client.get(result["result"], headers=bearer(ws, "auditor"))
    assert stored.status_code == 200, stored.text

    copy = tmp_path / APK.name
    copy.write_bytes(APK.read_bytes())
    direct = json.loads(pipeline.render_analysis(pipeline.analyze_apks([copy], jobs=1), "json", "en"))
    assert stored.json() == direct

    # the job is in the database: another server process (another app over the same database) reports it
    other = create_app(ws.settings, clock=clock, options=options(tmp_path / "other"))
    with TestClient(other) as second:
        again = second.get(location, headers=bearer(ws, "auditor"))
        assert again.status_code == 200 and again.json()["status"] == "done"
        assert second.get(result["result"], headers=bearer(ws, "analyst")).json() == direct
    listed = client.get("/api/v1/analyses", headers=bearer(ws, "auditor")).json()
    assert any(a["sha256"] == result["sha256"] for a in listed)


def test_a_broken_apk_ends_failed_with_a_problem(client: TestClient, ws: Workspace) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("AndroidManifest.xml", b"\x00\x01not binary xml")
    r = client.post("/api/v1/analyses", headers=bearer(ws, "admin"),
                    files=[("files", ("broken.apk", buf.getvalue(), "application/vnd.android.package-archive"))])
    assert r.status_code == 202, r.text
    job = _poll(client, ws, r.headers["location"], role="analyst")
    assert job["status"] == "failed", job
    problem = job["error"]
    assert problem["status"] == 422 and problem["title"] and "broken.apk" in problem["detail"] and problem["fix"]
    assert job["results"][0]["ok"] is False and job["results"][0]["result"] is None
    assert "result" not in job["links"]


def test_an_upload_without_files_is_refused_and_unknown_jobs_are_404(client: TestClient, ws: Workspace) -> None:
    r = client.post("/api/v1/analyses", headers=bearer(ws, "analyst"), data={"x": "y"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/analyses/jobs/" + "0" * 32, headers=bearer(ws, "auditor")).status_code == 404
    assert client.get("/api/v1/analyses/" + "0" * 64, headers=bearer(ws, "auditor")).status_code == 404
    assert client.get("/api/v1/analyses/jobs/nope", headers=bearer(ws, "auditor")).status_code == 422


def test_a_job_left_running_by_a_dead_process_is_reported_failed(client: TestClient, ws: Workspace) -> None:
    from interdit.storage.jobs import create_job, start_job

    repo = pipeline.open_repository(ws.url)
    try:
        old = NOW - timedelta(hours=2)
        job_id = create_job(repo.engine, files=["a.apk"], actor="user:gone", lang="en", owner="elsewhere:1",
                            at=old, timeout=timedelta(minutes=15))
        assert start_job(repo.engine, job_id, at=old, timeout=timedelta(minutes=15))
        fresh = create_job(repo.engine, files=["b.apk"], actor="user:here", lang="en", owner="elsewhere:2",
                           at=NOW, timeout=timedelta(minutes=15))
    finally:
        repo.close()
    job = client.get(f"/api/v1/analyses/jobs/{job_id}", headers=bearer(ws, "auditor")).json()
    assert job["status"] == "failed" and job["error"]["status"] == 500 and "elsewhere:1" in job["error"]["detail"]
    assert client.get(f"/api/v1/analyses/jobs/{fresh}", headers=bearer(ws, "auditor")).json()["status"] == "queued"
