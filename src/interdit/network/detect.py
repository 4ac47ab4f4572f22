"""Which log format a file is: every registered reader is asked, none is named here.

A binary format answers from the file's first bytes (`LineReader.sniff_head`: a database's magic number);
otherwise each reader says of each of the first lines whether it looks like its format (`LineReader.sniff`),
and the reader with the most yes wins.
"""

from __future__ import annotations

from interdit.network.base import readers

HEAD_LINES = 200
SNIFF_LINES = 50


def head_lines(first: bytes) -> list[bytes]:
    """The first lines of a file's first block, as `detect` and `LineReader.start` see them."""
    return first.split(b"\n", HEAD_LINES)[:HEAD_LINES]


def detect_format(first: bytes) -> str | None:
    """The format of a file from its first bytes (decompressed); None when no reader recognises it."""
    for name, cls in readers.items():
        probe = cls.__new__(cls)
        try:
            if probe.sniff_head(first):
                return name
        except Exception:  # a reader's sniffing fault is a no, never a failed scan
            continue
    return detect(head_lines(first))


def detect(head: list[bytes]) -> str | None:
    """The registered format most of the first lines look like; None when no format fits any line."""
    best, score = None, 0
    lines = [h for h in head if h.strip()][:SNIFF_LINES]
    for name, cls in readers.items():
        probe = cls.__new__(cls)
        n = 0
        for line in lines:
            try:
                n += bool(probe.sniff(line))
            except Exception:
                continue
        if n > score:
            best, score = name, n
    return best
