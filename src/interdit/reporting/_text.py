"""Plain-text layout for the terminal formats: aligned columns that fit a width, no markup."""

from __future__ import annotations

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
