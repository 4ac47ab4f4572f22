"""`interdit demo`: the whole job on a sample fleet, in under a minute."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from interdit.cli.common import run_guarded


def register(app: typer.Typer) -> None:
    app.command("demo")(run)


def run(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the fleet, database and reports "
                                          "(replaced if it exists).")] = Path("demo-output"),
    devices: Annotated[int, typer.Option("--devices", help="How many devices the sample fleet has.")] = 3000,
    today: Annotated[datetime | None, typer.Option(
        "--today", formats=["%Y-%m-%d"],
        help="Run the demo as if today were this date (its last import at 06:00 UTC), for outputs that stay the "
             "same from one day to the next. Default: now.")] = None,
) -> None:
    """Build a sample department's fleet and run four weeks of its program, ending now: three imports from
    three MDMs (the last one's Jamf synced from its API by the nightly schedule), the Canadian TikTok
    directive, the notices to device holders and managers (written to a folder), the daily figures, and the
    reports in English and French (HTML and PDF)."""
    from interdit import demo

    clock = (lambda: datetime.combine(today.date(), time(6, 0), tzinfo=UTC)) if today is not None else None
    result = run_guarded(lambda: demo.run(out_dir, devices=devices, say=print, **({"clock": clock} if clock
                                                                                  else {})))
    print()
    print(f"reports: {result.reports['en']}  {result.reports['fr']}")
    print(f"         {result.reports['en-pdf']}  {result.reports['fr-pdf']}")
    print(f"notices: {result.notices_sent:,} sent to {result.notices}")
    print(f"explore: interdit --db {result.database_url} --policy {result.policy_path} findings --state violation")
    where = f"interdit --db {result.database_url} --policy {result.policy_path}"
    print(f"dashboard: {where} users add YOUR-NAME --role admin")
    print(f"           {where} serve")
