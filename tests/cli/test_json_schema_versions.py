"""`--format` on every command: each format a command accepts is what it writes, JSON always carries
`schema_version`, and any other format is a usage error (exit 2) that names the formats the command supports.

The table below lists one invocation per command with a `--format` option; a test walks the command tree so a
new command with that option fails here until it joins the table.
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from interdit import fleet, pipeline
from interdit.catalogue import channel
from interdit.catalogue.load import data_path
from interdit.cli.main import app

runner = CliRunner()
DATES = fleet.DEMO_DATES
JAMF = Path(__file__).resolve().parents[1] / "inventory" / "recorded" / "jamf"
SQUID = (b"1678780827.995      0 10.1.2.3 TCP_DENIED/403 3417 CONNECT www.tiktok.com:443 - HIER_NONE/- text/html\n"
         b"1678780828.995      0 10.1.2.4 TCP_MISS/200 3417 CONNECT www.example.org:443 - HIER_DIRECT/- -\n")
ALL_FORMATS = ("table", "json", "csv", "html", "sarif", "xml")
OK_CODES = (0, 1, 3)  # done; done and needs attention; done with rejected records


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A database with two imports, an evaluation, stored sightings and an account; a log, an APK, a sources file."""
    root = tmp_path_factory.mktemp("formats")
    spec = fleet.FleetSpec(devices=60, seed=5)
    paths: dict[str, Path] = {"root": root, "db": root / "interdit.db", "policy": root / "policy.yaml"}
    paths["policy"].write_text((Path(fleet.__file__).parent / "data" / "demo-policy.yaml").read_text("utf-8"),
                               "utf-8")
    for n, at in enumerate(DATES):
        d, a, _, _ = fleet.write_snapshot(spec, root / f"s{n}", n, at)
        paths[f"devices{n}"], paths[f"apps{n}"] = d, a
        _ok(paths, "import", "csv", str(d), str(a), "--source", "mdm", "--at", at.isoformat(), "--quiet")
    _ok(paths, "evaluate", "--as-of", "2023-03-15")
    paths["log"] = root / "access.log"
    paths["log"].write_bytes(SQUID)
    _ok(paths, "logs", "scan", str(paths["log"]), "--log-format", "squid")
    _ok(paths, "users", "add", "bob", "--role", "ingest")
    paths["apk"] = root / "broken.apk"
    with zipfile.ZipFile(paths["apk"], "w") as z:
        z.writestr("AndroidManifest.xml", b"\x00\x01not binary xml")
    secret = root / "jamf.secret"
    secret.write_text("jamf-secret\n")
    os.chmod(secret, 0o600)
    paths["sources"] = root / "sources.yaml"
    pipeline.add_source("jamf-ipads", "jamf", {"base_url": "https://jamf.test", "client_id": "c1"},
                        secret_file=secret, path=paths["sources"])
    return paths


def _run(ws: dict[str, Path], *args: str) -> Any:
    return runner.invoke(app, ["--db", str(ws["db"]), "--policy", str(ws["policy"]), *args])


def _ok(ws: dict[str, Path], *args: str) -> None:
    result = _run(ws, *args)
    assert result.exit_code in OK_CODES, (args, result.output)


