"""`interdit import` and `interdit imports`: load inventory snapshots, see past import runs."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from interdit import i18n
from interdit.cli.common import (
    EXIT_ERROR,
    EXIT_PARTIAL,
    OutputFormat,
    cli_actor,
    err,
    fail,
    out,
    parse_when,
    pipeline,
    print_json,
    run_guarded,
    state,
)
from interdit.errors import InterditError


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.command("imports")(imports)


MaxRejectedOpt = Annotated[str, typer.Option(
    "--max-rejected", metavar="N|P%",
    help="Refuse the whole snapshot (nothing changes, exit code 2) when more records than this are rejected: "
         "a count of records (e.g. 25) or a percentage of the records read (e.g. 1%), or none.")]
AllowShrinkOpt = Annotated[bool, typer.Option(
    "--allow-shrink",
    help="Apply a snapshot that marks more than 20 % of the source's devices (from 10 devices) removed at "
         "once; without it such a snapshot is refused as a likely broken or partial export.")]


def import_notes(result: Any, lang: str | None) -> list[str]:
    """What a person must know about an applied snapshot beyond its counts, in their language."""
    lang = lang if lang in i18n.LANGS else "en"
    words = i18n.section(lang, "cli.inventory")
    notes = []
    if getattr(result, "devices_unreadable", 0):
        notes.append(i18n.plural(lang, "cli.inventory.unreadable", result.devices_unreadable))
    if getattr(result, "devices_no_apps", 0):
        notes.append(i18n.plural(lang, "cli.inventory.no_apps", result.devices_no_apps))
    if getattr(result, "removals_held", False):
        notes.append(words["removals_held"])
    if getattr(result, "closes_held", False):
        notes.append(words["closes_held"])
    return notes


def run_import(action: Callable[[], tuple[Any, Any]], source: str, output: OutputFormat,
               lang: str | None) -> tuple[Any, Any]:
    """Run an import or a sync; a refused snapshot is said plainly (in JSON too) and exits 2."""
    try:
        return action()
    except pipeline.SnapshotRefused as refusal:
        if output is OutputFormat.json:
            print_json({"schema_version": 1, "source": source, "status": "refused", "error": refusal.message,
                        "where": refusal.where, "fix": refusal.fix})
            raise typer.Exit(EXIT_ERROR) from None
        err.print(i18n.text(lang if lang in i18n.LANGS else "en", "cli.inventory.refused"), markup=False)
        fail(refusal)
    except InterditError as error:
        fail(error)


def show_import(source: str, result: Any, tally: Any, output: OutputFormat, lang: str | None) -> None:
    """The outcome of an applied snapshot: its counts, what it kept or flagged, and its rejections."""
    summary: dict[str, Any] = (dataclasses.asdict(result) if dataclasses.is_dataclass(result)
                               and not isinstance(result, type) else {})
    rejections = [dataclasses.asdict(r) for r in tally.rejections]
    notes = [*tally.note_lines(), *import_notes(result, lang)]  # the reader's (encoding, separator), then the import's
    if output is OutputFormat.json:
        print_json({"schema_version": 1, "source": source, "status": "applied", "read": tally.read,
                    "accepted": tally.accepted, "rejected": tally.rejected, "result": summary, "notes": notes,
                    "rejections": rejections})
        return
    out.print(f"{source}: read {tally.read:,} records — {tally.accepted:,} accepted, {tally.rejected:,} rejected",
              markup=False)
    for key, value in summary.items():
        if isinstance(value, int) and not isinstance(value, bool) and key not in ("read", "accepted", "rejected"):
            out.print(f"  {key.replace('_', ' ')}: {value:,}")
    for note in notes:
        err.print(f"  note: {note}", markup=False)
    for r in tally.rejections[:20]:
        err.print(f"  rejected {r.place}: {r.reason}" + (f" (fix: {r.fix})" if r.fix else ""), markup=False)
    if tally.rejected > 20:
        err.print(f"  … and {tally.rejected - 20:,} more (see 'interdit imports --format json')")


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
    max_rejected: MaxRejectedOpt = "1%",
    allow_shrink: AllowShrinkOpt = False,
) -> None:
    """Import one full snapshot of a source's devices and apps, as one transaction.

    Example: interdit import csv devices.csv apps.csv --source intune-prod --at 2023-03-01T06:00:00Z

    Bad records are rejected with their file and line, and counted; good ones land. A device whose record was
    rejected is never taken for one that left: it keeps its last known state, flagged unreadable. Exit code 3
    when any record was rejected, 2 when nothing was imported (an unreadable input, or a snapshot refused by
    --max-rejected or for dropping too many devices at once, see --allow-shrink).
    """
    s = state(ctx)
    when = parse_when(at) if at else None
    limit = run_guarded(lambda: pipeline.rejection_limit(max_rejected))
    show = not quiet and output is OutputFormat.table and err.is_terminal
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("importing {task.fields[source]}"), BarColumn(), TextColumn("{task.completed:,} records"),
                  TimeElapsedColumn(), console=err, disable=not show) as bar:
        task = bar.add_task("import", total=None, source=source)
        result, tally = run_import(lambda: pipeline.import_inventory(
            s.repo, fmt, source, inputs, at=when, clock=s.clock, progress=lambda n: bar.advance(task, n),
            actor=cli_actor(), max_rejected=limit, allow_shrink=allow_shrink), source, output, s.settings.lang)
    show_import(source, result, tally, output, s.settings.lang)
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
