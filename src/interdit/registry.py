"""Registry[T]: components register by name; duplicates are refused; built-ins load lazily, then plugins.

    connectors = Registry[type[InventoryReader]]("inventory", builtins="interdit.inventory")

    @connectors.register("csv")
    class CsvReader: ...

Built-in modules of a package are imported the first time the registry is read, so nothing happens at
import time; third-party components come from the `interdit.plugins` entry-point group.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from interdit.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, builtins: str | None = None) -> None:
        self.kind = kind
        self._builtins = builtins
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Register under `name`, or without it under the item's own `name` attribute (written once)."""

        def decorator(item: T) -> T:
            key = name if name is not None else getattr(item, "name", None)
            if not isinstance(key, str) or not key:
                raise ConfigError(f"a {self.kind} component has no name", fix="give the class a `name` attribute")
            if key in self._items and self._items[key] is not item:
                raise ConfigError(f"two {self.kind} components are both named {key!r}",
                                  fix="rename one of them")
            self._items[key] = item
            return item

        return decorator

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self._builtins:
            package = importlib.import_module(self._builtins)
            for info in pkgutil.iter_modules(package.__path__):
                if not info.name.startswith("_"):
                    importlib.import_module(f"{self._builtins}.{info.name}")
        for ep in entry_points(group="interdit.plugins"):
            if ep.name.startswith(self.kind + "."):
                ep.load()

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise ConfigError(f"unknown {self.kind} {name!r}", fix=f"use one of: {known}") from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        self._load()
        yield from sorted(self._items.items())

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items
