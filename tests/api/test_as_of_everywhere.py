"""`as_of` on every API route whose command has --as-of: the same dates read the same way, the same answer as
the command, and a bad date refused with the command's own words (422, naming the parameter)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.conftest import bearer
from api.fixtures import Workspace
from interdit import pipeline
from interdit.cli.main import app
from interdit.errors import InputError

ROUTES = ["/api/v1/summary", "/api/v1/summary/history", "/api/v1/deadlines", "/api/v1/findings",
          "/api/v1/reports/json", "/api/v1/directives/us-tx-2022-prohibited-technologies"]

runner = CliRunner()


def _cli(ws: Workspace, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--db", ws.url, "--policy", str(ws.policy), *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("as_of", ["yesterday", "2023-03-01T12:00:00", "2023-02-30", "0001-01-01"])
def test_a_bad_date_is_refused_with_the_commands_words(client: TestClient, ws: Workspace, route: str,
                                                       as_of: str) -> None:
    code, out = _cli(ws, "status", "--as-of", as_of)
    assert code != 0
    with pytest.raises(InputError) as expected:
        pipeline.as_of_time(as_of)
    assert expected.value.message in " ".join(out.split()) and expected.value.fix in " ".join(out.split())
    r = client.get(route, params={"as_of": as_of}, headers=bearer(ws, "auditor"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
    assert r.json()["detail"] == f"as_of: {expected.value.message}" and r.json()["fix"] == expected.value.fix


@pytest.mark.parametrize("as_of", ["2023-03-01", "2023-03-01T08:00:00-04:00"])
def test_the_summary_as_of_a_date_is_the_commands(client: TestClient, ws: Workspace, as_of: str) -> None:
    code, out = _cli(ws, "status", "--as-of", as_of, "--format", "json")
    assert code == 0, out
    cli = json.loads(out)
    r = client.get("/api/v1/summary", params={"as_of": as_of}, headers=bearer(ws, "auditor"))
    assert r.status_code == 200, r.text
    api = r.json()
    summary = cli["summary"]
    for key in ("devices_total", "devices_in_scope", "compliant"):
        assert api[key] == summary[key], key
    assert {k: n for k, n in api["by_state"].items() if n} == {k: n for k, n in summary["by_state"].items() if n}
    assert api["at"].startswith(cli["as_of"][:19])
    now = client.get("/api/v1/summary", headers=bearer(ws, "auditor")).json()
    assert now["at"] != api["at"]


def test_findings_deadlines_history_and_reports_answer_for_the_date(client: TestClient, ws: Workspace) -> None:
    as_of = "2023-03-01"
    code, out = _cli(ws, "findings", "--as-of", as_of, "--format", "json")
    assert code == 0, out
    cli_ids = sorted(f["id"] for f in json.loads(out)["findings"])
    ids: list[str] = []
    cursor = None
    while True:
        params = {"as_of": as_of, "limit": "1000", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/findings", params=params, headers=bearer(ws, "auditor")).json()
        assert page["evaluated_at"] == "2023-03-01T23:59:59Z"
        ids += [f["id"] for f in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert ids == cli_ids and ids
    one = client.get(f"/api/v1/findings/{ids[0]}", params={"as_of": as_of}, headers=bearer(ws, "auditor"))
    assert one.status_code == 200 and one.json()["id"] == ids[0]
    history = client.get("/api/v1/summary/history", params={"as_of": as_of}, headers=bearer(ws, "auditor")).json()
    assert history[-1]["at"].startswith("2023-03-01T23:59:59")
    assert all(h["at"] < "2023-03-02" for h in history)
    deadlines = client.get("/api/v1/deadlines", params={"as_of": as_of}, headers=bearer(ws, "auditor")).json()
    later = client.get("/api/v1/deadlines", headers=bearer(ws, "auditor")).json()
    days = {r["rule"]: r["days_left"] for r in deadlines["rules"]}
    assert all(days[r["rule"]] - r["days_left"] == 14 for r in later["rules"])  # the clock says 2023-03-15


def test_an_evaluation_as_of_a_date_is_stored_and_recorded_like_the_commands(client: TestClient,
                                                                             ws: Workspace) -> None:
    auditor = bearer(ws, "auditor")
    last = client.get("/api/v1/audit", params={"limit": "1000"}, headers=auditor).json()
    after = last[-1]["seq"] if last else 0
    r = client.post("/api/v1/evaluations", params={"as_of": "2023-03-01"}, headers=bearer(ws, "analyst"))
    assert r.status_code == 200, r.text
    expected = client.get("/api/v1/summary", params={"as_of": "2023-03-01"}, headers=auditor).json()
    assert r.json() == expected
    entries = client.get("/api/v1/audit", params={"after": str(after)}, headers=auditor).json()
    assert [(e["action"], e["after"]["as_of"]) for e in entries] == [("evaluate", "2023-03-01T23:59:59+00:00")]
    refused = client.post("/api/v1/evaluations", params={"as_of": "2023-03-01T12:00"}, headers=bearer(ws, "analyst"))
    assert refused.status_code == 422 and refused.json()["detail"].startswith("as_of: the time")
    assert client.get("/api/v1/audit", params={"after": str(after)}, headers=auditor).json() == entries
