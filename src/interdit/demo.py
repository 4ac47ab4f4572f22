"""The demo use case: a sample government's fleet across three MDMs, two imports a fortnight apart, the
Canadian directive.

It tells the story of the first weeks of the 2023 TikTok ban. The fleet is spread as such fleets are: iPhones
in Microsoft Intune, Android phones in the Android Management API, and a second department's iPhones in Jamf
Pro, each exported in its vendor's own format, none of them seeing the others' devices. interdit reads all three
into one view: on 1 March the directive is in force and TikTok and its variants sit on a few percent of the
devices; by 15 March most are gone, the social media team holds an approved exception, work-profile and
user-enrolled phones cannot be evaluated and a few devices have stopped reporting.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from pathlib import Path

from interdit import demo_mdm, fleet, pipeline
from interdit.policy.evaluate import Evaluation
from interdit.storage.repo import ImportResult


@dataclass(frozen=True)
class DemoResult:
    out: Path
    database_url: str
    policy_path: Path
    imports: tuple[ImportResult, ...]
    evaluation: Evaluation
    reports: dict[str, Path]


def _fixed(at: datetime) -> pipeline.Clock:
    return lambda: at


def run(out: Path, *, devices: int = 3000, say: Callable[[str], None] = print,
        clock: pipeline.Clock = pipeline.system_clock) -> DemoResult:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    policy_path = out / "policy.yaml"
    policy_path.write_text(files("interdit").joinpath("data/demo-policy.yaml").read_text("utf-8"), "utf-8")
    url = f"sqlite:///{out / 'interdit.db'}"
    repo = pipeline.open_repository(url)
    loaded = pipeline.read_policy(policy_path)
    spec = fleet.FleetSpec(devices=devices)
    results = []
    for n, at in enumerate(fleet.DEMO_DATES):
        say(f"importing the inventories of {at:%Y-%m-%d}")
        for source, fmt, inputs in demo_mdm.write_multi_mdm_snapshot(spec, out / "fleet" / f"snapshot-{n + 1}",
                                                                      n, at):
            result, tally = pipeline.import_inventory(repo, fmt, source, inputs, at=at, clock=_fixed(at))
            results.append(result)
            say(f"  {source:<8} ({fmt}): read {tally.read:,} records, {tally.accepted:,} accepted, "
                f"{tally.rejected:,} rejected")
    as_of = fleet.DEMO_DATES[-1]
    data = pipeline.report_data(repo, loaded, as_of=as_of, clock=clock)
    reports = {}
    for lang in ("en", "fr"):
        path = out / f"report-{lang}.html"
        path.write_text(pipeline.render("html", data, lang), encoding="utf-8")
        reports[lang] = path
    say(pipeline.render("table", data, loaded.policy.language))
    evaluation = pipeline.evaluate(repo, loaded, as_of=as_of, store=False)
    return DemoResult(out, url, policy_path, tuple(results), evaluation, reports)
