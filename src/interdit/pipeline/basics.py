"""What every use case shares and costs nothing to import: the clock and the shipped catalogue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from interdit.catalogue import load_catalogue
from interdit.catalogue import search as catalogue_search
from interdit.model import Catalogue

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def catalogue() -> Catalogue:
    return load_catalogue()


def search_catalogue(text: str) -> list[tuple[str, str, str]]:
    return catalogue_search(load_catalogue(), text)
