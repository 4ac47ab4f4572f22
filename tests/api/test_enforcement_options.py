"""POST /api/v1/enforcement/{target} takes the target's options; a bad one answers 422 and builds nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import Workspace


def _builds(client: TestClient, ws: Workspace) -> int:
    return len(client.get("/api/v1/audit?action=enforcement.build", headers=bearer(ws, "auditor")).json())


def test_enforcement_options_are_applied_and_bad_ones_answer_422(client: TestClient, ws: Workspace) -> None:
    r = client.post("/api/v1/enforcement/unbound", headers=bearer(ws, "admin"),
                    json={"options": {"policy": "sinkhole", "sinkhole": "192.0.2.1"}})
    assert r.status_code == 200, r.text
    assert " IN A 192.0.2.1" in r.json()["files"]["unbound-blocklist.conf"]
    before = _builds(client, ws)
    for target, options, said in (("intune", {"grace_hour": "3"}, "did you mean grace_hours?"),
                                  ("intune", {"grace_hours": "abc"}, "digits only"),
                                  ("unbound", {"sinkhole": "192.0.2.1"}, "policy=sinkhole"),
                                  ("rpz", {"ttl": "60\n@ NS evil."}, "--option ttl=60")):
        r = client.post(f"/api/v1/enforcement/{target}", headers=bearer(ws, "admin"), json={"options": options})
        assert r.status_code == 422, r.text
        assert said in r.json()["fix"], r.json()
        assert "--option" in r.json()["detail"]
    assert _builds(client, ws) == before  # nothing built, nothing recorded
