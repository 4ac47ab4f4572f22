"""Network logs: scan DNS, proxy and TLS logs for prohibited apps' names, store and list the sightings."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interdit.catalogue import blockable_domains
from interdit.errors import ConfigError, InputError
from interdit.model import Catalogue, Rejection, Sighting
from interdit.pipeline.basics import Clock, LoadedPolicy, system_clock

if TYPE_CHECKING:
    from interdit.storage.repo import Repository


@dataclass(frozen=True)
class ScannedFile:
    path: str
    format: str | None
    compression: str
    read: int
    matched: int
    unmatched: int
    rejected: int
    weak: int
    seconds: float
    error: str | None = None  # the file could not be scanned at all (unknown format, unreadable)
    replaced: bool = False  # stored, replacing an earlier scan of the same input


@dataclass(frozen=True)
class ScanResult:
    """What a scan found. Lines read = matched + unmatched + rejected, per file and in total."""

    files: tuple[ScannedFile, ...]
    sightings: tuple[Sighting, ...]
    rejections: tuple[Rejection, ...]  # the first few per file, with file:line
    lease_rejections: tuple[Rejection, ...] = ()
    stored: bool = False
    refused: tuple[str, ...] = ()  # listed names not looked for (invalid, or a shared host never matched whole)

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def matched(self) -> int:
        return sum(f.matched for f in self.files)

    @property
    def unmatched(self) -> int:
        return sum(f.unmatched for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def weak(self) -> int:
        return sum(f.weak for f in self.files)

    @property
    def failed_files(self) -> tuple[ScannedFile, ...]:
        return tuple(f for f in self.files if f.error)


def log_formats() -> list[tuple[str, str, str]]:
    """(name, summary, example line) of every log format the scanner reads."""
    from interdit.network.base import readers as log_readers

    return [(name, cls.summary, cls.example) for name, cls in log_readers.items()]


def policy_domains(loaded: LoadedPolicy, families: Sequence[str] = ()) -> dict[str, str]:
    """domain -> family for the policy's families (or the given ones), shared hosts already removed."""
    cat = loaded.catalogue
    chosen = tuple(families) or tuple(sorted({f for rule in loaded.policy.rules for f in rule.families}))
    return family_domains(cat, chosen)


def family_domains(cat: Catalogue, families: Sequence[str]) -> dict[str, str]:
    unknown = [f for f in families if f not in cat.families]
    if unknown:
        raise ConfigError(f"unknown families: {', '.join(unknown)}",
                          fix="see 'interdit catalogue search NAME' for the family ids")
    out: dict[str, str] = {}
    for f in families:
        for d in blockable_domains(cat, (f,)):
            out.setdefault(d, f)
    return out


def read_domain_list(path: Path, default_family: str = "listed") -> dict[str, str]:
    """A domain list file: `domain [family]` a line (tab or spaces), `#` comments. Bad lines are errors."""
    from interdit.network.match import read_domain_list as read

    return read(path, default_family)


def _expand(paths: Sequence[Path | str]) -> list[str]:
    out: list[str] = []
    for p in paths:
        s = str(p)
        if s == "-":
            out.append(s)
        elif Path(s).is_dir():
            out.extend(str(c) for c in sorted(Path(s).iterdir()) if c.is_file())
        else:
            out.append(s)
    return out


