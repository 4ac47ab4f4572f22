"""The audit trail: every change, who made it, when, what it was before and after, chained by hash.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own canonical content, so an
edited entry no longer matches its hash, and a deleted or reordered one breaks the link of the entry after it.
The chain proves nothing about its own end: keep the head hash that `verify` prints somewhere else (a ticket,
a signed e-mail) to notice the last entries being removed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from interdit.errors import InputError, StorageError
from interdit.storage.base import metadata, system_clock

audit_table = sa.Table(
    "audit_log", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),
    # stored whole, as the hash covers them (migration 0009 widened them from 160, 80 and 300 characters)
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.String(80), nullable=False, index=True),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("before", sa.Text, nullable=True),
    sa.Column("after", sa.Text, nullable=True),
    sa.Column("prev_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("hash", sa.String(64), nullable=False),
)

GENESIS = "0" * 64
ACTION_MAX = 80
TEXT_MAX = 4000  # an actor or target longer than this is refused before anything changes
_PG_LOCK = 0x1D7A0D17  # the advisory lock that orders appends on PostgreSQL (held until the commit)


def canonical(value: Any) -> str | None:
    """The one JSON text of a value that the hash covers (sorted keys, no spaces, UTF-8)."""
    if value is None:
        return None
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(prev_hash: str, seq: int, at: str, actor: str, action: str, target: str,
               before: str | None, after: str | None) -> str:
    body = json.dumps([seq, at, actor, action, target, before, after], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + "\n" + body).encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    target: str
    before: Any
    after: Any
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "at": self.at.isoformat(), "actor": self.actor, "action": self.action,
                "target": self.target, "before": self.before, "after": self.after, "prev_hash": self.prev_hash,
                "hash": self.hash}


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    entries: int
    head: str  # the hash of the last entry (GENESIS when empty)
    broken_at: int | None = None  # seq of the first entry that does not check
    reason: str = ""


def parse_checkpoint(text: str) -> tuple[int, str]:
    """`N:HASH` (an entry number and its SHA-256, as `interdit audit verify` prints them) -> (N, hash)."""
    number, _, digest = text.strip().partition(":")
    if not number.isdigit() or int(number) < 1 or len(digest) != 64 or digest.strip("0123456789abcdefABCDEF"):
        raise ValueError(f"{text!r} is not a checkpoint: write ENTRY:HASH, e.g. 1284:9b1f...e07c with the whole "
                         "64-character hash that 'interdit audit verify' printed")
    return int(number), digest.lower()


def check_entry(actor: str, action: str, target: str) -> None:
    """Refuse, before anything changes, an entry the trail would not keep whole (or text a database refuses)."""
    for name, value, limit in (("actor", actor, TEXT_MAX), ("action", action, ACTION_MAX),
                               ("target", target, TEXT_MAX)):
        if len(value) > limit:
            raise InputError(f"the audit {name} is {len(value):,} characters long; the trail keeps at most "
                               f"{limit:,}", fix=f"use a shorter {'name' if name != 'action' else 'action'}")
        if "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value):
            raise InputError(f"the audit {name} holds a NUL or a lone surrogate character",
                               fix="remove the control character from the name")


class AuditLog:
    """Append-only, hash-chained log in the `audit_log` table (migration 0004)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = system_clock) -> None:
        self.engine = engine
        self.clock = clock

    def append(self, actor: str, action: str, target: str, *, before: Any = None, after: Any = None,
               conn: Connection | None = None) -> AuditEntry:
        """Add one entry at the end of the chain.

        With `conn`, the entry is written inside that connection's open transaction, so the change made in it and
        its entry commit together or not at all. Without, it is a transaction of its own. Concurrent writers
        are ordered by a lock (PostgreSQL's advisory lock, SQLite's write lock) and by the unique prev_hash."""
        check_entry(actor, action, target)
        b, a = canonical(before), canonical(after)
        if conn is not None:
            return self._append_in(conn, actor, action, target, b, a, before, after)
        for _ in range(20):
            try:
                with self.engine.begin() as own:
                    return self._append_in(own, actor, action, target, b, a, before, after)
            except IntegrityError:
                continue  # another writer took this place in the chain: read the new end and try again
            except OperationalError as e:
                if "locked" not in str(e).lower() and "busy" not in str(e).lower():
                    raise
        raise StorageError("the audit trail is too busy to append to", fix="retry the change in a moment")

    def _append_in(self, conn: Connection, actor: str, action: str, target: str, b: str | None, a: str | None,
                   before: Any, after: Any) -> AuditEntry:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
        elif conn.dialect.name == "sqlite":  # take the write lock before reading the end of the chain
            conn.execute(audit_table.update().where(sa.false()).values(seq=audit_table.c.seq))
        last = conn.execute(sa.select(audit_table.c.seq, audit_table.c.hash)
                            .order_by(audit_table.c.seq.desc()).limit(1)).first()
        seq, prev = (1, GENESIS) if last is None else (int(last.seq) + 1, str(last.hash))
        at = self.clock().astimezone(UTC).isoformat(timespec="microseconds")
        digest = entry_hash(prev, seq, at, actor, action, target, b, a)
        conn.execute(audit_table.insert().values(seq=seq, at=at, actor=actor, action=action, target=target,
                                                 before=b, after=a, prev_hash=prev, hash=digest))
        return AuditEntry(seq, datetime.fromisoformat(at), actor, action, target, before, after, prev, digest)

    def entries(self, *, after: int = 0, limit: int | None = None, actor: str | None = None,
                action: str | None = None) -> list[AuditEntry]:
        q = sa.select(audit_table).where(audit_table.c.seq > after).order_by(audit_table.c.seq)
        if actor:
            q = q.where(audit_table.c.actor == actor)
        if action:
            q = q.where(audit_table.c.action == action)
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return [_entry(r) for r in conn.execute(q)]

    def iter_all(self, batch: int = 1000) -> Iterator[AuditEntry]:
        after = 0
        while True:
            page = self.entries(after=after, limit=batch)
            if not page:
                return
            yield from page
            after = page[-1].seq

    def verify(self, checkpoint: tuple[int, str] | None = None) -> Verification:
        """Recompute every hash from the start; report the first entry that is edited, missing or moved.

        `checkpoint` is an entry number and its hash kept elsewhere (`N:HASH`, as `interdit audit verify`
        prints it): the chain must still reach entry N with that very hash, which also proves that nothing
        was cut off the end since."""
        prev, expected_seq, count = GENESIS, 1, 0
        after = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(audit_table).where(audit_table.c.seq > after)
                                    .order_by(audit_table.c.seq).limit(1000)).all()
            if not rows:
                if checkpoint is not None and count < checkpoint[0]:
                    return Verification(False, count, prev, count + 1,
                                        f"the trail ends at entry {count}, but entry {checkpoint[0]} was kept as "
                                        "a checkpoint: entries were cut off its end")
                return Verification(True, count, prev)
            for r in rows:
                seq = int(r.seq)
                if seq != expected_seq:
                    return Verification(False, count, prev, expected_seq,
                                        f"entry {expected_seq} is missing (the next one is {seq})")
                if r.prev_hash != prev:
                    return Verification(False, count, prev, seq,
                                        f"entry {seq} does not follow entry {seq - 1}: its link was changed")
                digest = entry_hash(prev, seq, r.at, r.actor, r.action, r.target, r.before, r.after)
                if digest != r.hash:
                    return Verification(False, count, prev, seq,
                                        f"entry {seq} was edited after it was written: its hash does not match")
                if checkpoint is not None and seq == checkpoint[0] and digest != checkpoint[1].lower():
                    return Verification(False, count, prev, seq,
                                        f"entry {seq} does not have the hash kept as a checkpoint: the trail "
                                        "was rewritten from there or before")
                prev, expected_seq, count = digest, seq + 1, count + 1
            after = int(rows[-1].seq)

    def export_jsonl(self) -> Iterator[str]:
        for e in self.iter_all():
            yield json.dumps(e.as_dict(), ensure_ascii=False, sort_keys=True) + "\n"


def _entry(r: Any) -> AuditEntry:
    return AuditEntry(int(r.seq), datetime.fromisoformat(r.at), r.actor, r.action, r.target,
                      json.loads(r.before) if r.before is not None else None,
                      json.loads(r.after) if r.after is not None else None, r.prev_hash, r.hash)
