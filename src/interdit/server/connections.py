"""Slow clients: a connection must finish sending each request's head within HEAD_SECONDS.

uvicorn closes idle keep-alive connections between requests, but waits for ever for a first request that
never comes, or for a head sent one byte at a time: about a thousand such connections use up a process's file
descriptors. The protocols here (uvicorn's, httptools when it is installed, else h11) start a timer when a
connection opens and after each answer, and close the connection when no complete head has arrived before it
ends. A head may not exceed HEAD_BYTES (h11 counts it itself; with httptools it is counted here, and a longer
one is answered 431). Bodies sent slowly are the reverse proxy's to time out (docs/server.md, "Security
model").
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_SECONDS = 10.0
HEAD_BYTES = 64 * 1024


class _HeadTimer:
    """The head timer, for a uvicorn HTTP protocol (mixed in before it)."""

    head_seconds = HEAD_SECONDS
    head_bytes = HEAD_BYTES
    count_head = False  # count the head's bytes here (the parser does not bound them)
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._waiting_for: Any = self.cycle
        self._head_read = 0
        self._head_tail = b""  # the last bytes read: the end of a head may come split across two reads
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(self.head_seconds, self._too_slow)

    def data_received(self, data: bytes) -> None:
        waiting = self._head_timer is not None
        if waiting and self.count_head:
            # only the head's bytes count: a read that holds the end of the head and the start of the body (an
            # upload's first 64 KiB) is a head of the size before its blank line
            seen = self._head_tail + data
            end = seen.find(b"\r\n\r\n")
            self._head_read += len(data) if end < 0 else max(0, end + 4 - len(self._head_tail))
            self._head_tail = seen[-3:]
            if self._head_read > self.head_bytes and self.cycle is self._waiting_for:
                self._refuse_head()
                return
        super().data_received(data)  # type: ignore[misc]
        if waiting and self._head_timer is not None and self.cycle is not self._waiting_for:  # a whole head
            self._head_timer.cancel()
            self._head_timer = None

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        idle = self.cycle is None or self.cycle.response_complete  # not a pipelined request already under way
        if idle and not self.transport.is_closing():  # the next request's head has the same time to arrive
            self._waiting_for = self.cycle
            self._head_read = 0
            self._head_tail = b""
            if self._head_timer is not None:
                self._head_timer.cancel()
            self._head_timer = self.loop.call_later(self.head_seconds, self._too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)  # type: ignore[misc]

    def _too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _refuse_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        if not self.transport.is_closing():
            self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n"
                                 b"connection: close\r\n\r\n")
            self.transport.close()


class TimedH11(_HeadTimer, H11Protocol):  # type: ignore[misc]
    pass


def timed_protocol() -> type[Any]:
    """The protocol `interdit serve` uses: httptools's (a C parser, several times cheaper per request) when it
    is installed, else h11's; both with the head timer."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return TimedH11

    class TimedHttpTools(_HeadTimer, HttpToolsProtocol):  # type: ignore[misc]
        count_head = True

    return TimedHttpTools
