"""Apple MDM responses: InstalledApplicationList and DeviceInformation plists and NanoMDM/MicroMDM webhooks."""

from __future__ import annotations

import base64
import json
import plistlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from interdit.errors import InputError
from interdit.inventory.base import readers
from interdit.model import Device, InstalledApp, Management, Ownership, Rejection

REC = Path(__file__).parent / "recorded" / "apple_mdm"
NOW = datetime(2025, 3, 5, tzinfo=UTC)


def _read(files: list[Path]) -> list[Any]:
    reader = readers.get("apple-mdm")("nanomdm", files, now=NOW)
    records = list(reader.records())
    assert reader.tally.read == reader.tally.accepted + reader.tally.rejected == len(records)
    return records


def test_plist_and_webhook_responses_merge_per_device() -> None:
    records = _read([REC / "InstalledApplicationList.plist", REC / "webhooks.jsonl"])
    devices = {r.device_id: r for r in records if isinstance(r, Device)}
    e = devices["00008110-000000000000001E"]
    assert (e.ownership, e.management, e.supervised) == (Ownership.CORPORATE, Management.FULLY_MANAGED, True)
    assert (e.model, e.os_version, e.observed_at) == ("iPhone", "17.5.1", datetime(2025, 3, 1, 10, 0, tzinfo=UTC))
    other = devices["00008110-00000000000000BB"]
    assert (other.ownership, other.management) == (Ownership.UNKNOWN, Management.UNKNOWN)
    assert sorted((r.device_id[-2:], r.app.identifier, r.version) for r in records if isinstance(r, InstalledApp)) == [
        ("1E", "com.microsoft.Office.Outlook", "4.2408.0"), ("1E", "com.zhiliaoapp.musically", "34.1.0"),
        ("BB", "com.tencent.xin", "8.0.49")]


def test_errors_and_hostile_plists(tmp_path: Path) -> None:
    failed = tmp_path / "failed.plist"
    failed.write_bytes(plistlib.dumps({"UDID": "X", "Status": "Error", "ErrorChain": []}))
    records = _read([failed])
    assert [r.reason for r in records if isinstance(r, Rejection)] == ["the device answered 'Error', not Acknowledged"]
    bomb = tmp_path / "bomb.plist"
    bomb.write_bytes(b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "x">]><plist><dict/></plist>')
    with pytest.raises(InputError, match="entities"):
        _read([bomb])
    junk = tmp_path / "junk.jsonl"
    junk.write_text(json.dumps({"topic": "mdm.Connect", "acknowledge_event": {
        "raw_payload": base64.b64encode(b"not a plist").decode()}}) + "\n")
    with pytest.raises(InputError, match="not a property list"):
        _read([junk])
