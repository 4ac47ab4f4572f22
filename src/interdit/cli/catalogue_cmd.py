"""`interdit catalogue list|show|search`: directives, app families and vendors shipped with interdit."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from interdit.cli.common import (
    EXIT_ATTENTION,
    OutputFormat,
    err,
    fail,
    out,
    pipeline,
    print_json,
    run_guarded,
    state,
)


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


def list_(
    kind: Annotated[Kind, typer.Argument(help="What to list.")] = Kind.directives,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    lang: Annotated[str, typer.Option("--lang")] = "en",
) -> None:
    """List directives (default), families or vendors."""
    cat = pipeline.catalogue()
    rows: list[dict[str, Any]]
    if kind is Kind.directives:
        rows = [{"id": d.id, "effective": d.effective.isoformat(), "jurisdiction": d.jurisdiction,
                 "title": d.title_in(lang), "families": ",".join(d.families)} for d in
                sorted(cat.directives.values(), key=lambda d: (d.effective, d.id))]
    elif kind is Kind.families:
        rows = [{"id": f.id, "name": f.name, "vendor": f.vendor, "identifiers": len(f.identifiers) + len(f.prefixes),
                 "domains": len(f.domains)} for f in cat.families.values()]
    else:
        rows = [{"id": v.id, "name": v.name, "country": v.country, "parent": v.parent or ""}
                for v in cat.vendors.values()]
    if fmt is OutputFormat.json:
        print_json({"schema_version": 1, "catalogue_version": cat.version, kind.value: rows})
        return
    table = Table(title=f"{kind.value} — catalogue {cat.version}")
    for col in rows[0] if rows else []:
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    out.print(table)


def show(
    entry: Annotated[str, typer.Argument(help="A directive, family or vendor id.")],
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
) -> None:
    """Show one entry with its sources and confidence."""
    cat = pipeline.catalogue()
    found: Any = cat.directives.get(entry) or cat.families.get(entry) or cat.vendors.get(entry)
    if found is None:
        import difflib

        known = [*cat.directives, *cat.families, *cat.vendors]
        close = difflib.get_close_matches(entry, known, n=1)
        fail(f"no catalogue entry {entry!r}" + (f"; did you mean {close[0]!r}?" if close else "")
             + "\n  fix: 'interdit catalogue search TEXT' finds entries by name")
    value = asdict(found)
    if fmt is OutputFormat.json:
        kind = "directive" if entry in cat.directives else "family" if entry in cat.families else "vendor"
        print_json({"schema_version": 1, "catalogue_version": cat.version, "kind": kind, "entry": value})
        return
    for key, val in value.items():
        if isinstance(val, list | tuple):
            out.print(f"[bold]{key}[/]:")
            for item in val:
                text = ', '.join(f'{k}={v}' for k, v in item.items() if v) if isinstance(item, dict) else item
                out.print(f"  - {text}", markup=False)
        elif isinstance(val, dict):
            out.print(f"[bold]{key}[/]:")
            for k, v in val.items():
                out.print(f"  {k}: {v}")
        else:
            out.print(f"[bold]{key}[/]: {val}")


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
        out.print(f"{kind:<10} {ident:<36} {label}")


# -- the signed update channel (docs/catalogue-updates.md) ------------------------------------------


def register_channel(group: typer.Typer) -> None:
    group.command("update")(update)
    group.command("info")(info)


def _language(ctx: typer.Context, lang: str | None, policy_language: str | None = None) -> str:
    chosen = lang or state(ctx).settings.lang or policy_language or "en"
    if chosen not in ("en", "fr"):
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
