"""A bounded reader of the parts of a Mach-O file an app review needs: slices and architectures, platform and
minimum OS, linked libraries, encryption (LC_ENCRYPTION_INFO cryptid), PIE, the code signature (CodeDirectory,
entitlements, CMS) and readable strings and Objective-C class names.

Written here rather than taken from LIEF or macholib: only about fifteen load commands are read, the whole
parse is a few struct reads over a buffer already in memory (no file handles, no object graph), and every
count and offset is bounded against the buffer so a hostile file yields problems, not exceptions. LIEF is a
60 MB native wheel; macholib builds a full object model and reads from a file; both parse far more than
needed. See docs/analysis.md for the measurements.
"""

from __future__ import annotations

import plistlib
import struct
from dataclasses import dataclass, field
from typing import Any

from interdit.analysis.report import Problem

FAT_MAGIC, FAT_MAGIC_64 = 0xCAFEBABE, 0xCAFEBABF
MH_MAGIC, MH_MAGIC_64 = 0xFEEDFACE, 0xFEEDFACF
MH_PIE = 0x200000
MAX_SLICES = 16
MAX_COMMANDS = 4096
MAX_STRINGS_SECTION = 32 * 1024 * 1024
MAX_SIGNATURE = 4 * 1024 * 1024
MAX_BLOBS = 64
_CPU = {7: "i386", 0x01000007: "x86_64", 12: "arm", 0x0100000C: "arm64", 0x0200000C: "arm64_32"}
_ARM_SUB = {9: "armv7", 11: "armv7s", 12: "armv7k"}
PLATFORMS = {1: "macos", 2: "ios", 3: "tvos", 4: "watchos", 6: "mac-catalyst", 7: "ios-simulator",
             8: "tvos-simulator", 9: "watchos-simulator", 11: "visionos", 12: "visionos-simulator"}
_VERSION_MIN = {0x24: "macos", 0x25: "ios", 0x2F: "tvos", 0x30: "watchos"}
_DYLIB_CMDS = {0xC: "load", 0x80000018: "weak", 0x8000001F: "reexport", 0x20: "lazy", 0x80000023: "upward"}
_HASH_TYPES = {1: "SHA-1", 2: "SHA-256", 3: "SHA-256 (truncated)", 4: "SHA-384"}
_CLASS_SYMBOL = b"_OBJC_CLASS_$_"


class MachOError(Exception):
    pass


@dataclass(slots=True)
class CodeSignature:
    identifier: str = ""
    team_id: str = ""
    hash_types: list[str] = field(default_factory=list)
    cd_version: str = ""
    cms: bool = False  # a non-empty CMS signature blob (an ad-hoc signature has none)
    entitlements: dict[str, Any] | None = None
    der_entitlements: bool = False


@dataclass(slots=True)
class Slice:
    arch: str
    offset: int
    size: int
    kind: str = "macho"  # macho | archive | unknown
    filetype: int = 0
    platform: str = ""
    min_os: str = ""
    sdk: str = ""
    pie: bool = False
    cryptid: int | None = None  # None: no LC_ENCRYPTION_INFO
    crypt_range: tuple[int, int] = (0, 0)
    dylibs: list[tuple[str, str]] = field(default_factory=list)  # (kind, path)
    rpaths: list[str] = field(default_factory=list)
    signature: CodeSignature | None = None
    strings: list[bytes] = field(default_factory=list)  # __cstring, when readable
    classes: set[str] = field(default_factory=set)  # ObjC classes this binary defines (__objc_classname)
    class_refs: set[str] = field(default_factory=set)  # _OBJC_CLASS_$_ symbols (defined or imported)
    swift_modules: set[str] = field(default_factory=set)  # modules of the Swift classes defined here
    stack_canary: bool = False
    arc: bool = False


@dataclass(slots=True)
class MachO:
    slices: list[Slice] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    fat: bool = False

    @property
    def encrypted(self) -> bool:
        return any(s.cryptid for s in self.slices)

    @property
    def signature(self) -> CodeSignature | None:
        return next((s.signature for s in self.slices if s.signature is not None), None)


