"""The inventory interface every source implements (neutral files, MDM APIs and exports alike).

A reader turns one input into a stream of `Device` and `InstalledApp` records plus `Rejection`s, never
holding the whole fleet in memory. Each record it reads is either yielded or rejected (read = accepted +
rejected); `counts` says how many of each once the stream is exhausted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

# the pure values live in the model (storage speaks the model, never a stage); re-exported for readers
from interdit.model import BAD_TEXT, Record, Tally, storable
from interdit.registry import Registry

__all__ = ["BAD_TEXT", "InventoryReader", "Record", "Tally", "readers", "storable"]


class InventoryReader(Protocol):
    """One snapshot of one source: every device the source manages, and their apps."""

    source: str  # the source name records carry
    tally: Tally

    def records(self) -> Iterator[Record]:
        """Yield devices and apps (a device before its apps is not required) and rejections."""
        ...


readers: Registry[type[InventoryReader]] = Registry("inventory", builtins="interdit.inventory")
