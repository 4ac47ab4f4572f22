"""Slow clients: a connection must finish sending each request's head within HEAD_SECONDS.

uvicorn closes idle keep-alive connections between requests, but waits for ever for a first request that
never comes, or for a head sent one byte at a time: about a thousand such connections use up a process's file
descriptors. `TimedH11` (uvicorn's h11 protocol) starts a timer when a connection opens and after each
answer, and closes the connection when no complete head has arrived before it ends. Bodies sent slowly are
the reverse proxy's to time out (docs/server.md, "Security model").
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_SECONDS = 10.0


class TimedH11(H11Protocol):
    head_seconds = HEAD_SECONDS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._waiting_for: Any = self.cycle
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(self.head_seconds, self._too_slow)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._head_timer is not None and self.cycle is not self._waiting_for:  # a whole head arrived
            self._head_timer.cancel()
            self._head_timer = None

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():  # the next request's head has the same time to arrive
            self._waiting_for = self.cycle
            if self._head_timer is not None:
                self._head_timer.cancel()
            self._head_timer = self.loop.call_later(self.head_seconds, self._too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()
