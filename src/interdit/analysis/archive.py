"""Bounded reading of a hostile APK (ZIP) file.

`zipfile` parses the central directory (the part Android's installer trusts); entry data is read here,
from the local header on, with every size, count and ratio bounded. Nothing is extracted to disk. Every
anomaly becomes a `Problem`; no exception escapes `Archive.open` or `Archive.read`.
"""

from __future__ import annotations

import io
import mmap
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from interdit.analysis.report import DEFAULT_LIMITS, Limits, Problem

_isal: ModuleType | None
try:  # optional: ISA-L's inflate; without it zlib does the same work more slowly
    from isal import isal_zlib as _isal
except ImportError:  # pragma: no cover - isal is a declared dependency on the platforms it has wheels for
    _isal = None

EOCD_SIG = b"PK\x05\x06"
LOCAL_SIG = b"PK\x03\x04"
_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    method: int
    compressed_size: int
    size: int
    offset: int  # local header offset, as zipfile computed it (prefix data accounted for)
    crc: int
    flags: int


@dataclass(slots=True)
class Archive:
    """An opened APK. `data` is the whole file (memory-mapped); `entries` is the central directory."""

    path: Path
    data: bytes | mmap.mmap
    limits: Limits
    entries: list[Entry] = field(default_factory=list)
    by_name: dict[str, Entry] = field(default_factory=dict)  # the first entry of each name
    duplicates: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    cd_offset: int | None = None  # where the central directory starts (absolute file offset)
    eocd_offset: int | None = None
    is_zip: bool = False
    inflated_total: int = 0
    keep: set[str] = field(default_factory=set)  # entry names whose bytes are kept after a first read
    _kept: dict[str, bytes] = field(default_factory=dict)
    _starts: dict[int, int] = field(default_factory=dict)  # local header offset -> data offset
    _mm: mmap.mmap | None = None

    # ------------------------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, limits: Limits = DEFAULT_LIMITS) -> Archive:
        data: bytes | mmap.mmap = b""
        mm: mmap.mmap | None = None
        problems: list[Problem] = []
        try:
            size = path.stat().st_size
            if size > limits.max_file_size:
                problems.append(Problem("file.too-large", "high",
                                        f"{size} bytes exceeds the limit of {limits.max_file_size}", str(path)))
            elif size > 0:
                with path.open("rb") as fh:
                    mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
                data = mm
        except OSError as exc:
            problems.append(Problem("file.unreadable", "high", f"cannot read the file: {exc}", str(path)))
        archive = cls(path=path, data=data, limits=limits, problems=problems, _mm=mm)
        if data:
            archive._read_directory()
        elif not problems:
            archive.problems.append(Problem("file.empty", "high", "the file is empty", str(path)))
        return archive

    def close(self) -> None:
        self._kept.clear()
        if self._mm is not None:
            self._mm.close()
            self._mm = None
            self.data = b""

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _problem(self, code: str, severity: str, message: str, where: str = "archive") -> None:
        self.problems.append(Problem(code, severity, message, where))

    # ------------------------------------------------------------------------------------------------
    def _read_directory(self) -> None:
        data = self.data
        self._find_eocd()
        if self.eocd_offset is None:
            self._problem("zip.not-a-zip", "high",
                          "no end-of-central-directory record: truncated or not a ZIP/APK file")
            return
        try:
            with zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else _MapReader(data)) as zf:
                infos = zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, struct.error,
                NotImplementedError, UnicodeDecodeError, IndexError, KeyError, OverflowError) as exc:
            self._problem("zip.bad-central-directory", "high", f"the central directory cannot be read: {exc}")
            return
        self.is_zip = True
        if len(infos) > self.limits.max_entries:
            self._problem("zip.too-many-entries", "high",
                          f"{len(infos)} entries; only the first {self.limits.max_entries} are read")
            infos = infos[: self.limits.max_entries]
        first_offset = min((i.header_offset for i in infos), default=0)
        if first_offset > 0 and data[:4] != LOCAL_SIG:
            kind = " (a DEX file)" if data[:4] == b"dex\n" else ""
            self._problem("zip.prefix-data", "high",
                          f"{first_offset} bytes{kind} precede the first entry: data prepended to the archive, as "
                          "in the Janus attack (CVE-2017-13156)", "offset 0")
        for info in infos:
            entry = Entry(info.filename, info.compress_type, info.compress_size, info.file_size,
                          info.header_offset, info.CRC, info.flag_bits)
            self.entries.append(entry)
            self._check_name(entry.name)
            if entry.name in self.by_name:
                self.duplicates.append(entry.name)
                self._problem("zip.duplicate-entry", "high",
                              "the name appears more than once in the central directory: tools and Android may "
                              "read different copies (tampering signal)", entry.name)
            else:
                self.by_name[entry.name] = entry
            self._check_local(entry)
            if entry.flags & 0x1:
                self._problem("zip.encrypted-flag", "medium",
                              "entry marked encrypted (Android ignores the flag; tools may refuse it)", entry.name)

    def _find_eocd(self) -> None:
        data = self.data
        n = len(data)
        if n < 22:
            return
        start = max(0, n - 22 - 0xFFFF)
        pos = data.rfind(EOCD_SIG, start)
        while pos >= 0:
            if pos + 22 <= n:
                _, _, _, _, cd_size, cd_offset, comment_len = struct.unpack_from("<HHHHIIH", data, pos + 4)
                if pos + 22 + comment_len <= n:
                    self.eocd_offset = pos
                    prefix = pos - cd_size - cd_offset
                    self.cd_offset = cd_offset + max(prefix, 0)
                    if pos + 22 + comment_len != n:
                        self._problem("zip.trailing-data", "medium",
                                      f"{n - pos - 22 - comment_len} bytes follow the end of the archive")
                    return
            pos = data.rfind(EOCD_SIG, start, pos)

    def _check_local(self, entry: Entry) -> None:
        """Compare the local header with the central directory (tools that read local headers see those)."""
        data, off, where = self.data, entry.offset, entry.name
        if off < 0 or off + 30 > len(data) or data[off:off + 4] != LOCAL_SIG:
            self._problem("zip.bad-local-header", "high", "no local file header where the directory points", where)
            return
        method, _, _, _, _, _, name_len, extra_len = struct.unpack_from("<HHHIIIHH", data, off + 8)
        local_name = bytes(data[off + 30:off + 30 + name_len])
        if local_name not in (entry.name.encode("utf-8", "replace"), entry.name.encode("cp437", "replace")):
            self._problem("zip.local-name-mismatch", "high",
                          f"local header names {local_name[:120]!r}: tools reading local headers see another file",
                          where)
        if method != entry.method:
            self._problem("zip.method-mismatch", "medium",
                          f"central directory says method {entry.method}, local header {method}", where)
        self._starts[off] = off + 30 + name_len + extra_len

    def _check_name(self, name: str) -> None:
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":") or "\x00" in name:
            self._problem("zip.path-traversal", "high",
                          "entry name escapes the archive root if extracted", repr(name)[:200])

    # ------------------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        return list(self.by_name)

    def read(self, name: str, max_size: int | None = None) -> bytes | None:
        """The inflated bytes of the first entry named `name`, or None (with a problem) if it cannot be read."""
        entry = self.by_name.get(name)
        return None if entry is None else self.read_entry(entry, max_size)

    def read_entry(self, entry: Entry, max_size: int | None = None) -> bytes | None:
        kept = self._kept.get(entry.name) if entry.name in self.keep else None
        if kept is not None and self.by_name.get(entry.name) is entry:
            return kept if max_size is None or len(kept) <= max_size else None
        out = self._read_entry(entry, max_size)
        if out is not None and entry.name in self.keep and self.by_name.get(entry.name) is entry:
            self._kept[entry.name] = out
        return out

    def _read_entry(self, entry: Entry, max_size: int | None) -> bytes | None:
        limit = min(max_size or self.limits.max_entry_size, self.limits.max_entry_size)
        where = entry.name
        start = self._starts.get(entry.offset)
        if start is None:  # reported when the directory was read
            return None
        data = self.data
        end = start + entry.compressed_size
        if end > len(data):
            self._problem("zip.truncated-entry", "high", "entry data runs past the end of the file", where)
            return None
        if entry.size > limit:
            self._problem("zip.entry-too-large", "high",
                          f"declares {entry.size} inflated bytes, over the limit of {limit}", where)
            return None
        if (entry.size > _MIB and entry.compressed_size > 0
                and entry.size / entry.compressed_size > self.limits.max_ratio):
            self._problem("zip.bomb-ratio", "high",
                          f"compression ratio {entry.size // max(entry.compressed_size, 1)}:1 over the limit "
                          f"of {self.limits.max_ratio}:1 (zip bomb)", where)
            return None
        budget = self.limits.max_total_inflated - self.inflated_total
        if budget <= 0:
            self._problem("zip.total-too-large", "high", "total inflated size limit reached; entry skipped", where)
            return None
        cap = min(limit, budget)
        raw = data[start:end]
        if entry.method == 0:
            out = bytes(raw[:cap + 1])
        elif entry.method == 8:
            fast = _fast_inflate(raw, entry, cap)
            if fast is not None:
                self.inflated_total += len(fast)
                return fast
            try:
                d = zlib.decompressobj(-15)
                out = d.decompress(raw, cap + 1)
            except zlib.error as exc:
                self._problem("zip.bad-deflate", "high", f"compressed data is corrupt: {exc}", where)
                return None
        else:
            # Android's installer reads an unknown method as stored; tools that refuse it miss the entry.
            self._problem("zip.unknown-method", "high",
                          f"compression method {entry.method}: read as stored, as Android does", where)
            out = bytes(raw[:cap + 1])
        if len(out) > cap:
            self._problem("zip.bomb-size", "high",
                          f"inflates past {cap} bytes (declared {entry.size}); reading stopped (zip bomb)", where)
            self.inflated_total += cap
            return None
        self.inflated_total += len(out)
        if entry.method in (0, 8) and len(out) != entry.size:
            self._problem("zip.size-mismatch", "medium",
                          f"inflated to {len(out)} bytes, central directory declares {entry.size}", where)
        elif entry.method in (0, 8) and zlib.crc32(out) != entry.crc:
            self._problem("zip.crc-mismatch", "medium", "CRC-32 does not match the central directory", where)
        return out


def _fast_inflate(raw: bytes, entry: Entry, cap: int) -> bytes | None:
    """The entry inflated by ISA-L (the same DEFLATE, about twice as fast as zlib), when it is complete and
    exactly what the directory declares (size within `cap`, CRC-32); else None, and zlib reads it as before,
    so a damaged or hostile entry is reported exactly as zlib sees it."""
    if _isal is None or entry.size > cap:
        return None
    try:
        d = _isal.decompressobj(-15)
        out: bytes = d.decompress(raw, cap + 1)
    except Exception:  # ISA-L's own error types: zlib then reads the entry and names the fault
        return None
    if d.eof and len(out) == entry.size and _isal.crc32(out) == entry.crc:
        return out
    return None


class _MapReader:
    """A read-only file object over an mmap, so zipfile reads the directory without copying the file."""

    def __init__(self, mm: mmap.mmap) -> None:
        self._mm = mm
        self._pos = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: len(self._mm)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def read(self, n: int = -1) -> bytes:
        end = len(self._mm) if n is None or n < 0 else min(len(self._mm), self._pos + n)
        out = self._mm[self._pos:end]
        self._pos = end
        return out

    def seekable(self) -> bool:
        return True
