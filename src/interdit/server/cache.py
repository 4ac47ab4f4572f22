"""What the server remembers between requests: computed values (the evaluation, the fleet, the history) and,
for a few seconds, which account a token or session belongs to."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from interdit.storage.accounts import Account, AccountStore, TokenInfo

TOKEN_CACHE_SECONDS = 5.0  # a token revoked (an account disabled) from the command line stops within this time
SESSION_CACHE_SECONDS = 5.0  # a session is looked up again after this; signing out forgets it at once
MAX_REMEMBERED = 10_000  # tokens or sessions remembered at most (all are forgotten beyond)


@dataclass
class Cached:
    key: tuple[Any, ...]
    made: float
    value: Any


@dataclass
class Cache:
    """Values made once per key and kept a while; `seconds` is the default time they are kept."""

    seconds: float = 60.0
    entries: dict[str, Cached] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)

    def get(self, name: str, key: tuple[Any, ...], make: Callable[[], Any], *, ttl: float | None = None,
            stale_ok: bool = False) -> Any:
        """The value for `key`, made once and kept `ttl` seconds.

        A new key (a new import, another policy) is made at once, and the request waits for it; with
        `stale_ok`, while another request is already making the value for a new key (an import computing the
        evaluation it changed), the previous value is answered instead of waiting. A value that has only aged
        is remade in the background while requests keep getting the old one (for ttl ≥ 5 s).
        """
        ttl = self.seconds if ttl is None else ttl
        entry = self.entries.get(name)
        if entry is not None and entry.key == key and time.monotonic() - entry.made < ttl:
            return entry.value
        lock = self._locks.setdefault(name, threading.Lock())
        if entry is not None and entry.key == key:
            if not lock.acquire(blocking=False):
                return entry.value  # someone is remaking it already
            if ttl >= 5:
                threading.Thread(target=self._remake, args=(name, key, make, lock), daemon=True).start()
                return entry.value
        elif stale_ok and entry is not None:
            if not lock.acquire(blocking=False):
                return entry.value  # the value for the new key is being made: answer from the previous one
        else:
            lock.acquire()
        try:
            entry = self.entries.get(name)
            if entry is not None and entry.key == key and time.monotonic() - entry.made < ttl:
                return entry.value
            value = make()
            self.entries[name] = Cached(key, time.monotonic(), value)
            return value
        finally:
            lock.release()

    def _remake(self, name: str, key: tuple[Any, ...], make: Callable[[], Any], lock: threading.Lock) -> None:
        try:
            self.entries[name] = Cached(key, time.monotonic(), make())
        except Exception:  # the old value stays; the next request tries again
            logging.getLogger("interdit.api").exception("could not refresh %s", name)
        finally:
            lock.release()

    def forget(self, *names: str) -> None:
        for n in names or tuple(self.entries):
            self.entries.pop(n, None)


@dataclass
class AccountCache:
    """Which account a token or session opens, remembered a few seconds so each request does not ask the
    database (revoking or signing out through the server forgets at once)."""

    accounts: Callable[[], AccountStore]
    _tokens: dict[str, tuple[float, tuple[Account, TokenInfo] | None]] = field(default_factory=dict)
    _sessions: dict[str, tuple[float, Account | None]] = field(default_factory=dict)

    def token_account(self, secret: str) -> tuple[Account, TokenInfo] | None:
        """`accounts.token_for`, remembered for TOKEN_CACHE_SECONDS."""
        now = time.monotonic()
        hit = self._tokens.get(secret)
        if hit is not None and now - hit[0] < TOKEN_CACHE_SECONDS:
            return hit[1]
        found = self.accounts().token_for(secret)
        if len(self._tokens) > MAX_REMEMBERED:
            self._tokens.clear()
        self._tokens[secret] = (now, found)
        return found

    def session_account(self, secret: str) -> Account | None:
        """The account of a live session, remembered for SESSION_CACHE_SECONDS."""
        now = time.monotonic()
        hit = self._sessions.get(secret)
        if hit is not None and now - hit[0] < SESSION_CACHE_SECONDS:
            return hit[1]
        found = self.accounts().session(secret)
        account = found.account if found is not None else None
        if len(self._sessions) > MAX_REMEMBERED:
            self._sessions.clear()
        self._sessions[secret] = (now, account)
        return account

    def end_session(self, secret: str) -> None:
        self._sessions.pop(secret, None)
        self.accounts().end_session(secret)

    def forget(self) -> None:
        self._tokens.clear()
        self._sessions.clear()
