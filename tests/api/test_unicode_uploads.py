"""Arbitrary Unicode through the API's upload (lone surrogates, NUL, right-to-left marks, in names, ids and
file names): every answer is a success or a problem detail of the 4xx family, never a server error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.conftest import bearer
from api.fixtures import Workspace, build_workspace, clock, options
from interdit.server.app import create_app

BAD = ["\ud800", "\udfff", "\x00", "\u0000x"]  # text no database stores: a record holding it is rejected
ODD = ["\u202e", "\u200f", "\ufeff", "é", "𝕏", "\n", "\r", "\t", "\"", ",", "\\", "=1+1", "<b>"]
TEXT = st.lists(st.one_of(st.sampled_from(BAD + ODD), st.text(max_size=4)), max_size=6).map("".join)
STORABLE = st.lists(st.one_of(st.sampled_from(ODD), st.text(alphabet=st.characters(
    exclude_categories=("Cs",), exclude_characters="\x00"), max_size=4)), max_size=6).map("".join)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, TestClient]]:
    root = tmp_path_factory.mktemp("unicode")
    ws = build_workspace(root / "ws", f"sqlite:///{root / 'unicode.db'}", devices=6)
    app = create_app(ws.settings, clock=clock, options=options(root))
    with TestClient(app, base_url="http://testserver") as c:
        yield ws, c


def _line(record: dict[str, object]) -> bytes:
    return json.dumps(record).encode("utf-8") + b"\n"  # \ud800 and \u0000 written as JSON escapes


def _upload(c: TestClient, ws: Workspace, device_id: str, name: str, user: str, app_name: str,
            file_name: str) -> None:
    device = {"type": "device", "device_id": device_id or "D", "platform": "android", "ownership": "corporate",
              "management": "fully_managed", "observed_at": "2023-03-01T06:00:00Z", "name": name, "user": user}
    good = {"type": "device", "device_id": "GOOD", "platform": "android", "ownership": "corporate",
            "management": "fully_managed", "observed_at": "2023-03-01T06:00:00Z"}
    app = {"type": "app", "device_id": device_id or "D", "platform": "android", "identifier": "com.example",
           "name": app_name, "observed_at": "2023-03-01T06:00:00Z"}
    body = _line(device) + _line(good) + _line(app)
    upload_name = file_name.encode("utf-8", "replace").decode("utf-8") + ".jsonl"
    r = c.post("/api/v1/imports?format=jsonl&source=unicode", headers=bearer(ws, "ingest"),
               files=[("files", (upload_name, body))])
    assert r.status_code < 500, r.text
    if r.status_code == 201:
        assert r.json()["read"] == r.json()["accepted"] + r.json()["rejected"]
        assert r.json()["accepted"] >= 1  # the good record goes in whatever its neighbour holds
    else:
        assert r.headers["content-type"] == "application/problem+json"


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(device_id=STORABLE, name=STORABLE, user=STORABLE, app_name=STORABLE, file_name=TEXT)
def test_any_text_in_an_upload_gets_an_answer(server: tuple[Workspace, TestClient], device_id: str, name: str,
                                              user: str, app_name: str, file_name: str) -> None:
    ws, c = server
    _upload(c, ws, device_id, name, user, app_name, file_name)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(device_id=TEXT, name=TEXT, user=TEXT, app_name=TEXT)
def test_text_no_database_stores_rejects_one_record(server: tuple[Workspace, TestClient], device_id: str,
                                                    name: str, user: str, app_name: str) -> None:
    ws, c = server
    _upload(c, ws, device_id, name, user, app_name, "inventory")


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(value=TEXT)
def test_any_text_in_a_query_gets_an_answer(server: tuple[Workspace, TestClient], value: str) -> None:
    ws, c = server
    for url in ("/api/v1/audit", "/api/v1/sightings", "/api/v1/findings"):
        key = {"/api/v1/audit": "actor", "/api/v1/sightings": "family", "/api/v1/findings": "device"}[url]
        r = c.get(url, params={key: value.encode("utf-8", "replace").decode("utf-8")}, headers=bearer(ws, "admin"))
        assert r.status_code < 500, (url, r.text)
    from urllib.parse import quote

    r = c.get(f"/api/v1/devices/mdm/{quote(value.encode('utf-8', 'replace').decode('utf-8')) or 'x'}",
              headers=bearer(ws, "admin"))
    assert r.status_code < 500, r.text


def test_a_lone_surrogate_file_name_is_stored_safely(server: tuple[Workspace, TestClient], tmp_path: Path) -> None:
    ws, c = server
    r = c.post("/api/v1/logs", headers=bearer(ws, "admin"),
               files=[("files", ("\u202egol.log" + "x" * 300, b"not a log\n"))])
    assert r.status_code < 500, r.text
