"""Fixtures for the server tests: a workspace per database kind, built once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.fixtures import Workspace, build_workspace, clock, options
from interdit.server.app import create_app


@pytest.fixture(scope="session")
def sqlite_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("server-sqlite")
    return build_workspace(root, f"sqlite:///{root / 'interdit.db'}")


@pytest.fixture()
def ws(sqlite_ws: Workspace, tmp_path: Path) -> Workspace:
    """The session's SQLite workspace, with a fresh copy of the policy file for this test."""
    original = sqlite_ws.root / "policy.yaml.orig"
    if not original.exists():
        original.write_bytes(sqlite_ws.policy.read_bytes())
    sqlite_ws.policy.write_bytes(original.read_bytes())
    return sqlite_ws


@pytest.fixture()
def client(ws: Workspace, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(ws.settings, clock=clock, options=options(tmp_path, max_upload_bytes=2 * 1024 * 1024))
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def bearer(ws: Workspace, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {ws.tokens[role]}"}
