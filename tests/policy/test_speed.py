"""The evaluation keeps up with a large fleet: 100,000 devices take about 0.35 s of CPU on a laptop-class core.

The bound here is loose (a busy CI machine is slower) and measured in CPU time, not wall time; what it guards
against is an accidental quadratic step, which would miss it by far.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from importlib.resources import files

from interdit.model import AppState, Device, DeviceState, Management, Ownership, Platform
from interdit.policy import evaluate, parse_policy
from policy.builders import CAPCUT, TIKTOK, WECHAT, app, catalogue, when

UNITS = ("/TBS/Office of the CIO", "/TBS/Communications", "/TBS/Communications/Social Media", "/TBS/Finance",
         "/GAC/Trade", "/ESDC/Policy")


def _fleet(n: int) -> list[DeviceState]:
    r = random.Random(1)
    fresh, old = when("2023-03-15T05:00"), when("2023-03-01T05:00")
    states = []
    for i in range(n):
        u = r.random()
        ownership = Ownership.CORPORATE if u < .8 else (Ownership.PERSONAL if u < .92 else Ownership.UNKNOWN)
        management = Management.FULLY_MANAGED if r.random() < .85 else Management.WORK_PROFILE
        d = Device("mdm", f"D{i:07d}", Platform.ANDROID, ownership, management,
                   fresh - timedelta(minutes=i % 600) if r.random() > .02 else old, org_unit=r.choice(UNITS),
                   groups=("All Devices",))
        x = r.random()
        apps = []
        if x < .03:
            blocked = AppState.BLOCKED if r.random() < .1 else AppState.INSTALLED
            apps.append(app(d, r.choice([TIKTOK, CAPCUT, WECHAT]), state=blocked))
        elif x < .06:
            apps.append(app(d, TIKTOK, removed="2023-03-10T00:00"))
        states.append(DeviceState(d, tuple(apps)))
    return states


def test_fifty_thousand_devices_in_well_under_a_second_of_cpu() -> None:
    cat = catalogue()
    policy = parse_policy(files("interdit").joinpath("data/demo-policy.yaml").read_text("utf-8"), cat)
    states = _fleet(50_000)
    start = time.process_time()
    result = evaluate(policy, cat, states, when("2023-03-15T06:00"))
    spent = time.process_time() - start
    assert result.summary.devices_total == 50_000 and result.findings
    assert spent < 1.5, f"evaluation of 50,000 devices took {spent:.2f} s of CPU"
