"""Serving the recorded Entra ID memberships (recorded/intune/transitiveMemberOf.json) as Microsoft Graph does:
`POST /v1.0/$batch` answers up to twenty GETs at once, and a member list's next page is a plain GET."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from interdit.testing import MdmServer, Reply, Request

RECORDED = json.loads((Path(__file__).parent / "recorded" / "intune" / "transitiveMemberOf.json").read_text("utf-8"))
SUFFIX = "/transitiveMemberOf"


def page(target: str, base: str, number: int) -> dict[str, Any] | None:
    """Page `number` (0-based) of `target`'s memberships, its next link pointing at `base`; None when unknown."""
    pages = RECORDED.get(target)
    if pages is None or number >= len(pages):
        return None
    body = dict(pages[number])
    if "@odata.nextLink" in body:
        query = f"$select=id,displayName&$top=999&$skiptoken=P{number + 2}"
        body["@odata.nextLink"] = f"{base}/v1.0{target}{SUFFIX}?{query}"
    return body


def batch(body: Any, base: str, *, fail: set[str] | None = None) -> dict[str, Any]:
    """The `$batch` answer to `body`; targets in `fail` answer 429 inside the batch (asked again on their own)."""
    assert len(body["requests"]) <= 20
    responses = []
    for r in body["requests"]:
        assert r["method"] == "GET"
        target = unquote(urlsplit(r["url"]).path).removesuffix(SUFFIX)
        if fail and target in fail:
            responses.append({"id": r["id"], "status": 429, "headers": {"Retry-After": "1"}, "body": {}})
            continue
        found = page(target, base, 0)
        responses.append({"id": r["id"], "status": 200 if found else 404,
                          "body": found or {"error": {"code": "Request_ResourceNotFound"}}})
    return {"responses": responses}


def direct(path: str, query: str, base: str) -> tuple[int, dict[str, Any]]:
    """A plain GET of one target's memberships (a next page, or a batch response asked again)."""
    target = unquote(path).removeprefix("/v1.0").removesuffix(SUFFIX)
    number = int(query.rsplit("$skiptoken=P", 1)[1]) - 1 if "$skiptoken=P" in query else 0
    found = page(target, base, number)
    return (200, found) if found else (404, {"error": {"code": "Request_ResourceNotFound"}})


def serve(server: MdmServer, *, fail: set[str] | None = None) -> None:
    """Route the recorded memberships on a local server."""
    server.route("POST", "/v1.0/$batch", lambda r: Reply(200, batch(r.json(), server.url, fail=fail)))
    for target in RECORDED:
        if target.startswith("/"):
            def one(request: Request) -> Reply:
                query = "&".join(f"{k}={v[0]}" for k, v in request.query.items())
                status, body = direct(request.path, query, server.url)
                return Reply(status, body)
            server.route("GET", f"/v1.0{target}{SUFFIX}", one)
