"""`interdit`: the command line. One module per command group; business logic lives in `pipeline`.

Exit codes (scripts can trust them):
  0  done, nothing to report
  1  done, and the result needs attention (`--fail-on` matched findings)
  2  usage, configuration or input error: nothing was changed
  3  done, but some input records were rejected (they are listed; the rest landed)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from interdit import __version__
from interdit.cli import (
    analysis_cmd,
    catalogue_cmd,
    compliance_cmd,
    demo_cmd,
    enforce_cmd,
    inventory_cmd,
    network_cmd,
    notify_cmd,
    orgunits_cmd,
    policy_cmd,
    server_cmd,
    sources_cmd,
    worker_cmd,
)
from interdit.cli.common import State, run_guarded

app = typer.Typer(
    name="interdit",
    help="Run a prohibited-apps program on your device fleet: know what is installed, turn directives into "
         "policy, find violations, enforce, detect use and prove compliance.\n\n"
         "Start with 'interdit demo', or 'interdit init' to write a policy of your own.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"interdit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        "--db", help="Database URL or SQLite file [env INTERDIT_DATABASE_URL; default sqlite:///interdit.db]",
        show_default=False)] = None,
    policy: Annotated[Path | None, typer.Option(
        "--policy", "-p", help="Policy file [env INTERDIT_POLICY; default policy.yaml]", show_default=False)] = None,
    lang: Annotated[str | None, typer.Option(
        "--lang", help="Language of what people read: en or fr [env INTERDIT_LANG]", show_default=False)] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = run_guarded(lambda: State.create(db=db, policy=policy, lang=lang))


for module in (policy_cmd, catalogue_cmd, inventory_cmd, sources_cmd, compliance_cmd, orgunits_cmd, enforce_cmd,
               network_cmd, notify_cmd, analysis_cmd, server_cmd, demo_cmd, worker_cmd):
    module.register(app)

if __name__ == "__main__":  # pragma: no cover
    app()
