"""Which notices are due: a pure function of the findings, their devices, the contacts, what was already sent,
and the time. Nothing here reads a database or sends anything.

The lifecycle of a finding (a prohibited app on a device):

1. `first`: the device holder is told what to remove and by when, as soon as the finding is a violation (or the
   app, blocked by the MDM, is still on the device).
2. `reminder-<d>`: `d` days before the deadline (each of the configured days), when the first notice went out
   before that point; one reminder per run, the nearest one.
3. `escalation`: `escalate_after_days` after the deadline, the org unit's manager or contact hears of it (the
   holder, when one could be told, was told first).
4. `closing`: when the finding is resolved, the holder (and the contact, when it was escalated) is told it is
   closed. Only a finding someone was told about is closed. A finding whose device left its source (removed from
   the MDM, as a retired or wiped device is) is closed too, in other words ("the device is no longer managed");
   a device that merely could not be read is not: its findings are not evaluable, which resolves nothing.

Each notice has a key (`<finding id>/<step>`): one that was sent is never planned again. Nothing is planned for
an excepted finding, one that could not be evaluated or a stale device; a notice nobody can receive is counted
as "no contact".

People get one message per run and step, not one per finding: `Plan.messages` gathers the notices of the same
kind, language and recipients (a holder with three prohibited apps, or two devices; an org unit's contact with
several overdue findings) into one `Notice` whose `items` are the findings' own notices. Each item keeps its key,
so each finding's step is recorded as sent when the message goes out, and never planned again.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from interdit.model import Device, Finding, FindingState, day_start
from interdit.notify.config import Contacts, NotifyConfig

ACTIONABLE = (FindingState.VIOLATION, FindingState.BLOCKED_PRESENT)


class NoticeKind(StrEnum):
    FIRST = "first"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    CLOSING = "closing"


class Skip(StrEnum):
    """Why a finding got no notice in a run (counted, never silent)."""

    EXCEPTED = "excepted"
    NOT_EVALUABLE = "not_evaluable"
    STALE = "stale"
    NO_CONTACT = "no_contact"


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to send: what it is about and who receives it. `key` is the same on every run."""

    key: str
    kind: NoticeKind
    finding: Finding
    device: Device | None
    recipients: tuple[str, ...]
    audience: str  # holder | contact | holder+contact
    lang: str  # en, fr, en-fr or fr-en
    days: int | None = None  # a reminder's days before the deadline; an escalation's days past it
    holder_told: bool = False  # the holder was sent the first notice (an escalation says so)
    left: bool = False  # a closing notice: the device left its source (no longer managed), not the app
    group: tuple[Notice, ...] = ()  # a message about several findings: their notices (the first one is this)

    @property
    def step(self) -> str:
        return self.key.rsplit("/", 1)[1]

    @property
    def items(self) -> tuple[Notice, ...]:
        """The findings' notices this message carries: itself alone, or its group."""
        return self.group or (self,)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(n.key for n in self.items)

    def only(self, keys: Collection[str]) -> Notice | None:
        """The same message about the items whose key is in `keys` (None when there is none left)."""
        kept = tuple(n for n in self.items if n.key in keys)
        if not kept:
            return None
        if kept == self.items:
            return self
        return group_message(kept)


@dataclass(frozen=True, slots=True)
class Plan:
    at: datetime
    notices: tuple[Notice, ...]
    skipped: Mapping[str, int] = field(default_factory=dict)  # Skip value -> findings

    @property
    def messages(self) -> tuple[Notice, ...]:
        """The notices gathered into messages: one per kind, language and recipients, in the plan's order."""
        return group_notices(self.notices)


def group_message(items: tuple[Notice, ...]) -> Notice:
    """One message about `items` (notices of the same kind, language and recipients)."""
    if len(items) == 1:
        return dataclasses.replace(items[0], group=())
    days = [n.days for n in items if n.days is not None]
    return dataclasses.replace(items[0], days=min(days) if days else None,
                               holder_told=all(n.holder_told for n in items),
                               left=all(n.left for n in items), group=items)


def group_notices(notices: Iterable[Notice]) -> tuple[Notice, ...]:
    """Notices of the same kind, language, audience and recipients gathered into one message each."""
    groups: dict[tuple[str, str, str, tuple[str, ...]], list[Notice]] = {}
    for n in notices:
        groups.setdefault((n.kind.value, n.lang, n.audience, n.recipients), []).append(n)
    return tuple(group_message(tuple(items)) for items in groups.values())


def notice_key(finding_id: str, step: str) -> str:
    return f"{finding_id}/{step}"


def _lang(contacts: Contacts, config: NotifyConfig, org_unit: str | None) -> str:
    unit = contacts.for_unit(org_unit)
    return (unit.lang if unit and unit.lang else None) or config.language


