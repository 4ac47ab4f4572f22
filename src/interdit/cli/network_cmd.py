"""`interdit logs scan|sightings|convert|formats`: detect use of prohibited apps in DNS, proxy and TLS logs."""

from __future__ import annotations

import signal
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from interdit import i18n
from interdit.cli.common import (
    EXIT_PARTIAL,
    OutputFormat,
    cli_actor,
    err,
    fail,
    out,
    pipeline,
    print_json,
    run_guarded,
    state,
)
from interdit.cli.log_scan import exit_code, scan_document, scan_logs_command, sighting_json

logs = typer.Typer(name="logs", help="Detect use of prohibited apps in DNS, proxy and TLS logs.",
                   no_args_is_help=True)

def register(app: typer.Typer) -> None:
    app.add_typer(logs)


def _lang(ctx: typer.Context) -> str:
    lang = getattr(state(ctx).settings, "lang", None) or "en"
    return lang if lang in i18n.LANGS else "en"


# one sighting per line, the same columns in every language (the words around it are the catalogues')
SIGHTING_LINE = "{family:<12} {day:<10} {who:<34} {count:>8}  {first} .. {last}  {example}"


def words(lang: str) -> dict[str, str]:
    """The words of `logs scan` and `logs sightings` in `lang` (the catalogues' "cli.logs." messages)."""
    return i18n.section(lang, "cli.logs")


@logs.command("scan")
def scan(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(metavar="LOG...", help="Log files or folders; - reads stdin. "
                                               "gzip, bzip2 and zstd are read as they are.")],
    fmt: Annotated[str | None, typer.Option("--log-format", "-l", help="The log format [default: detected "
                                            "from the content]; see 'interdit logs formats'.")] = None,
    domains: Annotated[Path | None, typer.Option("--domains", help="Look for these names instead of the policy's: "
                                                 "a file of 'domain [family]' lines.")] = None,
    family: Annotated[list[str] | None, typer.Option("--family", help="Look for this catalogue family's names "
                                                     "(repeatable) instead of the policy's.")] = None,
    leases: Annotated[list[Path] | None, typer.Option("--leases", help="DHCP leases to attribute addresses to "
                                                      "devices: dhcpd.leases, Kea CSV or dnsmasq.leases "
                                                      "(repeatable).")] = None,
    tz: Annotated[str, typer.Option("--timezone", help="Zone of log times written without one (BIND, dnsmasq, "
                                    "Windows).")] = "UTC",
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, max=64, help="Processes for a large plain file.")] = 2,
    follow: Annotated[bool, typer.Option("--follow", help="Keep reading as the log grows and print each match "
                                         "(Ctrl-C stops).")] = False,
    store: Annotated[bool, typer.Option("--store/--no-store", help="Store the sightings in the database.")] = True,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
) -> None:
    """Find requests for prohibited apps' names in DNS, proxy and TLS logs, per device, family and day.

    A name matches when it or a parent domain is listed: tiktok.com covers www.tiktok.com and
    WWW.TikTok.COM., never nottiktok.com. The format is detected from the content.

    Example: interdit logs scan /var/log/zeek/dns.log.gz --leases /var/lib/dhcp/dhcpd.leases

    Exit code 3 when lines were rejected or a file could not be read (they are listed); 2 on a usage error.
    """
    lang = _lang(ctx)
    t = words(lang)
    options = {"paths": paths, "fmt": fmt, "domains": domains, "family": family or [], "leases": leases or [],
               "tz": tz, "jobs": jobs}
    s = state(ctx)
    stop = {"flag": False}

    def on_match(m: Any) -> None:
        who = f"{m.device[0]}:{m.device[1]}" if m.device else m.client
        out.print(f"{m.when.isoformat()} {who} {m.family} {m.name}" + (t["weak"] if m.weak else ""), markup=False)

    previous = None
    if follow:  # Ctrl-C ends the follow at the next pause, and what was seen is still stored
        def _stop(_sig: int, _frame: Any) -> None:
            stop["flag"] = True

        previous = signal.signal(signal.SIGINT, _stop)
    try:
        result = run_guarded(lambda: scan_logs_command(
            s.settings, options, repo=(lambda: s.repo) if store else None,
            follow=(lambda: not stop["flag"]) if follow else None, on_match=on_match if follow else None,
            clock=s.clock, actor=cli_actor()))
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if output is OutputFormat.json:
        print_json(scan_document(result))
    else:
        print_scan(lang, result)
    code = exit_code(result)
    if code:
        raise typer.Exit(code)


