"""What a person reads in an HTML page: its text, and its titles, labels, alternatives and placeholders (not its
style sheet or script). The French typography tests read pages and reports through it."""

from __future__ import annotations

from html.parser import HTMLParser


class PageText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._skip += tag in ("style", "script")
        self.parts.extend(v for k, v in attrs if k in ("title", "aria-label", "alt", "placeholder") and v)

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)