def is_macho(buf: bytes) -> bool:
    if len(buf) < 8:
        return False
    magic = struct.unpack_from(">I", buf)[0]
    return magic in (FAT_MAGIC, FAT_MAGIC_64) or struct.unpack_from("<I", buf)[0] in (MH_MAGIC, MH_MAGIC_64)


def read_macho(buf: bytes, where: str) -> MachO:
    """Every slice of a fat or thin Mach-O; damage becomes problems naming `where`."""
    out = MachO()
    if len(buf) < 8:
        out.problems.append(Problem("macho.truncated", "high", "shorter than a Mach-O header", where))
        return out
    magic = struct.unpack_from(">I", buf)[0]
    try:
        if magic in (FAT_MAGIC, FAT_MAGIC_64):
            out.fat = True
            count = struct.unpack_from(">I", buf, 4)[0]
            if count > MAX_SLICES:
                raise MachOError(f"fat header declares {count} slices (at most {MAX_SLICES} read)")
            for i in range(count):
                if magic == FAT_MAGIC:
                    cpu, sub, off, size, _ = struct.unpack_from(">iiIII", buf, 8 + 20 * i)
                else:
                    cpu, sub, off, size, _, _ = struct.unpack_from(">iiQQII", buf, 8 + 32 * i)
                if off + size > len(buf) or off <= 0:
                    out.problems.append(Problem("macho.bad-slice", "high",
                                                f"slice {i} at {off}+{size} lies outside the file", where))
                    continue
                out.slices.append(_slice(buf, off, size, _arch(cpu, sub), where, out.problems))
        else:
            out.slices.append(_slice(buf, 0, len(buf), "", where, out.problems))
    except (MachOError, struct.error, ValueError, IndexError) as exc:
        out.problems.append(Problem("macho.malformed", "high", f"Mach-O stops being readable: {exc}", where))
    return out


def _arch(cpu: int, sub: int) -> str:
    if cpu == 12:
        return _ARM_SUB.get(sub & 0xFFFFFF, "arm")
    if cpu == 0x0100000C and sub & 0xFFFFFF == 2:
        return "arm64e"
    return _CPU.get(cpu, f"cpu-{cpu}")


def _version(v: int) -> str:
    return f"{v >> 16}.{(v >> 8) & 0xFF}" + (f".{v & 0xFF}" if v & 0xFF else "")


def _cstr(buf: bytes, start: int, end: int) -> str:
    stop = buf.find(b"\x00", start, end)
    return buf[start:stop if stop >= 0 else end].decode("utf-8", "replace")


