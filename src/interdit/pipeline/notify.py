"""Sending the notices that are due: the use case behind `interdit notify` and the scheduled notification job.

`send_notices` evaluates the policy (or reuses the stored evaluation of the same data), plans the notices due
(`interdit.notify.plan_notices`, a pure function), gathers them into one message per recipient and step (a
holder with three prohibited apps gets one message listing them), renders them, and delivers each message on
every channel that carries it: each finding's notice in it claimed in the database before it is sent and
recorded, with its audit entry (`notice.sent`, or `notice.failed`), when it was. A notice recorded as sent is
never planned again, so a run that stops half-way and the next one together send each notice once.
`dry_run` plans and renders the same messages and sends none. Throttled: at most `per_run` messages per run
(the rest wait for the next run), `per_minute` per minute.

A finding someone was told about whose device has since left its source (removed from the MDM, as a retired
or wiped device is) is closed with its own words: the finding as it was just before the device left is
evaluated again from the device's stored history. A device that could not be read stays in its source (its
findings are not evaluable): it is never closed.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from interdit.errors import ConfigError, InterditError
from interdit.model import DeviceState, Finding
from interdit.notify import (
    ChannelConfig,
    Contacts,
    Message,
    Notice,
    NotifyConfig,
    Templates,
    copy_templates,
    plan_notices,
    read_config,
    read_contacts,
)
from interdit.notify.channels import make_channel, payload
from interdit.notify.config import LANGUAGES
from interdit.pipeline.audit import AuditAction, audit_trail
from interdit.pipeline.basics import Clock, LoadedPolicy, system_clock
from interdit.pipeline.core import evaluate, finding_devices
from interdit.policy import evaluate as evaluate_policy
from interdit.storage import notices as store
from interdit.storage.repo import Repository

ACTOR = "interdit:notify"  # who the audit trail names when no person asked (a schedule)
DEFAULT_CONFIG = "notify.yaml"


@dataclass(frozen=True)
class NotifySettings:
    """The notification settings and the contacts, as read (`notify_settings`)."""

    config: NotifyConfig
    contacts: Contacts


@dataclass
class NoticeRun:
    """What a run did (or, dry, would do): one row per notice, and the findings that got none, by reason."""

    at: datetime
    dry_run: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # excepted, not_evaluable, stale, no_contact
    sent: int = 0
    failed: int = 0
    deferred: int = 0  # due, but over the run's limit: the next run sends them
    failed_deliveries: int = 0  # deliveries that failed on one channel (tried again on the next run)

    def as_dict(self) -> dict[str, Any]:
        return {"schema_version": 1, "at": self.at.isoformat(), "dry_run": self.dry_run,
                "sent": self.sent, "failed": self.failed, "failed_deliveries": self.failed_deliveries,
                "deferred": self.deferred, "skipped": self.skipped,
                "notices": self.rows}


def notify_settings(config_path: Path | None = None, contacts_path: Path | None = None, *,
                    environ: Mapping[str, str] | None = None, language: str | None = None,
                    per_run: int | None = None) -> NotifySettings:
    """The settings from `config_path` (else `INTERDIT_NOTIFY_CONFIG`, else `notify.yaml` when it exists, else
    defaults with one e-mail channel when `INTERDIT_SMTP_HOST` is set) and the contacts file (`contacts_path`,
    else the one the settings name, else `INTERDIT_CONTACTS`, else none). `language` (en, fr, en-fr, fr-en) and
    `per_run` replace the settings' own."""
    env = os.environ if environ is None else environ
    chosen = config_path or (Path(env["INTERDIT_NOTIFY_CONFIG"]) if env.get("INTERDIT_NOTIFY_CONFIG") else None)
    if chosen is None and Path(DEFAULT_CONFIG).is_file():
        chosen = Path(DEFAULT_CONFIG)
    if chosen is not None:
        config = read_config(chosen)
    else:
        channels = (ChannelConfig("email", "email", where="INTERDIT_SMTP_HOST"),) if env.get("INTERDIT_SMTP_HOST") \
            else ()
        config = NotifyConfig(channels=channels, exception_contact=env.get("INTERDIT_EXCEPTION_CONTACT", ""))
    contacts_file = contacts_path or config.contacts or (Path(env["INTERDIT_CONTACTS"])
                                                        if env.get("INTERDIT_CONTACTS") else None)
    contacts = read_contacts(contacts_file) if contacts_file is not None else Contacts()
    if language is not None:
        if language not in LANGUAGES:
            raise ConfigError(f"unknown notice language {language!r}",
                              fix="use en, fr, en-fr or fr-en (both languages in one message, the first one first)")
        config = dataclasses.replace(config, language=language)
    if per_run is not None:
        if per_run < 1:
            raise ConfigError(f"--max {per_run}: at least one notice per run", fix="use --max 1 or more")
        config = dataclasses.replace(config, throttle=dataclasses.replace(config.throttle, per_run=per_run))
    return NotifySettings(config, contacts)


