"""The job kinds a schedule can name: each registers itself with `register_kind` (the built-in ones are in
`schedule_kinds`; the schedule, its file and the worker are in `schedule`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interdit.i18n import typeset_fr
from interdit.pipeline.basics import Clock, system_clock
from interdit.storage.repo import Repository

if TYPE_CHECKING:
    from interdit.pipeline.schedule import ScheduledJob

log = logging.getLogger("interdit.schedule")


class JobFailed(Exception):
    """A job that ran and did not do its work (a source that failed to sync, a stale source): its `summary`
    is kept with the failed run."""

    def __init__(self, message: str, summary: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.summary = dict(summary or {})


@dataclass(frozen=True)
class JobContext:
    """What a job kind gets: the database, the files, the clock, the firing and who to name in the audit trail."""

    repo: Repository
    job: ScheduledJob
    scheduled_for: datetime
    policy_path: Path
    sources_path: Path | None
    lang: str | None
    clock: Clock = system_clock

    @property
    def actor(self) -> str:
        return f"schedule:{self.job.name}"


Runner = Callable[[JobContext], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Runner
    settings: frozenset[str]
    help: Mapping[str, str]  # en, fr
    check: Callable[[Mapping[str, Any], str], None] | None = None  # refuses bad settings (where) at load time


KINDS: dict[str, JobKind] = {}


def register_kind(name: str, *, settings: Sequence[str] = (), help_en: str, help_fr: str,
                  check: Callable[[Mapping[str, Any], str], None] | None = None) -> Callable[[Runner], Runner]:
    """Make `name` a job kind: `@register_kind("notify", settings=(...), help_en=..., help_fr=...)` on a
    function of a `JobContext` that returns its summary (raise `JobFailed` when the work was not done)."""

    def decorate(run: Runner) -> Runner:
        KINDS[name] = JobKind(name, run, frozenset(settings), {"en": help_en, "fr": typeset_fr(help_fr)}, check)
        return run

    return decorate
