"""Stored network sightings, per scanned input.

Idempotence by per-input fingerprint: each scanned input (a log file or stream) is known by the SHA-256 of
its first 64 KiB of (decompressed) content. Scanning an input again REPLACES its earlier sightings instead
of adding to them, so scanning the same log twice never doubles a count, and re-scanning a log that has
grown since (same beginning, more lines) gives the counts of the whole file. A log shorter than 64 KiB that
has grown is recognised by its path and its earlier content being the start of the new one. Counts shown are sums over
inputs, grouped by family, day, device (or address), evidence strength and format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from interdit.model import Sighting
from interdit.storage.base import UTCDateTime, metadata

inputs_table = sa.Table(
    "network_inputs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("fingerprint", sa.String(64), nullable=False, unique=True),
    sa.Column("head_len", sa.Integer, nullable=False),  # bytes the fingerprint covers (64 KiB, or less)
    sa.Column("path", sa.String(1000), nullable=False),
    sa.Column("format", sa.String(40), nullable=False),
    sa.Column("scanned_at", UTCDateTime, nullable=False),
    sa.Column("lines_read", sa.BigInteger, nullable=False),
    sa.Column("matched", sa.BigInteger, nullable=False),
    sa.Column("unmatched", sa.BigInteger, nullable=False),
    sa.Column("rejected", sa.BigInteger, nullable=False),
)

sightings_table = sa.Table(
    "network_sightings", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("input_id", sa.Integer, sa.ForeignKey("network_inputs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("family", sa.String(100), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("subject", sa.String(400), nullable=False),  # "device:<source>\x1f<id>" or "address:<ip>"
    sa.Column("device_source", sa.String(200), nullable=True),
    sa.Column("device_id", sa.String(200), nullable=True),
    sa.Column("client", sa.String(64), nullable=False),
    sa.Column("weak", sa.Boolean, nullable=False),
    sa.Column("source_format", sa.String(40), nullable=False),
    sa.Column("first", UTCDateTime, nullable=False),
    sa.Column("last", UTCDateTime, nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("example_name", sa.String(600), nullable=False),
    sa.UniqueConstraint("input_id", "family", "day", "subject", "weak", "source_format",
                        name="uq_network_sightings_key"),
    sa.Index("ix_network_sightings_day", "day"),
    sa.Index("ix_network_sightings_input_id", "input_id"),
    sa.Index("ix_network_sightings_family", "family"),
)


@dataclass(frozen=True, slots=True)
class StoredInput:
    fingerprint: str
    path: str
    format: str
    scanned_at: datetime
    lines_read: int
    matched: int
    unmatched: int
    rejected: int
    replaced: bool  # an earlier scan of the same input was replaced


def _subject(s: Sighting) -> str:
    if s.device_source is not None and s.device_id is not None:
        return f"device:{s.device_source}\x1f{s.device_id}"
    return f"address:{s.client}"


HEAD_BYTES = 65_536


def fingerprint(head: bytes) -> str:
    return hashlib.sha256(head[:HEAD_BYTES]).hexdigest()


def save_scan(engine: Engine, *, head: bytes, path: str, fmt: str, at: datetime, lines_read: int,
              matched: int, unmatched: int, rejected: int, sightings: Iterable[Sighting]) -> StoredInput:
    """Store one input's sightings in one transaction, replacing an earlier scan of the same input.

    `head` is the input's first 64 KiB (decompressed), or the whole input when shorter."""
    with engine.begin() as conn:
        return save_scan_in(conn, head=head, path=path, fmt=fmt, at=at, lines_read=lines_read, matched=matched,
                            unmatched=unmatched, rejected=rejected, sightings=sightings)


def save_scans(engine: Engine, scans: Sequence[dict[str, Any]],
               audit: Callable[[Connection, list[StoredInput]], object] | None = None) -> list[StoredInput]:
    """Store several inputs' sightings (each a dict of `save_scan`'s arguments) in one transaction; with
    `audit`, called in that transaction with what was stored, its entry commits with them or nothing does."""
    with engine.begin() as conn:
        stored = [save_scan_in(conn, **scan) for scan in scans]
        if audit is not None:
            audit(conn, stored)
    return stored


