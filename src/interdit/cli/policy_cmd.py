"""`interdit init` and `interdit policy check|schema`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from interdit.cli.common import out, pipeline, print_json, run_guarded, state


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Check a policy file, or print its JSON Schema for your editor.", no_args_is_help=True)
    app.command("init")(init)
    group.command("check")(check)
    group.command("schema")(schema)
    app.add_typer(group, name="policy")


def init(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Argument(help="Where to write it [default: the --policy path]")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter policy that adopts the Canadian federal TikTok directive."""
    target = path or state(ctx).settings.policy_path
    run_guarded(lambda: pipeline.write_starter_policy(target, force=force))
    out.print(f"wrote {target}: edit it, then run 'interdit policy check'")


def check(ctx: typer.Context) -> None:
    """Load the policy and report every problem with its line and a fix (exit 2 if any)."""
    s = state(ctx)
    loaded = run_guarded(lambda: pipeline.read_policy(s.settings.policy_path))
    p = loaded.policy
    out.print(f"{s.settings.policy_path}: valid — {len(p.rules)} rule(s), {len(p.exceptions)} exception(s), "
              f"{len(p.org_units)} org-unit mapping(s), inventory stale after {p.stale_after_days} days")
    for r in p.rules:
        families = ", ".join(r.families) or "-"
        out.print(f"  rule {r.id}: {families}; effective {r.effective}, deadline {r.deadline}"
                  + (f"; interim, review by {r.review_by}" if r.interim else ""))


def schema(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file instead.")] = None,
) -> None:
    """Print the policy's JSON Schema (point your editor's YAML support at it)."""
    value = pipeline.policy_schema()
    if output:
        output.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")
    else:
        print_json(value)
