"""Pi-hole FTL's long-term database (`pihole-FTL.db`, SQLite): the `queries` view."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from interdit.network.base import Event, LineError, LineReader, epoch, readers

# FTL query types (docs/database/query-database.md); types above 100 are "100 + the DNS type number"
TYPES = {1: "A", 2: "AAAA", 3: "ANY", 4: "SRV", 5: "SOA", 6: "PTR", 7: "TXT", 8: "NAPTR", 9: "MX", 10: "DS",
         11: "RRSIG", 12: "DNSKEY", 13: "NS", 15: "SVCB", 16: "HTTPS"}
BLOCKED = {1, 4, 5, 6, 7, 8, 9, 10, 11, 15, 16, 18}
SQLITE_MAGIC = b"SQLite format 3\x00"


@readers.register("pihole-ftl")
class PiholeFtl(LineReader):
    name = "pihole-ftl"
    summary = "Pi-hole FTL SQLite database (pihole-FTL.db, queries view)"
    example = "sqlite3 pihole-FTL.db \"SELECT timestamp, client, domain, status FROM queries\" (a database, not lines)"
    kind = "dns"
    whole_file = True
    splittable = False

    def sniff(self, line: bytes) -> bool:
        return False  # a database has no lines: see sniff_head

    def sniff_head(self, first: bytes) -> bool:
        return first.startswith(SQLITE_MAGIC)

    def events(self, path: Path) -> Iterator[tuple[int, Event | LineError | None]]:
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        except sqlite3.Error as e:
            yield 1, LineError(f"cannot open the database: {e}")
            return
        try:
            cur = con.execute("SELECT id, timestamp, client, domain, type, status FROM queries ORDER BY id")
            n = 0
            for n, (qid, ts, client, domain, qtype, status) in enumerate(cur, start=1):
                if not isinstance(domain, str) or not isinstance(client, str) or not isinstance(ts, int | float):
                    yield n, LineError(f"query id {qid}: domain, client or timestamp missing")
                    continue
                kind = TYPES.get(qtype, f"TYPE{qtype - 100}" if isinstance(qtype, int) and qtype > 100 else "")
                yield n, Event(domain, client, str(ts), "dns", kind, "blocked" if status in BLOCKED else "allowed")
        except sqlite3.Error as e:
            yield 0, LineError(f"not a Pi-hole FTL database (no readable queries view): {e}")
        finally:
            con.close()

    def parse(self, line: bytes) -> Event | None:
        raise LineError("the Pi-hole FTL database is read as a whole file")

    def when(self, stamp: str) -> datetime:
        return epoch(stamp)
