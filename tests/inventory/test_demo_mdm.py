"""The demo fleet in the vendors' formats is the same fleet as the neutral CSV of the same spec."""

from __future__ import annotations

from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from interdit import fleet
from interdit.catalogue import load_catalogue
from interdit.demo_mdm import write_multi_mdm_snapshot
from interdit.inventory.base import readers
from interdit.model import CoverageReason, Device, InstalledApp, Rejection
from interdit.policy import parse_policy
from interdit.policy.orgmap import OrgUnits, source_type


@pytest.mark.parametrize("snapshot", [0, 1])
def test_three_sources_make_the_csv_fleet(tmp_path: Path, snapshot: int) -> None:
    spec = fleet.FleetSpec(devices=400, seed=7)
    at = fleet.DEMO_DATES[snapshot]
    devices_csv, apps_csv, n_devices, n_apps = fleet.write_snapshot(spec, tmp_path / "csv", snapshot, at)
    csv_reader = readers.get("csv")("mdm", [devices_csv, apps_csv], now=at)
    csv_records = list(csv_reader.records())
    sources = write_multi_mdm_snapshot(spec, tmp_path / "mdm", snapshot, at)
    assert [(name, fmt) for name, fmt, _ in sources] == [("intune", "intune-appinv"), ("android", "amapi"),
                                                        ("jamf-gac", "jamf")]
    records = []
    for name, fmt, files in sources:
        reader = readers.get(fmt)(name, files, now=at)
        got = list(reader.records())
        assert reader.tally.rejected == 0, reader.tally.rejections[:3]
        assert all(r.source == name for r in got if not isinstance(r, Rejection))
        records.extend(got)

    def platforms(rs: list[object], kind: type) -> Counter[str]:
        return Counter(str(r.platform if isinstance(r, Device) else r.app.platform) for r in rs if isinstance(r, kind))

    assert sum(isinstance(r, Device) for r in records) == n_devices == sum(isinstance(r, Device) for r in csv_records)
    assert sum(isinstance(r, InstalledApp) for r in records) == n_apps
    assert platforms(records, Device) == platforms(csv_records, Device)
    assert platforms(records, InstalledApp) == platforms(csv_records, InstalledApp)
    by_id = {r.device_id: r for r in csv_records if isinstance(r, Device)}
    # each MDM names the org units its own way (a category, a token's department, a Jamf department); the demo
    # policy's mapping places every device in the CSV's tree
    units = OrgUnits(parse_policy(resources.files("interdit").joinpath("data/demo-policy.yaml").read_text("utf-8"),
                                  load_catalogue()).org_units,
                     {name: source_type(fmt) for name, fmt, _ in sources})
    for r in records:
        if isinstance(r, Device):
            assert r.org_unit != by_id[r.device_id].org_unit, "the vendor's own name, not the tree's path"
            assert units.place(r).org_unit == by_id[r.device_id].org_unit
            assert r.observed_at == by_id[r.device_id].observed_at
    # the banned apps keep their identity through every vendor's format (Intune's AppInvRawData export keys each
    # app by its bundle id), so no device is left with display names only
    banned = {(r.device_id, r.app.identifier) for r in csv_records if isinstance(r, InstalledApp)
              and r.app.identifier in ("com.zhiliaoapp.musically", "com.tencent.xin", "com.lemon.lvoverseas")}
    mine = {(r.device_id, r.app.identifier) for r in records if isinstance(r, InstalledApp)}
    assert banned and banned <= mine
    assert not any(r.app.by_name for r in records if isinstance(r, InstalledApp))
    assert not any(r.coverage_gap is CoverageReason.DISPLAY_NAMES_ONLY for r in records if isinstance(r, Device))
