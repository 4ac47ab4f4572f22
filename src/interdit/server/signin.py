"""Password sign-in under attack: few argon2 checks at once, and failures slow down the next attempts.

Each argon2id check takes 64 MiB and a quarter of a second of one core. `PasswordGate` lets
`password_checks` of them run at once and `password_queue` more wait; beyond that the answer is 503 with
`Retry-After`, at once, instead of more memory. `Throttle` counts failed sign-ins per account name and per
client address: after `free` failures, each further attempt must wait twice as long as the last (1 s, 2 s,
4 s, ... up to `LOCK_MAX`), and the answer is 429 with `Retry-After` without the password being checked. The
same rules apply to names that do not exist, so the answers never tell whether an account exists. A
successful sign-in clears its account's count. The counts live in this server process.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

LOCK_MAX = 15 * 60.0  # the longest wait after repeated failures
FORGET_AFTER = 3600.0  # failures older than this no longer count
MAX_KEYS = 100_000  # the counts kept at most (the oldest are dropped beyond)


class Busy(Exception):
    """Too many password checks running and waiting: retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many sign-ins are being checked at once")
        self.retry_after = retry_after


CHECK_NICENESS = 10  # how much lower than the server's the password checks' scheduling priority is


def _lower_priority() -> None:
    """Lower the calling thread's scheduling priority (Linux: a thread's own nice value, which the threads it
    starts, such as argon2's lanes, inherit); elsewhere nothing changes."""
    import os
    import sys

    if sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + CHECK_NICENESS))
        except OSError:
            pass


class PasswordGate:
    """At most `checks` password checks at once, `queue` more waiting; the rest are refused with Busy.

    The waiting is done on the event loop, not in worker threads, so that waiting sign-ins never hold the
    threads other requests (such as /healthz) need. The checks run in threads of their own, at a lower
    scheduling priority: an argon2id check keeps 4 lanes busy, which on a small machine would otherwise take
    every core from the event loop while a flood of guesses lasts."""

    def __init__(self, checks: int, queue: int, *, wait: float = 10.0) -> None:
        self.checks = max(1, checks)
        self.queue = max(0, queue)
        self.wait = wait
        self._admitted = 0
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None
        self._threads: ThreadPoolExecutor | None = None

    @property
    def admitted(self) -> int:
        return self._admitted

    @property
    def full(self) -> bool:
        """Every slot is taken and the queue is full: the next check would be refused."""
        return self._admitted >= self.checks + self.queue

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.checks))
        return self._slots[1]

    async def run(self, check: Callable[[], T]) -> T:
        """`check()` in a checking thread once a slot is free; Busy when too many are running and waiting."""
        if self._admitted >= self.checks + self.queue:
            raise Busy(1)
        self._admitted += 1
        try:
            slots = self._semaphore()
            try:
                await asyncio.wait_for(slots.acquire(), self.wait)
            except TimeoutError:
                raise Busy(2) from None
            try:
                if self._threads is None:
                    self._threads = ThreadPoolExecutor(self.checks, thread_name_prefix="password-check",
                                                       initializer=_lower_priority)
                return await asyncio.get_running_loop().run_in_executor(self._threads, check)
            finally:
                slots.release()
        finally:
            self._admitted -= 1


@dataclass
class _Count:
    failures: int
    last: float
    locked_until: float


class Throttle:
    """Failed sign-ins per key ("account:NAME", "address:IP"); `free` failures, then doubling waits."""

    def __init__(self, free_per_account: int = 5, free_per_address: int = 20,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.free = {"account": max(1, free_per_account), "address": max(1, free_per_address)}
        self.clock = clock
        self._counts: dict[str, _Count] = {}
        self._lock = threading.Lock()

    @staticmethod
    def keys(username: str, address: str) -> list[str]:
        return [f"account:{username.strip().casefold()[:200]}", f"address:{address[:100]}"]

    def wait(self, keys: list[str]) -> int:
        """Seconds before any of `keys` may try again (0: now)."""
        now = self.clock()
        with self._lock:
            longest = 0.0
            for key in keys:
                c = self._counts.get(key)
                if c is not None and c.locked_until > now:
                    longest = max(longest, c.locked_until - now)
            return math.ceil(longest)

    def failed(self, keys: list[str]) -> list[str]:
        """Count one failure on each key; the keys that are locked from now on (to audit)."""
        now = self.clock()
        locked: list[str] = []
        with self._lock:
            if len(self._counts) >= MAX_KEYS:
                self._prune(now)
            for key in keys:
                c = self._counts.get(key)
                if c is None or now - c.last > FORGET_AFTER:
                    c = self._counts[key] = _Count(0, now, 0.0)
                c.failures += 1
                c.last = now
                over = c.failures - self.free[key.split(":", 1)[0]]
                if over >= 0:
                    c.locked_until = now + min(LOCK_MAX, 2.0 ** over)
                    if over == 0:
                        locked.append(key)
        return locked

    def succeeded(self, keys: list[str]) -> None:
        with self._lock:
            for key in keys:
                if key.startswith("account:"):
                    self._counts.pop(key, None)

    def _prune(self, now: float) -> None:
        for key in [k for k, c in self._counts.items() if now - c.last > FORGET_AFTER or c.locked_until < now]:
            del self._counts[key]
        if len(self._counts) >= MAX_KEYS:
            for key in sorted(self._counts, key=lambda k: self._counts[k].last)[: MAX_KEYS // 2]:
                del self._counts[key]
