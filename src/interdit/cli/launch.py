"""The `interdit` command's entry point: `logs scan` starts without building the whole command line.

Building every command group's options (and the type adapters behind them) takes about a quarter of a second,
paid again by every scan of a log rotated each hour. An argument list that is plainly `logs scan` with the
options below is read here and scanned at once; anything else (help, `--version`, `--follow`, an unknown
option or a value the options refuse) goes to the full command line (`interdit.cli.main`), which answers it as
always. Both paths run the same code (`scan_logs_command`, the same JSON document, the same table), and a test
reads random argument lists both ways and compares what each understood.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from interdit.cli.log_scan import exit_code, scan_document, scan_logs_command

# option -> the parameter it sets: the root's options (before the command), then those of `logs scan`
_ROOT = {"--db": "db", "--policy": "policy", "-p": "policy", "--lang": "lang"}
_VALUED = {"--log-format": "fmt", "-l": "fmt", "--domains": "domains", "--family": "family", "--leases": "leases",
           "--timezone": "tz", "--jobs": "jobs", "-j": "jobs", "--format": "output", "-f": "output"}
_FLAGS = {"--store": ("store", True), "--no-store": ("store", False)}
_REPEATED = ("family", "leases")
_OUTPUTS = ("table", "json")


def defaults() -> dict[str, Any]:
    """What `logs scan` takes when an option is not given (the command's own defaults)."""
    return {"db": None, "policy": None, "lang": None, "paths": [], "fmt": None, "domains": None, "family": [],
            "leases": [], "tz": "UTC", "jobs": 2, "store": True, "output": "table"}


def parse(argv: Sequence[str]) -> dict[str, Any] | None:
    """The options of a plain `logs scan` argument list, or None when the full command line must read it."""
    args = list(argv)
    got = defaults()
    i = 0
    while i < len(args) and args[i].startswith("-"):  # the root's options, before the command
        name, value, i = _option(args, i, _ROOT)
        if name is None or value is None:
            return None
        got[name] = value
    if args[i:i + 2] != ["logs", "scan"]:
        return None
    i += 2
    only_paths = False
    while i < len(args):
        a = args[i]
        if only_paths or a == "-" or not a.startswith("-"):
            got["paths"].append(a)
            i += 1
        elif a == "--":
            only_paths = True
            i += 1
        elif a in _FLAGS:
            key, flag = _FLAGS[a]
            got[key] = flag
            i += 1
        else:
            name, value, i = _option(args, i, _VALUED)
            if name is None or value is None:
                return None
            if name in _REPEATED:
                got[name].append(value)
            else:
                got[name] = value
    jobs = str(got["jobs"])
    if not got["paths"] or got["output"] not in _OUTPUTS or not (jobs.isascii() and jobs.isdigit()):
        return None
    got["jobs"] = int(jobs)
    if not 1 <= got["jobs"] <= 64:
        return None
    for key in ("policy", "domains"):
        if got[key] is not None:
            got[key] = Path(got[key])
    got["leases"] = [Path(p) for p in got["leases"]]
    return got


def _option(args: list[str], i: int, known: dict[str, str]) -> tuple[str | None, str | None, int]:
    """One option with its value (`--name value`, `--name=value`, `-xvalue`) at `args[i]`: (parameter, value,
    next index); (None, None, i) when it is not one of `known` or its value is missing."""
    a = args[i]
    name = value = None
    nxt = i + 1
    if a.startswith("--") and "=" in a:
        opt, _, value = a.partition("=")
        name = known.get(opt)
    elif a in known and i + 1 < len(args):
        name, value, nxt = known[a], args[i + 1], i + 2
    elif not a.startswith("--") and len(a) > 2 and a[:2] in known:
        name, value = known[a[:2]], a[2:]
    if name is None or not value or value.startswith("-"):  # the full command line says what is wrong
        return None, None, i
    return name, value, nxt


def run(options: dict[str, Any]) -> int:
    """Scan as `interdit logs scan` does, from options read by `parse`; the exit code."""
    from interdit.errors import InterditError
    from interdit.settings import Settings

    try:
        settings = Settings.resolve(db=options["db"], policy=options["policy"], lang=options["lang"])
        actor = None
        if options["store"]:
            from interdit.cli.common import cli_actor

            actor = cli_actor()
        result = scan_logs_command(settings, options, repo=_opener(settings) if options["store"] else None,
                                   actor=actor)
    except InterditError as e:
        return _failed(e)
    if options["output"] == "json":
        import json

        sys.stdout.write(json.dumps(scan_document(result), indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        from interdit.cli import network_cmd

        network_cmd.print_scan(settings.lang if settings.lang in ("en", "fr") else "en", result)
    return exit_code(result)


def _opener(settings: Any) -> Callable[[], Any]:
    def open_repository() -> Any:
        from interdit import pipeline

        return pipeline.open_repository(settings.database_url)

    return open_repository


def _failed(error: Exception) -> int:
    """The error as every command prints it (`cli.common.fail`); its exit code."""
    import typer

    from interdit.cli.common import fail

    try:
        fail(error)  # type: ignore[arg-type]
    except typer.Exit as e:
        return int(e.exit_code)
    return 2  # pragma: no cover


def main() -> None:
    """`interdit`: a plain `logs scan` at once, anything else through the full command line."""
    options = parse(sys.argv[1:])
    if options is None:
        from interdit.cli.main import app

        app()
        return
    sys.exit(run(options))
