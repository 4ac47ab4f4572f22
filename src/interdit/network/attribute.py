"""Client address -> device, by time: DHCP leases (ISC dhcpd, Kea CSV, dnsmasq) and MDM-reported addresses.

A lease says "this address belonged to this hardware address from `start` to `end`"; the hardware address
leads to a device when an MDM reports it (`Device.addresses`), else the lease's own hardware address names
the device (source `dhcp`). An MDM-reported IP address is trusted for a day either side of the time the MDM
saw it. An address nothing explains stays unattributed: its sightings are kept and reported by address.
"""

from __future__ import annotations

import bisect
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from interdit.model import Device, Rejection

MDM_WINDOW = 86_400.0  # seconds either side of Device.observed_at
MAX_LEASE_FILE = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Lease:
    address: str
    start: float | None  # Unix seconds; None: since ever
    end: float | None  # None: never ends
    hardware: str | None = None  # lowercased MAC
    hostname: str | None = None


@dataclass
class LeaseFile:
    path: str
    format: str
    leases: list[Lease] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    read: int = 0


_ISC_TIME = re.compile(r"(?:\d\s+)?(\d{4})/(\d{1,2})/(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})")


def _isc_time(value: str) -> float | None:
    v = value.strip().rstrip(";").strip()
    if v == "never":
        return None
    if v.startswith("epoch"):
        return float(v.split()[1])
    m = _ISC_TIME.match(v)
    if m is None:
        raise ValueError(f"{value!r} is not a dhcpd time")
    y, mo, d, hh, mm, ss = (int(x) for x in m.groups())
    return datetime(y, mo, d, hh, mm, ss, tzinfo=UTC).timestamp()


def parse_leases(data: str, path: str = "<leases>") -> LeaseFile:
    """Read ISC dhcpd `dhcpd.leases`, Kea `kea-leases4.csv`/`kea-leases6.csv` or dnsmasq `dnsmasq.leases`."""
    head = data.lstrip()[:200]
    if head.startswith("address,"):
        return _kea(data, path)
    if re.search(r"^\s*lease\s+\S+\s*\{", data, re.M) or (head.startswith("#") and "lease " in data):
        return _isc(data, path)
    return _dnsmasq(data, path)


def _isc(data: str, path: str) -> LeaseFile:
    out = LeaseFile(path, "isc-dhcpd")
    block: dict[str, str] | None = None
    address, start_line = "", 0
    for n, raw in enumerate(data.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"lease\s+(\S+)\s*\{", line)
        if m:
            block, address, start_line = {}, m.group(1), n
            continue
        if block is None:
            continue
        if line.startswith("}"):
            out.read += 1
            try:
                out.leases.append(Lease(
                    address, _isc_time(block["starts"]) if "starts" in block else None,
                    _isc_time(block["ends"]) if "ends" in block else None,
                    block.get("hardware", "").split()[-1].rstrip(";").lower() or None if "hardware" in block else None,
                    block.get("client-hostname", "").strip().rstrip(";").strip('"') or None))
            except (ValueError, IndexError) as e:
                out.rejections.append(Rejection(f"{path}:{start_line}", f"lease {address}: {e}",
                                                "check the starts/ends lines"))
            block = None
            continue
        key, _, value = line.partition(" ")
        block[key] = value
    return out


def _kea(data: str, path: str) -> LeaseFile:
    out = LeaseFile(path, "kea-csv")
    for n, row in enumerate(csv.DictReader(io.StringIO(data)), start=2):
        out.read += 1
        try:
            expire = float(row["expire"])
            lifetime = float(row.get("valid_lifetime") or 0)
            out.leases.append(Lease(row["address"], expire - lifetime if lifetime else None, expire,
                                    (row.get("hwaddr") or "").lower() or None, row.get("hostname") or None))
        except (KeyError, ValueError, TypeError) as e:
            out.rejections.append(Rejection(f"{path}:{n}", f"Kea lease row cannot be read: {e}",
                                            "the columns are address,hwaddr,...,valid_lifetime,expire,..."))
    return out


def _dnsmasq(data: str, path: str) -> LeaseFile:
    out = LeaseFile(path, "dnsmasq")
    for n, raw in enumerate(data.splitlines(), start=1):
        parts = raw.split()
        if not parts or parts[0] == "duid":
            continue
        out.read += 1
        try:
            expiry = float(parts[0])
            hw = parts[1].lower()
            out.leases.append(Lease(parts[2], None, None if expiry == 0 else expiry, hw,
                                    parts[3] if len(parts) > 3 and parts[3] != "*" else None))
        except (ValueError, IndexError):
            out.rejections.append(Rejection(f"{path}:{n}", "not a dnsmasq lease line (expiry mac ip host id)",
                                            "pass dhcpd.leases, a Kea CSV file or dnsmasq.leases"))
    return out


def read_lease_file(path: Path) -> LeaseFile:
    if path.stat().st_size > MAX_LEASE_FILE:
        return LeaseFile(str(path), "?", rejections=[Rejection(str(path), "lease file larger than 512 MiB")], read=1)
    return parse_leases(path.read_text("utf-8", "replace"), str(path))


class Attributor:
    """Answer "which device had this address at this time?"."""

    def __init__(self, leases: Iterable[Lease] = (), devices: Iterable[Device] = ()) -> None:
        by_mac: dict[str, tuple[str, str]] = {}
        by_name: dict[str, tuple[str, str]] = {}
        self._mdm: dict[str, list[tuple[float, tuple[str, str]]]] = {}
        for d in devices:
            if d.name:
                by_name.setdefault(d.name.lower(), d.key)
            for a in d.addresses:
                a = a.strip().lower()
                if _is_mac(a):
                    by_mac[a.replace("-", ":")] = d.key
                elif a:
                    self._mdm.setdefault(a, []).append((d.observed_at.timestamp(), d.key))
        for v in self._mdm.values():
            v.sort()
        self._leases: dict[str, list[tuple[float, float, tuple[str, str]]]] = {}
        for lease in leases:
            if lease.hardware and lease.hardware in by_mac:
                who = by_mac[lease.hardware]
            elif lease.hostname and lease.hostname.lower() in by_name:
                who = by_name[lease.hostname.lower()]
            elif lease.hardware:
                who = ("dhcp", lease.hardware)
            else:
                continue
            start = lease.start if lease.start is not None else float("-inf")
            end = lease.end if lease.end is not None else float("inf")
            self._leases.setdefault(lease.address, []).append((start, end, who))
        for spans in self._leases.values():
            spans.sort()

    def __bool__(self) -> bool:
        return bool(self._leases or self._mdm)

    def device(self, address: str, at: float) -> tuple[str, str] | None:
        spans = self._leases.get(address)
        if spans:
            i = bisect.bisect_right(spans, (at, float("inf"), ("\uffff", "")))
            for start, end, who in reversed(spans[:i]):
                if start <= at < end:
                    return who
        seen = self._mdm.get(address)
        if seen:
            best = min(seen, key=lambda s: abs(s[0] - at))
            if abs(best[0] - at) <= MDM_WINDOW:
                return best[1]
        return None


def _is_mac(a: str) -> bool:
    parts = a.replace("-", ":").split(":")
    return len(parts) == 6 and all(len(p) == 2 and all(c in "0123456789abcdef" for c in p) for p in parts)


def lease_sources(paths: Iterable[Path]) -> Iterator[LeaseFile]:
    for p in paths:
        yield read_lease_file(p)
