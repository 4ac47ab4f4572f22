"""The limits `interdit serve` gives uvicorn: idle keep-alive connections close, oversized heads are refused."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.fixtures import build_workspace, clock, free_port, options
from interdit.cli.server_cmd import connection_limits
from interdit.server.app import create_app
from interdit.server.connections import TimedH11, timed_protocol


def test_connection_limits_follow_the_environment() -> None:
    assert connection_limits({}) == {"timeout_keep_alive": 5, "limit_concurrency": 1000,
                                     "h11_max_incomplete_event_size": 64 * 1024}
    assert connection_limits({"INTERDIT_KEEP_ALIVE_SECONDS": "2", "INTERDIT_MAX_CONNECTIONS": "50"})[
        "limit_concurrency"] == 50


class Quick(TimedH11):
    head_seconds = 1.0


class QuickFast(timed_protocol()):  # type: ignore[misc]
    head_seconds = 1.0


def _closed_within(s: socket.socket, seconds: float) -> bool:
    began = time.monotonic()
    while s.recv(65536):
        pass
    return time.monotonic() - began < seconds


@pytest.mark.parametrize("protocol", [Quick, QuickFast], ids=["h11", "served"])
def test_idle_connections_close_and_huge_heads_are_refused(tmp_path: Path, protocol: type[Any]) -> None:
    ws = build_workspace(tmp_path / "ws", f"sqlite:///{tmp_path / 'c.db'}", devices=5)
    limits = connection_limits({"INTERDIT_KEEP_ALIVE_SECONDS": "1"})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ws.settings, clock=clock, options=options(tmp_path)),
                                           host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                                           http=protocol, **limits))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
            assert _closed_within(s, 5)  # the connection stays idle: the server closes it
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            assert _closed_within(s, 5)  # a connection that never sends anything
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # a head that never ends, sent slowly
            for _ in range(3):
                time.sleep(0.4)
                try:
                    s.sendall(b"X-A: b\r\n")
                except OSError:
                    break
            assert _closed_within(s, 5)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            # a head that keeps growing without ever ending is cut off, not buffered for ever
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (100 * 1024))
            answer = s.recv(65536)
            assert answer == b"" or answer.startswith((b"HTTP/1.1 4", b"HTTP/1.1 5"))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 1000 + b"\r\n" * 1)
            for _ in range(99):
                try:
                    s.sendall(b"X-More: " + b"a" * 1000 + b"\r\n")
                except OSError:
                    break
            try:
                s.sendall(b"\r\n")
                answer = s.recv(65536)
            except OSError:
                answer = b""
            assert not answer.startswith(b"HTTP/1.1 2"), answer[:200]  # 100 KiB of headers are never served
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            # a small head and a large body in one write (an upload): the body is not the head, never a 431
            body = b"x" * (300 * 1024)
            s.sendall(b"POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            answer = s.recv(65536)
            assert answer.startswith(b"HTTP/1.1 ") and not answer.startswith(b"HTTP/1.1 431"), answer[:200]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
