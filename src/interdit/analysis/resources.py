"""Strings outside the code: the resource table (`resources.arsc`), compiled XML resources (`res/xml/*.xml`,
where network security configs live) and small text assets. Endpoints and secrets are searched there too.

Each source becomes a string table with the same shape as a DEX string table, so every place a string was
found is named the same way (`resources.arsc string #12`, `assets/config.json line #3`). Every read is
bounded; a damaged table is a `Problem`, never an exception.
"""

from __future__ import annotations

import struct

from interdit.analysis.archive import Archive
from interdit.analysis.axml import RES_STRING_POOL, _Strings
from interdit.analysis.dex import DexFile
from interdit.analysis.report import Limits, Problem

RES_TABLE = 0x0002
RES_XML = 0x0003
TEXT_ASSETS = (".json", ".xml", ".txt", ".properties", ".js", ".html", ".htm", ".cfg", ".conf", ".ini", ".yaml",
               ".yml", ".plist")


def pool_strings(buf: bytes, limits: Limits, where: str, problems: list[Problem]) -> list[bytes]:
    """The first string pool of a resource chunk file (resources.arsc or binary XML), as UTF-8 bytes."""
    try:
        if len(buf) < 8:
            return []
        ctype, hsize = struct.unpack_from("<HH", buf, 0)
        if ctype not in (RES_TABLE, RES_XML) or not 8 <= hsize < len(buf):
            return []
        if struct.unpack_from("<H", buf, hsize)[0] != RES_STRING_POOL:
            problems.append(Problem("resources.no-string-pool", "low", "no string pool after the header", where))
            return []
        pool = _Strings(buf, hsize, limits, problems, where)
        return [pool.raw(i) for i in range(pool.count)]
    except (struct.error, IndexError, ValueError) as exc:
        problems.append(Problem("resources.malformed", "medium", f"string pool cannot be read: {exc}", where))
        return []


def resource_strings(archive: Archive, limits: Limits) -> tuple[list[DexFile], list[Problem]]:
    """String tables of the resource table, compiled XML resources and text assets, bounded by `limits`."""
    problems: list[Problem] = []
    tables: list[DexFile] = []
    raw = archive.read("resources.arsc", limits.max_resources_size)
    if raw is not None:
        tables.append(DexFile(name="resources.arsc", strings=pool_strings(raw, limits, "resources.arsc", problems)))
    xml_names = [n for n in archive.names() if n.startswith("res/xml/") and n.endswith(".xml")]
    assets = [e for n, e in archive.by_name.items() if n.startswith("assets/") and n.lower().endswith(TEXT_ASSETS)
              and e.size <= limits.max_asset_size]
    if len(xml_names) + len(assets) > limits.max_resource_files:
        problems.append(Problem("resources.too-many-files", "low",
                                f"{len(xml_names) + len(assets)} resource and asset files; only "
                                f"{limits.max_resource_files} searched", "res/xml/, assets/"))
    budget = limits.max_resource_files
    for name in xml_names[:budget]:
        buf = archive.read(name, limits.max_manifest_size)
        if buf is not None:
            tables.append(DexFile(name=name, strings=pool_strings(buf, limits, name, problems)))
    budget -= min(len(xml_names), budget)
    for entry in assets[:budget]:
        buf = archive.read_entry(entry, limits.max_asset_size)
        if buf is not None:
            tables.append(DexFile(name=entry.name, strings=buf.split(b"\n"), unit="line"))
    return [t for t in tables if t.strings], problems


RES_TABLE_PACKAGE = 0x0200
RES_TABLE_TYPE = 0x0201
_NO_ENTRY = 0xFFFFFFFF


def resolve_string(arsc: bytes, res_id: int, limits: Limits) -> str | None:
    """The default-configuration string value of resource `res_id` (e.g. 0x7f050007) in resources.arsc, as
    Android shows `@string/...` references in the manifest; None when it is not a plain string. Bounded: reads
    only the chunk headers and the one entry, and never raises."""
    try:
        return _resolve(arsc, res_id, limits)
    except (struct.error, IndexError, ValueError):
        return None


def _resolve(buf: bytes, res_id: int, limits: Limits) -> str | None:
    package_id, type_id, entry_id = res_id >> 24, (res_id >> 16) & 0xFF, res_id & 0xFFFF
    if len(buf) < 12 or struct.unpack_from("<H", buf, 0)[0] != RES_TABLE:
        return None
    header = struct.unpack_from("<H", buf, 2)[0]
    problems: list[Problem] = []
    strings = None
    pos, chunks = header, 0
    candidates: list[tuple[bool, str]] = []  # (default configuration, value)
    while pos + 8 <= len(buf) and chunks < 10_000:
        chunks += 1
        ctype, hsize, size = struct.unpack_from("<HHI", buf, pos)
        if size < 8 or pos + size > len(buf):
            return None
        if ctype == RES_STRING_POOL and strings is None:
            strings = _Strings(buf, pos, limits, problems, "resources.arsc")
        elif ctype == RES_TABLE_PACKAGE and struct.unpack_from("<I", buf, pos + 8)[0] == package_id:
            inner, end = pos + hsize, pos + size
            while inner + 8 <= end and chunks < 10_000:
                chunks += 1
                itype, ihsize, isize = struct.unpack_from("<HHI", buf, inner)
                if isize < 8 or inner + isize > end:
                    break
                if itype == RES_TABLE_TYPE and buf[inner + 8] == type_id:
                    found = _entry(buf, inner, ihsize, entry_id)
                    if found is not None and strings is not None:
                        config_size = struct.unpack_from("<I", buf, inner + 20)[0]
                        config = buf[inner + 24:inner + 20 + config_size]
                        candidates.append((not any(config), strings.get(found)))
                inner += isize
        pos += size
    for default, value in candidates:
        if default:
            return value
    return candidates[0][1] if candidates else None


def _entry(buf: bytes, chunk: int, hsize: int, entry_id: int) -> int | None:
    """The string pool index of entry `entry_id` in a type chunk, if it holds a plain string."""
    flags = buf[chunk + 9]
    count, entries_start = struct.unpack_from("<II", buf, chunk + 12)
    table = chunk + hsize
    offset: int | None = None
    if flags & 0x01:  # sparse: (u16 entry index, u16 offset / 4) pairs, sorted by index
        for i in range(count):
            idx, off4 = struct.unpack_from("<HH", buf, table + 4 * i)
            if idx == entry_id:
                offset = off4 * 4
                break
    elif entry_id < count:
        if flags & 0x02:  # 16-bit offsets (divided by 4), 0xFFFF for none
            off16 = struct.unpack_from("<H", buf, table + 2 * entry_id)[0]
            offset = None if off16 == 0xFFFF else off16 * 4
        else:
            off32 = struct.unpack_from("<I", buf, table + 4 * entry_id)[0]
            offset = None if off32 == _NO_ENTRY else off32
    if offset is None:
        return None
    at = chunk + entries_start + offset
    size, eflags = struct.unpack_from("<HH", buf, at)
    if eflags & 0x0008:  # compact entry: key (u16), flags with the data type in the high byte, data (u32)
        data_type, data = eflags >> 8, struct.unpack_from("<I", buf, at + 4)[0]
    elif eflags & 0x0001:  # a complex (bag) entry: not a plain value
        return None
    else:
        data_type, data = buf[at + size + 3], struct.unpack_from("<I", buf, at + size + 4)[0]
    return int(data) if data_type == 0x03 else None
