"""The server's addresses and its OpenAPI document are a contract: moving code around must not change them.

The golden files are rewritten with `INTERDIT_UPDATE_GOLDEN=1` when a route is added on purpose."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from interdit.server.app import create_app
from interdit.server.context import ServerOptions
from interdit.settings import Settings

GOLDEN = Path(__file__).parent / "golden"


def _app(tmp_path: Path) -> Any:
    settings = Settings(f"sqlite:///{tmp_path / 'none.db'}", tmp_path / "policy.yaml")
    return create_app(settings, options=ServerOptions(secret="s", oidc=None))


def _walk(routes: list[Any], prefix: str = "") -> list[str]:
    lines = []
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:  # a router included in the app
            lines += _walk(original.routes, prefix + route.include_context.prefix)
            continue
        methods = " ".join(sorted(getattr(route, "methods", None) or ["MOUNT"]))
        lines.append(f"{methods} {prefix}{route.path} {route.name}")
    return lines


def _check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("INTERDIT_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed: compare with {path}"


def test_every_route_keeps_its_method_path_and_name(tmp_path: Path) -> None:
    lines = sorted(_walk(list(_app(tmp_path).routes)))
    assert any(line.startswith("GET /api/v1/findings ") for line in lines)
    assert any(" /login " in line for line in lines)  # the dashboard is part of the same application
    _check("routes.txt", "\n".join(lines) + "\n")


def test_the_openapi_document_is_unchanged(tmp_path: Path) -> None:
    document = _app(tmp_path).openapi()
    document["info"].pop("version")  # the release number moves; nothing else may
    assert "/api/v1/reports/{fmt}" in document["paths"]
    _check("openapi.json", json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n")