class _Pace:
    """At most `per_minute` sends in any minute: waits for the minute to end when it is reached."""

    def __init__(self, per_minute: int, sleep: Callable[[float], None], monotonic: Callable[[], float]) -> None:
        self.per_minute, self.sleep, self.monotonic = per_minute, sleep, monotonic
        self.window_start = monotonic()
        self.count = 0

    def wait(self) -> None:
        if not self.per_minute:
            return
        if self.count >= self.per_minute:
            left = 60 - (self.monotonic() - self.window_start)
            if left > 0:
                self.sleep(left)
            self.window_start, self.count = self.monotonic(), 0
        self.count += 1


def _done(recorded: Mapping[str, Mapping[str, tuple[str, datetime]]], config: NotifyConfig
          ) -> dict[str, datetime]:
    """The notices done, with when they first went out: sent (or being sent) on a channel, and failed on none of
    the channels that still carry them (a failed channel is tried again; a channel added later does not
    repeat what the others sent)."""
    done: dict[str, datetime] = {}
    for key, by_channel in recorded.items():
        kind = key.rsplit("/", 1)[1].split("-", 1)[0]
        carriers = {c.name for c in config.channels if kind in c.kinds}
        out = [when for status, when in by_channel.values() if status in (store.SENT, store.SENDING)]
        failed = any(status == store.FAILED and channel in carriers
                     for channel, (status, _) in by_channel.items())
        if out and not failed:
            done[key] = min(out)
    return done


def _left(repo: Repository, loaded: LoadedPolicy, found: Sequence[Finding], done: Mapping[str, datetime],
          at: datetime) -> list[Finding]:
    """The findings someone was told about (a first notice or an escalation), not closed, absent from `found`,
    whose device has left its source by `at`: each as it was just before the device left."""
    present = {f.id for f in found}
    told: dict[tuple[str, str], set[str]] = {}
    for record in store.notices(repo.engine):
        fid = record.finding_id
        if fid in present or record.kind not in ("first", "escalation") or f"{fid}/closing" in done:
            continue
        if record.key in done:
            told.setdefault((record.source, record.device_id), set()).add(fid)
    out: list[Finding] = []
    for (source, device_id), ids in sorted(told.items()):
        detail = repo.device(source, device_id)
        if detail is None or detail.removed_at is None or detail.removed_at > at or not detail.versions:
            continue  # still in its source (perhaps unreadable: not a resolution), or not yet gone
        before = detail.removed_at - timedelta(microseconds=1)
        state = DeviceState(detail.current, detail.apps)
        evaluation = evaluate_policy(loaded.policy, loaded.catalogue, [state], before)
        out += [dataclasses.replace(f, resolved_at=detail.removed_at) for f in evaluation.findings if f.id in ids]
    return out


def _row(notice: Notice, message: Message, channels: list[str], status: str) -> dict[str, Any]:
    row = payload(notice, message)
    row["channels"] = channels
    row["status"] = status
    return row


