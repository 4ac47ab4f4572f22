"""Table definitions (SQLAlchemy Core). History is kept as intervals, so the database grows with change.

The migration `0001` creates exactly these tables; later revisions change them. Every time column holds
aware UTC on the way in and out (`UTCDateTime`); SQLite stores it as text `YYYY-MM-DD HH:MM:SS.ffffff`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

# re-exported: the tables' module is where migrations and tests look for them
from interdit.storage.base import NAMING, SQLITE_FORMAT, UTCDateTime, metadata, sqlite_text

__all__ = ["NAMING", "SQLITE_FORMAT", "UTCDateTime", "metadata", "sqlite_text"]

OPEN_VERSION = text("valid_to IS NULL")

import_runs = Table(
    "import_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("format", String(100), nullable=False),
    Column("at", UTCDateTime, nullable=False),  # the snapshot's time: every interval boundary it writes
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("status", String(20), nullable=False),  # ok | failed
    Column("read", Integer, nullable=False, default=0),
    Column("accepted", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("devices", Integer, nullable=False, default=0),
    Column("apps", Integer, nullable=False, default=0),
    Column("devices_new", Integer, nullable=False, default=0),
    Column("devices_changed", Integer, nullable=False, default=0),
    Column("devices_removed", Integer, nullable=False, default=0),
    Column("apps_opened", Integer, nullable=False, default=0),
    Column("apps_closed", Integer, nullable=False, default=0),
    # migration 0008: a version or state change updates the open interval in place
    Column("apps_updated", Integer, nullable=False, default=0),
    # migration 0008: devices kept with their last state because this snapshot could not read them, and
    # devices flagged because the source reported no app at all
    Column("devices_unreadable", Integer, nullable=False, default=0),
    Column("devices_no_apps", Integer, nullable=False, default=0),
    Column("rejections", Text, nullable=False, default="[]"),  # JSON: the first rejections
    Column("error", Text),
    Index(None, "source", "at"),
)

devices = Table(
    "devices", metadata,
    Column("source", String(200), primary_key=True),
    Column("device_id", String(300), primary_key=True),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime),  # set while the device is absent from its source's latest snapshot
    # a digest of the device's open app intervals: an import diffs apps only where the digest moved
    Column("apps_digest", BigInteger),
)

device_versions = Table(
    "device_versions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(200), nullable=False),
    Column("device_id", String(300), nullable=False),
    Column("valid_from", UTCDateTime, nullable=False),
    Column("valid_to", UTCDateTime),  # NULL while current
    Column("observed_at", UTCDateTime, nullable=False),
    Column("platform", String(20), nullable=False),
    Column("ownership", String(20), nullable=False),
    Column("management", String(30), nullable=False),
    Column("supervised", Boolean),
    Column("user", String(300)),
    Column("name", String(300)),
    Column("model", String(300)),
    Column("os_version", String(100)),
    Column("org_unit", String(500)),
    Column("groups", Text, nullable=False, default="[]"),  # JSON list
    Column("addresses", Text, nullable=False, default="[]"),  # JSON list
    # migration 0008: why the source did not list every app (a `CoverageReason`; NULL: it did)
    Column("coverage_gap", String(30)),
    Column("org_labels", Text, nullable=False, default="[]"),  # JSON list of [kind, value] (migration 0008)
    ForeignKeyConstraint(["source", "device_id"], ["devices.source", "devices.device_id"],
                         name="fk_device_versions_devices"),
)
Index("ix_device_versions_device", device_versions.c.source, device_versions.c.device_id, device_versions.c.valid_from)
Index("ix_device_versions_open", device_versions.c.source, device_versions.c.device_id, unique=True,
      sqlite_where=OPEN_VERSION, postgresql_where=OPEN_VERSION)
Index("ix_device_versions_valid_to", device_versions.c.valid_to)

app_intervals = Table(
    "app_intervals", metadata,
    Column("source", String(200), primary_key=True),
    Column("device_id", String(300), primary_key=True),
    Column("platform", String(20), primary_key=True),
    Column("identifier", String(300), primary_key=True),
    Column("first_seen", UTCDateTime, primary_key=True),
    Column("name", String(300)),
    Column("version", String(100)),
    Column("managed", Boolean),
    Column("state", String(20), nullable=False),
    Column("removed_at", UTCDateTime),  # NULL while present
    Column("last_seen", UTCDateTime),  # written when the interval closes; derived while it is open
    # SQLite: the rows live in the primary key's own B-tree (one structure fewer to maintain per row)
    sqlite_with_rowid=False,
)
# who holds a given app at a given time: the evaluation's candidates
Index("ix_app_intervals_app", app_intervals.c.platform, app_intervals.c.identifier, app_intervals.c.first_seen)

# the versions an app went through within one presence (one app interval), kept as evidence (migration 0008);
# written only when a version changes: an interval without rows here had one version all along
app_versions = Table(
    "app_versions", metadata,
    Column("source", String(200), primary_key=True),
    Column("device_id", String(300), primary_key=True),
    Column("platform", String(20), primary_key=True),
    Column("identifier", String(300), primary_key=True),
    Column("first_seen", UTCDateTime, primary_key=True),  # when this version was first seen
    Column("interval_first_seen", UTCDateTime, nullable=False),  # the presence it belongs to
    Column("version", String(100)),
)

evaluations = Table(
    "evaluations", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("as_of", UTCDateTime, nullable=False),
    Column("policy_hash", String(64), nullable=False),
    Column("created", UTCDateTime, nullable=False),
    Column("summary", Text, nullable=False),  # JSON
    Column("data_stamp", String(300)),  # what the stored data was (migration 0005); NULL: never reused
)

findings = Table(
    "findings", metadata,
    Column("evaluation_id", Integer, ForeignKey("evaluations.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("source", String(200), nullable=False),
    Column("device_id", String(300), nullable=False),
    Column("rule", String(200), nullable=False),
    Column("family", String(100)),
    Column("directive", String(200)),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("deadline", Date),
    Column("resolved_at", UTCDateTime),
    Column("app_platform", String(20)),
    Column("app_identifier", String(300)),
    Column("org_unit", String(500)),
    Column("exception", String(200)),
    Column("evidence", Text, nullable=False, default="[]"),  # JSON list
    Column("seq", Integer),  # the evaluation's own order of its findings (migration 0005)
)
Index("ix_findings_device", findings.c.source, findings.c.device_id)