def scan_logs(paths: Sequence[Path | str], *, families_domains: Mapping[str, str] | None = None,
              domains_file: Path | None = None, repo: Repository | None = None,
              leases: Sequence[Path] = (), progress: Callable[[str, int], None] | None = None,
              fmt: str | None = None, tz: str = "UTC", jobs: int = 2, never: Sequence[str] = (),
              follow: Callable[[], bool] | None = None, on_match: Callable[[Any], None] | None = None,
              clock: Clock = system_clock, actor: str | None = None) -> ScanResult:
    """Scan DNS, proxy and TLS logs for the listed domains, one file at a time.

    Matches are attributed to devices by DHCP leases and the addresses the MDMs report (from `repo`), and
    aggregated per device (or address), family and day. With `repo`, each file's sightings are stored,
    replacing an earlier scan of the same file (see storage/sightings.py). Bad lines are counted and the
    first few shown with their line numbers; a file that cannot be read at all is reported, never raised.
    With `repo` and `actor`, the stored scan is recorded in the audit trail (action `logs.scan`).
    The names come from `families_domains` (domain -> family) or from a list file, `domains_file`
    (`domain [family]` lines; a long list is kept, once read, in the user's cache).
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from interdit.network.attribute import Attributor, read_lease_file
    from interdit.network.base import readers as log_readers
    from interdit.network.match import DomainMatcher
    from interdit.network.scan import scan_file

    if fmt is not None and fmt not in log_readers:
        raise ConfigError(f"unknown log format {fmt!r}", fix=f"use one of: {', '.join(log_readers.names())}")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {tz!r}", fix="use an IANA name such as UTC or America/Toronto") \
            from None
    if (families_domains is None) == (domains_file is None):
        raise ConfigError("give the names to look for either as a mapping or as a list file, not both",
                          fix="pass families_domains or domains_file")
    if domains_file is not None:
        from interdit.network.match import load_domain_list

        matcher = load_domain_list(domains_file, never=never)
    else:
        matcher = DomainMatcher(families_domains or {}, never=never)
    if not matcher:
        raise ConfigError("no domain to look for",
                          fix="prohibit a family with domains in the policy, or pass --domains")
    lease_list = []
    lease_rejections: list[Rejection] = []
    for p in leases:
        if not Path(p).is_file():
            raise InputError(f"no lease file at {p}", fix="pass dhcpd.leases, a Kea CSV lease file or dnsmasq.leases")
        lf = read_lease_file(Path(p))
        lease_list.extend(lf.leases)
        lease_rejections.extend(lf.rejections)
    devices = [s.device for s in repo.device_states(clock(), (), ())] if repo is not None else []
    attributor = Attributor(lease_list, devices)
    files: list[ScannedFile] = []
    found: list[Sighting] = []
    rejections: list[Rejection] = []
    pending: list[dict[str, Any]] = []  # the sightings to store, per file: all in one transaction at the end
    from interdit.network.columnar import is_parquet, parquet_rows
    from interdit.network.columnar import scan_parquet as scan_columns

    for path in _expand(paths):
        if path != "-" and is_parquet(path):  # written by convert_logs: matched in DuckDB, same rules
            rows = parquet_rows(Path(path))
            these = scan_columns(Path(path), matcher.table)
            hits = sum(s.count for s in these)
            files.append(ScannedFile(path, "parquet", "none", rows, hits, rows - hits, 0, 0, 0.0))
            found.extend(these)
            continue
        r = scan_file(path, matcher, attributor, fmt=fmt, tz=zone, jobs=jobs, follow=follow, on_match=on_match)
        these = r.aggregate.sightings()
        if repo is not None and r.format and not r.error and r.head:
            pending.append(dict(head=r.head, path=path, fmt=r.format, at=clock(), lines_read=r.read,
                                matched=r.matched, unmatched=r.unmatched, rejected=r.rejected, sightings=these,
                                file=len(files)))
        files.append(ScannedFile(path, r.format, r.compression, r.read, r.matched, r.unmatched, r.rejected, r.weak,
                                 round(r.seconds, 3), r.error, False))
        found.extend(these)
        rejections.extend(r.rejections)
        if progress is not None:
            progress(path, r.read)
    if repo is not None:
        _store_scans(repo, files, pending, found, actor, clock)
    result = ScanResult(tuple(files), tuple(found), tuple(rejections), tuple(lease_rejections), repo is not None,
                        tuple(matcher.refused))
    return result


def _store_scans(repo: Repository, files: list[ScannedFile], pending: list[dict[str, Any]], found: list[Sighting],
                 actor: str | None, clock: Clock) -> None:
    """Store the scanned files' sightings, and with `actor` the scan's audit entry, in one transaction: when
    the entry cannot be written, nothing is stored. Marks in `files` the ones that replaced an earlier scan."""
    from interdit.pipeline.audit import audit_trail, require_trail
    from interdit.storage.sightings import save_scans

    log = audit_trail(repo.engine, clock) if actor is not None else None
    require_trail(log, actor, "logs.scan")
    places = [scan.pop("file") for scan in pending]

    def audit(conn: Any, stored: list[Any]) -> object:
        assert log is not None and actor is not None
        replaced = {places[i] for i, s in enumerate(stored) if s.replaced}
        names = [Path(f.path).name or f.path for f in files]
        return log.append(actor, "logs.scan", ", ".join(names)[:300] or "-", conn=conn, after={
            "files": names[:200], "read": sum(f.read for f in files), "matched": sum(f.matched for f in files),
            "unmatched": sum(f.unmatched for f in files), "rejected": sum(f.rejected for f in files),
            "sightings": len(found), "replaced": len(replaced)})

    stored = save_scans(repo.engine, pending, audit if actor is not None else None) if pending or actor else []
    for i, s in zip(places, stored, strict=True):
        if s.replaced:
            files[i] = dataclasses.replace(files[i], replaced=True)


def sightings(repo: Repository, *, family: str | None = None, since: date | None = None, until: date | None = None,
              device: tuple[str, str] | None = None, include_weak: bool = True,
              limit: int | None = None) -> list[Sighting]:
    """Stored sightings, summed over every scanned log (scanning a log again never doubles its counts)."""
    from interdit.storage.sightings import load_sightings

    return load_sightings(repo.engine, family=family, since=since, until=until, device=device,
                          include_weak=include_weak, limit=limit)


def convert_logs(paths: Sequence[Path | str], out: Path, *, fmt: str | None = None, tz: str = "UTC") -> dict[str, Any]:
    """Write every request of the logs (time, client, name, kind, qtype, action, format) to one Parquet file."""
    from interdit.network.columnar import to_parquet

    return to_parquet(_expand(paths), out, fmt=fmt, tz=tz)


def scan_parquet(path: Path, *, families_domains: Mapping[str, str], never: Sequence[str] = ()) -> list[Sighting]:
    """Scan a Parquet file written by `convert_logs` with DuckDB, with the same matching rules."""
    from interdit.network.columnar import scan_parquet as _scan

    return _scan(path, families_domains, never=never)
