"""Numbers read from the environment: a value that is not one (or out of range) stops the start with the
variable's name and what it accepts, never a traceback and never a silent default."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from interdit.cli.main import app
from interdit.cli.server_cmd import connection_limits
from interdit.errors import ConfigError, InputError
from interdit.inflate import limits
from interdit.server.context import ServerOptions


@pytest.mark.parametrize(("key", "value"), [
    ("INTERDIT_MAX_UPLOAD_MB", "lots"), ("INTERDIT_MAX_UPLOAD_MB", "0"), ("INTERDIT_ANALYSIS_WORKERS", "8"),
    ("INTERDIT_ANALYSIS_TIMEOUT", "-5"), ("INTERDIT_ANALYSIS_TIMEOUT", "nan"), ("INTERDIT_PASSWORD_CHECKS", "1.5"),
    ("INTERDIT_PASSWORD_QUEUE", "0"), ("INTERDIT_SIGN_IN_FAILURES", "five"),
    ("INTERDIT_SIGN_IN_ADDRESS_FAILURES", "-1"),
])
def test_a_bad_server_number_names_its_variable(key: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ServerOptions.from_env({key: value})
    assert caught.value.where == key and key in (caught.value.fix or "")


def test_good_server_numbers_are_read() -> None:
    options = ServerOptions.from_env({"INTERDIT_MAX_UPLOAD_MB": "64", "INTERDIT_ANALYSIS_WORKERS": "3",
                                      "INTERDIT_ANALYSIS_TIMEOUT": "120.5", "INTERDIT_SECURE_COOKIES": "Yes",
                                      "INTERDIT_SIGN_IN_FAILURES": " 7 "})
    assert (options.max_upload_bytes, options.analysis_workers, options.analysis_timeout) == (64 << 20, 3, 120.5)
    assert options.secure_cookies is True and options.sign_in_failures == 7


@pytest.mark.parametrize("value", ["x", "0", "-3", "²", "2.5"])
def test_a_bad_inflate_limit_names_its_variable(value: str) -> None:
    with pytest.raises(InputError) as caught:
        limits({"INTERDIT_MAX_INFLATE_RATIO": value})
    assert caught.value.where == "INTERDIT_MAX_INFLATE_RATIO"
    assert limits({"INTERDIT_MAX_INFLATE_RATIO": "7", "INTERDIT_MAX_INFLATED_MB": "10"}) == (7, 10 << 20)


def test_a_bad_connection_limit_names_its_variable() -> None:
    with pytest.raises(ConfigError, match="INTERDIT_MAX_CONNECTIONS"):
        connection_limits({"INTERDIT_MAX_CONNECTIONS": "many"})
    assert connection_limits({})["limit_concurrency"] == 1000


def test_serve_refuses_to_start_on_a_bad_number(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTERDIT_ANALYSIS_WORKERS", "twelve")
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path / 'x.db'}", "serve", "--port", "1"])
    assert result.exit_code == 2, result.output
    assert "INTERDIT_ANALYSIS_WORKERS" in result.output and "Traceback" not in result.output
