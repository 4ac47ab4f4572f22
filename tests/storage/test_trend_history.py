"""The stored history's trend: three sources synced the same night are one point, and each point is what
`evaluate` answers as of that day's end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from interdit import fleet, pipeline


def test_one_point_per_night_each_the_evaluation_at_the_days_end(db_url: str, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"), "utf-8")
    repo = pipeline.open_repository(db_url)
    snaps = list(fleet.snapshots(fleet.FleetSpec(devices=60, seed=3), tmp_path / "fleet", fleet.DEMO_DATES))
    start = datetime(2023, 3, 20, 2, tzinfo=UTC)
    for night in range(3):
        for n, source in enumerate(("intune", "jamf", "ws1")):
            at = start + timedelta(days=night, minutes=15 * n)
            _, devices, apps = snaps[(night + n) % len(snaps)]
            pipeline.import_inventory(repo, "csv", source, [devices, apps], at=at, clock=lambda at=at: at)
    loaded = pipeline.read_policy(policy)
    as_of = start + timedelta(days=2, hours=12)
    points = pipeline.history(repo, loaded, as_of=as_of)
    assert [p.at for p in points] == [datetime(2023, 3, 21 + d, tzinfo=UTC) - timedelta(microseconds=1)
                                      for d in range(2)], "nine imports, two earlier nights: two points"
    for p in points:
        expected = pipeline.evaluate(repo, loaded, as_of=p.at, store=False).summary
        assert (p.devices_total, p.devices_in_scope, p.compliant, dict(p.by_state), dict(p.by_source)) == (
            expected.devices_total, expected.devices_in_scope, expected.compliant, dict(expected.by_state),
            dict(expected.by_source))
    assert points[0].devices_total > 0 and len(points[-1].by_source) == 3
    repo.engine.dispose()
