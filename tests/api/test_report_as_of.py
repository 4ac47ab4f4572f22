"""`as_of` on the report route reads what the CLI's --as-of reads, and answers 422 (never 500) otherwise."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import Workspace


@pytest.mark.parametrize(("as_of", "day"), [
    ("2023-03-01", "2023-03-01T23:59:59+00:00"),
    ("2023-03-01T12:00:00Z", "2023-03-01T12:00:00+00:00"),
    ("2023-03-01T08:00:00-04:00", "2023-03-01T12:00:00+00:00"),
])
def test_the_cli_date_forms_are_accepted(client: TestClient, ws: Workspace, as_of: str, day: str) -> None:
    r = client.get("/api/v1/reports/json", params={"as_of": as_of}, headers=bearer(ws, "analyst"))
    assert r.status_code == 200, r.text
    assert r.json()["as_of"] == day
    html = client.get("/api/v1/reports/html", params={"as_of": as_of}, headers=bearer(ws, "analyst"))
    assert html.status_code == 200 and "20230301" in html.headers["content-disposition"]


@pytest.mark.parametrize("as_of", [
    "2023-02-30", "yesterday", "2023-03-01T12:00:00", "0001-01-01", "9999-12-31", "0001-01-01T00:00:00-14:00",
    "2023-13-01T00:00:00Z", "12345-01-01",
])
def test_bad_dates_are_a_problem_naming_the_parameter(client: TestClient, ws: Workspace, as_of: str) -> None:
    r = client.get("/api/v1/reports/html", params={"as_of": as_of}, headers=bearer(ws, "analyst"))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["detail"].startswith("as_of") and problem["fix"]
