"""Plain-text layout for the terminal formats: aligned columns that fit a width, no markup."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

WIDTH = 100


def clip(text: str, width: int) -> str:
    """`text` cut to `width` characters, with an ellipsis when cut; control characters become spaces."""
    text = "".join(" " if (ord(c) < 32 or 0x7F <= ord(c) < 0xA0) else c for c in text)
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def columns(headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[int] = (),
            caps: Sequence[int] | None = None, indent: int = 2, width: int = WIDTH) -> list[str]:
    """Lines of an aligned table. `right`: indexes of right-aligned columns; `caps`: widest each may be.

    When the columns do not fit `width`, the widest left-aligned column gives up characters first.
    """
    n = len(headers)
    caps = list(caps) if caps is not None else [width] * n
    widths = [min(max([len(headers[i])] + [len(r[i]) for r in rows]), caps[i]) for i in range(n)]
    gap = 2
    while indent + sum(widths) + gap * (n - 1) > width:
        shrinkable = [i for i in range(n) if i not in right and widths[i] > max(len(headers[i]), 6)]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: widths[i])
        widths[widest] -= 1

    def line(cells: Sequence[str]) -> str:
        parts = []
        for i, cell in enumerate(cells):
            c = clip(cell, widths[i])
            parts.append(c.rjust(widths[i]) if i in right else c.ljust(widths[i]))
        return (" " * indent + (" " * gap).join(parts)).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def pairs(items: Sequence[tuple[str, str]], *, indent: int = 2, width: int = WIDTH) -> list[str]:
    """`label   value` lines, labels aligned."""
    if not items:
        return []
    label_width = min(max(len(k) for k, _ in items), 40)
    return [clip(" " * indent + clip(k, label_width).ljust(label_width) + "  " + v, width).rstrip()
            for k, v in items]


def fold(text: str, width: int) -> list[str]:
    """`text` folded into lines of at most `width` characters, nothing cut: words wrap at spaces, a longer
    word (an id, a GUID, an e-mail address) is split across lines; control characters become spaces."""
    text = clip(text, len(text))
    if not text:
        return [""]
    return textwrap.wrap(text, max(width, 1), break_long_words=True, break_on_hyphens=False) or [""]


def folded_columns(headers: Sequence[str], rows: Sequence[Sequence[Sequence[str]]], *, width: int = WIDTH,
                   indent: int = 0, minimum: int = 6, whole: Sequence[int] = ()) -> list[str]:
    """An aligned table whose cells never lose a character: each cell is one or more lines (e.g. an id, then a
    name), folded to its column's width; a row takes as many lines as its tallest cell (and, when any row takes
    more than one, a blank line comes before each row).

    When the columns do not fit `width`, the widest column gives up characters first (down to `minimum`; the
    columns in `whole`, such as a state, an id or a date, not below the longest word of their cells' first
    lines while it is at most a third of the width)."""
    n = len(headers)
    widths = [max([len(headers[i])] + [len(part) for r in rows for part in r[i]]) for i in range(n)]
    widths = [max(w, 1) for w in widths]
    most = max(minimum, (width - indent) // 3)  # no column keeps its words whole past a third of the width
    heads = [max([len(word) for word in headers[i].split()] or [0]) for i in range(n)]
    firsts = [max([len(word) for r in rows for part in r[i][:1] for word in part.split()] or [0]) for i in range(n)]
    # a header's words stay whole when they can; the columns in `whole` keep their first lines' words whole too
    floors = [min(widths[i], most, max(minimum, heads[i], firsts[i] if i in whole else 0)) for i in range(n)]
    gap = 2
    while indent + sum(widths) + gap * (n - 1) > width:
        shrinkable = [i for i in range(n) if widths[i] > floors[i]]
        if not shrinkable:
            break
        widths[max(shrinkable, key=lambda i: widths[i])] -= 1

    def block(cells: Sequence[Sequence[str]]) -> list[str]:
        folded = [[piece for part in cell for piece in fold(part, widths[i])] if cell else [""]
                  for i, cell in enumerate(cells)]
        height = max(len(c) for c in folded)
        return [(" " * indent + (" " * gap).join(
            (c[k] if k < len(c) else "").ljust(widths[i]) for i, c in enumerate(folded))).rstrip()
            for k in range(height)]

    head = block([[h] for h in headers])
    blocks = [block(r) for r in rows]
    if all(len(b) == 1 for b in blocks):
        return [*head, *(b[0] for b in blocks)]
    # rows of several lines: a blank line between rows shows where each begins
    return [*head, *(line for b in blocks for line in ("", *b))]
