"""`interdit sources add|list|test|sync`: MDM APIs as configured sources, synced as full snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from interdit.cli.common import (
    EXIT_PARTIAL,
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
from interdit.cli.inventory_cmd import AllowShrinkOpt, MaxRejectedOpt, run_import, show_import

sources_app = typer.Typer(
    name="sources", no_args_is_help=True,
    help="MDM APIs as sources: add one, test it, sync it.\n\n"
         "Example: interdit sources add intune-prod --type intune --tenant contoso.onmicrosoft.com "
         "--client-id 1111... --secret-file ~/.interdit/intune.secret")

SourcesOpt = Annotated[Path | None, typer.Option(
    "--sources", help="Sources file [env INTERDIT_SOURCES; default sources.yaml]", show_default=False)]


def register(app: typer.Typer) -> None:
    app.add_typer(sources_app, name="sources")


@sources_app.command("add", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the source, e.g. intune-prod (records carry it).")],
    type_: Annotated[str, typer.Option("--type", "-t", help="The connector: intune, jamf, amapi, ... "
                                       "('interdit formats' lists them with their settings).")],
    setting: Annotated[list[str] | None, typer.Option(
        "--setting", "-o", help="A setting of the connector as KEY=VALUE (repeatable), e.g. tenant=contoso.com or "
                                "apps=per-device; --KEY VALUE after the name says the same (--base-url URL). An "
                                "unknown or ill-typed setting is refused.")] = None,
    secret_file: Annotated[Path | None, typer.Option(
        help="File holding the secret (client secret, user:password, or a service-account JSON key); "
             "mode 0600.")] = None,
    secret_env: Annotated[str | None, typer.Option(
        help="Environment variable holding the secret [default INTERDIT_SECRET_<NAME>].")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a source of the same name.")] = False,
    sources: SourcesOpt = None,
) -> None:
    """Add an MDM API as a source. Secrets stay out of the sources file.

    Each connector declares its settings ('interdit formats' lists them, with their hints and defaults); they
    are checked before anything is written.

    Example: interdit sources add jamf-ipads --type jamf --base-url https://example.jamfcloud.com
    --client-id 2222... --secret-file ~/.interdit/jamf.secret
    """
    settings = _settings(list(setting or []), list(ctx.args))
    path = run_guarded(lambda: pipeline.add_source(name, type_, {k: v for k, v in settings.items() if v},
                                                   secret_file=secret_file, secret_env=secret_env, path=sources,
                                                   force=force, actor=cli_actor(), audit=state(ctx).audit))
    out.print(f"added source {name} ({type_}) to {path}; check it with: interdit sources test {name}", markup=False)


def _settings(pairs: list[str], extra: list[str]) -> dict[str, str]:
    """`--setting KEY=VALUE`, and `--KEY VALUE` or `--KEY=VALUE` (a dash in KEY is an underscore)."""
    settings: dict[str, str] = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"--setting {item!r} is not KEY=VALUE\n  fix: e.g. --setting apps=per-device")
        settings[key.strip()] = value.strip()
    while extra:
        word = extra.pop(0)
        if not word.startswith("--") or len(word) < 3:
            fail(f"unexpected {word!r}\n  fix: give settings as --setting KEY=VALUE (or --KEY VALUE), after the "
                 "source's name")
        key, sep, value = word[2:].partition("=")
        if not sep:
            if not extra or extra[0].startswith("--"):
                fail(f"{word} has no value\n  fix: write {word} VALUE (or --setting {key.replace('-', '_')}=VALUE)")
            value = extra.pop(0)
        settings[key.replace("-", "_")] = value.strip()
    return settings


@sources_app.command("list")
def list_(
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    sources: SourcesOpt = None,
) -> None:
    """List the configured sources, their settings and how their credentials are given (never the secrets, nor a
    setting the connector marks secret).

    Example: interdit sources list --format json
    """
    specs = run_guarded(lambda: pipeline.configured_sources(sources))
    rows: list[dict[str, Any]] = [{"name": s.name, "type": s.type, "settings": pipeline.shown_settings(s),
                                   "credentials": pipeline.source_credentials(s)} for s in specs.values()]
    if output is OutputFormat.json:
        print_json({"schema_version": 1, "sources": rows})
        return
    if not rows:
        out.print("no sources configured; add one with: interdit sources add NAME --type TYPE ...", markup=False)
    for row in rows:
        settings = ", ".join(f"{k}={v}" for k, v in row["settings"].items())
        out.print(f"{row['name']}  [{row['type']}]  {settings}  credentials: {row['credentials']}", markup=False)


@sources_app.command("test")
def test(
    name: Annotated[str, typer.Argument(help="The source to test.")],
    sources: SourcesOpt = None,
) -> None:
    """Check a source: get a token and make one small request.

    Example: interdit sources test intune-prod
    """
    message = run_guarded(lambda: pipeline.check_source(name, path=sources))
    out.print(f"{name}: {message}", markup=False)


@sources_app.command("sync")
def sync(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The source to sync.")],
    at: Annotated[str | None, typer.Option("--at", help="When the snapshot counts as taken [default: now].")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
    sources: SourcesOpt = None,
    max_rejected: MaxRejectedOpt = "1%",
    allow_shrink: AllowShrinkOpt = False,
) -> None:
    """Import a full snapshot of a source from its API, as one transaction (all or nothing).

    Example: interdit sources sync intune-prod

    Devices the source no longer lists are marked removed; a device whose record was rejected keeps its last
    known state, flagged unreadable. If the API fails part-way, nothing is imported and the previous snapshot
    stays. Exit code 3 when records were rejected (they are listed), 2 when the snapshot was refused
    (--max-rejected, --allow-shrink).
    """
    s = state(ctx)
    when = parse_when(at) if at else None
    limit = run_guarded(lambda: pipeline.rejection_limit(max_rejected))
    result, tally = run_import(lambda: pipeline.sync_source(
        s.repo, name, path=sources, clock=s.clock, at=when, actor=cli_actor(), max_rejected=limit,
        allow_shrink=allow_shrink), name, output, s.settings.lang)
    show_import(name, result, tally, output, s.settings.lang)
    if tally.rejected:
        raise typer.Exit(EXIT_PARTIAL)
