"""What every use case shares and costs nothing to import: the clock, the loaded policy, the shipped catalogue
and the words of an analysis report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from interdit.model import Catalogue, Directive, Policy

if TYPE_CHECKING:
    from interdit.catalogue import BannedApp

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class LoadedPolicy:
    """A policy as read, with the catalogue it was checked against and the digest of its text."""

    policy: Policy
    catalogue: Catalogue
    digest: str


# the catalogue is imported on first use: the clock and the loaded policy cost nothing to import (the CLI's own)


def catalogue() -> Catalogue:
    from interdit.catalogue import load_catalogue

    return load_catalogue()


def search_catalogue(text: str) -> list[tuple[str, str, str]]:
    from interdit.catalogue import load_catalogue
    from interdit.catalogue import search as catalogue_search

    return catalogue_search(load_catalogue(), text)


def directive_bans(directive: Directive) -> tuple[tuple[BannedApp, ...], tuple[str, ...]]:
    """The identifiers, namespaces and store names by platform, and the domains, that `directive` bans."""
    from interdit.catalogue import directive_bans as catalogue_bans
    from interdit.catalogue import load_catalogue

    return catalogue_bans(load_catalogue(), directive)


def analysis_words(lang: str) -> dict[str, Callable[..., str]]:
    """The analyzer's report vocabulary in `lang` ("en" or "fr"), for a face that lays an analysis report out
    itself: `word(key, *args)`, and the titles of a permission `group`, a `protection` level, a `severity`, an
    SDK `category`, a `weakness` (by id) and a file `problem` (by code), each `(key, default=None)`."""
    from interdit.analysis import i18n as words

    def table(entries: dict[str, tuple[str, str]]) -> Callable[..., str]:
        return lambda key, default=None: words.pick(entries, key, lang, default)

    return {"word": lambda key, *args: words.word(key, lang, *args), "group": table(words.GROUPS),
            "protection": table(words.PROTECTIONS), "severity": table(words.SEVERITIES),
            "category": table(words.SDK_CATEGORIES), "weakness": table(words.WEAKNESSES),
            "problem": table(words.PROBLEMS)}