def _slice(buf: bytes, base: int, size: int, arch: str, where: str, problems: list[Problem]) -> Slice:
    end = base + size
    head = buf[base:base + 8]
    if head.startswith(b"!<arch>\n"):
        return Slice(arch or "?", base, size, kind="archive")
    magic = struct.unpack_from("<I", buf, base)[0]
    if magic not in (MH_MAGIC, MH_MAGIC_64):
        problems.append(Problem("macho.bad-magic", "high", f"slice at {base} is not a Mach-O (0x{magic:08x})", where))
        return Slice(arch or "?", base, size, kind="unknown")
    is64 = magic == MH_MAGIC_64
    cpu, sub, filetype, ncmds, sizeofcmds, flags = struct.unpack_from("<iiIIII", buf, base + 4)
    sl = Slice(arch or _arch(cpu, sub), base, size, filetype=filetype, pie=bool(flags & MH_PIE))
    pos = base + (32 if is64 else 28)
    limit = min(pos + sizeofcmds, end)
    if pos + sizeofcmds > end:
        problems.append(Problem("macho.truncated", "high", f"load commands declare {sizeofcmds} bytes, the slice "
                                f"holds {end - pos}", where))
    if ncmds > MAX_COMMANDS:
        problems.append(Problem("macho.too-many-commands", "high", f"{ncmds} load commands", where))
        ncmds = MAX_COMMANDS
    sections: list[tuple[str, str, int, int]] = []
    symtab: tuple[int, int] | None = None
    for _ in range(ncmds):
        if pos + 8 > limit:
            problems.append(Problem("macho.truncated", "high", "load commands run past their declared size", where))
            break
        cmd, cmdsize = struct.unpack_from("<II", buf, pos)
        if cmdsize < 8 or pos + cmdsize > limit:
            problems.append(Problem("macho.bad-command", "high", f"load command 0x{cmd:x} has size {cmdsize}", where))
            break
        body = pos
        if cmd in (0x19, 0x1):  # LC_SEGMENT_64 / LC_SEGMENT
            nsects = struct.unpack_from("<I", buf, body + (64 if cmd == 0x19 else 48))[0]
            first, step = (body + 72, 80) if cmd == 0x19 else (body + 56, 68)
            for i in range(min(nsects, 256)):
                p = first + step * i
                if p + step > pos + cmdsize:
                    break
                sect, seg = (_cstr(buf, p, p + 16), _cstr(buf, p + 16, p + 32))
                if cmd == 0x19:
                    ssize, soff = struct.unpack_from("<Q", buf, p + 40)[0], struct.unpack_from("<I", buf, p + 48)[0]
                else:
                    ssize, soff = struct.unpack_from("<II", buf, p + 36)
                sections.append((seg, sect, soff, ssize))
        elif cmd in (0x21, 0x2C):  # LC_ENCRYPTION_INFO(_64)
            cryptoff, cryptsize, cryptid = struct.unpack_from("<III", buf, body + 8)
            sl.cryptid, sl.crypt_range = cryptid, (cryptoff, cryptoff + cryptsize)
        elif cmd in _DYLIB_CMDS or cmd == 0xD:
            off = struct.unpack_from("<I", buf, body + 8)[0]
            name = _cstr(buf, body + off, pos + cmdsize) if off < cmdsize else ""
            if cmd != 0xD:
                sl.dylibs.append((_DYLIB_CMDS[cmd], name))
        elif cmd == 0x8000001C:  # LC_RPATH
            off = struct.unpack_from("<I", buf, body + 8)[0]
            sl.rpaths.append(_cstr(buf, body + off, pos + cmdsize) if off < cmdsize else "")
        elif cmd == 0x32:  # LC_BUILD_VERSION
            platform, minos, sdk = struct.unpack_from("<III", buf, body + 8)
            sl.platform = PLATFORMS.get(platform, f"platform-{platform}")
            sl.min_os, sl.sdk = _version(minos), _version(sdk)
        elif cmd in _VERSION_MIN:
            version, sdk = struct.unpack_from("<II", buf, body + 8)
            sl.platform = sl.platform or _VERSION_MIN[cmd]
            sl.min_os, sl.sdk = _version(version), _version(sdk)
        elif cmd == 0x1D:  # LC_CODE_SIGNATURE
            dataoff, datasize = struct.unpack_from("<II", buf, body + 8)
            sl.signature = _code_signature(buf, base + dataoff, datasize, end, where, problems)
        elif cmd == 0x2:  # LC_SYMTAB
            _, _, stroff, strsize = struct.unpack_from("<IIII", buf, body + 8)
            symtab = (stroff, strsize)
        pos += cmdsize
    if sl.platform in ("ios", "tvos", "watchos") and sl.arch in ("i386", "x86_64"):
        sl.platform += "-simulator"  # old simulator builds say "ios" in LC_VERSION_MIN_IPHONEOS
    _strings(buf, base, end, sl, sections, symtab)
    return sl


def _readable(sl: Slice, off: int, size: int) -> bool:
    lo, hi = sl.crypt_range
    return not sl.cryptid or off + size <= lo or off >= hi


