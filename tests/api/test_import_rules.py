"""The import route takes the fail-closed rules of `interdit import`: a refused snapshot answers 422, changes
nothing, and says how to go on; `max_rejected` and `allow_shrink` are its query parameters."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import build_workspace, clock, options
from interdit import fleet
from interdit.server.app import create_app


def _files(tmp: Path, devices: int, bad_rows: int = 0) -> list[tuple[str, tuple[str, bytes, str]]]:
    d, a, _, _ = fleet.write_snapshot(fleet.FleetSpec(devices=devices, seed=3), tmp / f"upload-{devices}", 1,
                                      fleet.DEMO_DATES[-1])
    apps = a.read_bytes() + b"not,a,valid,row\n" * bad_rows
    return [("files", ("devices.csv", d.read_bytes(), "text/csv")), ("files", ("apps.csv", apps, "text/csv"))]


def test_a_refused_upload_changes_nothing_until_the_rules_allow_it(tmp_path: Path) -> None:
    ws = build_workspace(tmp_path / "ws", f"sqlite:///{tmp_path / 'own.db'}", devices=40)
    client = TestClient(create_app(ws.settings, clock=clock, options=options(tmp_path)))
    ingest, analyst = bearer(ws, "ingest"), bearer(ws, "analyst")
    noisy = _files(tmp_path, 20, bad_rows=50)  # about one record in nine
    r = client.post("/api/v1/imports?format=csv&source=rules", headers=ingest, files=noisy)
    assert r.status_code == 422 and "max_rejected" in r.text and "apps.csv:" in r.text, r.text
    assert client.get("/api/v1/imports", headers=analyst).json()[0]["status"] == "refused"
    r = client.post("/api/v1/imports?format=csv&source=rules&max_rejected=25%25", headers=ingest, files=noisy)
    assert r.status_code == 201, r.text
    assert r.json()["result"]["devices_new"] == 20
    fewer = _files(tmp_path, 12)
    r = client.post("/api/v1/imports?format=csv&source=rules", headers=ingest, files=fewer)
    assert r.status_code == 422 and "allow_shrink" in r.text, r.text
    r = client.post("/api/v1/imports?format=csv&source=rules&allow_shrink=true", headers=ingest, files=fewer)
    assert r.status_code == 201 and r.json()["result"]["devices_removed"] == 8, r.text
    r = client.post("/api/v1/imports?format=csv&source=rules&max_rejected=lots", headers=ingest, files=fewer)
    assert r.status_code == 422
