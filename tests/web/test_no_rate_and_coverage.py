"""The dashboard and the API with nothing in scope (no rate: "—", null, NaN), and the dashboard's coverage words."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import Workspace
from web.test_pages import _sign_in

NOWHERE = """organisation: Nowhere Inc.
adopt:
  - directive: ca-tbs-2023-tiktok
    scope:
      groups: [/Nowhere]
"""


def test_nothing_in_scope_shows_no_rate(client: TestClient, ws: Workspace) -> None:
    ws.policy.write_text(NOWHERE, "utf-8")
    _sign_in(client, "auditor")
    s = client.get("/api/v1/summary").json()
    assert s["devices_total"] > 0 and s["devices_in_scope"] == 0
    assert s["rate"] is None and all(r["rate"] is None for r in s["by_rule"])
    assert all(v["rate"] is None for v in s["by_source"])
    history = client.get("/api/v1/summary/history").json()
    assert all(h["rate"] is None for h in history)
    page = client.get("/", headers={"accept-language": "en"}).text
    assert re.search(r'<p class="rate" id="rate">—</p>', page) and "no device in scope" in page
    assert "<progress" not in page and "100.0%" not in page
    fr = client.get("/", headers={"accept-language": "fr"}).text
    assert "aucun appareil visé" in fr and "100,0" not in fr
    metrics = client.get("/metrics", headers=bearer(ws, "auditor")).text
    assert "interdit_compliance_rate NaN" in metrics


def test_overview_says_why_devices_are_not_evaluable(client: TestClient, ws: Workspace) -> None:
    _sign_in(client, "auditor")
    s = client.get("/api/v1/summary").json()
    reasons = s["not_evaluable_by_reason"]
    assert reasons and sum(reasons.values()) == s["by_state"]["not_evaluable"]
    assert sum(s["by_coverage"].values()) == s["devices_in_scope"]
    page = client.get("/", headers={"accept-language": "en"}).text
    line = re.search(r'<p id="coverage-line"><strong>([^<]*)</strong>', page)
    assert line is not None
    total = sum(reasons.values())
    assert line.group(1).startswith(f"{total:,} devices not evaluable: ")
    if "work_profile" in reasons:
        assert f"{reasons['work_profile']:,} Android work profile" in line.group(1)
