"""`interdit import` and `interdit imports`: load inventory snapshots, see past import runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated, Any

import typer

from interdit.cli.common import (
    EXIT_PARTIAL,
    OutputFormat,
    cli_actor,
    err,
    out,
    parse_when,
    pipeline,
    print_json,
    run_guarded,
    state,
)


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command("imports")(imports)


def import_(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="Input format: csv, jsonl, or a connector's "
                                       "export format (see 'interdit formats').")],
    inputs: Annotated[list[Path], typer.Argument(metavar="FILE...", help="The snapshot's files "
                                                 "(csv: devices.csv then apps.csv).")],
    source: Annotated[str, typer.Option("--source", "-s", help="Name of the source this snapshot is from; "
                                        "devices of that source missing from it are marked removed.")] = "default",
    at: Annotated[str | None, typer.Option("--at", help="When the snapshot was taken [default: now].")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Import one full snapshot of a source's devices and apps, as one transaction.

    Example: interdit import csv devices.csv apps.csv --source intune-prod --at 2023-03-01T06:00:00Z

    Bad records are rejected with their file and line, and counted; good ones land. Exit code 3 when
    any record was rejected, 2 when nothing could be imported.
    """
    s = state(ctx)
    when = parse_when(at) if at else None
    show = not quiet and output is OutputFormat.table and err.is_terminal
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("importing {task.fields[source]}"), BarColumn(), TextColumn("{task.completed:,} records"),
                  TimeElapsedColumn(), console=err, disable=not show) as bar:
        task = bar.add_task("import", total=None, source=source)
        result, tally = run_guarded(lambda: pipeline.import_inventory(
            s.repo, fmt, source, inputs, at=when, clock=s.clock, progress=lambda n: bar.advance(task, n),
            actor=cli_actor()))
    summary: dict[str, Any] = dataclasses.asdict(result) if dataclasses.is_dataclass(result) else {}
    rejections = [dataclasses.asdict(r) for r in tally.rejections]
    if output is OutputFormat.json:
        print_json({"schema_version": 1, "source": source, "read": tally.read, "accepted": tally.accepted,
                    "rejected": tally.rejected, "result": summary, "rejections": rejections,
                    "notes": tally.note_lines()})
    else:
        out.print(f"{source}: read {tally.read:,} records — {tally.accepted:,} accepted, {tally.rejected:,} rejected")
        for key, value in summary.items():
            if isinstance(value, int) and key not in ("read", "accepted", "rejected"):
                out.print(f"  {key.replace('_', ' ')}: {value:,}")
        for note in tally.note_lines():
            err.print(f"  note: {note}", markup=False)
        for r in tally.rejections[:20]:
            err.print(f"  rejected {r.place}: {r.reason}" + (f" (fix: {r.fix})" if r.fix else ""), markup=False)
        if tally.rejected > 20:
            err.print(f"  … and {tally.rejected - 20:,} more (see 'interdit imports --format json')")
    if tally.rejected:
        raise typer.Exit(EXIT_PARTIAL)


def imports(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 20,
    output: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.table,
) -> None:
    """List recent import runs with their counts and status."""
    runs = state(ctx).repo.import_runs(limit=limit)
    rows = [dataclasses.asdict(r) if dataclasses.is_dataclass(r) else dict(r) for r in runs]
    if output is OutputFormat.json:
        print_json({"schema_version": 1, "imports": rows})
        return
    for row in rows:
        out.print("  ".join(f"{k}={v}" for k, v in row.items() if k != "rejections"), markup=False)
