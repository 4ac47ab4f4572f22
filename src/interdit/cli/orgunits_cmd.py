"""`interdit orgunits`: the organisation's tree as the fleet fills it, and every label no mapping places."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from interdit import i18n
from interdit.cli.common import OutputFormat, fail, out, parse_when, pipeline, print_json, run_guarded, state


def register(app: typer.Typer) -> None:
    app.command("orgunits")(orgunits)


def orgunits(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The fleet as it was at this date or time.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    lang: Annotated[str | None, typer.Option("--lang", help="en or fr")] = None,
) -> None:
    """The org-unit tree with device counts per source, and every unmapped label with how many devices carry it."""
    s = state(ctx)
    loaded = run_guarded(lambda: pipeline.read_policy(s.settings.policy_path))
    when = parse_when(as_of, default=s.clock())
    tree = run_guarded(lambda: pipeline.org_unit_tree(s.repo, loaded.policy, as_of=when))
    doc = tree.document()
    if output is OutputFormat.json:
        print_json(doc)
        return
    chosen = lang or s.settings.lang or loaded.policy.language
    if chosen not in i18n.LANGS:
        fail(f"unknown language {chosen!r}\n  fix: use --lang en or --lang fr")
    for line in render(doc, chosen):
        out.print(line, markup=False, highlight=False, soft_wrap=True)


def _counts(by_source: dict[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in by_source.items())


def render(doc: dict[str, Any], lang: str) -> list[str]:
    t = i18n.section(lang, "cli.orgunits")
    lines = [t["title"].format(at=doc["as_of"][:16].replace("T", " ") + " UTC"), ""]
    units = doc["units"]
    if not units:
        lines.append(t["empty"])
    else:
        names = ["  " * (u["depth"] - 1) + (u["path"].rsplit("/", 1)[-1] or "/") for u in units]
        width = max(len(t["unit-col"]), *(len(n) for n in names)) + 2
        lines.append(f"  {t['unit-col']:<{width}}{t['devices-col']:>9}  {t['sources-col']}")
        for name, u in zip(names, units, strict=True):
            total = sum(u["devices_below"].values())
            by = _counts(u["devices_below"]) if total else t["mapped"]
            lines.append(f"  {name:<{width}}{total:>9,}  {by}")
    lines.append("")
    unmapped = doc["unmapped"]
    if unmapped:
        lines.append(t["unmapped"].format(n=len(unmapped)))
        rows = [(u["source"], f"{u['kind']} `{u['value']}`", u["devices"]) for u in unmapped]
        w1 = max(len(t["source-col"]), *(len(r[0]) for r in rows)) + 2
        w2 = max(len(t["label-col"]), *(len(r[1]) for r in rows)) + 2
        lines.append(f"  {t['source-col']:<{w1}}{t['label-col']:<{w2}}{t['devices-col']:>9}")
        lines += [f"  {a:<{w1}}{b:<{w2}}{n:>9,}" for a, b, n in rows]
        first = unmapped[0]
        lines += ["", t["example"].format(source=first["source"], kind=first["kind"], value=first["value"])]
    else:
        lines.append(t["unmapped-none"])
    if doc["no_org_unit"]:
        lines += ["", t["nothing"].format(counts=_counts(doc["no_org_unit"]))]
    return lines
