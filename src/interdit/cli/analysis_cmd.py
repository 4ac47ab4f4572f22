"""`interdit analyze`: assess app files (Android APK, iOS IPA) before a directive does (permissions, SDKs,
endpoints, signatures); `interdit signatures`: the SDK signature data it uses."""

from __future__ import annotations

import os
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from interdit import i18n
from interdit.cli.common import EXIT_ATTENTION, cli_actor, err, fail, out, pipeline, run_guarded, state


class FailOn(StrEnum):
    unacceptable = "unacceptable"
    needs_review = "needs_review"
    never = "never"


_RANK = {"acceptable": 0, "needs_review": 1, "unacceptable": 2}


def register(app: typer.Typer) -> None:
    app.command("analyze")(analyze)
    group = typer.Typer(help="The SDK signature data `analyze` uses: interdit's built-in rules, and Exodus "
                        "Privacy's tracker list once downloaded.", no_args_is_help=True)
    group.command("update")(signatures_update)
    group.command("show")(signatures_show)
    app.add_typer(group, name="signatures")


def signatures_update(
    url: Annotated[str, typer.Option("--url", help="Where to download the tracker list from.")] = (
        "https://reports.exodus-privacy.eu.org/api/trackers"),
    token: Annotated[str | None, typer.Option("--token", envvar="EXODUS_API_TOKEN", show_default=False,
                                              help="An Exodus API key, if the server asks for one "
                                              "[env EXODUS_API_TOKEN].")] = None,
    folder: Annotated[Path | None, typer.Option("--dir", show_default=False, help="Where to keep it [default: "
                                                "$XDG_DATA_HOME/interdit/signatures].")] = None,
) -> None:
    """Download Exodus Privacy's tracker list into your data folder, check that it parses, and keep it:
    `analyze` then uses it with interdit's built-in rules, with no flag. A list that fails the check is
    refused and the previous one kept.

    Example: interdit signatures update
    """
    from interdit.pipeline.analysis import update_signatures

    done = run_guarded(lambda: update_signatures(url, token=token, dest=folder))
    typer.echo(f"{done['trackers']} trackers written to {done['path']} (downloaded {done['downloaded'][:19]})")
    typer.echo(done["credit"])


def signatures_show(
    signatures: Annotated[Path | None, typer.Option("--signatures", show_default=False,
                                                    help="A signature folder, as for analyze.")] = None,
) -> None:
    """Which signature sets `analyze` would use, with their versions.

    Example: interdit signatures show
    """
    from interdit.pipeline.analysis import signature_sets, signatures_home

    sets = run_guarded(lambda: signature_sets(signatures))
    for label in sets:
        typer.echo(label)
    if not any(s.startswith("Exodus") for s in sets):
        typer.echo(f"only the built-in rules: `interdit signatures update` downloads Exodus Privacy's tracker list "
                   f"into {signatures_home()}")


def _default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "interdit" / "analysis"


def analyze(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(metavar="PATH...",
                                                help="APK or IPA files (or zipped .app), or folders of them.")],
    output: Annotated[str, typer.Option("--format", "-f", help="table, json, sarif or html (see 'interdit "
                                        "formats').")] = "table",
    out_path: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report to this file.")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="en or fr [default: --lang of interdit, else en]")] = None,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 when an app's verdict is this or worse.")] = (
        FailOn.never),
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, help="Worker processes.")] = 2,
    signatures: Annotated[Path | None, typer.Option(
        "--signatures", help="Folder with exodus_trackers.json (and bytedance_tiktok_indicators.json) "
        "[env INTERDIT_SDK_SIGNATURES; default: the list `interdit signatures update` keeps, with the "
        "built-in rules]", show_default=False)] = None,
    rules: Annotated[Path | None, typer.Option("--rules", help="Your own score rule file (a copy of rules.yaml).",
                                               show_default=False)] = None,
    store: Annotated[bool, typer.Option("--store", help="Store the reports in the database (--db), so policy "
                                        "rules on SDK and endpoint vendors can use them.")] = False,
    cache: Annotated[bool, typer.Option("--cache/--no-cache", help="Reuse reports of files already analysed "
                                        "($XDG_CACHE_HOME/interdit/analysis).")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Analyse Android APK and iOS IPA files: identity, signatures and certificates (iOS: code signature,
    provisioning profile, entitlements), permissions in plain words (iOS: usage descriptions), embedded SDKs
    and trackers with their vendor and country, network endpoints, weaknesses, tampering, and a verdict that
    says which rules fired and why. SDKs are recognised with interdit's built-in rules, plus Exodus Privacy's
    tracker list once `interdit signatures update` has downloaded it.

    Example: interdit analyze app.apk app.ipa --format html --out apps.html --lang fr

    Example: interdit --db fleet.db analyze apks/ --store --format sarif --out apks.sarif --fail-on unacceptable
    """
    s = state(ctx)
    language = lang or s.settings.lang or "en"
    if language not in i18n.LANGS:
        fail(f"unknown language {language!r}\n  fix: use --lang en or --lang fr")
    known = pipeline.analysis_formats()
    if output not in known:
        fail(f"unknown output format {output!r}\n  fix: use one of: {', '.join(known)}")
    files = run_guarded(lambda: pipeline.analysis_files(paths))
    if not files:
        fail("no app file found in the paths given\n  fix: pass .apk or .ipa files, or folders holding them")
    repo = s.repo if store else None
    show = not quiet and err.is_terminal

    def run(progress: Callable[[Any], None] | None) -> list[Any]:  # reports
        return run_guarded(lambda: pipeline.analyze_apks(
            files, repo=repo, lang=language, jobs=jobs, signatures=signatures, rules=rules,
            cache_dir=_default_cache() if cache and repo is None else None, progress=progress, clock=s.clock,
            actor=cli_actor()))

    if not show:  # no bar: the progress display is not even imported
        reports = run(None)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        with Progress(TextColumn("analysing"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[name]}"),
                      TimeElapsedColumn(), console=err) as bar:
            task = bar.add_task("analyze", total=len(files), name="")
            reports = run(lambda r: bar.update(task, advance=1, name=f"{r.identity.file_name[:40]:40}"))
    text = run_guarded(lambda: pipeline.render_analysis(reports, output, language))
    if out_path is not None:
        out_path.write_text(text, encoding="utf-8")
        err.print(f"wrote {out_path} ({len(reports)} apps)", markup=False)
    elif output == "table":
        out.print(text, markup=False, highlight=False, end="")
    else:
        typer.echo(text, nl=False)
    if fail_on is not FailOn.never:
        worst = max((_RANK.get(r.score.verdict, 1) if r.score else 1 for r in reports), default=0)
        if worst >= _RANK[fail_on.value]:
            raise typer.Exit(EXIT_ATTENTION)
