"""`interdit evaluate|status|findings|report|review|formats`: the answers a security team needs."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from interdit import i18n
from interdit.cli.common import (
    EXIT_ATTENTION,
    OutputFormat,
    State,
    TabularFormat,
    cli_actor,
    fail,
    out,
    parse_when,
    pipeline,
    print_json,
    run_guarded,
    state,
)
from interdit.model import Finding, FindingKind, FindingState

WIDTH = 100  # columns of a terminal report when the output is not a terminal

AS_OF_HELP = "Answer for this date or time instead of now (e.g. 2023-03-01: the end of that day, UTC)."


def register(app: typer.Typer) -> None:
    app.command("evaluate")(evaluate)
    app.command("status")(status)
    app.command("findings")(findings)
    app.command("report")(report)
    app.command("review")(review)
    app.command("formats")(formats)


def _lang(s: State, loaded: pipeline.LoadedPolicy, lang: str | None) -> str:
    chosen = lang or s.settings.lang or loaded.policy.language
    if chosen not in i18n.LANGS:
        fail(f"unknown language {chosen!r}\n  fix: use --lang en or --lang fr")
    return chosen


def evaluate(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
) -> None:
    """Evaluate the policy against the stored fleet and store the findings."""
    s = state(ctx)
    loaded = run_guarded(lambda: pipeline.read_policy(s.settings.policy_path))
    when = parse_when(as_of, default=s.clock())
    result = run_guarded(lambda: pipeline.evaluate(s.repo, loaded, as_of=when, actor=cli_actor(), clock=s.clock))
    sm = result.summary
    rate = "—, no device in scope" if sm.rate is None else f"{sm.rate:.1%}"
    out.print(f"{when:%Y-%m-%d %H:%M} UTC: {sm.compliant:,} of {sm.devices_in_scope:,} devices in scope comply "
              f"({rate}); {len(result.findings):,} findings stored; "
              f"{sum(sm.out_of_scope.values()):,} devices outside every rule ('interdit status' says why)")
    line, _ = pipeline.coverage_words(sm, "en")
    if line:
        out.print(f"{line} (interdit status says why and what to do)", markup=False)


def status(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    lang: Annotated[str | None, typer.Option("--lang", help="en or fr")] = None,
    fail_on: Annotated[list[FindingState] | None, typer.Option(
        "--fail-on", help="Exit 1 when any device has a finding in this state (repeatable).")] = None,
) -> None:
    """Summary: compliance rate, violations by family and org unit, deadlines, stale and not-evaluable devices."""
    s = state(ctx)
    loaded = run_guarded(lambda: pipeline.read_policy(s.settings.policy_path))
    when = parse_when(as_of, default=s.clock())
    data = run_guarded(lambda: pipeline.report_data(s.repo, loaded, as_of=when, clock=s.clock, with_history=False,
                                                    with_devices=False))
    fmt = "json" if output is OutputFormat.json else "table"
    text = pipeline.render(fmt, data, _lang(s, loaded, lang))
    print(text, end="" if text.endswith("\n") else "\n")
    if fail_on and any(f.state in fail_on for f in data.findings):
        raise typer.Exit(EXIT_ATTENTION)


def findings(
    ctx: typer.Context,
    state_: Annotated[list[FindingState] | None,
                      typer.Option("--state", help="Only these states (repeatable).")] = None,
    kind: Annotated[FindingKind | None, typer.Option("--kind")] = None,
    family: Annotated[str | None, typer.Option("--family", help="App family id, e.g. tiktok.")] = None,
    org_unit: Annotated[str | None, typer.Option("--org-unit", help="Org unit path; includes units below it.")] = None,
    source: Annotated[str | None, typer.Option("--source", help="Inventory source name.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
    output: Annotated[TabularFormat, typer.Option("--format", "-f", help="table, json or csv")] = TabularFormat.table,
    lang: Annotated[str | None, typer.Option("--lang", help="en or fr")] = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", help="At most this many (table only).")] = None,
    fail_on: Annotated[list[FindingState] | None, typer.Option(
        "--fail-on", help="Exit 1 when any listed finding is in this state (repeatable).")] = None,
    excel: Annotated[bool, typer.Option(
        "--excel", help="With --format csv: for Excel in a French or French-Canadian locale (UTF-8 with a "
                        "byte-order mark, ';' between cells). Without it, RFC 4180 CSV for programs.")] = False,
    separator: Annotated[str | None, typer.Option(
        "--separator", help="With --format csv: the character between cells: ',', ';', '|' or tab. Default: ';' "
                            "in French (--lang fr) and with --excel, ',' in English.")] = None,
) -> None:
    """List findings, each with its device (name, owner, model, OS version), app, rule, deadline and evidence.

    The table folds long cells onto the next line to fit the terminal (COLUMNS), never cutting an id.

    Example: interdit findings --state violation --family tiktok --format csv --excel > violations.csv
    """
    s = state(ctx)
    loaded = run_guarded(lambda: pipeline.read_policy(s.settings.policy_path))
    when = parse_when(as_of, default=s.clock())
    data = run_guarded(lambda: pipeline.report_data(s.repo, loaded, as_of=when, clock=s.clock, with_history=False))
    selected = tuple(
        f for f in data.findings
        if (not state_ or f.state in state_) and (kind is None or f.kind == kind)
        and (family is None or f.family == family) and (source is None or f.source == source)
        and (org_unit is None or (f.org_unit or "") == org_unit
             or (f.org_unit or "").startswith(org_unit.rstrip("/") + "/"))
    )
    if (excel or separator is not None) and output is not TabularFormat.csv:
        fail("--excel and --separator shape a CSV file\n  fix: add --format csv, or leave them out")
    shown = selected[:limit] if limit and output is TabularFormat.table else selected
    data = dataclasses.replace(data, findings=shown)
    fmt = {"table": "findings-table", "json": "findings-json", "csv": "csv-excel" if excel else "csv"}[output.value]
    chosen = _lang(s, loaded, lang)
    if output is TabularFormat.csv and separator is None:
        separator = ";" if excel or chosen == "fr" else ","
    text = run_guarded(lambda: pipeline.render(fmt, data, chosen, width=shutil.get_terminal_size((WIDTH, 24)).columns,
                                               separator=separator))
    if output is TabularFormat.csv:
        sys.stdout.flush()  # the bytes as written (a byte-order mark, CRLF), whatever the terminal's encoding
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()
        return _exit_on(fail_on, selected)
    print(text, end="" if text.endswith("\n") else "\n")
    _exit_on(fail_on, selected)


def _exit_on(fail_on: list[FindingState] | None, selected: tuple[Finding, ...]) -> None:
    if fail_on and any(f.state in fail_on for f in selected):
        raise typer.Exit(EXIT_ATTENTION)


def report(
    ctx: typer.Context,
    out_path: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Where to write the report (default: report.html, report.pdf, findings.xlsx...).")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="html, pdf, xlsx, json, csv (see 'interdit formats')")] = "html",
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="en or fr")] = None,
    paper: Annotated[str | None, typer.Option(
        "--paper", help="With --format pdf: a4 (the default) or letter.")] = None,
) -> None:
    """Write a report: one self-contained HTML file (opens offline) with a compliance-over-time chart; the same
    report as a PDF laid out for print (--format pdf, --paper a4|letter); the findings as a spreadsheet
    (--format xlsx).

    Example: interdit report --format pdf --paper letter --lang fr -o rapport.pdf
    """
    s = state(ctx)
    loaded = run_guarded(lambda: pipeline.read_policy(s.settings.policy_path))
    when = parse_when(as_of, default=s.clock())
    chosen = _lang(s, loaded, lang)
    if paper is not None and fmt != "pdf":
        fail("--paper lays out a PDF\n  fix: add --format pdf, or leave --paper out")
    data = run_guarded(lambda: pipeline.report_data(s.repo, loaded, as_of=when, clock=s.clock))
    content = run_guarded(lambda: pipeline.reports.render_bytes(fmt, data, chosen, paper=paper))
    if out_path is None:
        out_path = Path(pipeline.reports.file_name(fmt, data, "findings" if fmt == "xlsx" else "report")
                        .replace(f"-{when.date().isoformat()}", ""))
    out_path.write_bytes(content)
    out.print(f"wrote {out_path}")


def review(
    ctx: typer.Context,
    within: Annotated[int, typer.Option("--within", help="Days ahead to look.")] = 30,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
) -> None:
    """Interim rules and exceptions due for review or expiring (past due ones too)."""
    s = state(ctx)
    loaded = run_guarded(lambda: pipeline.read_policy(s.settings.policy_path))
    when = parse_when(as_of, default=s.clock())
    items = pipeline.review_items(loaded.policy, when, within)
    if output is OutputFormat.json:
        print_json({"schema_version": 1, "as_of": when.isoformat(), "within_days": within,
                    "items": [{"kind": k, "id": i, "date": d.isoformat(), "why": why} for k, i, d, why in items]})
        return
    if not items:
        out.print(f"nothing due for review within {within} days")
    for k, i, d, why in items:
        out.print(f"{d}  {k:<9} {i:<28} {why}", markup=False)


def formats(
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
) -> None:
    """List every registered component: inventory formats (files and MDM exports), live MDM connectors with
    their settings and what they push, network log formats, enforcement targets, report formats and APK analysis
    outputs."""
    groups = {
        "inventory formats": pipeline.inventory_formats(),
        "live MDM connectors": pipeline.source_types(),
        "network log formats": [name for name, _, _ in pipeline.log_formats()],
        "enforcement targets": [name for name, _ in pipeline.enforcement_targets()],
        "report formats": pipeline.report_formats(),
        "APK analysis outputs": pipeline.analysis_formats(),
    }
    declared = pipeline.connector_settings()
    pushes = {connector: target for target, connector in pipeline.push_targets().items()}
    if output is OutputFormat.json:
        print_json({"schema_version": 1, **{k.replace(" ", "_").lower(): v for k, v in groups.items()},
                    "connector_settings": {name: [{"name": s.name, "hint": s.hint, "default": s.default,
                                                   "required": s.required, "secret": s.secret,
                                                   "allowed": list(s.allowed), "kind": s.kind} for s in settings]
                                           for name, settings in declared.items()},
                    "connector_pushes": pushes})
        return
    width = max(len(k) for k in groups) + 1
    for label, names in groups.items():
        print(f"{label + ':':<{width}} {', '.join(names)}")
    print("\nlive MDM connector settings (interdit sources add NAME --type TYPE --setting KEY=VALUE):")
    for name, settings in declared.items():
        print(f"  {name}" + (f"  (pushes: interdit enforce {pushes[name]} --push SOURCE)" if name in pushes else ""))
        for s in settings:
            notes = [n for n in ("required" if s.required else "", "secret" if s.secret else "",
                                 f"default {s.default}" if s.default else "") if n]
            print(f"    {s.name}=<{s.describe()}>  {s.hint}" + (f" [{', '.join(notes)}]" if notes else ""))
