"""What the storage modules share: the one `MetaData` every table is declared on, the UTC datetime column,
database errors said in plain words, enum look-ups and inserted ids. Other storage modules import these
names, never each other's private ones."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator

from interdit.errors import InterditError, StorageError
from interdit.model import AppState, Management, Ownership, Platform

BUSY_TIMEOUT_S = 60  # how long a SQLite writer waits for another one before giving up
CHUNK = 10_000  # records staged per executemany / COPY batch
CACHE_KB = 64 * 1024  # SQLite page cache per connection
# while an import runs (measured at 100,000 devices: 192 MB and 160 MB cost the same CPU as 384 MB and 256 MB,
# and keep the whole import under 600 MB instead of 800 MB)
IMPORT_CACHE_KB = 192 * 1024
STAGE_CACHE_KB = 160 * 1024  # ... for its staging tables (the temporary database has a cache of its own)
TEMP_CACHE_KB = 2000  # the temporary database's cache otherwise (SQLite's default)
SORT_CACHE_KB = 32 * 1024  # ... while it builds an index (a smaller sort is cheaper: it stays in the CPU's caches)
# SQLite sorts an index's keys with this many helper threads once they spill past the cache (measured at 100,000
# devices, 2 cores: building the app index took 5.0-5.3 s instead of 7.3 s; it does not change a sort that fits)
SORT_THREADS = max(1, min(4, os.cpu_count() or 1))
PG_INDEX_MEMORY_MB = 256  # PostgreSQL's sort memory (server side) while an import builds the app index


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

SQLITE_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime. Naive values are refused: they are a bug, not a guess."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sqlite_text(value: datetime) -> str:
    """The text SQLite stores for an aware datetime (what `UTCDateTime` writes through SQLAlchemy)."""
    return value.astimezone(UTC).strftime(SQLITE_FORMAT)


def system_clock() -> datetime:
    """Now, in UTC: the clock every store uses unless it is given another (tests fix it)."""
    return datetime.now(UTC)


PLATFORMS = {p: p for p in Platform} | {p.value: p for p in Platform}
OWNERSHIP = {o.value: o for o in Ownership}
MANAGEMENT = {m.value: m for m in Management}
STATES = {s.value: s for s in AppState}


def describe(error: BaseException, where: str) -> StorageError:
    text_ = str(getattr(error, "orig", None) or error).strip().splitlines()[0] if str(error) else repr(error)
    low = text_.lower()
    if "locked" in low or "busy" in low:
        return StorageError(f"the database is locked by another writer ({text_})", where=where,
                            fix=f"wait for the other import or evaluation to finish (interdit waits "
                                f"{BUSY_TIMEOUT_S} s), then run the command again")
    if ("unable to open" in low or "connection" in low or "could not" in low or "refused" in low
            or ("does not exist" in low and "database" in low) or "authentication" in low):
        return StorageError(f"cannot reach the database ({text_})", where=where,
                            fix="check the --db URL (or INTERDIT_DATABASE_URL), that the server is running and "
                                "that the user may connect")
    if "no such table" in low or ("relation" in low and "does not exist" in low):
        return StorageError(f"the database has no interdit tables yet ({text_})", where=where,
                            fix="open it with interdit once (it creates and upgrades its tables), "
                                "or check the --db URL")
    if "readonly" in low or "read-only" in low or "permission" in low:
        return StorageError(f"the database cannot be written ({text_})", where=where,
                            fix="check the file's permissions, or the database user's rights")
    return StorageError(f"the database refused: {text_}", where=where,
                        fix="check the database is an interdit database and is not damaged; restore a backup "
                            "if needed")


@contextmanager
def guard(where: str) -> Iterator[None]:
    try:
        yield
    except InterditError:
        raise
    except (DBAPIError, SQLAlchemyError) as e:
        raise describe(e, where) from e


def new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])