def send_notices(repo: Repository, loaded: LoadedPolicy, settings: NotifySettings, *, now: datetime | None = None,
                 dry_run: bool = False, actor: str = ACTOR, clock: Clock = system_clock,
                 environ: Mapping[str, str] | None = None, sleep: Callable[[float], None] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic, findings: list[Finding] | None = None
                 ) -> NoticeRun:
    """Plan, render and (unless `dry_run`) send the notices due at `now`; see the module's description.

    `findings` (the findings to consider) defaults to an evaluation at `now`; a scheduler that has just stored
    one passes nothing and the stored evaluation is reused. Refuses, before anything is sent, settings without
    a channel, a channel whose settings or secret are missing, and a template that cannot be rendered."""
    config, contacts = settings.config, settings.contacts
    at = now or clock()
    env = os.environ if environ is None else environ
    if not dry_run and not config.channels:
        raise ConfigError("no channel to send notices through", where=config.path or None,
                          fix="add channels: (an e-mail server, a Teams or Slack webhook) to the notification "
                              "settings, or set INTERDIT_SMTP_HOST; --dry-run shows the notices without one")
    live = [] if dry_run else [make_channel(c, env) for c in config.channels]
    found = findings if findings is not None else evaluate(repo, loaded, as_of=at, store=False, reuse=True,
                                                           clock=clock).findings
    done = _done(store.deliveries(repo.engine), config)
    left = _left(repo, loaded, found, done, at)
    devices = finding_devices(repo, [*found, *left], as_of=at)  # a device that left: as it was last
    plan = plan_notices(found, devices, contacts, config, now=at, sent=done, left=left)
    templates = Templates(config.templates)
    names = {fid: fam.name for fid, fam in loaded.catalogue.families.items()}

    def render(n: Notice) -> Message:
        return templates.render(n, organisation=loaded.policy.organisation,
                                exception_contact=config.exception_contact, family_names=names)

    rendered = [(n, render(n)) for n in plan.messages]
    run = NoticeRun(at, dry_run, skipped=dict(plan.skipped))
    now_due, later = rendered[:config.throttle.per_run], rendered[config.throttle.per_run:]
    run.deferred = len(later)
    for notice, message in later:
        run.rows.append(_row(notice, message, [c.name for c in config.channels if notice.kind in c.kinds],
                             "deferred"))
    if dry_run:
        run.rows[:0] = [_row(n, m, [c.name for c in config.channels if n.kind in c.kinds], "would_send")
                        for n, m in now_due]
        return run
    log = audit_trail(repo.engine, clock)
    pace = _Pace(config.throttle.per_minute, sleep, monotonic)
    rows: list[dict[str, Any]] = []
    entered = [c.__enter__() for c in live]
    try:
        for notice, message in now_due:
            carriers = [c for c in entered if c.carries(notice)]
            outcome: dict[str, str] = {}
            paced = False
            for channel in carriers:
                # each finding's notice is claimed; the message goes out about those this run claimed
                claimed = {n.key for n in notice.items
                           if store.claim(repo.engine, key=n.key, channel=channel.name, finding_id=n.finding.id,
                                          kind=n.kind.value, source=n.finding.source,
                                          device_id=n.finding.device_id, recipients=n.recipients, lang=n.lang,
                                          subject=message.subject, at=clock())}
                part = notice.only(claimed)
                if part is None:
                    outcome[channel.name] = "already_sent"
                    continue
                text = message if part is notice else render(part)
                if not paced:  # the pace counts messages, whatever the number of channels that carry them
                    pace.wait()
                    paced = True
                error: str | None = None
                try:
                    channel.send(part, text)
                except InterditError as e:  # DeliveryError, or a channel's own refusal said the same way
                    error = str(e)
                except Exception as e:  # a channel's fault (a plugin's bug): recorded, tried again next run
                    error = f"{type(e).__name__}: {e}"
                for item in part.items:
                    after = {"key": item.key, "kind": item.kind.value, "channel": channel.name,
                             "recipients": list(item.recipients), "lang": item.lang, "subject": text.subject}
                    if len(part.items) > 1:
                        after["message"] = part.key  # the message it went out in, about several findings
                    if error is not None:
                        after["error"] = error

                    def audit(conn: Any, after: dict[str, Any] = after, failed: bool = error is not None,
                              target: str = f"finding:{item.finding.id}") -> object:
                        action = AuditAction.NOTICE_FAILED if failed else AuditAction.NOTICE_SENT
                        return log.append(actor, action, target, after=after, conn=conn)

                    store.settle(repo.engine, key=item.key, channel=channel.name, at=clock(), error=error,
                                 audit=audit)
                outcome[channel.name] = "failed" if error else "sent"
            statuses = set(outcome.values())
            status = "sent" if "sent" in statuses else "failed" if "failed" in statuses else "already_sent"
            run.sent += status == "sent"
            run.failed += status == "failed"
            run.failed_deliveries += sum(v == "failed" for v in outcome.values())
            row = _row(notice, message, list(outcome), status)
            row["deliveries"] = outcome
            rows.append(row)
    finally:
        for c in reversed(entered):
            c.__exit__(None, None, None)
    run.rows[:0] = rows
    return run


def write_templates(folder: Path) -> list[Path]:
    """The built-in notice templates copied into `folder` (the settings' `templates:`), to edit; files already
    there are kept."""
    return copy_templates(folder)


def sent_notices(repo: Repository, *, finding_id: str | None = None, limit: int | None = None
                 ) -> list[dict[str, Any]]:
    """The notices recorded, newest first: what was sent to whom, when, on which channel (or why it failed)."""
    return [r.as_dict() for r in store.notices(repo.engine, finding_id=finding_id, limit=limit)]
