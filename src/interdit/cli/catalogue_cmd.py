"""`interdit catalogue list|show|search`: directives, app families and vendors shipped with interdit."""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import asdict
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from interdit import i18n
from interdit.cli.common import (
    EXIT_ATTENTION,
    OutputFormat,
    TabularFormat,
    err,
    fail,
    out,
    pipeline,
    print_json,
    run_guarded,
    state,
)
from interdit.model import Catalogue, Directive


class Kind(StrEnum):
    directives = "directives"
    families = "families"
    vendors = "vendors"


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Browse the catalogue (directives, app families, vendors) and install signed updates.",
                        no_args_is_help=True)
    group.command("list")(list_)
    group.command("show")(show)
    group.command("search")(search)
    register_channel(group)
    app.add_typer(group, name="catalogue")


def _status(d: Directive, day: date) -> str:
    lifted = d.lifted_on(day)
    if lifted is not None:
        return f"lifted {lifted.isoformat()}"
    amended = d.amended_on(day)
    return f"amended {amended.isoformat()}" if amended is not None else ""


def _rows(cat: Catalogue, kind: Kind, lang: str, today: date) -> list[dict[str, Any]]:
    if kind is Kind.directives:
        return [{"id": d.id, "effective": d.effective.isoformat(), "status": _status(d, today),
                 "jurisdiction": d.jurisdiction, "title": d.title_in(lang),
                 "families": ",".join(d.families), "vendors": ",".join(d.vendors)}
                for d in sorted(cat.directives.values(), key=lambda d: (d.effective, d.id))]
    if kind is Kind.families:
        return [{"id": f.id, "name": f.name, "vendor": f.vendor,
                 "identifiers": len(f.identifiers) + len(f.prefixes), "store_names": len(f.store_names),
                 "domains": len(f.domains)} for f in cat.families.values()]
    return [{"id": v.id, "name": v.name, "country": v.country, "parent": v.parent or ""}
            for v in cat.vendors.values()]


