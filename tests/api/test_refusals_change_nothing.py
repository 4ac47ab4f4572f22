"""Every API change that is refused (4xx) leaves the policy file, the database and the audit trail as they were
(a refused import keeps only its failed run, the record of the refusal)."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.conftest import bearer
from api.fixtures import Workspace, build_workspace, clock, options
from interdit.server.app import create_app

HEADER = b"device_id,platform,ownership,management,observed_at\n"
APPS = b"device_id,platform,identifier,name,version,managed,observed_at\n"


def _bomb() -> bytes:
    return gzip.compress(HEADER + b"\n" * (100 << 20), 9)


def _files(devices: bytes = HEADER) -> list[tuple[str, tuple[str, bytes]]]:
    return [("files", ("devices.csv", devices)), ("files", ("apps.csv", APPS))]


# (what, role, method, url, keyword arguments of the request, the status expected)
REFUSED: list[tuple[str, str, str, str, dict[str, Any], int]] = [
    ("a user that exists", "admin", "POST", "/api/v1/users", {"json": {"username": "analyst", "role": "admin"}}, 409),
    ("a short password", "admin", "POST", "/api/v1/users",
     {"json": {"username": "new", "role": "admin", "password": "short"}}, 422),
    ("disabling oneself", "admin", "POST", "/api/v1/users/admin/disable", {}, 409),
    ("disabling no one", "admin", "POST", "/api/v1/users/nobody/disable", {}, 404),
    ("a password for no one", "admin", "POST", "/api/v1/users/nobody/password",
     {"json": {"password": "a long enough password"}}, 404),
    ("a token for no one", "admin", "POST", "/api/v1/tokens", {"json": {"username": "nobody", "name": "t"}}, 404),
    ("a token with a bad source", "admin", "POST", "/api/v1/tokens",
     {"json": {"username": "ingest", "name": "t", "sources": ["a b"]}}, 422),
    ("revoking no token", "admin", "DELETE", "/api/v1/tokens/000000000000", {}, 404),
    ("an invalid policy", "admin", "PUT", "/api/v1/policy", {"json": {"text": "schema_version: 99\n"}}, 422),
    ("an exception in the past", "admin", "POST", "/api/v1/exceptions",
     {"json": {"id": "EX-P", "families": ["tiktok"], "approver": "a", "reason": "r", "expires": "2020-01-01",
               "users": ["u"]}}, 422),
    ("an exception that exists", "admin", "POST", "/api/v1/exceptions",
     {"json": {"id": "EX-DUP", "families": ["tiktok"], "approver": "a", "reason": "r", "expires": "2024-01-01",
               "users": ["u"]}}, 409),
    ("revoking no exception", "admin", "DELETE", "/api/v1/exceptions/NOPE", {}, 404),
    ("syncing no source", "admin", "POST", "/api/v1/sources/nope/sync", {}, 404),
    ("an unknown import format", "ingest", "POST", "/api/v1/imports?format=nope&source=x", {"files": _files()}, 422),
    ("an import of another source", "scoped", "POST", "/api/v1/imports?format=csv&source=mdm",
     {"files": _files()}, 403),
    ("logs from a source's token", "scoped", "POST", "/api/v1/logs", {"files": [("files", ("d.log", b"x\n"))]}, 403),
    ("an unreadable import", "ingest", "POST", "/api/v1/imports?format=csv&source=bad",
     {"files": [("files", ("devices.csv", b"device_id,platform\nA,android\n"))]}, 422),
    ("a decompression bomb", "ingest", "POST", "/api/v1/imports?format=csv&source=bomb",
     {"bomb": True}, 413),
    ("an import without files", "ingest", "POST", "/api/v1/imports?format=csv&source=x", {"json": {}}, 422),
    ("a NUL in the address", "admin", "POST", "/api/v1/imports?format=csv&source=a%00", {"files": _files()}, 400),
    ("an unknown enforcement target", "admin", "POST", "/api/v1/enforcement/nope", {}, 404),
]


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, TestClient]]:
    root = tmp_path_factory.mktemp("refusals")
    ws = build_workspace(root / "ws", f"sqlite:///{root / 'refusals.db'}", devices=12)
    app = create_app(ws.settings, clock=clock, options=options(root, max_upload_bytes=4 * 1024 * 1024))
    with TestClient(app, base_url="http://testserver") as c:
        made = c.post("/api/v1/tokens", headers=bearer(ws, "admin"),
                      json={"username": "ingest", "name": "nightly", "sources": ["intune-nightly"]})
        ws.tokens["scoped"] = made.json()["token"]
        assert c.post("/api/v1/exceptions", headers=bearer(ws, "admin"), json={
            "id": "EX-DUP", "families": ["tiktok"], "approver": "a", "reason": "r", "expires": "2024-01-01",
            "users": ["u"]}).status_code == 201
        yield ws, c


def _state(ws: Workspace) -> dict[str, Any]:
    engine = sa.create_engine(ws.url)
    tables: dict[str, Any] = {}
    with engine.connect() as conn:
        for name in sa.inspect(engine).get_table_names():
            rows = [tuple(r) for r in conn.execute(sa.text(f'SELECT * FROM "{name}"'))]
            if name == "import_runs":
                rows = [r for r in rows if "failed" not in r]
            tables[name] = sorted(rows, key=repr)
    engine.dispose()
    return {"policy": hashlib.sha256(ws.policy.read_bytes()).hexdigest(), "tables": tables}


@pytest.mark.parametrize(("what", "role", "method", "url", "kwargs", "status"), REFUSED,
                         ids=[r[0] for r in REFUSED])
def test_a_refused_change_leaves_no_trace(setup: tuple[Workspace, TestClient], what: str, role: str, method: str,
                                          url: str, kwargs: dict[str, Any], status: int) -> None:
    ws, c = setup
    if kwargs.get("bomb"):  # made here, not when the tests are collected
        kwargs = {"files": [("files", ("devices.csv.gz", _bomb())), ("files", ("apps.csv", APPS))]}
    before = _state(ws)
    r = c.request(method, url, headers=bearer(ws, role), **kwargs)
    assert r.status_code == status, (what, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert _state(ws) == before, what
