"""The server's cache: a new key is made at once; an aged value is remade in the background."""

from __future__ import annotations

import threading
from pathlib import Path

from interdit.api.context import ServerContext, ServerOptions
from interdit.settings import Settings


def _ctx(tmp_path: Path, seconds: float) -> ServerContext:
    settings = Settings.resolve(db=f"sqlite:///{tmp_path / 'c.db'}", policy=tmp_path / "p.yaml", environ={})
    return ServerContext(settings, ServerOptions(secret="s", cache_seconds=seconds), clock=lambda: None)  # type: ignore[arg-type, return-value]


def test_new_keys_wait_and_aged_values_refresh_in_the_background(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, 30)
    calls: list[int] = []
    release = threading.Event()

    def make() -> int:
        calls.append(1)
        if len(calls) == 3:
            release.wait(5)
        return len(calls)

    assert ctx.cached("x", ("a",), make) == 1
    assert ctx.cached("x", ("a",), make) == 1 and len(calls) == 1, "fresh: not remade"
    assert ctx.cached("x", ("b",), make) == 2, "a new key is made before answering"
    ctx._cache["x"].made -= 60  # age it
    assert ctx.cached("x", ("b",), make) == 2, "aged: the old value is served while it is remade"
    assert ctx.cached("x", ("b",), make) == 2, "only one remake at a time"
    release.set()
    for _ in range(100):
        if ctx._cache["x"].value == 3:
            break
        threading.Event().wait(0.02)
    assert ctx.cached("x", ("b",), make) == 3 and len(calls) == 3
