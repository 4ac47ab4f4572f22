"""A bounded reader of DEX string, type and class tables, across classes*.dex.

Only the tables are read (header, string_ids, type_ids, class_defs), never the code: that is enough to tell
the classes an APK *bundles* (defines) from the types it merely *references*, and to give every string
its location for endpoint and secret searches. Pure Python over a memoryview; malformed input never raises
out of `read_dex`.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field
from itertools import accumulate

from interdit.analysis.report import DEFAULT_LIMITS, Limits, Problem

_DEX_NAME = re.compile(r"^classes(\d*)\.dex$")
_HEADER = struct.Struct("<8sI20sIIIIIIIIIIIIIIIIIIII")


class DexError(Exception):
    """Internal: raised inside the reader, always caught by `read_dex`."""


@dataclass(slots=True)
class DexFile:
    name: str
    version: str = ""
    strings: list[bytes] = field(default_factory=list)  # MUTF-8 bytes, by string index
    types: list[str] = field(default_factory=list)  # descriptors, by type index ("Lcom/a/B;")
    defined: list[str] = field(default_factory=list)  # class names defined here ("com.a.B")
    problems: list[Problem] = field(default_factory=list)
    unit: str = "string"  # how a place in this table is named: "classes2.dex string #12", "x.json line #3"
    _joined: tuple[bytes, list[int]] | None = None

    def place(self, index: int) -> str:
        return f"{self.name} {self.unit} #{index + 1 if self.unit == 'line' else index}"

    def string(self, index: int) -> str:
        return _mutf8(self.strings[index])

    def joined(self) -> tuple[bytes, list[int]]:
        """Every string joined by newlines, and where each starts (for one regex pass over the table)."""
        if self._joined is None:
            starts = list(accumulate(map((1).__add__, map(len, self.strings)), initial=0))
            starts.pop()
            self._joined = (b"\n".join(self.strings), starts)
        return self._joined


@dataclass(slots=True)
class DexSet:
    """Every DEX file of an APK, and the union of what they define and reference."""

    files: list[DexFile] = field(default_factory=list)
    defined: set[str] = field(default_factory=set)
    referenced: set[str] = field(default_factory=set)  # class types used but defined in no DEX here

    @property
    def string_count(self) -> int:
        return sum(len(f.strings) for f in self.files)


def dex_entry_names(names: list[str]) -> list[str]:
    """classes.dex, classes2.dex, ... in the order Android loads them."""
    found = [(int(m.group(1) or 1), n) for n in names if (m := _DEX_NAME.match(n))]
    return [n for _, n in sorted(found)]


def _mutf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def descriptor_to_class(desc: str) -> str | None:
    if len(desc) > 2 and desc[0] == "L" and desc[-1] == ";":
        return desc[1:-1].replace("/", ".")
    return None


def _is_class(desc: str) -> bool:
    """What `descriptor_to_class` turns into a class name."""
    return len(desc) > 2 and desc[0] == "L" and desc[-1] == ";"


def read_dex(buf: bytes, name: str = "classes.dex", limits: Limits = DEFAULT_LIMITS) -> DexFile:
    dex = DexFile(name=name)
    try:
        _read(memoryview(buf), buf, dex, limits)
    except (DexError, struct.error, IndexError, ValueError) as exc:
        dex.problems.append(Problem("dex.malformed", "high", f"DEX tables stop being readable: {exc}", name))
    return dex


def _read(view: memoryview, buf: bytes, dex: DexFile, limits: Limits) -> None:
    name = dex.name
    size = len(buf)
    if size < _HEADER.size:
        raise DexError("shorter than a DEX header")
    h = _HEADER.unpack_from(buf, 0)
    magic, checksum = h[0], h[1]
    if magic[:4] != b"dex\n" or magic[7:8] != b"\x00":
        raise DexError(f"bad magic {magic!r}")
    dex.version = magic[4:7].decode("ascii", "replace")
    file_size, _header_size, endian = h[3], h[4], h[5]
    if endian != 0x12345678:
        raise DexError(f"unsupported endian tag 0x{endian:08x}")
    if file_size != size:
        dex.problems.append(Problem("dex.size-mismatch", "medium",
                                    f"header declares {file_size} bytes, entry holds {size}", name))
    if zlib.adler32(view[12:]) != checksum:
        dex.problems.append(Problem("dex.bad-checksum", "medium",
                                    "Adler-32 checksum does not match the header (modified after build)", name))
    string_ids_size, string_ids_off = h[9], h[10]
    type_ids_size, type_ids_off = h[11], h[12]
    class_defs_size, class_defs_off = h[19], h[20]
    if string_ids_size > limits.max_dex_strings:
        dex.problems.append(Problem("dex.too-many-strings", "high",
                                    f"{string_ids_size} strings; only {limits.max_dex_strings} read", name))
        string_ids_size = limits.max_dex_strings
    string_ids_size = _fit(dex, "string_ids", string_ids_off, string_ids_size, 4, size)
    type_ids_size = _fit(dex, "type_ids", type_ids_off, type_ids_size, 4, size)
    class_defs_size = _fit(dex, "class_defs", class_defs_off, class_defs_size, 32, size)

    offsets = struct.unpack_from(f"<{string_ids_size}I", buf, string_ids_off) if string_ids_size else ()
    strings: list[bytes] = []
    append = strings.append
    find = buf.find
    bad = 0
    for off in offsets:
        if off >= size:
            bad += 1
            append(b"")
            continue
        # skip the uleb128 UTF-16 length (1 to 5 bytes)
        p = off
        while p < size and buf[p] & 0x80 and p - off < 5:
            p += 1
        p += 1
        end = find(b"\x00", p)
        if end < 0:
            bad += 1
            end = size
        append(buf[p:end])
    if bad:
        dex.problems.append(Problem("dex.bad-string", "medium", f"{bad} string ids point outside the file", name))
    dex.strings = strings
    n_strings = len(strings)
    type_idx = struct.unpack_from(f"<{type_ids_size}I", buf, type_ids_off) if type_ids_size else ()
    types = [_mutf8(strings[i]) if i < n_strings else "" for i in type_idx]
    dex.types = types
    n_types = len(types)
    # class_idx is the first of the eight uint32 of each class_def
    class_idx = struct.unpack_from(f"<{8 * class_defs_size}I", buf, class_defs_off)[::8] if class_defs_size else ()
    defined = [d[1:-1].replace("/", ".") for d in (types[c] for c in class_idx if c < n_types) if _is_class(d)]
    dex.defined = defined


def _fit(dex: DexFile, table: str, off: int, count: int, item: int, size: int) -> int:
    if count == 0:
        return 0
    if off <= 0 or off >= size:
        dex.problems.append(Problem("dex.bad-table", "high", f"{table} offset {off} outside the file", dex.name))
        return 0
    room = (size - off) // item
    if count > room:
        dex.problems.append(Problem("dex.bad-table", "high",
                                    f"{table} declares {count} items, the file has room for {room}", dex.name))
        return room
    return count


def build_set(files: list[DexFile]) -> DexSet:
    out = DexSet(files=files)
    defined = out.defined
    for f in files:
        defined.update(f.defined)
    referenced: set[str] = set()
    for f in files:
        referenced.update(d[1:-1].replace("/", ".") for d in f.types if _is_class(d))
    out.referenced = referenced - defined
    return out
