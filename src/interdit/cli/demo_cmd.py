"""`interdit demo`: the whole job on a sample fleet, in under a minute."""

from __future__ import annotations

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
) -> None:
    """Build a sample department's fleet, import two snapshots, evaluate the Canadian TikTok directive,
    print the summary and write the HTML report in English and French."""
    from interdit import demo

    result = run_guarded(lambda: demo.run(out_dir, devices=devices, say=print))
    print()
    print(f"reports: {result.reports['en']}  {result.reports['fr']}")
    print(f"explore: interdit --db {result.database_url} --policy {result.policy_path} findings --state violation")
