"""The server's cache: a new key is made at once; an aged value is remade in the background."""

from __future__ import annotations

import threading
from pathlib import Path

from interdit.server.context import ServerContext, ServerOptions
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

    assert ctx.cache.get("x", ("a",), make) == 1
    assert ctx.cache.get("x", ("a",), make) == 1 and len(calls) == 1, "fresh: not remade"
    assert ctx.cache.get("x", ("b",), make) == 2, "a new key is made before answering"
    ctx.cache.entries["x"].made -= 60  # age it
    assert ctx.cache.get("x", ("b",), make) == 2, "aged: the old value is served while it is remade"
    assert ctx.cache.get("x", ("b",), make) == 2, "only one remake at a time"
    release.set()
    for _ in range(100):
        if ctx.cache.entries["x"].value == 3:
            break
        threading.Event().wait(0.02)
    assert ctx.cache.get("x", ("b",), make) == 3 and len(calls) == 3


def test_stale_ok_answers_the_previous_value_while_a_new_key_is_being_made(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, 30)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "new"

    assert ctx.cache.get("x", ("a",), lambda: "old") == "old"
    writer = threading.Thread(target=lambda: ctx.cache.get("x", ("b",), slow))  # an import making its evaluation
    writer.start()
    assert started.wait(5)
    assert ctx.cache.get("x", ("b",), lambda: "reader's own", stale_ok=True) == "old", "readers do not wait"
    release.set()
    writer.join(5)
    assert ctx.cache.get("x", ("b",), lambda: "never made", stale_ok=True) == "new"
    # nobody is making it: a reader with a new key makes it, as without stale_ok (another process imported)
    assert ctx.cache.get("x", ("c",), lambda: "made by the reader", stale_ok=True) == "made by the reader"
    ctx.cache.forget("x")  # forgotten (a policy change): nothing stale to answer from
    assert ctx.cache.get("x", ("d",), lambda: "fresh", stale_ok=True) == "fresh"