def plan_notices(findings: Iterable[Finding], devices: Mapping[tuple[str, str], Device], contacts: Contacts,
                 config: NotifyConfig, *, now: datetime, sent: Mapping[str, datetime] | Collection[str],
                 left: Iterable[Finding] = ()) -> Plan:
    """The notices due at `now`. `sent`: the keys already sent (with when they were, for the reminders' rule:
    a reminder goes out only when the first notice went out before its point). `left`: findings (as they were
    last) whose device has since left its source: closed when someone was told about them."""
    sent_at: Mapping[str, datetime | None] = sent if isinstance(sent, Mapping) else dict.fromkeys(sent)
    skipped: Counter[Skip] = Counter()
    notices: list[Notice] = []
    gone = {f.id: f for f in left}
    for f in sorted([*(f for f in findings if f.id not in gone), *gone.values()], key=lambda f: f.id):
        if f.id in gone or f.state == FindingState.RESOLVED:
            closing = _closing(f, devices, contacts, config, sent_at, left=f.id in gone)
            if closing is not None:
                notices.append(closing)
            elif _told(f.id, sent_at) and notice_key(f.id, NoticeKind.CLOSING) not in sent_at:
                skipped[Skip.NO_CONTACT] += 1  # told, but nobody who was can be reached now
            continue
        if f.state == FindingState.EXCEPTED:
            skipped[Skip.EXCEPTED] += 1
            continue
        if f.state == FindingState.NOT_EVALUABLE:
            skipped[Skip.NOT_EVALUABLE] += 1
            continue
        if f.state == FindingState.STALE:
            skipped[Skip.STALE] += 1
            continue
        device = devices.get((f.source, f.device_id))
        holder = contacts.owner_email(device.user if device else None)
        unit = contacts.for_unit(f.org_unit or (device.org_unit if device else None))
        lang = _lang(contacts, config, f.org_unit or (device.org_unit if device else None))
        first = notice_key(f.id, NoticeKind.FIRST)
        escalation = notice_key(f.id, NoticeKind.ESCALATION)
        if f.state not in ACTIONABLE:
            continue
        due = _due(f, config, now, sent_at, first, escalation, holder is not None)
        if due is None:
            continue
        kind, step, days = due
        if kind is NoticeKind.ESCALATION:
            if unit is None:
                skipped[Skip.NO_CONTACT] += 1
                continue
            notices.append(Notice(notice_key(f.id, step), kind, f, device, unit.emails, "contact", lang, days,
                                  holder_told=first in sent_at))
        elif holder is None:
            skipped[Skip.NO_CONTACT] += 1
        else:
            notices.append(Notice(notice_key(f.id, step), kind, f, device, (holder,), "holder", lang, days))
    return Plan(now, tuple(notices), {str(k): v for k, v in sorted(skipped.items())})


def _told(finding_id: str, sent_at: Mapping[str, datetime | None]) -> bool:
    return any(notice_key(finding_id, k) in sent_at for k in (NoticeKind.FIRST, NoticeKind.ESCALATION))


def _closing(f: Finding, devices: Mapping[tuple[str, str], Device], contacts: Contacts, config: NotifyConfig,
             sent_at: Mapping[str, datetime | None], *, left: bool = False) -> Notice | None:
    """The closing notice of a finding someone was told about and that is not closed yet; None otherwise (and
    when nobody who was told can be reached)."""
    closing = notice_key(f.id, NoticeKind.CLOSING)
    first, escalation = notice_key(f.id, NoticeKind.FIRST), notice_key(f.id, NoticeKind.ESCALATION)
    if not _told(f.id, sent_at) or closing in sent_at:
        return None
    device = devices.get((f.source, f.device_id))
    holder = contacts.owner_email(device.user if device else None)
    org_unit = f.org_unit or (device.org_unit if device else None)
    unit = contacts.for_unit(org_unit)
    to: list[str] = [holder] if holder and first in sent_at else []
    if escalation in sent_at and unit:
        to += [e for e in unit.emails if e not in to]
    if not to:
        return None
    audience = "+".join(a for a, on in (("holder", holder and first in sent_at),
                                          ("contact", escalation in sent_at and unit)) if on)
    return Notice(closing, NoticeKind.CLOSING, f, device, tuple(to), audience, _lang(contacts, config, org_unit),
                  left=left)


def _due(f: Finding, config: NotifyConfig, now: datetime, sent_at: Mapping[str, datetime | None], first: str,
         escalation: str, reachable: bool) -> tuple[NoticeKind, str, int | None] | None:
    deadline: date | None = f.deadline
    if deadline is not None and escalation not in sent_at:
        late = now - day_start(deadline)
        if late >= timedelta(days=config.escalate_after_days) and (first in sent_at or not reachable):
            return NoticeKind.ESCALATION, NoticeKind.ESCALATION.value, late.days
    if first not in sent_at:
        return NoticeKind.FIRST, NoticeKind.FIRST.value, None  # no holder to tell: counted as no contact
    if deadline is None or now >= day_start(deadline):
        return None
    first_time = sent_at.get(first)
    for d in sorted(config.reminders):  # the nearest point first
        point = day_start(deadline) - timedelta(days=d)
        if now >= point:
            key = f"{NoticeKind.REMINDER.value}-{d}"
            if notice_key(f.id, key) in sent_at or (first_time is not None and first_time >= point):
                return None
            return NoticeKind.REMINDER, key, d
    return None