def _jamf(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/api/oauth/token":
        return httpx.Response(200, json={"access_token": "t", "expires_in": 600})
    page = int(request.url.params["page"])
    return httpx.Response(200, json=json.loads((JAMF / f"detail-page{page}.json").read_text()))


def _mock_jamf(monkeypatch: pytest.MonkeyPatch) -> None:
    if not JAMF.is_dir():
        pytest.skip("the recorded Jamf answers (tests/inventory/recorded/jamf) are absent")
    from interdit.pipeline import sources as source_use_cases

    monkeypatch.setattr(source_use_cases, "_http_client", lambda: httpx.Client(transport=httpx.MockTransport(_jamf)))


_CHANNEL_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _channel_bundle(ws: dict[str, Path]) -> str:
    """The shipped catalogue as a signed bundle (the same version: `update --check` finds it up to date)."""
    path = ws["root"] / "channel.tar.gz"
    if not path.exists():
        path.write_bytes(channel.build_bundle(data_path().read_bytes(), _CHANNEL_KEY, "test-1",
                                              built_at=datetime(2026, 12, 7, tzinfo=UTC)))
    return str(path)


def _trust_channel_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(channel, "trusted_keys", lambda folder=None: {"test-1": _CHANNEL_KEY.public_key()})


@dataclass(frozen=True)
class Case:
    command: tuple[str, ...]  # the command's path in the tree
    args: Callable[[dict[str, Path], str], list[str]]  # (workspace, format) -> the arguments after the command
    output_file: bool = False  # the answer is written to --out, not to standard output
    setup: Callable[[pytest.MonkeyPatch], None] | None = None

    @property
    def id(self) -> str:
        return " ".join(self.command)


def _out(ws: dict[str, Path], fmt: str, stem: str) -> str:
    return str(ws["root"] / f"{stem}.{fmt}")


CASES = (
    Case(("import",), lambda ws, f: ["csv", str(ws["devices1"]), str(ws["apps1"]), "--source", f"again-{f}",
                                     "--at", DATES[1].isoformat(), "--quiet"]),
    Case(("imports",), lambda ws, f: []),
    Case(("status",), lambda ws, f: ["--as-of", "2023-03-15"]),
    Case(("orgunits",), lambda ws, f: ["--as-of", "2023-03-15"]),
    Case(("findings",), lambda ws, f: ["--as-of", "2023-03-15"]),
    Case(("report",), lambda ws, f: ["--as-of", "2023-03-15", "--out", _out(ws, f, "report")], output_file=True),
    Case(("review",), lambda ws, f: ["--as-of", "2023-03-15", "--within", "365"]),
    Case(("formats",), lambda ws, f: []),
    Case(("enforce",), lambda ws, f: ["unbound", "--out", _out(ws, f, "unbound"), "--at", "2023-03-15"]),
    Case(("analyze",), lambda ws, f: [str(ws["apk"]), "--jobs", "1", "--no-cache", "--quiet"]),
    Case(("catalogue", "list"), lambda ws, f: ["families"]),
    Case(("catalogue", "show"), lambda ws, f: ["ca-tbs-2023-tiktok"]),
    Case(("catalogue", "search"), lambda ws, f: ["tiktok"]),
    Case(("catalogue", "update"), lambda ws, f: [_channel_bundle(ws), "--check"], setup=_trust_channel_key),
    Case(("catalogue", "info"), lambda ws, f: []),
    Case(("sources", "list"), lambda ws, f: ["--sources", str(ws["sources"])]),
    Case(("sources", "sync"), lambda ws, f: ["jamf-ipads", "--sources", str(ws["sources"]),
                                             "--at", "2025-03-02T00:00:00Z", "--max-rejected", "2"],
         setup=_mock_jamf),
    Case(("logs", "scan"), lambda ws, f: [str(ws["log"]), "--log-format", "squid", "--no-store"]),
    Case(("logs", "sightings"), lambda ws, f: []),
    Case(("logs", "formats"), lambda ws, f: []),
    Case(("users", "list"), lambda ws, f: []),
    Case(("jobs",), lambda ws, f: []),
    Case(("audit", "list"), lambda ws, f: []),
    Case(("notify",), lambda ws, f: ["--dry-run", "--as-of", "2023-03-15"]),
    Case(("notices",), lambda ws, f: []),
)


def _walk(cmd: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    if hasattr(cmd, "commands"):
        for name, sub in cmd.commands.items():
            yield from _walk(sub, (*path, name))
        return
    for param in cmd.params:
        if "--format" in getattr(param, "opts", ()):
            yield path, param


BINARY = ("pdf", "xlsx")  # report formats that write a file, not text


def _format_options() -> dict[tuple[str, ...], Any]:
    return dict(_walk(typer.main.get_command(app), ()))


def _accepted(case: Case) -> tuple[str, ...]:
    """The formats the command's option accepts: its choices, or the registered analysis outputs for `analyze`
    and report formats for `report`."""
    param = _format_options()[case.command]
    choices = getattr(param.type_descriptor.annotation, "__members__", None)
    if choices is not None:
        return tuple(choices)
    return tuple(pipeline.analysis_formats() if case.command == ("analyze",) else pipeline.report_formats())


def _invoke(ws: dict[str, Path], case: Case, fmt: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str, str]:
    """(exit code, the answer (standard output or the file written), everything printed)."""
    if case.setup is not None:
        case.setup(monkeypatch)
    result = _run(ws, *case.command, *case.args(ws, fmt), "--format", fmt)
    answer = result.stdout
    if case.output_file and result.exit_code in OK_CODES:
        raw = Path(_out(ws, fmt, "report")).read_bytes()
        answer = raw.decode("latin-1") if fmt in BINARY else raw.decode("utf-8")
    return result.exit_code, answer, result.output


def test_every_command_with_a_format_option_is_in_the_table() -> None:
    assert set(_format_options()) == {c.command for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_json_carries_the_schema_version(ws: dict[str, Path], case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "json" in _accepted(case), f"'{case.id}' should answer machines in JSON"
    code, answer, output = _invoke(ws, case, "json", monkeypatch)
    assert code in OK_CODES, output
    doc = json.loads(answer)
    assert isinstance(doc, dict), f"'{case.id} --format json' answers a {type(doc).__name__}, not an object"
    version = doc.get("schema_version")
    assert isinstance(version, int) and version >= 1, \
        f"'{case.id} --format json' has no schema_version: {sorted(doc)}"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_every_accepted_format_is_the_one_written(ws: dict[str, Path], case: Case,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    for fmt in _accepted(case):
        code, answer, output = _invoke(ws, case, fmt, monkeypatch)
        assert code in OK_CODES, (fmt, output)
        where = f"'{case.id} --format {fmt}'"
        if fmt in ("json", "findings-json", "sarif"):
            doc = json.loads(answer)
            assert isinstance(doc, dict) and ("runs" in doc if fmt == "sarif" else "schema_version" in doc), where
        elif fmt == "csv":
            assert not _is_json(answer), where
            rows = list(csv.reader(io.StringIO(answer)))
            assert rows and len(rows[0]) > 1 and all(len(r) == len(rows[0]) for r in rows), where
        elif fmt == "html":
            assert answer.lstrip().lower().startswith(("<!doctype html", "<html")), where
        elif fmt == "pdf":
            assert answer.startswith("%PDF-"), where
        elif fmt == "xlsx":
            assert answer.startswith("PK\x03\x04"), where  # a zip: the workbook (tests/reporting reads it)
        else:  # a table for people
            assert answer.strip() and not _is_json(answer), where
            assert not answer.lstrip().lower().startswith(("<!doctype html", "<html")), where


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_format_the_command_does_not_write_is_a_usage_error_naming_those_it_does(
        ws: dict[str, Path], case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    accepted = _accepted(case)
    refused = [f for f in ALL_FORMATS if f not in accepted]
    assert refused
    for fmt in refused:
        code, _answer, output = _invoke(ws, case, fmt, monkeypatch)
        assert code == 2, (fmt, output)
        assert fmt in output, output
        for name in accepted:
            assert name in output, f"'{case.id} --format {fmt}' does not name '{name}':\n{output}"


def test_status_refuses_csv() -> None:
    """The case that was reported: `status --format csv` printed the table and exited 0."""
    result = runner.invoke(app, ["status", "--format", "csv"])
    assert result.exit_code == 2
    assert "'csv' is not one of 'table', 'json'" in result.output