def _strings(buf: bytes, base: int, end: int, sl: Slice, sections: list[tuple[str, str, int, int]],
             symtab: tuple[int, int] | None) -> None:
    for seg, sect, off, size in sections:
        if seg != "__TEXT" or sect not in ("__cstring", "__objc_classname") or not _readable(sl, off, size):
            continue
        start, stop = base + off, min(base + off + min(size, MAX_STRINGS_SECTION), end)
        if start >= stop:
            continue
        items = [s for s in buf[start:stop].split(b"\x00") if len(s) >= 3]
        if sect == "__cstring":
            sl.strings.extend(items)
        else:
            for item in items:
                name = item.decode("utf-8", "replace")
                swift = swift_class(name)
                if swift is not None:
                    sl.swift_modules.add(swift[0])
                    name = swift[1]
                sl.classes.add(name)
    if symtab is not None:  # __LINKEDIT is never encrypted: class symbols stay readable in store builds
        stroff, strsize = symtab
        start, stop = base + stroff, min(base + stroff + min(strsize, MAX_STRINGS_SECTION), end)
        table = buf[start:stop] if start < stop else b""
        pos = table.find(_CLASS_SYMBOL)
        while pos >= 0:
            stop_at = table.find(b"\x00", pos)
            symbol = table[pos + len(_CLASS_SYMBOL):stop_at if stop_at >= 0 else len(table)]
            if symbol:
                sl.class_refs.add(symbol.decode("utf-8", "replace"))
            pos = table.find(_CLASS_SYMBOL, pos + 1)
        sl.stack_canary = b"___stack_chk_guard" in table or b"___stack_chk_fail" in table
        sl.arc = b"_objc_release" in table or b"_swift_release" in table


def swift_class(name: str) -> tuple[str, str] | None:
    """(module, class) of a Swift class's Objective-C runtime name, `_TtC<len><module><len><class>`
    (e.g. `_TtC6Sentry9SentrySDK`), or None."""
    if not name.startswith("_TtC"):
        return None
    parts, pos = [], 4
    for _ in range(2):
        digits = pos
        while pos < len(name) and name[pos].isdigit() and pos - digits < 4:
            pos += 1
        if digits == pos:
            return None
        size = int(name[digits:pos])
        if size == 0 or pos + size > len(name):
            return None
        parts.append(name[pos:pos + size])
        pos += size
    return parts[0], parts[1]


def _code_signature(buf: bytes, start: int, size: int, end: int, where: str,
                    problems: list[Problem]) -> CodeSignature | None:
    if size > MAX_SIGNATURE or start + size > end or size < 12:
        problems.append(Problem("macho.bad-signature", "medium",
                                f"code signature at {start}+{size} lies outside the slice or is too large", where))
        return None
    sig = CodeSignature()
    magic, _length, count = struct.unpack_from(">III", buf, start)
    if magic != 0xFADE0CC0:
        problems.append(Problem("macho.bad-signature", "medium", f"code signature magic 0x{magic:08x}", where))
        return None
    for i in range(min(count, MAX_BLOBS)):
        if 12 + 8 * i + 8 > size:
            break
        _typ, off = struct.unpack_from(">II", buf, start + 12 + 8 * i)
        if off + 8 > size:
            continue
        p = start + off
        bmagic, blen = struct.unpack_from(">II", buf, p)
        blen = min(blen, size - off)
        if bmagic == 0xFADE0C02 and blen >= 44:
            version, _flags, _hoff, ident_off = struct.unpack_from(">IIII", buf, p + 8)
            hash_type = buf[p + 37]
            sig.hash_types.append(_HASH_TYPES.get(hash_type, f"type {hash_type}"))
            if not sig.identifier:
                sig.cd_version = f"0x{version:x}"
                if ident_off < blen:
                    sig.identifier = _cstr(buf, p + ident_off, p + blen)
                if version >= 0x20200 and blen >= 52:
                    team_off = struct.unpack_from(">I", buf, p + 48)[0]
                    if team_off and team_off < blen:
                        sig.team_id = _cstr(buf, p + team_off, p + blen)
        elif bmagic == 0xFADE7171:
            try:
                value = plistlib.loads(bytes(buf[p + 8:p + blen]))
                sig.entitlements = value if isinstance(value, dict) else {}
            except Exception:  # plistlib raises several types on damaged input
                problems.append(Problem("macho.bad-entitlements", "medium",
                                        "the entitlements blob is not a readable plist", where))
        elif bmagic == 0xFADE7172:
            sig.der_entitlements = True
        elif bmagic == 0xFADE0B01:
            sig.cms = blen > 8
    return sig
