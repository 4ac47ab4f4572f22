"""Each findings filter selects exactly what it says: each test fails if its filter is taken out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import Workspace

Item = dict[str, Any]


def _all(client: TestClient, ws: Workspace, query: str = "") -> list[Item]:
    items: list[Item] = []
    url = f"/api/v1/findings?limit=1000{query}"
    cursor = None
    while True:
        r = client.get(url + (f"&cursor={cursor}" if cursor else ""), headers=bearer(ws, "auditor"))
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _check(client: TestClient, ws: Workspace, name: str, values: list[str], keep: Callable[[Item, str], bool]) -> None:
    everything = _all(client, ws)
    assert everything
    tried = 0
    for value in values:
        expected = [f["id"] for f in everything if keep(f, value)]
        if len(expected) == len(everything):
            continue  # this value removes nothing: it could not tell the filter is there
        got = [f["id"] for f in _all(client, ws, f"&{name}={value}")]
        assert got == expected, (name, value)
        tried += 1
    assert tried, f"no value of {name} narrows the demo fleet's findings"


def test_state(client: TestClient, ws: Workspace) -> None:
    _check(client, ws, "state", ["violation", "not_evaluable", "excepted", "resolved"], lambda f, v: f["state"] == v)


def test_kind(client: TestClient, ws: Workspace) -> None:
    from interdit.model import FindingKind

    _check(client, ws, "kind", [k.value for k in FindingKind], lambda f, v: f["kind"] == v)


def test_family(client: TestClient, ws: Workspace) -> None:
    families = sorted({f["family"] for f in _all(client, ws) if f["family"]})
    _check(client, ws, "family", [*families, "no-such-family"], lambda f, v: f["family"] == v)


def test_org_unit_includes_the_units_below(client: TestClient, ws: Workspace) -> None:
    units = sorted({f["org_unit"] for f in _all(client, ws) if f["org_unit"]})
    parents = sorted({u.rsplit("/", 1)[0] for u in units if u.count("/") > 1})

    def keep(f: Item, v: str) -> bool:
        unit = f["org_unit"] or ""
        return unit == v or unit.startswith(v + "/")

    _check(client, ws, "org_unit", [*parents, *units], keep)


def test_source(client: TestClient, ws: Workspace) -> None:
    sources = sorted({f["source"] for f in _all(client, ws)})
    _check(client, ws, "source", [*sources, "no-such-source"], lambda f, v: f["source"] == v)


@pytest.mark.parametrize("name", ["since", "until"])
def test_since_and_until(client: TestClient, ws: Workspace, name: str) -> None:
    everything = _all(client, ws)
    times = sorted({f["last_seen"] if name == "since" else f["first_seen"] for f in everything})
    picks = [t.replace("+00:00", "Z") for t in times]

    def keep(f: Item, v: str) -> bool:
        if name == "since":
            return _when(f["last_seen"]) >= _when(v)
        return _when(f["first_seen"]) <= _when(v)

    _check(client, ws, name, picks, keep)


def test_pages_say_which_evaluation_they_come_from(client: TestClient, ws: Workspace) -> None:
    page = client.get("/api/v1/findings?limit=5", headers=bearer(ws, "auditor")).json()
    summary = client.get("/api/v1/summary", headers=bearer(ws, "auditor")).json()
    assert _when(page["evaluated_at"]) == _when(summary["at"])
