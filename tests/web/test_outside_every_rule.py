"""The dashboard and the API say how many devices are outside every rule, and why."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.fixtures import Workspace
from web.test_pages import _sign_in


def test_the_overview_and_the_summary_count_every_device_outside_every_rule(client: TestClient,
                                                                             ws: Workspace) -> None:
    _sign_in(client, "auditor")
    s = client.get("/api/v1/summary").json()
    outside = sum(s["out_of_scope"].values())
    assert s["devices_total"] == s["devices_in_scope"] + outside
    assert isinstance(s["scope_unknown"], list)
    english = client.get("/", headers={"accept-language": "en"}).text
    section = english[english.index('id="h-outside"'):english.index('id="h-src"')]
    assert "Outside every rule" in section
    assert s["out_of_scope"].get("personal", 0) > 0, "the workspace's fleet has personal phones"
    assert f"{outside:,} devices are outside every rule:" in section and "personal device" in section
    _sign_in(client, "auditor", lang="fr")
    french = client.get("/", headers={"accept-language": "fr"}).text
    assert "Hors de toute règle" in french
