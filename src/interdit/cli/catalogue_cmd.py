"""`interdit catalogue list|show|search`: directives, app families and vendors shipped with interdit."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table

from interdit.cli.common import OutputFormat, fail, out, pipeline, print_json


class Kind(StrEnum):
    directives = "directives"
    families = "families"
    vendors = "vendors"


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Browse the shipped catalogue: directives, app families, vendors.",
                        no_args_is_help=True)
    group.command("list")(list_)
    group.command("show")(show)
    group.command("search")(search)
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
