"""Logs as columns: every request written to Parquet, and DuckDB scans of it with the same matching rules.

`to_parquet` reads logs with the same readers as the scanner and writes one row per request (time, client,
normalised name, kind, type, action, answers, format, file). `scan_parquet` matches in SQL exactly as the
scanner does: a name matches when it or a parent domain is listed (each name's suffixes are joined against
the list; the nearest listed parent wins), never by substring. Answers are not matched here (strong
evidence only).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from interdit.errors import InputError
from interdit.model import Sighting
from interdit.network.base import FileContext, LineError, client_address, readers
from interdit.network.detect import detect_format, head_lines
from interdit.network.match import DomainMatcher, normalise
from interdit.network.opening import TOO_LONG, Truncated, file_mtime, iter_lines, open_stream, read_block

COLUMNS = ("ts", "client", "name", "kind", "qtype", "action", "answers", "format", "file")


def to_parquet(paths: Sequence[str], out: Path, *, fmt: str | None = None, tz: str = "UTC") -> dict[str, Any]:
    """Write every request of the logs to one Parquet file; returns counts (read, written, rejected, failed)."""
    import duckdb

    zone = UTC if tz == "UTC" else ZoneInfo(tz)
    counts: dict[str, Any] = {"out": str(out), "read": 0, "written": 0, "skipped": 0, "rejected": 0, "failed": [],
                              "rejections": []}
    fd, tmp = tempfile.mkstemp(prefix="interdit-requests-", suffix=".tsv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, delimiter="\t", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            w.writerow(COLUMNS)
            for path in paths:
                _write_file(path, fmt, zone, w, counts)
        con = duckdb.connect()
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            con.execute(
                "COPY (SELECT CAST(ts AS TIMESTAMPTZ) AS ts, client, name, kind, qtype, action, answers, format, file "
                "FROM read_csv(?, delim='\t', header=true, quote='\"', all_varchar=true)) "
                "TO '" + str(out).replace("'", "''") + "' (FORMAT parquet)", [tmp])
        finally:
            con.close()
    finally:
        os.unlink(tmp)
    return counts


def _write_file(path: str, fmt: str | None, zone: Any, w: Any, counts: dict[str, Any]) -> None:
    try:
        stream, _ = open_stream(path)
    except OSError as e:
        counts["failed"].append(f"{path}: {e.strerror or e}")
        return
    try:
        try:
            first = read_block(stream, 4 * 1024 * 1024)
        except Truncated as e:
            counts["failed"].append(f"{path}: {e}")
            return
        head = head_lines(first)
        name = fmt or detect_format(first)
        if name is None or name not in readers:
            counts["failed"].append(f"{path}: the format could not be recognised")
            return
        reader = readers.get(name)(FileContext(path, file_mtime(path), zone))
        if reader.whole_file:
            items: Any = reader.events(Path(path))
        else:
            reader.start(head)
            items = _lines(reader, iter_lines(stream, first=first))
        for n, item in items:
            counts["read"] += 1
            if item is None:
                counts["skipped"] += 1
                continue
            try:
                if isinstance(item, LineError):
                    raise item
                q = normalise(item.name)
                if q is None:
                    raise LineError(f"{item.name[:80]!r} is not a DNS name")
                when = reader.when(item.stamp)
                client = client_address(item.client)
            except LineError as e:
                counts["rejected"] += 1
                if len(counts["rejections"]) < 20:
                    counts["rejections"].append(f"{path}:{n}: {e}")
                continue
            answers = ",".join(a for a in (normalise(x) for x in item.answers) if a)
            w.writerow((when.isoformat(), client, q, item.kind, item.qtype, item.action, answers, name, path))
            counts["written"] += 1
    except Truncated as e:
        counts["rejected"] += 1
        counts["rejections"].append(f"{path}: the compressed stream ends early: {e}")
    finally:
        stream.close()


def _lines(reader: Any, batches: Any) -> Any:
    n = 0
    for batch in batches:
        for line in batch:
            n += 1
            if line is TOO_LONG:
                yield n, LineError("line too long")
                continue
            try:
                yield n, reader.parse(line)
            except LineError as e:
                yield n, e


def scan_parquet(path: Path, domains: Mapping[str, str], *, never: Sequence[str] = ()) -> list[Sighting]:
    """Sightings (per address, family, day, format) from a Parquet file of requests, matched in DuckDB."""
    import duckdb

    if not path.is_file():
        raise InputError(f"no Parquet file at {path}", fix="write one with 'interdit logs convert'")
    matcher = DomainMatcher(domains, never=never)
    con = duckdb.connect()
    try:
        con.execute("CREATE TEMP TABLE listed (domain VARCHAR PRIMARY KEY, family VARCHAR)")
        fd, tmp = tempfile.mkstemp(prefix="interdit-listed-", suffix=".tsv")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.writelines(f"{d}\t{f}\n" for d, f in matcher.table.items())
            con.execute("INSERT INTO listed SELECT * FROM read_csv(?, delim='\t', header=false, "
                        "columns={'domain': 'VARCHAR', 'family': 'VARCHAR'})", [tmp])
        finally:
            os.unlink(tmp)
        rows = con.execute("""
            WITH req AS (
                SELECT row_number() OVER () AS id, ts, client, name, format FROM read_parquet(?)
            ),
            parts AS (SELECT id, string_split(name, '.') AS labels FROM req),
            suffixes AS (
                SELECT id, unnest([array_to_string(list_slice(labels, i, len(labels)), '.')
                                   for i in range(1, len(labels) + 1)]) AS suffix,
                       unnest(range(1, len(labels) + 1)) AS depth
                FROM parts
            ),
            hit AS (
                SELECT s.id, arg_min(l.family, s.depth) AS family
                FROM suffixes s JOIN listed l ON l.domain = s.suffix GROUP BY s.id
            )
            SELECT h.family, CAST(timezone('UTC', r.ts) AS DATE) AS day, r.client, r.format,
                   epoch_us(min(r.ts)) AS first, epoch_us(max(r.ts)) AS last, count(*) AS n,
                   arg_min(r.name, r.ts) AS example
            FROM hit h JOIN req r USING (id)
            GROUP BY h.family, day, r.client, r.format
            ORDER BY day, h.family, r.client, r.format
        """, [str(path)]).fetchall()
    finally:
        con.close()
    return [Sighting(family=f, day=d, client=c, first=_us(first), last=_us(last), count=int(n), source_format=fmt,
                     example_name=ex) for f, d, c, fmt, first, last, n, ex in rows]


def _us(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(value))


def parquet_rows(path: Path) -> int:
    import duckdb

    con = duckdb.connect()
    try:
        row = con.execute("SELECT count(*) FROM read_parquet(?)", [str(path)]).fetchone()
    finally:
        con.close()
    return int(row[0]) if row else 0


def is_parquet(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PAR1"
    except OSError:
        return False
