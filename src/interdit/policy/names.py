"""Matching apps known only by their display name (`AppId.named`) against the stores' names of a family.

Some inventories give no package or bundle id, only the name the device shows (Intune `detectedApps` on iOS,
often on Android). Such an app matches a family when its normalised name equals one of the family's store names
on that platform, in any language ("exact store name"), or when the part before a separator (" - ", " – ",
" — ", " | ", ":") does ("store name prefix": "TikTok - Videos, Music & LIVE" is TikTok). Normalised means:
™ ® © ℠ removed, accents removed (Unicode NFKD, combining marks dropped), case folded, and everything that is not
a letter or a digit removed ("TIKTOK™", "Tik Tok" and "tík tók" are all "tiktok").

A longer name is never cut at a space: "TikTok Lite" and "TikTok Studio" match only when they are store names
themselves, and "TikTokker Pro" or "Not TikTok" never match "TikTok".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

from interdit.model import Platform, StoreName

_MARKS = str.maketrans("", "", "™®©℠")
# where a store name may end and a subtitle begin; a bare hyphen ("Wi-Fi") or a space is never one
_SEPARATOR = re.compile(r"\s+[-–—|·]\s+|\s*:")

EXACT = "exact"  # the whole display name is a store name
PREFIX = "prefix"  # the display name starts with a store name followed by a separator

V = TypeVar("V", bound=Hashable)


def name_key(name: str) -> str:
    """The form two names are compared in: no trademark signs, accents, case, spaces or punctuation."""
    text = unicodedata.normalize("NFKD", name.translate(_MARKS))
    return "".join(c for c in text.casefold() if c.isalnum())


def heads(name: str) -> Iterable[str]:
    """The keys of the parts of `name` before each separator, longest first."""
    out = []
    for m in _SEPARATOR.finditer(name):
        key = name_key(name[:m.start()])
        if key:
            out.append(key)
    return reversed(out)


class NameIndex(Generic[V]):
    """Store names by (platform, key) -> the values given for them (e.g. rule and family), in insertion order."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[Platform, str], list[tuple[V, str]]] = {}

    def add(self, store_names: Iterable[StoreName], value: V) -> None:
        for sn in store_names:
            key = name_key(sn.name)
            if not key:
                continue
            mine = self.by_key.setdefault((sn.platform, key), [])
            if all(v != value for v, _ in mine):
                mine.append((value, sn.name))

    def __bool__(self) -> bool:
        return bool(self.by_key)

    def lookup(self, platform: Platform, display_name: str) -> list[tuple[V, str, str]]:
        """(value, the store name matched, EXACT or PREFIX) for every value whose store names `display_name`
        matches; a value matched exactly is not given again as a prefix."""
        found: list[tuple[V, str, str]] = []
        seen: set[V] = set()
        for key, how in ((name_key(display_name), EXACT), *((h, PREFIX) for h in heads(display_name))):
            for value, store_name in self.by_key.get((platform, key), ()):
                if value not in seen:
                    seen.add(value)
                    found.append((value, store_name, how))
        return found
