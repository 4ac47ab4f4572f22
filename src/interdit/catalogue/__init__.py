"""The shipped catalogue: directives, app families, vendors and shared hosts, each with sources and confidence.

    from interdit.catalogue import load_catalogue, search, blockable_domains
    cat = load_catalogue()
    search(cat, "québec")            # [("directive", "ca-qc-2023-tiktok", "..."), ...]
    blockable_domains(cat, ["tiktok"])
"""

from __future__ import annotations

from interdit.catalogue.channel import load_catalogue
from interdit.catalogue.load import parse_catalogue, read_catalogue, validate_against_schema
from interdit.catalogue.lookup import (
    BannedApp,
    blockable_domains,
    directive_bans,
    directive_families,
    family_for_app,
    fold,
    is_shared_host,
    owner_of_domain,
    search,
    vendor_chain,
)

__all__ = [
    "BannedApp",
    "blockable_domains",
    "directive_bans",
    "directive_families",
    "family_for_app",
    "fold",
    "is_shared_host",
    "load_catalogue",
    "owner_of_domain",
    "parse_catalogue",
    "read_catalogue",
    "search",
    "validate_against_schema",
    "vendor_chain",
]
