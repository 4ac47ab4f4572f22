"""What every command shares: settings, the repository, time parsing, errors and output."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from interdit.errors import InterditError
from interdit.pipeline.basics import system_clock
from interdit.settings import Settings

if TYPE_CHECKING:
    from interdit import pipeline as pipeline
    from interdit.storage.audit import AuditLog
    from interdit.storage.repo import Repository

T = TypeVar("T")


class _OnFirstUse(ModuleType):
    """A module imported when one of its names is first read: a command loads only what it runs (the database
    layer, the policy engine, the report formats), so `interdit --help` and `--version` answer at once."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if self._module is None:
            self._module = importlib.import_module(self.__name__)
        return getattr(self._module, attr)


if not TYPE_CHECKING:
    pipeline = _OnFirstUse("interdit.pipeline")

EXIT_OK, EXIT_ATTENTION, EXIT_ERROR, EXIT_PARTIAL = 0, 1, 2, 3

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


class OutputFormat(StrEnum):
    """`--format` of a command that answers people with a table and machines with schema-versioned JSON.

    Each command's option lists only what it writes, so any other value is a usage error (exit 2) that names
    the formats it supports."""

    table = "table"
    json = "json"


class TabularFormat(StrEnum):
    """`--format` of a command whose answer is a list of records, which also reads as CSV."""

    table = "table"
    json = "json"
    csv = "csv"


def fail(error: InterditError | str) -> NoReturn:
    err.print(f"[bold red]error:[/] {error}", markup=True, soft_wrap=True) if isinstance(error, str) \
        else err.print("[bold red]error:[/] " + _escape(str(error)), soft_wrap=True)
    raise typer.Exit(EXIT_ERROR)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def run_guarded(action: Callable[[], T]) -> T:
    try:
        return action()
    except InterditError as e:
        fail(e)


@dataclass
class State:
    settings: Settings
    clock: Callable[[], datetime] = field(default=system_clock)
    _repo: Repository | None = field(default=None, repr=False)

    @classmethod
    def create(cls, *, db: str | None, policy: Any, lang: str | None) -> State:
        return cls(Settings.resolve(db=db, policy=policy, lang=lang))

    @property
    def repo(self) -> Repository:
        if self._repo is None:
            self._repo = run_guarded(lambda: pipeline.open_repository(self.settings.database_url))
        return self._repo

    @property
    def audit(self) -> AuditLog:
        """The audit trail, in the same database as the fleet."""
        return pipeline.audit_trail(self.repo.engine, self.clock)


def cli_actor() -> str:
    """Who the audit trail names for a change made on the command line: `cli:<operating-system user>`."""
    import getpass

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return f"cli:{who}"


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def parse_when(text: str | None, *, default: datetime | None = None) -> datetime:
    """`2023-03-01` (end of that day, UTC), or a full ISO 8601 time with its zone: `pipeline.as_of_time`, which
    reads the API's `as_of` too, so both accept and refuse the same dates with the same words."""
    if text is None:
        return default or datetime.now(UTC)
    return run_guarded(lambda: pipeline.as_of_time(text))


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
