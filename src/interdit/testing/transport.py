"""An API answered in-process, for code that takes an `httpx.Client`: no socket, no thread.

    api = MockApi()
    api.route("GET", "/v1/devices", Reply(body={"devices": []}))
    api.route("POST", "/v1/policies", lambda request: Reply(201, {"id": "p1"}))
    with api.client("https://mdm.example") as client:
        ...                                   # give it to the code under test
    assert api.hits("/v1/devices") == 1 and api.requests[0].method == "GET"

Routes and replies are those of `MdmServer` (a script of replies is consumed in order, the last one repeats;
an unknown route is a 404), so a test can move between the two. `Reply(drop=True)` raises the error httpx
raises when a server closes the connection without answering.
"""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qs

import httpx

from interdit.testing.mdm_server import Handler, Reply, Request


class MockApi:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler | list[Reply]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()

    def route(self, method: str, path: str, reply: Reply | Handler | list[Reply]) -> None:
        self.routes[(method, path)] = [reply] if isinstance(reply, Reply) else reply

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def client(self, base_url: str = "https://api.example") -> httpx.Client:
        return httpx.Client(base_url=base_url, transport=httpx.MockTransport(self._handle))

    def _handle(self, http: httpx.Request) -> httpx.Response:
        body = http.read()
        request = Request(http.method, http.url.path, parse_qs(http.url.query.decode()),
                          {k.lower(): v for k, v in http.headers.items()}, body)
        with self._lock:
            self.requests.append(request)
            target = self.routes.get((request.method, request.path))
            script = target if isinstance(target, list) else None
            if script is not None:
                reply = script.pop(0) if len(script) > 1 else script[0]
        if target is None:
            reply = Reply(404, {"error": "not found"})
        elif script is None and not isinstance(target, list):
            reply = target(request)
        if reply.drop:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=http)
        data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        return httpx.Response(reply.status, content=data,
                              headers={"Content-Type": "application/json", **reply.headers})
