"""Small, honest builders of app files for tests: a DEX file that defines given classes, an APK around it,
and an IPA from parts (Info.plist, executable, frameworks). Enough structure for the analyzer's readers."""

from __future__ import annotations

import io
import plistlib
import struct
import warnings
import zipfile
import zlib
from typing import Any


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def dex_with_classes(defined: list[str], referenced: list[str] = (), strings: list[str] = ()) -> bytes:  # type: ignore[assignment]
    """A DEX file whose class_defs define `defined` ("com.a.B"), that references `referenced` types, and holds
    `strings` in its string table."""
    descs = {f"L{c.replace('.', '/')};" for c in [*defined, *referenced]}
    all_strings = sorted(descs | set(strings))
    index = {s: i for i, s in enumerate(all_strings)}
    types = sorted(d for d in descs)
    type_index = {d: i for i, d in enumerate(types)}
    header = 0x70
    string_ids_off = header
    type_ids_off = string_ids_off + 4 * len(all_strings)
    class_defs_off = type_ids_off + 4 * len(types)
    data_off = class_defs_off + 32 * len(defined)
    data = bytearray()
    offsets = []
    for s in all_strings:
        offsets.append(data_off + len(data))
        raw = s.encode("utf-8")
        data += _uleb(len(s)) + raw + b"\x00"
    body = bytearray()
    body += b"".join(struct.pack("<I", o) for o in offsets)
    body += b"".join(struct.pack("<I", index[t]) for t in types)
    for c in defined:
        body += struct.pack("<8I", type_index[f"L{c.replace('.', '/')};"], 1, 0xFFFFFFFF, 0, 0xFFFFFFFF, 0, 0, 0)
    body += data
    size = header + len(body)
    fields = [0] * 20
    fields[0] = size  # file_size
    fields[1] = header
    fields[2] = 0x12345678
    fields[6], fields[7] = len(all_strings), string_ids_off
    fields[8], fields[9] = len(types), type_ids_off
    fields[16], fields[17] = len(defined), class_defs_off
    fields[18], fields[19] = len(body), header
    rest = b"\x00" * 20 + struct.pack("<20I", *fields) + bytes(body)
    return b"dex\n035\x00" + struct.pack("<I", zlib.adler32(rest)) + rest


def zip_bytes(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of `entries`, byte-for-byte the same on every run (fixed dates)."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w", method) as zf:
            for name, data in entries:
                zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, compress_type=method)
    return buf.getvalue()


def rebuild_zip(src: bytes, changes: dict[str, bytes | None], add: list[tuple[str, bytes]] = ()  # type: ignore[assignment]
                ) -> bytes:
    """`src` (a zip) with entries replaced (`changes[name] = bytes`), removed (`None`) and added."""
    with zipfile.ZipFile(io.BytesIO(src)) as zf:
        entries = [(n, changes[n] if n in changes else zf.read(n)) for n in zf.namelist()
                   if not (n in changes and changes[n] is None)]
    return zip_bytes([(n, d) for n, d in entries if d is not None] + list(add))


def info_plist(bundle_id: str = "org.example.app", executable: str = "App", **extra: Any) -> bytes:
    plist: dict[str, Any] = {"CFBundleIdentifier": bundle_id, "CFBundleExecutable": executable,
                             "CFBundleName": executable, "CFBundleShortVersionString": "1.2.3",
                             "CFBundleVersion": "45", "MinimumOSVersion": "15.0", "UIDeviceFamily": [1, 2],
                             "CFBundleSupportedPlatforms": ["iPhoneOS"], "DTPlatformName": "iphoneos"}
    plist.update(extra)
    return plistlib.dumps(plist, fmt=plistlib.FMT_BINARY)


def macho(strings: list[str] = (), cryptid: int | None = 0, dylibs: list[str] = (),  # type: ignore[assignment]
          entitlements: dict[str, Any] | None = None, pie: bool = True,
          classes: list[str] = ()) -> bytes:  # type: ignore[assignment]
    """A thin arm64 Mach-O: LC_BUILD_VERSION (iOS 15), LC_ENCRYPTION_INFO_64, LC_LOAD_DYLIB for `dylibs`, a
    __TEXT,__cstring holding `strings`, and LC_CODE_SIGNATURE with a CodeDirectory and `entitlements`."""
    cstring = b"".join(s.encode() + b"\x00" for s in strings)
    classnames = b"".join(c.encode() + b"\x00" for c in classes)
    cmds = []
    cmds.append(struct.pack("<IIIIII", 0x32, 24, 2, 15 << 16, 16 << 16, 0))  # LC_BUILD_VERSION, no tools
    for d in dylibs:
        name = d.encode() + b"\x00"
        name += b"\x00" * (-(24 + len(name)) % 8)
        cmds.append(struct.pack("<IIIIII", 0xC, 24 + len(name), 24, 0, 0x10000, 0x10000) + name)
    head = 32
    sizes = sum(len(c) for c in cmds) + 232 + (24 if cryptid is not None else 0) + 16
    text_off = (head + sizes + 15) & ~15
    names_off = text_off + len(cstring)
    seg = struct.pack("<II16sQQQQiiII", 0x19, 72 + 160, b"__TEXT", 0, 0x4000, 0, names_off + len(classnames), 5, 5,
                      2, 0)
    sect = struct.pack("<16s16sQQIIIIIIII", b"__cstring", b"__TEXT", text_off, len(cstring), text_off, 0, 0, 0, 2,
                       0, 0, 0)
    sect2 = struct.pack("<16s16sQQIIIIIIII", b"__objc_classname", b"__TEXT", names_off, len(classnames), names_off,
                        0, 0, 0, 2, 0, 0, 0)
    cmds.append(seg + sect + sect2)
    if cryptid is not None:
        cmds.append(struct.pack("<IIIIII", 0x2C, 24, text_off, len(cstring), cryptid, 0))
    sig_off = (names_off + len(classnames) + 15) & ~15
    ident = b"org.example.app\x00"
    cd = struct.pack(">IIIIIIIIIBBBBI", 0xFADE0C02, 0, 0x20400, 0, 0, 88, 0, 0, 0, 32, 2, 0, 12, 0)
    cd = cd + b"\x00" * (88 - len(cd)) + ident
    cd = cd[:4] + struct.pack(">I", len(cd)) + cd[8:]
    blobs = [(0, cd)]
    if entitlements is not None:
        ent = plistlib.dumps(entitlements)
        blobs.append((5, struct.pack(">II", 0xFADE7171, 8 + len(ent)) + ent))
    index_len = 12 + 8 * len(blobs)
    sb = b""
    idx = b""
    for typ, blob in blobs:
        idx += struct.pack(">II", typ, index_len + len(sb))
        sb += blob
    superblob = struct.pack(">III", 0xFADE0CC0, index_len + len(sb), len(blobs)) + idx + sb
    cmds.append(struct.pack("<IIII", 0x1D, 16, sig_off, len(superblob)))
    lc = b"".join(cmds)
    flags = 0x200000 if pie else 0
    header = struct.pack("<IiiIIII", 0xFEEDFACF, 0x0100000C, 0, 2, len(cmds), len(lc), flags) + b"\x00" * 4
    out = bytearray(header + lc)
    out += b"\x00" * (text_off - len(out))
    out += cstring + classnames
    out += b"\x00" * (sig_off - len(out))
    out += superblob
    return bytes(out)
