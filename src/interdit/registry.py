"""Registry[T]: components register by name; duplicates are refused; built-ins load lazily, then plugins.

    targets = Registry[type[Target]]("enforcement", builtins="interdit.enforcement")

    @targets.register
    class Unbound:
        name = "unbound"          # the key, written once: the registry reads it from the class
        ...

`register("name")` still works for a component whose key is not its `name` attribute.

Built-in modules of a package (and of its sub-packages) are imported the first time the registry is read, so
nothing happens at import time; modules and sub-packages whose name starts with `_` are machinery and are not
walked. Third-party components come from the `interdit.plugins` entry-point group: an entry point named
`<kind>.<anything>` (e.g. `reporting.acme = "acme_reports.pdf"`) is loaded when the `<kind>` registry is read,
and its module registers itself like a built-in one. A plugin that takes a name already taken is refused.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar, overload

from interdit.errors import ConfigError

T = TypeVar("T")

GROUP = "interdit.plugins"
# a second thread reading a registry waits for the first one's loading to end (one lock for every registry:
# loading is rare, and a registry stays picklable for Spark's workers)
_LOADING = threading.RLock()


class Registry(Generic[T]):
    def __init__(self, kind: str, builtins: str | None = None) -> None:
        self.kind = kind
        self._builtins = builtins
        self._items: dict[str, T] = {}
        self._loaded = False
        self._loading = False

    @overload
    def register(self, name: str | None = None, /) -> Callable[[T], T]: ...

    @overload
    def register(self, name: T, /) -> T: ...

    def register(self, name: str | T | None = None, /) -> Callable[[T], T] | T:
        """`@registry.register` (or `@registry.register()`) takes the key from the component's `name`;
        `@registry.register("key")` names it explicitly. Either way a second component under a taken name is
        refused."""
        if isinstance(name, str):
            key = name
            return lambda item: self._add(key, item)
        if name is None:
            return self.register
        item = name
        declared = getattr(item, "name", None)
        if not isinstance(declared, str) or not declared:
            raise ConfigError(f"{self.kind} component {getattr(item, '__qualname__', item)!r} has no name",
                              where=getattr(item, "__module__", None),
                              fix='give the class a name (name = "my-format") or register it with '
                                  'register("my-format")')
        return self._add(declared, item)

    def _add(self, name: str, item: T) -> T:
        if name in self._items and self._items[name] is not item:
            first = getattr(self._items[name], "__module__", "?")
            raise ConfigError(f"two {self.kind} components are both named {name!r}",
                              where=f"{first} and {getattr(item, '__module__', '?')}",
                              fix="rename one of them")
        self._items[name] = item
        return item

    def _load(self) -> None:
        if self._loaded:
            return
        with _LOADING:
            if self._loaded or self._loading:  # loaded meanwhile, or read by a module this thread is loading
                return
            self._loading = True
            try:
                if self._builtins:
                    _import_tree(self._builtins)
                for ep in entry_points(group=GROUP):
                    if ep.name.startswith(self.kind + "."):
                        try:
                            ep.load()
                        except ConfigError as e:
                            raise ConfigError(e.message, where=f"plugin {ep.name} = {ep.value} ({e.where})",
                                              fix=f"{e.fix}, or uninstall the plugin") from None
                self._loaded = True
            finally:
                self._loading = False

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


def _import_tree(module: str) -> None:
    """Import `module` and, when it is a package, every public module and sub-package under it."""
    package = importlib.import_module(module)
    for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
        if not info.name.startswith("_"):
            _import_tree(f"{module}.{info.name}")
