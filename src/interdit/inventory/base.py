"""The inventory interface every source implements (neutral files, MDM APIs and exports alike).

A reader turns one input into a stream of `Device` and `InstalledApp` records plus `Rejection`s, never
holding the whole fleet in memory. Each record it reads is either yielded or rejected (read = accepted +
rejected); `counts` says how many of each once the stream is exhausted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from interdit.model import Device, ImportCounts, InstalledApp, Rejection
from interdit.registry import Registry

Record = Device | InstalledApp | Rejection


@dataclass
class Tally:
    """Counts kept by a reader while it streams."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    keep: int = 1000  # keep the first N rejections in memory; count all of them

    def accept(self) -> None:
        self.read += 1
        self.accepted += 1

    def reject(self, rejection: Rejection) -> Rejection:
        self.read += 1
        self.rejected += 1
        if len(self.rejections) < self.keep:
            self.rejections.append(rejection)
        return rejection

    def counts(self) -> ImportCounts:
        return ImportCounts(self.read, self.accepted, self.rejected)


class InventoryReader(Protocol):
    """One snapshot of one source: every device the source manages, and their apps."""

    name: str  # the source name records carry
    tally: Tally

    def records(self) -> Iterator[Record]:
        """Yield devices and apps (a device before its apps is not required) and rejections."""
        ...


readers: Registry[type[InventoryReader]] = Registry("inventory", builtins="interdit.inventory")
