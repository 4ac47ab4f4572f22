"""The notices sent about findings: one row per notice and channel, so that none is ever sent twice.

The table is defined on the shared `tables.metadata` (migration `0010_notices` creates it). A delivery is
claimed before it is sent (`claim`: a row `sending`, unique per key and channel), then settled (`settle`: `sent`
with its audit entry in the same transaction, or `failed` with the error). A failed delivery is claimed again by a
later run (on that channel only); one left `sending` by a process that stopped between the two steps may have
gone out, so it is never sent again (it counts as sent: failing towards silence rather than a duplicate).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from interdit.storage.base import guard as _guard
from interdit.storage.tables import UTCDateTime, metadata

SENDING, SENT, FAILED = "sending", "sent", "failed"

notices_table = sa.Table(
    "notices", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(200), nullable=False),  # <finding id>/<step>: first, reminder-7, escalation, ...
    sa.Column("channel", sa.String(100), nullable=False),
    sa.Column("finding_id", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("device_id", sa.String(300), nullable=False),
    sa.Column("recipients", sa.Text, nullable=False),  # JSON list
    sa.Column("lang", sa.String(10), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # sending | sent | failed
    sa.Column("attempts", sa.Integer, nullable=False, default=1),
    sa.Column("claimed_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("error", sa.Text),
    sa.UniqueConstraint("key", "channel"),
    sa.Index(None, "finding_id"),
)


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    key: str
    channel: str
    finding_id: str
    kind: str
    source: str
    device_id: str
    recipients: tuple[str, ...]
    lang: str
    subject: str
    status: str
    attempts: int
    claimed_at: datetime
    sent_at: datetime | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "channel": self.channel, "finding_id": self.finding_id, "kind": self.kind,
                "source": self.source, "device_id": self.device_id, "recipients": list(self.recipients),
                "lang": self.lang, "subject": self.subject, "status": self.status, "attempts": self.attempts,
                "claimed_at": self.claimed_at.isoformat(),
                "sent_at": self.sent_at.isoformat() if self.sent_at else None, "error": self.error}


def deliveries(engine: Engine) -> dict[str, dict[str, tuple[str, datetime]]]:
    """Every notice key recorded: per channel, its status and when (sent, else claimed)."""
    t = notices_table
    found: dict[str, dict[str, tuple[str, datetime]]] = {}
    with _guard("reading the notices sent"), engine.connect() as conn:
        for key, channel, status, when in conn.execute(
                sa.select(t.c.key, t.c.channel, t.c.status, sa.func.coalesce(t.c.sent_at, t.c.claimed_at))):
            found.setdefault(key, {})[channel] = (status, when)
    return found


def claim(engine: Engine, *, key: str, channel: str, finding_id: str, kind: str, source: str, device_id: str,
          recipients: Sequence[str], lang: str, subject: str, at: datetime) -> bool:
    """Take the delivery of `key` on `channel` for this run: True when it is this run's to send (new, or failed
    before), False when it was sent, or is being sent by another process."""
    t = notices_table
    values = {"finding_id": finding_id, "kind": kind, "source": source, "device_id": device_id,
              "recipients": json.dumps(list(recipients)), "lang": lang, "subject": subject}
    where = f"claiming notice {key} on {channel}"
    with _guard(where):
        try:
            with engine.begin() as conn:
                conn.execute(sa.insert(t).values(key=key, channel=channel, status=SENDING, attempts=1,
                                                 claimed_at=at, **values))
            return True
        except IntegrityError:
            pass
        with engine.begin() as conn:
            retried = conn.execute(
                sa.update(t).where((t.c.key == key) & (t.c.channel == channel) & (t.c.status == FAILED))
                .values(status=SENDING, attempts=t.c.attempts + 1, claimed_at=at, error=None, **values))
            return bool(retried.rowcount)


def settle(engine: Engine, *, key: str, channel: str, at: datetime, error: str | None = None,
           audit: Callable[[Connection], object] | None = None) -> None:
    """Record how the claimed delivery ended: sent (its audit entry written in the same transaction) or failed."""
    t = notices_table
    with _guard(f"recording notice {key} on {channel}"), engine.begin() as conn:
        where = (t.c.key == key) & (t.c.channel == channel) & (t.c.status == SENDING)
        if error is None:
            conn.execute(sa.update(t).where(where).values(status=SENT, sent_at=at))
        else:
            conn.execute(sa.update(t).where(where).values(status=FAILED, error=error[:4000]))
        if audit is not None:
            audit(conn)


def notices(engine: Engine, *, finding_id: str | None = None, limit: int | None = None) -> list[NoticeRecord]:
    """The notices recorded, newest first (of one finding, when given)."""
    t = notices_table
    query = sa.select(t).order_by(t.c.claimed_at.desc(), t.c.id.desc())
    if finding_id is not None:
        query = query.where(t.c.finding_id == finding_id)
    if limit is not None:
        query = query.limit(limit)
    with _guard("reading the notices sent"), engine.connect() as conn:
        return [NoticeRecord(r.key, r.channel, r.finding_id, r.kind, r.source, r.device_id,
                             tuple(json.loads(r.recipients)), r.lang, r.subject, r.status, r.attempts, r.claimed_at,
                             r.sent_at, r.error) for r in conn.execute(query)]
