"""Every findings list says whose device it is: the API's findings and the dashboard's violations list."""

from __future__ import annotations

import html

from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import Workspace
from interdit import pipeline
from web.test_pages import _sign_in


def test_api_findings_carry_the_device_name_owner_and_model(client: TestClient, ws: Workspace) -> None:
    items = client.get("/api/v1/findings?limit=1000", headers=bearer(ws, "auditor")).json()["items"]
    assert items
    repo = pipeline.open_repository(ws.url)
    try:
        for item in items[:25]:
            detail = repo.device(item["source"], item["device_id"])
            assert detail is not None
            d = detail.current
            assert (item["device_name"], item["owner"], item["model"], item["os_version"]) == (
                d.name, d.user, d.model, d.os_version)
            assert item["owner"] and "@" in item["owner"]  # the demo fleet's sources give an e-mail
    finally:
        repo.engine.dispose()
    one = client.get(f"/api/v1/findings/{items[0]['id']}", headers=bearer(ws, "auditor")).json()
    assert one["owner"] == items[0]["owner"] and one["device_name"] == items[0]["device_name"]


def test_the_violations_list_shows_whose_device(client: TestClient, ws: Workspace) -> None:
    _sign_in(client, "analyst")
    page = html.unescape(client.get("/violations?state=violation").text)
    api = client.get("/api/v1/findings?state=violation&limit=1000", headers=bearer(ws, "auditor")).json()["items"]
    shown = [f for f in api if f"/devices/mdm/{f['device_id']}" in page]
    assert shown
    for f in shown:
        assert f"{f['device_name']} · {f['owner']} · {f['model']}" in page