def save_scan_in(conn: Connection, *, head: bytes, path: str, fmt: str, at: datetime, lines_read: int,
                 matched: int, unmatched: int, rejected: int, sightings: Iterable[Sighting]) -> StoredInput:
    """`save_scan` inside the open transaction of `conn`."""
    it, st = inputs_table, sightings_table
    head = head[:HEAD_BYTES]
    fp = fingerprint(head)
    found = conn.execute(sa.select(it.c.id).where(it.c.fingerprint == fp)).first()
    input_id: int | None = int(found[0]) if found is not None else None
    if input_id is None:  # a short log that has grown since: same path, its old content starts the new one
        for cid, cfp, clen in conn.execute(sa.select(it.c.id, it.c.fingerprint, it.c.head_len).where(
                (it.c.path == path[-1000:]) & (it.c.head_len < len(head)))):
            if fingerprint(head[:clen]) == cfp:
                input_id = int(cid)
                break
    values = dict(path=path[-1000:], format=fmt, scanned_at=at, lines_read=lines_read, matched=matched,
                  unmatched=unmatched, rejected=rejected, fingerprint=fp, head_len=len(head))
    replaced = input_id is not None
    if input_id is not None:
        conn.execute(sa.delete(st).where(st.c.input_id == input_id))
        conn.execute(sa.update(it).where(it.c.id == input_id).values(**values))
    else:
        key = conn.execute(sa.insert(it).values(**values)).inserted_primary_key
        assert key is not None
        input_id = int(key[0])
    rows = [dict(input_id=input_id, family=s.family, day=s.day, subject=_subject(s)[:400],
                 device_source=s.device_source, device_id=s.device_id, client=s.client[:64], weak=s.weak,
                 source_format=s.source_format, first=s.first, last=s.last, count=s.count,
                 example_name=s.example_name[:600]) for s in sightings]
    for i in range(0, len(rows), 1000):
        conn.execute(sa.insert(st), rows[i:i + 1000])
    return StoredInput(fp, path, fmt, at, lines_read, matched, unmatched, rejected, replaced)


def load_sightings(engine: Engine, *, family: str | None = None, since: date | None = None,
                   until: date | None = None, device: tuple[str, str] | None = None, client: str | None = None,
                   include_weak: bool = True, limit: int | None = None) -> list[Sighting]:
    """Sightings summed over every scanned input, per family, day, device (or address), strength and format."""
    st = sightings_table
    q = sa.select(st.c.family, st.c.day, st.c.subject, st.c.weak, st.c.source_format,
                  sa.func.min(st.c.device_source), sa.func.min(st.c.device_id), sa.func.min(st.c.client),
                  sa.func.min(st.c.first), sa.func.max(st.c.last), sa.func.sum(st.c["count"]),
                  sa.func.min(st.c.example_name)) \
        .group_by(st.c.family, st.c.day, st.c.subject, st.c.weak, st.c.source_format) \
        .order_by(st.c.day, st.c.family, st.c.subject, st.c.weak, st.c.source_format)
    if family is not None:
        q = q.where(st.c.family == family)
    if since is not None:
        q = q.where(st.c.day >= since)
    if until is not None:
        q = q.where(st.c.day <= until)
    if device is not None:
        q = q.where((st.c.device_source == device[0]) & (st.c.device_id == device[1]))
    if client is not None:
        q = q.where(st.c.client == client)
    if not include_weak:
        q = q.where(st.c.weak == sa.false())
    if limit is not None:
        q = q.limit(limit)
    out = []
    with engine.connect() as conn:
        for fam, day, _, weak, fmt, dsrc, did, cli, first, last, count, example in conn.execute(q):
            out.append(Sighting(family=fam, day=day, client=cli, first=first, last=last, count=int(count),
                                source_format=fmt, example_name=example, device_source=dsrc, device_id=did,
                                weak=bool(weak)))
    return out


def scanned_inputs(engine: Engine, limit: int = 50) -> list[StoredInput]:
    it = inputs_table
    with engine.connect() as conn:
        rows = conn.execute(sa.select(it).order_by(it.c.scanned_at.desc(), it.c.id.desc()).limit(limit)).all()
    return [StoredInput(r.fingerprint, r.path, r.format, r.scanned_at, r.lines_read, r.matched, r.unmatched,
                        r.rejected, False) for r in rows]
