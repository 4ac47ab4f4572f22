"""Scanning logs larger than one machine with Apache Spark, with exactly the scanner's matching rules.

`scan_with_spark` reads Zeek dns.log files (TSV with a `#fields` header) or the Parquet files written by
`interdit logs convert`, and returns the same `Sighting`s as `interdit logs scan` would for the same files
(per address, family, day, evidence strength and format; attribution to devices stays with the caller):

- each line is read by the scanner's own reader and each name normalised by `match.normalise` (the same
  Python functions, run on the workers through Arrow);
- a name matches when it or one of its parent domains is listed: every name's suffixes (`www.tiktok.com`,
  `tiktok.com`, `com`) are joined with the broadcast list, whole labels only, the nearest listed parent wins;
- a name that matches nothing is looked up through its answers (CNAME targets), in order: weak evidence;
- times and client addresses are read only for matched lines, as the scanner does, and a line whose time or
  address cannot be read is a rejection;
- sightings are counted per (family, UTC day, client, weak, format) with the first and last time; the example
  name is the one of the earliest request (ties: the earlier file, then the earlier line).

PySpark is imported only inside the functions: the package imports without it. From `spark-submit`, give
this file as the application and the package with `--py-files` (see docs/network-spark.md):

    spark-submit --py-files interdit.whl .../interdit/network/spark.py --domains domains.txt --out out.jsonl LOGS...
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from interdit.errors import InputError
from interdit.model import Sighting
from interdit.network._zeek import ZeekTsv
from interdit.network.base import MAX_LINE, FileContext, LineError, client_address, readers
from interdit.network.match import DomainMatcher, normalise, read_domain_list

KEEP = 20  # rejection reasons kept per file part (all are counted)
_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_BAD_NAME = "is not a DNS name (empty label, over 253 characters, or bad IDN)"

# what every row carries between the stages
# status: 0 = the count of one file part (n lines read, r of them rejected), 1 = a rejection, 2 = a request,
# 3 = a matched request with its time and address read
_STAGE1 = ("path string, block long, seq long, status int, n long, r long, reason string, cands array<string>, "
           "stamp string, ts long, client string, fmt string")
_STAGE3 = ("path string, block long, seq long, status int, n long, r long, reason string, family string, "
           "weak boolean, shown string, ts long, day long, client string, fmt string")


def _is_parquet(path: str) -> bool:
    if path.endswith(".parquet"):
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PAR1"
    except OSError:
        return False


def scan_with_spark(spark: Any, paths_or_parquet: str | Sequence[str], families_domains: Mapping[str, str], *,
                    never: Iterable[str] = (), fmt: str = "zeek-dns",
                    stats: dict[str, Any] | None = None) -> list[Sighting]:
    """Sightings of the listed domains in Zeek TSV logs and/or Parquet request files, computed by Spark.

    A path ending in `.parquet` (or a local file starting with `PAR1`) is read as Parquet from
    `interdit logs convert`; any other path (a file, a folder or a glob Spark understands) as Zeek TSV of
    format `fmt`. `stats`, when given, is filled with the counts: read = matched + unmatched + rejected, the
    first rejections per file (`file:line: reason`) and the files read.
    """
    paths = [paths_or_parquet] if isinstance(paths_or_parquet, str) else list(paths_or_parquet)
    if not paths:
        raise InputError("no log to scan", fix="pass Zeek dns.log files or Parquet files from 'interdit logs convert'")
    if fmt not in readers or not issubclass(readers.get(fmt), ZeekTsv):
        raise InputError(f"{fmt!r} is not a Zeek TSV log format", fix="use zeek-dns (or zeek-ssl)")
    matcher = DomainMatcher(families_domains, never=never)
    if not matcher:
        raise InputError("no domain to look for", fix="pass a domain list with one domain (and its family) a line")
    parquet = [p for p in paths if _is_parquet(p)]
    text = [p for p in paths if p not in parquet]
    parts = []
    if text:
        parts.append(_zeek_requests(spark, text, fmt))
    if parquet:
        parts.append(_parquet_requests(spark, parquet))
    requests = parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])
    rows = _aggregate(_read_matched(_match(spark, requests, matcher))).collect()
    return _collect(rows, stats)


# -- stage 1: lines to requests (the scanner's reader and normaliser, on the workers) ---------------


def _zeek_requests(spark: Any, paths: list[str], fmt: str) -> Any:
    from pyspark.sql import functions as F

    raw = spark.read.option("lineSep", "\n").text(paths)
    # the `#fields` header of each file: every part of a file is read with its file's columns
    headers: dict[str, str] = {}
    for row in (raw.filter(F.col("value").startswith("#fields"))
                .select(F.col("_metadata.file_path").alias("path"), "value").distinct().collect()):
        if row.path in headers and headers[row.path] != row.value:
            raise InputError("the #fields header changes inside the file", where=row.path,
                             fix="split the file where its header changes, or scan it with 'interdit logs scan'")
        headers[row.path] = row.value
    lines = raw.select(F.col("value").cast("binary").alias("line"), F.col("_metadata.file_path").alias("path"),
                       F.col("_metadata.file_block_start").alias("block"))
    return lines.mapInArrow(_zeek_lines(fmt, headers), _STAGE1)


def _zeek_lines(fmt: str, headers: dict[str, str]) -> Any:
    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa  # type: ignore[import-untyped]

        parts: dict[tuple[str, int], list[int]] = {}  # (path, block) -> [lines, rejected]
        readers_by_path: dict[str, Any] = {}
        for batch in batches:
            out: dict[str, list[Any]] = {k: [] for k in _names(_STAGE1)}
            cols = batch.to_pydict()
            for line, path, block in zip(cols["line"], cols["path"], cols["block"], strict=True):
                part = parts.setdefault((path, block), [0, 0])
                seq = part[0]
                part[0] += 1
                reader = readers_by_path.get(path)
                if reader is None:
                    reader = readers.get(fmt)(FileContext(path, _EPOCH, UTC))
                    if path in headers:
                        reader.start([headers[path].encode("utf-8", "surrogateescape")])
                    readers_by_path[path] = reader
                reason, cands, stamp, client = _parse_line(reader, line)
                if reason is not None:
                    part[1] += 1
                    if part[1] <= KEEP:
                        _row(out, path, block, seq, 1, 0, 0, reason, [], None, None, None, fmt)
                elif cands:
                    _row(out, path, block, seq, 2, 0, 0, None, cands, stamp, None, client, fmt)
            yield pa.RecordBatch.from_pydict(out, schema=_arrow(_STAGE1))
        out = {k: [] for k in _names(_STAGE1)}
        for (path, block), (n, r) in parts.items():
            _row(out, path, block, -1, 0, n, r, None, [], None, None, None, fmt)
        yield pa.RecordBatch.from_pydict(out, schema=_arrow(_STAGE1))

    return run


def _parse_line(reader: Any, line: bytes) -> tuple[str | None, list[str], str, str]:
    """(rejection reason, names to look up: the query then its answers, raw time, raw client) of one line."""
    if len(line) > MAX_LINE:
        return f"line longer than {MAX_LINE} bytes", [], "", ""
    try:
        item = reader.parse(line)
    except LineError as e:
        return str(e), [], "", ""
    except (ValueError, KeyError, IndexError, TypeError, UnicodeError) as e:
        return f"unreadable line ({type(e).__name__})", [], "", ""
    if item is None:
        return None, [], "", ""
    name = normalise(item.name)
    if name is None:
        if item.name.strip() in (".", ""):
            return None, [], "", ""
        return f"{item.name[:80]!r} {_BAD_NAME}", [], "", ""
    return None, [name, *(a for a in (normalise(x) for x in item.answers) if a)], item.stamp, item.client


def _parquet_requests(spark: Any, paths: list[str]) -> Any:
    from pyspark.sql import functions as F

    df = spark.read.parquet(*paths)
    rows = df.select(F.unix_micros("ts").alias("ts"), "client", "name", "answers", "format",
                     F.col("_metadata.file_path").alias("path"), F.col("_metadata.row_index").alias("seq"))
    return rows.mapInArrow(_parquet_rows, _STAGE1)


def _parquet_rows(batches: Iterator[Any]) -> Iterator[Any]:
    import pyarrow as pa

    parts: dict[str, list[int]] = {}
    for batch in batches:
        out: dict[str, list[Any]] = {k: [] for k in _names(_STAGE1)}
        cols = batch.to_pydict()
        for ts, client, name, answers, fmt, path, seq in zip(cols["ts"], cols["client"], cols["name"],
                                                               cols["answers"], cols["format"], cols["path"],
                                                               cols["seq"], strict=True):
            part = parts.setdefault(path, [0, 0])
            part[0] += 1
            q = normalise(name or "")
            if q is None or ts is None or client is None:
                part[1] += 1
                if part[1] <= KEEP:
                    _row(out, path, 0, seq, 1, 0, 0, f"{(name or '')[:80]!r}: a row without a DNS name, time or client",
                         [], None, None, None, fmt)
                continue
            cands = [q, *(a for a in (normalise(x) for x in (answers or "").split(",") if x) if a)]
            _row(out, path, 0, seq, 2, 0, 0, None, cands, None, ts, client, fmt or "parquet")
        yield pa.RecordBatch.from_pydict(out, schema=_arrow(_STAGE1))
    out = {k: [] for k in _names(_STAGE1)}
    for path, (n, r) in parts.items():
        _row(out, path, 0, -1, 0, n, r, None, [], None, None, None, "parquet")
    yield pa.RecordBatch.from_pydict(out, schema=_arrow(_STAGE1))


# -- stage 2: whole-label matching in Spark SQL ------------------------------------------------------


def _match(spark: Any, requests: Any, matcher: DomainMatcher) -> Any:
    """Each request with the listed domain nearest to its query (or, failing that, to its first listed answer).

    Suffixes of every name are generated (`a.b.c` -> `a.b.c`, `b.c`, `c`) and joined with the broadcast list:
    a hit is always a whole-label parent, never a substring. The lowest (name position, suffix position)
    wins: the query before the answers, the nearest parent before a farther one."""
    from pyspark.sql import functions as F

    listed = spark.createDataFrame(sorted(matcher.table.items()), "domain string, family string")
    labels = "split(c, '[.]')"
    suffixes = F.expr(
        f"flatten(transform(cands, (c, p) -> transform(sequence(1, size({labels})), i -> "
        f"named_struct('p', p, 'i', i, 'c', c, 's', array_join(slice({labels}, i, size({labels}) - i + 1), '.')))))")
    exploded = requests.withColumn("x", F.explode_outer(suffixes))
    joined = exploded.join(F.broadcast(listed), F.col("x.s") == listed.domain, "left")
    kept = joined.filter(F.col("family").isNotNull() | (F.col("status") != 2))
    hit = F.when(F.col("family").isNotNull(), F.struct(F.col("x.p").alias("p"), F.col("x.i").alias("i"),
                                                        F.col("family"), F.col("x.c").alias("c")))
    first = [F.first(c).alias(c) for c in ("status", "n", "r", "reason", "stamp", "ts", "client", "fmt")]
    name = F.first(F.get(F.col("cands"), 0)).alias("name")
    return kept.groupBy("path", "block", "seq").agg(F.min(hit).alias("hit"), name, *first)


# -- stage 3: times and addresses of the matched requests (the reader's own `when`) ----------------


def _read_matched(matched: Any) -> Any:
    return matched.select("path", "block", "seq", "status", "n", "r", "reason", "stamp", "ts", "client", "fmt",
                          "name", "hit").mapInArrow(_when_where, _STAGE3)


def _when_where(batches: Iterator[Any]) -> Iterator[Any]:
    import pyarrow as pa

    kept: dict[str, int] = {}
    zeek: dict[str, Any] = {}
    for batch in batches:
        out: dict[str, list[Any]] = {k: [] for k in _names(_STAGE3)}
        for row in batch.to_pylist():
            path, status = row["path"], row["status"]
            if status != 2:
                _row3(out, row, status, row["n"], row["r"], row["reason"], None, None, None, None, None)
                continue
            hit = row["hit"]
            try:
                ts = row["ts"]
                if ts is None:
                    reader = zeek.get(row["fmt"])
                    if reader is None:
                        reader = zeek[row["fmt"]] = readers.get(row["fmt"])(FileContext(path, _EPOCH, UTC))
                    ts = (reader.when(row["stamp"]) - _EPOCH) // timedelta(microseconds=1)
                client = client_address(row["client"])
            except LineError as e:
                kept[path] = kept.get(path, 0) + 1
                _row3(out, row, 1, 0, 1, str(e) if kept[path] <= KEEP else None, None, None, None, None, None)
                continue
            weak = hit["p"] > 0
            shown = f"{row['name']} -> {hit['c']}" if weak else row["name"]
            row = dict(row, client=client)
            _row3(out, row, 3, 0, 0, None, hit["family"], weak, shown, ts, ts // _DAY_US)
        yield pa.RecordBatch.from_pydict(out, schema=_arrow(_STAGE3))


def _row3(out: dict[str, list[Any]], row: dict[str, Any], status: int, n: int, r: int, reason: str | None,
          family: str | None, weak: bool | None, shown: str | None, ts: int | None, day: int | None) -> None:
    for k, v in (("path", row["path"]), ("block", row["block"]), ("seq", row["seq"]), ("status", status), ("n", n),
                 ("r", r), ("reason", reason), ("family", family), ("weak", weak), ("shown", shown), ("ts", ts),
                 ("day", day), ("client", row["client"]), ("fmt", row["fmt"])):
        out[k].append(v)


# -- stage 4: sightings and counts -----------------------------------------------------------------


def _aggregate(rows: Any) -> Any:
    """One row per (family, day, client, weak, format) with count, first, last and the earliest name; one row
    per file with its lines read and rejected and its first rejections."""
    from pyspark.sql import functions as F

    is_hit = F.col("status") == 3
    keyed = rows.select(
        is_hit.alias("hit"), F.when(~is_hit, F.col("path")).alias("file"),
        *(F.when(is_hit, F.col(c)).alias(c) for c in ("family", "day", "client", "weak", "fmt")),
        "n", "r", "ts", "shown", "reason", F.struct("ts", "path", "block", "seq").alias("order"),
        F.struct("block", "seq").alias("place"))
    return keyed.groupBy("hit", "file", "family", "day", "client", "weak", "fmt").agg(
        F.count(F.lit(1)).alias("count"), F.sum("n").alias("read"), F.sum("r").alias("rejected"),
        F.min("ts").alias("first"), F.max("ts").alias("last"), F.min_by("shown", "order").alias("example"),
        F.collect_list(F.when(F.col("reason").isNotNull(), F.struct("place", "reason"))).alias("reasons"))


def _collect(rows: Sequence[Any], stats: dict[str, Any] | None) -> list[Sighting]:
    out = []
    read = rejected = matched = 0
    reasons: list[str] = []
    files: set[str] = set()
    for row in rows:
        if row.hit:
            matched += row["count"]
            out.append(Sighting(family=row.family, day=date(1970, 1, 1) + timedelta(days=row.day), client=row.client,
                                first=_us(row.first), last=_us(row.last), count=row["count"], source_format=row.fmt,
                                example_name=row.example, weak=row.weak))
            continue
        name = _local(row.file)
        files.add(name)
        read += row.read or 0
        rejected += row.rejected or 0
        for place, reason in sorted((tuple(x.place), x.reason) for x in row.reasons)[:KEEP]:
            where = f"{name}:{place[1] + 1}" if place[0] == 0 else f"{name} (line {place[1] + 1} of the part " \
                                                                 f"from byte {place[0]})"
            reasons.append(f"{where}: {reason}")
    out.sort(key=lambda s: (s.day, s.family, s.device_source or "", s.device_id or "", s.client, s.weak,
                            s.source_format))
    if stats is not None:
        stats.update(read=read, matched=matched, rejected=rejected, unmatched=read - matched - rejected,
                     rejections=reasons, files=sorted(files))
    return out


def _local(uri: str) -> str:
    """`file:/logs/dns%20a.log` -> `/logs/dns a.log`; other URIs (hdfs:, s3a:) as they are."""
    if uri.startswith("file:"):
        from urllib.parse import unquote, urlparse

        return unquote(urlparse(uri).path)
    return uri


def _us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=int(value))


# -- Arrow rows ------------------------------------------------------------------------------------


def _names(schema: str) -> list[str]:
    return [f.split(" ", 1)[0] for f in schema.split(", ")]


def _arrow(schema: str) -> Any:
    import pyarrow as pa

    types = {"string": pa.string(), "long": pa.int64(), "int": pa.int32(), "boolean": pa.bool_(),
             "array<string>": pa.list_(pa.string())}
    fields = []
    for f in schema.split(", "):
        name, kind = f.split(" ", 1)
        fields.append(pa.field(name, types[kind]))
    return pa.schema(fields)


def _row(out: dict[str, list[Any]], path: str, block: int, seq: int, status: int, n: int, r: int,
         reason: str | None, cands: list[str], stamp: str | None, ts: int | None, client: str | None,
         fmt: str) -> None:
    for k, v in (("path", path), ("block", block), ("seq", seq), ("status", status), ("n", n), ("r", r),
                 ("reason", reason), ("cands", cands), ("stamp", stamp), ("ts", ts), ("client", client),
                 ("fmt", fmt)):
        out[k].append(v)


# -- command line (spark-submit) -------------------------------------------------------------------


def sighting_json(s: Sighting) -> dict[str, Any]:
    return {"family": s.family, "day": s.day.isoformat(), "client": s.client, "first": s.first.isoformat(),
            "last": s.last.isoformat(), "count": s.count, "source_format": s.source_format,
            "example_name": s.example_name, "device_source": s.device_source, "device_id": s.device_id,
            "weak": s.weak}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="interdit.network.spark",
        description="Scan Zeek dns.log files or Parquet request files with Spark; print sightings as JSON lines. "
                    "/ Analyse des journaux Zeek dns.log ou Parquet avec Spark ; une observation JSON par ligne.")
    parser.add_argument("--domains", required=True, type=Path, help="domain list: 'domain [family]' a line")
    parser.add_argument("--out", type=Path, help="write the sightings here (JSON lines) instead of stdout")
    parser.add_argument("--never", action="append", default=[], help="a shared host never to match whole")
    parser.add_argument("--log-format", default="zeek-dns", help="the Zeek TSV format of text logs")
    parser.add_argument("logs", nargs="+", help="Zeek dns.log files or folders, Parquet files (*.parquet)")
    args = parser.parse_args(argv)
    from pyspark.sql import SparkSession

    try:
        domains = read_domain_list(args.domains)
        running = SparkSession.getActiveSession()
        spark = running or SparkSession.builder.appName("interdit-scan").getOrCreate()
        stats: dict[str, Any] = {}
        try:
            sightings = scan_with_spark(spark, args.logs, domains, never=args.never, fmt=args.log_format,
                                        stats=stats)
        finally:
            if running is None:
                spark.stop()
    except InputError as e:
        print(f"error / erreur: {e}", file=sys.stderr)
        return 2
    lines = [json.dumps(sighting_json(s), ensure_ascii=False, sort_keys=True) + "\n" for s in sightings]
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("".join(lines), encoding="utf-8")
    else:
        sys.stdout.writelines(lines)
    print(f"read {stats['read']} lines / lignes lues, matched {stats['matched']} / reconnues, "
          f"rejected {stats['rejected']} / rejetées, {len(sightings)} sightings / observations", file=sys.stderr)
    for reason in stats["rejections"][:KEEP]:
        print(f"  {reason}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
