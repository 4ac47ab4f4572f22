"""What a PostgreSQL import does that SQLite's does not: the app intervals' keys rebuilt after a first import,
and their statistics taken before it commits.

Into an empty `app_intervals` (a new database's first import, the table locked for the import alone), inserting
6,000,000 rows while maintaining the primary key took 23 s at 100,000 devices, against 5 s for the rows alone
and 8-9 s to build the key from them afterwards (a sort, with the server's parallel maintenance workers). The
key is dropped before the insert and built again, under the same name, inside the import's transaction: a
failed import rolls both back, and a duplicate row refuses the import exactly as the maintained key would have.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection
from sqlalchemy.schema import AddConstraint, DropConstraint

from interdit.storage import tables as t
from interdit.storage.base import PG_INDEX_MEMORY_MB

APP_KEY = t.app_intervals.primary_key


def drop_primary_key(conn: Connection) -> None:
    """Drop the primary key of `app_intervals` (the caller holds the table alone and builds it again)."""
    conn.execute(DropConstraint(APP_KEY))


def build_primary_key(conn: Connection) -> None:
    """Build the primary key of `app_intervals` again, with room for the sort (for the app index after it too)."""
    conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{PG_INDEX_MEMORY_MB}MB'")
    conn.execute(AddConstraint(APP_KEY))


def analyze_app_intervals(conn: Connection) -> None:
    """Take the statistics of `app_intervals` filled by a first import (0.3 s at 6,000,000 rows), inside its
    transaction. Without them, until the server's autovacuum got to the table (minutes later on a busy server),
    the next import's update of the changed apps was planned through the app index, which holds one entry per
    device for a common app: one re-import at 100,000 devices took 520 s instead of about 60 s."""
    conn.exec_driver_sql("ANALYZE app_intervals")
