"""The inventory interface every source implements (neutral files, MDM APIs and exports alike).

A reader turns one input into a stream of `Device` and `InstalledApp` records plus `Rejection`s, never
holding the whole fleet in memory. Each record it reads is either yielded or rejected (read = accepted +
rejected); `counts` says how many of each once the stream is exhausted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from interdit.model import Device, ImportCounts, InstalledApp, Rejection
from interdit.registry import Registry

Record = Device | InstalledApp | Rejection

BAD_TEXT = re.compile("[\x00\ud800-\udfff]")  # a NUL, or half of a UTF-16 surrogate pair: not storable text


def _escaped(text: str) -> str:
    return BAD_TEXT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def storable(rejection: Rejection) -> Rejection:
    """`rejection` with any NUL or lone surrogate of its texts written as an escape (it names a bad value)."""
    texts = (rejection.place, rejection.reason, rejection.fix, rejection.device_id or "")
    if all(t.isascii() and "\x00" not in t for t in texts) or not any(BAD_TEXT.search(t) for t in texts):
        return rejection
    return Rejection(_escaped(rejection.place), _escaped(rejection.reason), _escaped(rejection.fix),
                     None if rejection.device_id is None or BAD_TEXT.search(rejection.device_id) else
                     rejection.device_id, rejection.kind)


@dataclass
class Tally:
    """Counts kept by a reader while it streams."""

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    keep: int = 1000  # keep the first N rejections in memory; count all of them
    # what a person should know about the read that is not a rejection: the encoding and separator a file
    # was read with, a value the vendor does not document (mapped to `unknown`); each said once, with a count
    notes: dict[str, int] = field(default_factory=dict)

    def accept(self) -> None:
        self.read += 1
        self.accepted += 1

    def reject(self, rejection: Rejection) -> Rejection:
        rejection = storable(rejection)
        self.read += 1
        self.rejected += 1
        if len(self.rejections) < self.keep:
            self.rejections.append(rejection)
        return rejection

    def note(self, text: str) -> None:
        """Say something once (repeats are counted, and at most 100 distinct notes are kept)."""
        if text in self.notes or len(self.notes) < 100:
            self.notes[text] = self.notes.get(text, 0) + 1

    def note_lines(self) -> list[str]:
        return [text if n == 1 else f"{text} ({n:,} records)" for text, n in self.notes.items()]

    def counts(self) -> ImportCounts:
        return ImportCounts(self.read, self.accepted, self.rejected)


class InventoryReader(Protocol):
    """One snapshot of one source: every device the source manages, and their apps."""

    source: str  # the source name records carry
    tally: Tally

    def records(self) -> Iterator[Record]:
        """Yield devices and apps (a device before its apps is not required) and rejections."""
        ...


readers: Registry[type[InventoryReader]] = Registry("inventory", builtins="interdit.inventory")