def list_(
    kind: Annotated[Kind, typer.Argument(help="What to list.")] = Kind.directives,
    fmt: Annotated[TabularFormat, typer.Option("--format", "-f", help="table, json or csv")] = TabularFormat.table,
    lang: Annotated[str, typer.Option("--lang")] = "en",
) -> None:
    """List directives (default), families or vendors. Ids are never cut: copy them into a policy as they are.

    Example: interdit catalogue list --format csv > directives.csv
    """
    cat = pipeline.catalogue()
    rows = _rows(cat, kind, lang, pipeline.system_clock().date())
    if fmt is TabularFormat.json:
        print_json({"schema_version": 1, "catalogue_version": cat.version, kind.value: rows})
        return
    if fmt is TabularFormat.csv:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["id"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
        return
    _print_rows(f"{kind.value} — catalogue {cat.version}", rows)


def _print_rows(title: str, rows: list[dict[str, Any]]) -> None:
    """A table whose `id` column is never wrapped nor cut; too narrow a terminal gets one block per row instead."""
    if not rows:
        out.print(f"{title}: none")
        return
    widest = max(len(str(r["id"])) for r in rows)
    if out.width < widest + 30:
        out.print(title)
        for row in rows:
            out.print(str(row["id"]), markup=False, soft_wrap=True)
            for key, value in row.items():
                if key != "id" and value not in ("", None):
                    out.print(f"  {key}: {value}", markup=False, soft_wrap=True)
        return
    table = Table(title=title)
    for col in rows[0]:
        if col == "id":
            table.add_column(col, no_wrap=True, min_width=widest, overflow="ignore")
        else:
            table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    out.print(table)


def show(
    entry: Annotated[str, typer.Argument(help="A directive, family or vendor id.")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    as_of: Annotated[str | None, typer.Option("--as-of", metavar="YYYY-MM-DD",
                                              help="Show a directive as it stood that day (default: today).")] = None,
) -> None:
    """Show one entry with its sources and confidence. For a directive: the apps it bans on each platform
    (identifiers, namespaces, store names) and the domains to block, as it stood on the day (--as-of).

    Example: interdit catalogue show us-tx-2022-prohibited-technologies --as-of 2025-06-01
    """
    cat = pipeline.catalogue()
    found: Any = cat.directives.get(entry) or cat.families.get(entry) or cat.vendors.get(entry)
    if found is None:
        import difflib

        known = [*cat.directives, *cat.families, *cat.vendors]
        close = difflib.get_close_matches(entry, known, n=1)
        fail(f"no catalogue entry {entry!r}" + (f"; did you mean {close[0]!r}?" if close else "")
             + "\n  fix: 'interdit catalogue search TEXT' finds entries by name")
    try:
        day = date.fromisoformat(as_of) if as_of else pipeline.system_clock().date()
    except ValueError:
        fail(f"--as-of {as_of!r} is not a date\n  fix: write it as YYYY-MM-DD, e.g. 2025-06-01")
    kind = "directive" if entry in cat.directives else "family" if entry in cat.families else "vendor"
    bans = None
    if isinstance(found, Directive):
        found = found.as_of(day)
        bans = pipeline.directive_bans(found)
    value = asdict(found)
    if fmt is OutputFormat.json:
        doc: dict[str, Any] = {"schema_version": 1, "catalogue_version": cat.version, "kind": kind, "entry": value}
        if bans is not None:
            apps, domains = bans
            doc["as_of"] = day.isoformat()
            doc["bans"] = {"apps": [asdict(a) for a in apps], "domains": list(domains)}
        print_json(doc)
        return
    if bans is not None:
        _show_directive(found, day, *bans)
        return
    _show_fields(value)


def _show_directive(d: Directive, day: date, apps: Any, domains: tuple[str, ...]) -> None:
    amended, lifted = d.amended_on(day), d.lifted_on(day)
    line = (f" (lifted on {lifted.isoformat()})" if lifted else
            f" (as amended on {amended.isoformat()})" if amended else "")
    out.print(f"[bold]{d.id}[/]{line}", soft_wrap=True)
    out.print(d.title_in("en"), markup=False, soft_wrap=True)
    for label, val in (("issuer", d.issuer), ("jurisdiction", d.jurisdiction),
                       ("announced", d.announced.isoformat() if d.announced else "not published"),
                       ("effective", d.effective.isoformat()), ("device scope", d.device_scope),
                       ("ownership", ", ".join(o.value for o in d.ownership)),
                       ("exceptions", d.exceptions_allowed), ("network block", "required" if
                                                              d.requires_network_block else "not required"),
                       ("interim", "yes" if d.interim else "no"), ("confidence", d.confidence)):
        out.print(f"  {label}: {val}", markup=False, soft_wrap=True)
    out.print(f"[bold]bans on {day.isoformat()}[/]: families {', '.join(d.families) or 'none'}"
              + (f"; every app of {', '.join(d.vendors)}" if d.vendors else ""), soft_wrap=True)
    platform = None
    for a in apps:
        if a.platform != platform:
            platform = a.platform
            out.print(f"  [bold]{platform}[/]")
        what = {"id": a.value, "prefix": f"{a.value} and {a.value}.*",
                "store name": f"“{a.value}” ({a.lang}, store name)"}[a.kind]
        out.print(f"    {what}  [{a.family}]", markup=False, soft_wrap=True)
    out.print(f"[bold]domains[/] (block with every subdomain): {', '.join(domains) or 'none'}", soft_wrap=True)
    if len(d.versions) > 1:
        out.print("[bold]versions[/]:")
        for v in d.versions:
            what = ", ".join([*v.families, *v.vendors]) or "nothing"
            out.print(f"  {v.since.isoformat()} {v.change.value}: {what}" + (f" — {v.note}" if v.note else ""),
                      markup=False, soft_wrap=True)
    if d.primary_source:
        out.print(f"[bold]issuer's own text[/]: {_PRIMARY.get(d.primary_source, d.primary_source)}", soft_wrap=True)
        if d.primary_source_note:
            out.print(f"  {d.primary_source_note}", markup=False, soft_wrap=True)
    out.print("[bold]sources[/]:")
    for s in d.sources:
        seen = f" (retrieved {s.retrieved.isoformat()})" if s.retrieved else ""
        kind = f" [{_KIND.get(s.kind, s.kind)}]" if s.kind else ""
        named = f" “{s.title}”" if s.title else ""
        by = f", {s.publisher}" if s.publisher else ""
        out.print(f"  - {s.url}{kind}{named}{by}{seen}" + (f": {s.note}" if s.note else ""), markup=False,
                  soft_wrap=True)


_PRIMARY = {"cited": "cited (the issuer's own publication is among the sources)",
            "copy": "cited from a faithful copy published by a third party",
            "not-reached": "published by the issuer, but no copy could be read: the entry rests on reports",
            "none": "none published (an internal measure: a memo, an e-mail, a note to staff)"}
_KIND = {"primary": "issuer", "official-copy": "copy of the issuer's text", "secondary": "report"}


def _show_fields(value: dict[str, Any]) -> None:
    for key, val in value.items():
        if isinstance(val, list | tuple):
            out.print(f"[bold]{key}[/]:")
            for item in val:
                text = ', '.join(f'{k}={v}' for k, v in item.items() if v) if isinstance(item, dict) else item
                out.print(f"  - {text}", markup=False, soft_wrap=True)
        elif isinstance(val, dict):
            out.print(f"[bold]{key}[/]:")
            for k, v in val.items():
                out.print(f"  {k}: {v}", markup=False, soft_wrap=True)
        else:
            out.print(f"[bold]{key}[/]: {escape(str(val))}", soft_wrap=True)


def search(
    text: Annotated[str, typer.Argument(help="Words to look for (names, ids, titles, identifiers, domains).")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
) -> None:
    """Search the catalogue, accents and case ignored."""
    hits = pipeline.search_catalogue(text)
    if fmt is OutputFormat.json:
        print_json({"schema_version": 1, "catalogue_version": pipeline.catalogue().version, "query": text,
                    "hits": [{"kind": k, "id": i, "label": label} for k, i, label in hits]})
        return
    if not hits:
        out.print(f"nothing matches {text!r}")
        return
    for kind, ident, label in hits:
        out.print(f"{kind:<10} {ident:<36} {label}", markup=False, soft_wrap=True)


# -- the signed update channel (docs/catalogue-updates.md) ------------------------------------------


def register_channel(group: typer.Typer) -> None:
    group.command("update")(update)
    group.command("info")(info)


def _language(ctx: typer.Context, lang: str | None, policy_language: str | None = None) -> str:
    chosen = lang or state(ctx).settings.lang or policy_language or "en"
    if chosen not in i18n.LANGS:
        fail(f"unknown language {chosen!r}\n  fix: use --lang en or --lang fr")
    return chosen


def update(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Argument(
        help="https:// URL or file of a signed bundle [env INTERDIT_CATALOGUE_URL]", show_default=False)] = None,
    check: Annotated[bool, typer.Option(
        "--check", help="Only tell whether a newer signed catalogue exists: exit 0 up to date, 1 newer available, "
                        "2 error; nothing is installed.")] = False,
    allow_http: Annotated[bool, typer.Option(
        "--allow-http", help="Also fetch over plain HTTP, for an internal mirror without TLS (loudly warned; this "
                             "machine's own addresses need no flag).")] = False,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    lang: Annotated[str | None, typer.Option("--lang", help="en or fr [default: the policy's, else en]",
                                             show_default=False)] = None,
) -> None:
    """Install a newer signed catalogue from a URL or a file, and say what it changes for your policy.

    The bundle's Ed25519 signature is checked against the keys shipped with interdit; a tampered, wrongly
    signed, cut short, older or other-schema bundle is refused (exit 2) and nothing changes. Exit codes: 0
    installed or already up to date; 1 with --check a newer catalogue is available, without it the catalogue
    was installed but your policy no longer loads with it; 2 refused or unreachable, nothing changed.
    """
    s = state(ctx)
    where = run_guarded(lambda: pipeline.channel_source(source, s.settings.catalogue_url))
    result = run_guarded(lambda: pipeline.update_catalogue(where, check=check, allow_http=allow_http,
                                                           policy_path=s.settings.policy_path))
    words = _language(ctx, lang, result.policy.language if result.policy else None)
    if result.insecure:
        err.print(f"[bold yellow]{pipeline.plain_http_warning(words)}[/]", soft_wrap=True)
    if fmt is OutputFormat.json:
        print_json(result.as_dict())
    else:
        for line in pipeline.describe_update(result, words):
            out.print(line, markup=False, soft_wrap=True)
    if result.action == "available" or result.needs_attention:
        raise typer.Exit(EXIT_ATTENTION)


def info(
    ctx: typer.Context,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    lang: Annotated[str | None, typer.Option("--lang", help="en or fr", show_default=False)] = None,
) -> None:
    """Which catalogue is in use: the one shipped with interdit or an installed update, its version and file."""
    selection = run_guarded(pipeline.catalogue_in_use)
    if fmt is OutputFormat.json:
        print_json(pipeline.in_use_as_dict(selection))
        return
    for line in pipeline.describe_in_use(selection, _language(ctx, lang)):
        out.print(line, markup=False, soft_wrap=True)
