"""The inventory stage: every device a source manages, and its apps, read from files, MDM exports and MDM APIs.

What a plugin may use is here (the modules with an underscore are private and may change):

    readers, InventoryReader, FileReader, Snapshot, Record, Tally   file and export readers (`readers.register`)
    connectors, LiveConnector, Setting, ConnectorConfig, Push       live connectors (`connectors.register()`)
    ApiClient, ClientCredentials, BasicAuth, TokenProvider          requests and credentials
    token_pages, counted_pages                                      paging loops
    device_items, Refusal                                           the per-device loop of a page
    clean, dig, observed, parse_time, app_record, count_of,         reading vendor values
    looks_like_identifier

See docs/guides/add-a-connector.md. Names are imported on first use, so importing the stage stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interdit.inventory._common import (
        FileReader,
        Refusal,
        Snapshot,
        app_record,
        clean,
        count_of,
        device_items,
        dig,
        looks_like_identifier,
        observed,
        parse_time,
    )
    from interdit.inventory._http import (
        ApiClient,
        BasicAuth,
        ClientCredentials,
        Limits,
        TokenProvider,
        counted_pages,
        token_pages,
    )
    from interdit.inventory.base import InventoryReader, Record, Tally, readers
    from interdit.inventory.live import ConnectorConfig, LiveConnector, Push, Setting, connectors

_WHERE = {
    "FileReader": "_common", "Snapshot": "_common", "app_record": "_common", "clean": "_common",
    "count_of": "_common", "dig": "_common", "observed": "_common", "parse_time": "_common",
    "Refusal": "_common", "device_items": "_common", "looks_like_identifier": "_common",
    "ApiClient": "_http", "BasicAuth": "_http", "ClientCredentials": "_http", "Limits": "_http",
    "TokenProvider": "_http", "counted_pages": "_http", "token_pages": "_http",
    "InventoryReader": "base", "Record": "base", "Tally": "base", "readers": "base",
    "ConnectorConfig": "live", "LiveConnector": "live", "Push": "live", "Setting": "live", "connectors": "live",
}

__all__ = [
    "ApiClient",
    "BasicAuth",
    "ClientCredentials",
    "ConnectorConfig",
    "FileReader",
    "InventoryReader",
    "Limits",
    "LiveConnector",
    "Push",
    "Record",
    "Refusal",
    "Setting",
    "Snapshot",
    "Tally",
    "TokenProvider",
    "app_record",
    "clean",
    "connectors",
    "count_of",
    "counted_pages",
    "device_items",
    "dig",
    "looks_like_identifier",
    "observed",
    "parse_time",
    "readers",
    "token_pages",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'interdit.inventory' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"interdit.inventory.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
