"""The demo policy over a generated fleet of 300 devices: findings and summary against a golden file.

The fleet comes from `interdit.fleet` (the demo's own generator), two snapshots a fortnight apart, turned into
app intervals the way stored history keeps them. To regenerate after an intended change:

    INTERDIT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest -p no:xdist tests/policy/test_golden.py
"""

from __future__ import annotations

import csv
import json
import os
from datetime import datetime
from importlib.resources import files
from pathlib import Path

from builders.policy import catalogue
from interdit import fleet
from interdit.model import (
    AppId,
    AppInterval,
    AppState,
    Device,
    DeviceState,
    FindingKind,
    FindingState,
    Management,
    Ownership,
    Platform,
)
from interdit.policy import evaluate, parse_policy

GOLDEN = Path(__file__).parent / "golden" / "demo-evaluation.json"
CAT = catalogue()


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _states(tmp: Path) -> list[DeviceState]:
    spec = fleet.FleetSpec(devices=300, seed=7)
    snaps = []
    for n, at in enumerate(fleet.DEMO_DATES):
        d, a, _, _ = fleet.write_snapshot(spec, tmp / f"s{n}", n, at)
        snaps.append((at, {r["device_id"]: r for r in _read(d)}, _read(a)))
    (at0, _, apps0), (at1, devices1, apps1) = snaps

    def key(r: dict[str, str]) -> tuple[str, str, str]:
        return (r["device_id"], r["platform"], r["identifier"])

    before, after = {key(r): r for r in apps0}, {key(r): r for r in apps1}
    intervals: dict[str, list[AppInterval]] = {}
    for k in sorted(before.keys() | after.keys()):
        row = after.get(k) or before[k]
        first = at0 if k in before else at1
        removed = None if k in after else at1
        iv = AppInterval("mdm", k[0], AppId(Platform(k[1]), k[2]), first, first if removed else at1, removed,
                         name=row["name"], version=row["version"], state=AppState(row["state"]))
        intervals.setdefault(k[0], []).append(iv)
    states = []
    for did, r in sorted(devices1.items()):
        device = Device("mdm", did, Platform(r["platform"]), Ownership(r["ownership"]), Management(r["management"]),
                        _at(r["observed_at"]), org_unit=r["org_unit"] or None, user=r["user"] or None,
                        groups=tuple(g for g in r["groups"].split(";") if g))
        states.append(DeviceState(device, tuple(intervals.get(did, ()))))
    return states


def _doc(states: list[DeviceState]) -> dict[str, object]:
    policy = parse_policy(files("interdit").joinpath("data/demo-policy.yaml").read_text("utf-8"), CAT)
    result = evaluate(policy, CAT, states, fleet.DEMO_DATES[1])
    s = result.summary
    return {
        "summary": {"devices_total": s.devices_total, "devices_in_scope": s.devices_in_scope,
                    "compliant": s.compliant, "by_state": dict(s.by_state), "by_family": dict(s.by_family),
                    "by_org_unit": {k: list(v) for k, v in s.by_org_unit.items()},
                    "by_source": {k: {"devices": v.devices, "in_scope": v.in_scope, "compliant": v.compliant,
                                      "violations": v.violations, "not_evaluable": v.not_evaluable,
                                      "stale": v.stale,
                                      "last_observed": v.last_observed.isoformat() if v.last_observed else None,
                                      "by_coverage": dict(v.by_coverage),
                                      "not_evaluable_by_reason": dict(v.not_evaluable_by_reason)}
                                  for k, v in s.by_source.items()},
                    "by_coverage": dict(s.by_coverage), "not_evaluable_by_reason": dict(s.not_evaluable_by_reason)},
        "findings": [
            {"id": f.id, "kind": f.kind.value, "state": f.state.value, "device": f.device_id, "rule": f.rule,
             "family": f.family, "app": str(f.app) if f.app else None, "first_seen": f.first_seen.isoformat(),
             "last_seen": f.last_seen.isoformat(), "deadline": str(f.deadline), "exception": f.exception,
             "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None, "evidence": list(f.evidence)}
            for f in result.findings
        ],
    }


def test_demo_evaluation_matches_golden(tmp_path: Path) -> None:
    states = _states(tmp_path)
    doc = _doc(states)
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if os.environ.get("INTERDIT_UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, "utf-8")
    assert GOLDEN.exists(), "run with INTERDIT_UPDATE_GOLDEN=1 to create the golden file"
    assert json.loads(GOLDEN.read_text("utf-8")) == doc


def test_demo_story_holds(tmp_path: Path) -> None:
    """Independent of the golden file: the facts the demo fleet was generated to show."""
    states = _states(tmp_path)
    by_id = {s.device.device_id: s.device for s in states}
    findings = _doc(states)["findings"]
    assert isinstance(findings, list)
    states_seen = {f["state"] for f in findings}
    assert {"violation", "resolved", "not_evaluable"} <= states_seen
    for f in findings:
        device = by_id[f["device"]]
        assert device.ownership is not Ownership.PERSONAL  # out of the demo policy's scope
        if f["state"] == FindingState.EXCEPTED.value:
            assert device.org_unit == fleet.SOCIAL_MEDIA_UNIT and f["family"] == "tiktok"
        if f["state"] == FindingState.NOT_EVALUABLE.value:
            assert device.management is not Management.FULLY_MANAGED
        if f["kind"] == FindingKind.INSTALLED.value and f["app"]:
            assert f["evidence"][0].startswith(f["app"])
