"""`interdit notify` and `interdit notices`: tell device holders, remind them, escalate, close; and what was sent."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from interdit.cli.common import (
    EXIT_ATTENTION,
    OutputFormat,
    cli_actor,
    fail,
    out,
    parse_when,
    pipeline,
    print_json,
    run_guarded,
    state,
)

if TYPE_CHECKING:
    from interdit.pipeline.notify import NoticeRun

_KIND = {"first": "first notice", "reminder": "reminder", "escalation": "escalation", "closing": "closing"}
_SKIPPED = {"excepted": "excepted (an approved exception covers it)",
            "not_evaluable": "not evaluable (the source cannot see the device's apps)",
            "stale": "stale (the device has not reported lately)",
            "no_contact": "no contact (no e-mail for the holder, or no contact for the org unit: add them to the "
                          "contacts file)"}


def register(app: typer.Typer) -> None:
    app.command("notify")(notify)
    app.command("notices")(notices)


def notify(
    ctx: typer.Context,
    config: Annotated[Path | None, typer.Option(
        "--config", "-c", help="Notification settings (channels, reminders, templates) [env INTERDIT_NOTIFY_CONFIG; "
                               "default notify.yaml when it exists, else e-mail from INTERDIT_SMTP_HOST].",
        show_default=False)] = None,
    contacts: Annotated[Path | None, typer.Option(
        "--contacts", help="Contacts file: the manager or contact of each org unit, e-mails for owners "
                           "[default: the settings' contacts:, else env INTERDIT_CONTACTS].",
        show_default=False)] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show who would get what (subject and, with --format json, the whole message); send "
                          "nothing, record nothing.")] = False,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    language: Annotated[str | None, typer.Option(
        "--language", help="Language of the notices: en, fr, or bilingual en-fr / fr-en (both in one message, "
                           "the first one first) [default: the settings' language:].", show_default=False)] = None,
    max_notices: Annotated[int | None, typer.Option(
        "--max", help="Send at most this many messages in this run; the rest wait for the next run "
                      "[default: the settings' throttle.per_run, 500].", show_default=False)] = None,
    write_templates: Annotated[Path | None, typer.Option(
        "--write-templates", help="Copy the built-in templates into this folder to edit them (files already there "
                                  "are kept), name it in the settings' templates:, and exit.",
        show_default=False)] = None,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="With --dry-run: plan as of this date or time instead of now, to preview what another day "
                        "sends (e.g. 2026-03-16, the day after a deadline).")] = None,
) -> None:
    """Tell device holders about prohibited apps, remind them before the deadline, escalate after it, close.

    For each finding: a first notice to the device holder (the owner's e-mail from the source, or the contacts
    file's people:), reminders before the deadline (reminders: days), an escalation to the org unit's manager
    or contact after it, and a closing notice when the app is gone or the device left its source. Each person
    gets one message per step, listing every app and device it is about. Each finding's notice is sent once: it
    is recorded in the database and the audit trail, so running this every night (or twice) never repeats one.
    Nothing is sent about excepted, not-evaluable or stale devices; findings whose holder or org unit has no
    e-mail are counted as "no contact".

    Exit 1 when a notice could not be delivered on a channel (it is tried again there on the next run).

    Start with: interdit notify --contacts contacts.yaml --dry-run

    Then: INTERDIT_SMTP_PASSWORD=... interdit notify --config notify.yaml   (see docs/notifications.md)
    """
    s = state(ctx)
    from interdit.pipeline import notify as use

    if write_templates is not None:
        written = run_guarded(lambda: use.write_templates(write_templates))
        out.print(f"{len(written)} templates written to {write_templates} (<kind>.<lang>.txt; the parts start with _). "
                  "Edit them, then set templates: in the settings; 'interdit notify --dry-run' shows the result.",
                  markup=False, soft_wrap=True)
        return
    if as_of is not None and not dry_run:
        fail("--as-of previews another day: notices are sent now, or not at all\n  fix: add --dry-run, or leave "
             "--as-of out")
    loaded = run_guarded(lambda: pipeline.read_policy(s.settings.policy_path))
    settings = run_guarded(lambda: use.notify_settings(config, contacts, language=language, per_run=max_notices))
    when = parse_when(as_of, default=s.clock())
    run = run_guarded(lambda: use.send_notices(s.repo, loaded, settings, now=when, dry_run=dry_run,
                                               actor=cli_actor(), clock=s.clock))
    if output is OutputFormat.json:
        print_json(run.as_dict())
    else:
        _table(run)
    if run.failed_deliveries:
        raise typer.Exit(EXIT_ATTENTION)


def _table(run: NoticeRun) -> None:
    title = "Notices that would be sent" if run.dry_run else "Notices"
    table = Table(title=f"{title} as of {run.at:%Y-%m-%d %H:%M} UTC")
    widest = max((len(r) for row in run.rows for r in row["recipients"]), default=2)
    for column in ("Notice", "To", "Device and holder", "Subject", "Channels", "Status"):
        if column == "To":  # an address is copied whole: never folded, the subject wraps instead
            table.add_column(column, no_wrap=True, min_width=widest)
        else:
            table.add_column(column, overflow="fold")
    for row in run.rows:
        device = row["device"]
        who = (device["name"], f"{device['source']}:{device['id']}", device["owner"])
        table.add_row(f"{_KIND.get(row['kind'], row['kind'])}\n{row['lang']}", "\n".join(row["recipients"]),
                      "\n".join(x for x in who if x),
                      row["subject"], ", ".join(row["channels"]) or "none", row["status"].replace("_", " "))
    if run.rows:
        out.print(table)
    done = (f"{len([r for r in run.rows if r['status'] == 'would_send'])} would be sent" if run.dry_run
            else f"{run.sent} sent, {run.failed_deliveries} deliveries failed (tried again next run)")
    out.print(f"{done}; {run.deferred} over this run's limit, for the next run.", markup=False)
    if run.skipped:
        out.print("Not sent: " + "; ".join(f"{n} {_SKIPPED.get(k, k)}" for k, n in run.skipped.items()) + ".",
                  markup=False, soft_wrap=True)
    if run.dry_run and not any(r["channels"] for r in run.rows) and run.rows:
        out.print("No channel is configured: add channels: to the settings (docs/notifications.md) before "
                  "sending.", markup=False)


def notices(
    ctx: typer.Context,
    finding: Annotated[str | None, typer.Option("--finding", help="Only the notices of this finding (F-...).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many, newest first.")] = 50,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
) -> None:
    """The notices recorded: which notice went to whom, on which channel, when, or why it failed."""
    s = state(ctx)
    from interdit.pipeline import notify as use

    rows = run_guarded(lambda: use.sent_notices(s.repo, finding_id=finding, limit=limit))
    if output is OutputFormat.json:
        print_json({"schema_version": 1, "notices": rows})
        return
    table = Table(title="Notices recorded")
    for column in ("When", "Notice", "Channel", "To", "Status", "Subject"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row((r["sent_at"] or r["claimed_at"])[:16].replace("T", " "), r["key"], r["channel"],
                      "\n".join(r["recipients"]), r["status"] + (f": {r['error']}" if r["error"] else ""),
                      r["subject"])
    out.print(table) if rows else out.print("No notice recorded yet ('interdit notify' sends them).", markup=False)
