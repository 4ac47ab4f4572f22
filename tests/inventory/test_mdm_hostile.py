"""Every MDM page parser under hostile JSON: it rejects or fails with an InterditError, never crashes, and
read = accepted + rejected holds."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from interdit.errors import InterditError
from interdit.inventory._common import Snapshot, parse_time
from interdit.inventory.amapi import amapi_records
from interdit.inventory.base import Record, Tally
from interdit.inventory.google_workspace import WorkspacePages
from interdit.inventory.headwind import headwind_records
from interdit.inventory.ivanti import IvantiPages
from interdit.inventory.jamf import v2_records
from interdit.inventory.workspace_one import Ws1Pages

NOW = datetime(2025, 3, 5, tzinfo=UTC)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=16),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=5),
                    max_leaves=30)
KEYS = ("devices", "results", "mobiledevices", "Devices", "DeviceApps", "applicationReports", "applications",
        "appInventory", "data", "items", "device", "general", "managementMode", "name", "mobileDeviceId", "number",
        "info", "lastStatusReportTime", "lastSync", "LastSeen", "common.uuid", "deviceUuid", "Id")


def _parsers(tally: Tally) -> list[Callable[[str, Any], Iterator[Record]]]:
    snap = Snapshot("s", tally)
    return [
        lambda p, page: amapi_records("s", snap, NOW, p, page),
        lambda p, page: v2_records("s", snap, NOW, p, page),
        lambda p, page: headwind_records("s", snap, NOW, p, page),
        WorkspacePages("s", tally, NOW).feed, Ws1Pages("s", tally, NOW).feed, IvantiPages("s", tally, NOW).feed,
    ]


@settings(max_examples=80, deadline=None)
@given(JSON, st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6))
def test_page_parsers_never_crash(value: Any, shaped: dict[str, Any]) -> None:
    tally = Tally()
    for parse in _parsers(tally):
        for page in (value, shaped, {"devices": [shaped]}, {"results": [shaped]}, {"Devices": [shaped]},
                     {"mobiledevices": [shaped]}, {"data": {"devices": {"items": [shaped]}}}):
            with contextlib.suppress(InterditError):
                list(parse("p", page))
    assert tally.read == tally.accepted + tally.rejected


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(min_value=-(10**18), max_value=10**18), st.none()))
def test_parse_time_returns_aware_utc_or_raises_value_error(value: Any) -> None:
    try:
        parsed = parse_time(value)
    except ValueError:
        return
    assert parsed is None or parsed.tzinfo is UTC
