"""`interdit logs scan` read by the entry point's quick path (`interdit.cli.launch`) and by the full command line
must do the same thing: random argument lists are given to both, and whatever the quick path takes, the full
command line must run with the same options, the same settings and print the same; what it does not take goes
to the full command line."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from interdit.cli import launch, network_cmd
from interdit.cli.main import app

FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto trans_id rtt query qclass qclass_name qtype "  # noqa: SIM905
          "qtype_name rcode rcode_name AA TC RD RA Z answers TTLs rejected").split()
HEAD = "#separator \\x09\n#path\tdns\n#fields\t" + "\t".join(FIELDS) + "\n"


def line(i: int, client: str, query: str) -> str:
    return (f"{1677664800 + i * 60}.000000\tC{i}\t{client}\t5353\t10.0.0.53\t53\tudp\t1\t0.001\t{query}\t1\t"
            f"C_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t-\t-\tF\n")


class _Result:
    """What `pipeline.scan_logs` answers, with nothing in it."""

    read = matched = unmatched = rejected = weak = 0
    stored = False
    files: tuple[Any, ...] = ()
    rejections: tuple[Any, ...] = ()
    lease_rejections: tuple[Any, ...] = ()
    refused: tuple[str, ...] = ()
    sightings: tuple[Any, ...] = ()
    failed_files = 0


def _recording(calls: list[dict[str, Any]]) -> Any:
    def fake(settings: Any, options: dict[str, Any], *, repo: Any = None, **_: Any) -> _Result:
        calls.append({"db": settings.database_url, "policy": settings.policy_path, "lang": settings.lang,
                      "store": repo is not None, **{k: options[k] for k in
                                                    ("paths", "fmt", "domains", "family", "leases", "tz", "jobs")}})
        return _Result()

    return fake


def _quick(argv: list[str]) -> tuple[int, str, str]:
    options = launch.parse(argv)
    assert options is not None
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = launch.run(options)
    return code, out.getvalue(), err.getvalue()


_VALUES = st.sampled_from(["a.log", "b.log", "-", "", "-x", "0", "1", "2", "01", "+2", " 3", "64", "65", "x",
                           "json", "table", "xml", "en", "fr", "de", "UTC", "zeek-dns", "tiktok"])
_OPTIONS = st.sampled_from(["--log-format", "-l", "--domains", "--family", "--leases", "--timezone", "--jobs", "-j",
                            "--format", "-f", "--store", "--no-store", "--follow", "--bogus", "--help", "--", "-j2",
                            "-fjson", "--jobs=3", "--format=json", "--store=1", "-f=json"])
_ROOT = st.lists(st.tuples(st.sampled_from(["--db", "--policy", "-p", "--lang", "--db=x.db", "--version"]),
                           _VALUES), max_size=2)
_ARGS = st.lists(st.one_of(_VALUES, _OPTIONS), max_size=7)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(root=_ROOT, rest=_ARGS)
def test_the_quick_path_takes_what_the_command_line_takes(root: list[tuple[str, str]], rest: list[str],
                                                          monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("INTERDIT_DATABASE_URL", "INTERDIT_POLICY", "INTERDIT_LANG"):
        monkeypatch.delenv(name, raising=False)
    head = [x for opt, value in root for x in ((opt,) if "=" in opt else (opt, value))]
    argv = [*head, "logs", "scan", *rest]
    options = launch.parse(argv)
    if options is None:
        return  # the full command line reads it, as it always did
    full: list[dict[str, Any]] = []
    quick: list[dict[str, Any]] = []
    monkeypatch.setattr(network_cmd, "scan_logs_command", _recording(full))
    ran = CliRunner().invoke(app, argv)
    monkeypatch.setattr(launch, "scan_logs_command", _recording(quick))
    code, printed, errors = _quick(argv)
    assert (code, quick) == (ran.exit_code, full), (argv, ran.output)
    assert (printed, errors) == (ran.stdout, ran.stderr)
    assert not list(tmp_path.iterdir())  # nothing scanned, so no database was opened either way


def test_what_the_quick_path_leaves_to_the_command_line() -> None:
    for argv in (["logs", "scan"], ["logs", "scan", "--help"], ["--version"], ["logs", "sightings"],
                 ["logs", "scan", "--follow", "a.log"], ["logs", "scan", "-j", "0", "a.log"],
                 ["logs", "scan", "--format", "xml", "a.log"], ["logs", "scan", "--jobs", "-1", "a.log"],
                 ["logs", "scan", "--bogus", "a.log"], ["logs", "scan", "a.log", "--domains"]):
        assert launch.parse(argv) is None, argv
    assert launch.parse(["--db", "x.db", "logs", "scan", "-j1", "a.log", "--", "--store"]) == {
        **launch.defaults(), "db": "x.db", "jobs": 1, "paths": ["a.log", "--store"]}


def test_a_scan_through_the_entry_point_is_the_command_lines_scan(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "dns.log"
    log.write_text(HEAD + line(1, "10.1.1.1", "www.TikTok.com") + line(2, "10.1.1.2", "nottiktok.com")
                   + "broken line\n")
    domains = tmp_path / "domains.txt"
    domains.write_text("tiktok.com tiktok\n")
    monkeypatch.chdir(tmp_path)
    for output in ("json", "table"):
        for store in ("--no-store", "--store"):
            argv = ["--db", str(tmp_path / f"{output}.db"), "--lang", "fr", "logs", "scan", "--domains",
                    str(domains), "-f", output, store, str(log)]
            ran = CliRunner().invoke(app, argv)
            assert ran.exit_code == 3, ran.output  # the broken line
            (tmp_path / f"{output}.db").unlink(missing_ok=True)
            monkeypatch.setattr(sys, "argv", ["interdit", *argv])
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as e:
                launch.main()
            assert e.value.code == 3
            if output == "json":
                quick, full = json.loads(out.getvalue()), json.loads(ran.stdout)
                for doc in (quick, full):
                    for f in doc["files"]:
                        f["seconds"] = 0
                assert quick == full and quick["matched"] == 1 and quick["stored"] == (store == "--store")
            else:
                assert (out.getvalue(), err.getvalue()) == (ran.stdout, ran.stderr)
                # the console folds a long path at its width: read the place whole
                assert "adresse 10.1.1.1" in out.getvalue() and "dns.log:6" in err.getvalue().replace("\n", "")