def print_scan(lang: str, result: Any) -> None:
    """The scan's answer for people, in `lang`: each file's counts, the first rejections, the sightings."""
    t = words(lang)

    def num(n: int) -> str:
        return i18n.number(n, lang)

    if result.refused:
        err.print(t["refused"].format(names=", ".join(result.refused[:10])), markup=False)
    for f in result.files:
        if f.error:
            err.print(t["failed"].format(path=f.path, error=f.error), markup=False)
        else:
            out.print(t["summary"].format(path=f.path, fmt=f.format, read=num(f.read), matched=num(f.matched),
                                          unmatched=num(f.unmatched), rejected=num(f.rejected)), markup=False)
    for r in result.rejections[:20]:
        err.print(t["rejected"].format(place=r.place, reason=r.reason), markup=False)
    if result.rejected > len(result.rejections[:20]):
        err.print(t["more"].format(n=num(result.rejected - len(result.rejections[:20]))), markup=False)
    for r in result.lease_rejections[:10]:
        err.print(t["rejected"].format(place=r.place, reason=r.reason), markup=False)
    _print_sightings(lang, list(result.sightings))
    if result.stored:
        out.print(t["stored"], markup=False)


def _print_sightings(lang: str, rows: list[Any]) -> None:
    t = words(lang)
    if not rows:
        out.print(t["none"], markup=False)
        return
    for x in rows:
        who = f"{x.device_source}:{x.device_id}" if x.device_id else t["unattributed"].format(client=x.client)
        out.print(SIGHTING_LINE.format(family=x.family, day=x.day.isoformat(), who=who[:34],
                                     count=i18n.number(x.count, lang), first=x.first.strftime("%H:%M:%S"),
                                     last=x.last.strftime("%H:%M:%S"), example=x.example_name[:60])
                  + (t["weak"] if x.weak else ""), markup=False)


@logs.command("sightings")
def sightings_(
    ctx: typer.Context,
    family: Annotated[str | None, typer.Option("--family", help="Only this family.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="From this day (2023-03-01).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Up to this day.")] = None,
    strong: Annotated[bool, typer.Option("--strong", help="Leave out answer-only (weak) sightings.")] = False,
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
) -> None:
    """List the stored sightings: per device (or address), family and day, summed over every scanned log.

    Example: interdit logs sightings --family tiktok --since 2023-03-01
    """
    try:
        d1 = date.fromisoformat(since) if since else None
        d2 = date.fromisoformat(until) if until else None
    except ValueError:
        fail("cannot read the day\n  fix: write it as 2023-03-01")
    s = state(ctx)
    rows = run_guarded(lambda: pipeline.sightings(s.repo, family=family, since=d1, until=d2, include_weak=not strong))
    if output is OutputFormat.json:
        print_json({"schema_version": 1, "sightings": [sighting_json(x) for x in rows]})
        return
    _print_sightings(_lang(ctx), rows)


@logs.command("convert")
def convert(
    paths: Annotated[list[str], typer.Argument(metavar="LOG...", help="Log files or folders.")],
    out_path: Annotated[Path, typer.Option("--out", help="The Parquet file to write.")] = Path("requests.parquet"),
    fmt: Annotated[str | None, typer.Option("--log-format", "-l", help="The log format [default: detected].")] = None,
    tz: Annotated[str, typer.Option("--timezone", help="Zone of log times written without one.")] = "UTC",
) -> None:
    """Write every request in the logs (time, client, name, kind, type, action, format) to one Parquet file.

    Query it with DuckDB or any Parquet reader; 'interdit logs scan' matches the same names.

    Example: interdit logs convert /var/log/zeek/ --out dns-2023-03.parquet
    """
    result = run_guarded(lambda: pipeline.convert_logs(paths, out_path, fmt=fmt, tz=tz))
    print_json(result)
    if result.get("rejected") or result.get("failed"):
        raise typer.Exit(EXIT_PARTIAL)


@logs.command("formats")
def formats_(
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="table or json")] = OutputFormat.table,
) -> None:
    """List the log formats the scanner reads, each with an example line.

    Example: interdit logs formats
    """
    rows = pipeline.log_formats()
    if output is OutputFormat.json:
        print_json({"schema_version": 1, "formats": [{"name": n, "summary": s, "example": e} for n, s, e in rows]})
        return
    for name, summary, example in rows:
        out.print(f"{name:<15} {summary}", markup=False)
        out.print(f"{'':<15} {example[:100]}", markup=False, style="dim")

