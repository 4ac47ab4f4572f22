"""A small, faulty MDM server to test a connector against: a threaded `http.server` on 127.0.0.1, a free port.

Routes map (method, path) to a handler `(Request) -> Reply`, or to a script of replies consumed in order (the
last one repeats). A reply can page, throttle (429 + Retry-After), fail (500), send malformed JSON, or drop
the connection without answering. Every request is recorded (method, path, query, headers, body).

    with MdmServer() as mdm:
        mdm.route("GET", "/api/devices", [Reply(429, headers={"Retry-After": "0"}), Reply(body={"devices": []})])
        ...  # point the connector at mdm.url
        assert mdm.hits("/api/devices") == 2
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # bytes are sent as is; anything else as JSON
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without a response


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


Handler = Callable[[Request], Reply]


class MdmServer:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler | list[Reply]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        server = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

            def log_message(self, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                request = Request(self.command, parts.path, parse_qs(parts.query),
                                  {k.lower(): v for k, v in self.headers.items()}, body)
                reply = server._reply(request)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def route(self, method: str, path: str, handler: Handler | list[Reply]) -> None:
        self.routes[(method, path)] = handler

    def _reply(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            target = self.routes.get((request.method, request.path))
            if target is None:
                return Reply(404, {"error": "not found"})
            if isinstance(target, list):
                return target.pop(0) if len(target) > 1 else target[0]
        return target(request)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def __enter__(self) -> MdmServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def same_records(a: list[Any], b: list[Any]) -> bool:
    """The same records; rejections compared by reason (their place names a URL or a file)."""
    from interdit.model import Rejection

    def key(rs: list[Any]) -> list[Any]:
        return [r.reason if isinstance(r, Rejection) else r for r in rs]

    return key(a) == key(b)
