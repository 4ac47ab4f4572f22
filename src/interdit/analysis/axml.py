"""A bounded reader of Android binary XML (AXML), as found in AndroidManifest.xml.

Attributes are identified the way Android's package manager identifies them: by the resource id in the
resource map when there is one, not by the attribute's name string (renaming an attribute string is a known
trick that makes tools read a different manifest than the device does). Every bound and every oddity
becomes a `Problem`; malformed input never raises out of `parse_axml`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from interdit.analysis.report import DEFAULT_LIMITS, Limits, Problem

RES_XML = 0x0003
RES_STRING_POOL = 0x0001
RES_RESOURCE_MAP = 0x0180
XML_START_NS = 0x0100
XML_END_NS = 0x0101
XML_START = 0x0102
XML_END = 0x0103
XML_CDATA = 0x0104
ANDROID_NS = "http://schemas.android.com/apk/res/android"

# Android framework attribute ids (android.R.attr) this analyzer reads.
ATTR_IDS: dict[int, str] = {
    0x01010001: "label", 0x01010003: "name", 0x01010006: "permission", 0x01010007: "readPermission",
    0x01010008: "writePermission", 0x01010009: "protectionLevel", 0x0101000B: "sharedUserId",
    0x0101000E: "enabled", 0x0101000F: "debuggable", 0x01010010: "exported", 0x01010012: "taskAffinity",
    0x0101001B: "grantUriPermissions", 0x0101001D: "launchMode", 0x01010202: "targetActivity",
    0x01010204: "allowTaskReparenting", 0x0101020C: "minSdkVersion", 0x0101021B: "versionCode",
    0x0101021C: "versionName", 0x01010270: "targetSdkVersion", 0x01010271: "maxSdkVersion",
    0x01010272: "testOnly", 0x01010280: "allowBackup", 0x010104EC: "usesCleartextTraffic",
    0x01010527: "networkSecurityConfig", 0x01010572: "compileSdkVersion", 0x01010018: "authorities",
    0x010100D0: "host", 0x010100D1: "port", 0x010100D2: "path", 0x01010027: "scheme",
}

TYPE_REFERENCE = 0x01
TYPE_STRING = 0x03
TYPE_INT_DEC = 0x10
TYPE_INT_HEX = 0x11
TYPE_BOOLEAN = 0x12


class AxmlError(Exception):
    """Internal: raised inside the parser, always caught by `parse_axml`."""


@dataclass(frozen=True, slots=True)
class Value:
    text: str  # the value as a string (booleans "true"/"false", references "@7f010000")
    kind: int  # AXML data type
    data: int  # raw 32-bit data

    @property
    def as_int(self) -> int | None:
        if self.kind in (TYPE_INT_DEC, TYPE_INT_HEX):
            return self.data - (1 << 32) if self.data & 0x80000000 else self.data
        if self.kind == TYPE_STRING:
            try:
                return int(self.text.strip(), 0)
            except ValueError:
                return None
        return None

    @property
    def as_bool(self) -> bool | None:
        if self.kind == TYPE_BOOLEAN:
            return self.data != 0
        if self.kind == TYPE_STRING and self.text.lower() in ("true", "false"):
            return self.text.lower() == "true"
        return None


@dataclass(slots=True)
class Element:
    tag: str
    attrs: dict[str, Value]  # android attributes by plain name ("name"), others as written ("package")
    line: int
    depth: int
    parent: int  # index of the parent element, -1 for the root
    children: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Document:
    elements: list[Element] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def root(self) -> Element | None:
        return self.elements[0] if self.elements else None

    def children(self, index: int, tag: str | None = None) -> list[tuple[int, Element]]:
        return [(i, self.elements[i]) for i in self.elements[index].children
                if tag is None or self.elements[i].tag == tag]


class _Strings:
    """The string pool, decoded lazily (a hostile pool may declare millions of strings)."""

    def __init__(self, buf: bytes, off: int, limits: Limits, problems: list[Problem], where: str) -> None:
        _, header_size, size = struct.unpack_from("<HHI", buf, off)
        count, _styles, flags, strings_start, _ = struct.unpack_from("<IIIII", buf, off + 8)
        end = min(off + size, len(buf))
        if count > limits.max_axml_strings:
            problems.append(Problem("axml.too-many-strings", "high",
                                    f"string pool declares {count} strings; limit {limits.max_axml_strings}", where))
            count = limits.max_axml_strings
        table = off + header_size
        avail = max(0, (end - table) // 4)
        if count > avail:
            problems.append(Problem("axml.string-pool-truncated", "medium",
                                    f"string pool declares {count} strings but has room for {avail}", where))
            count = avail
        self._offsets = struct.unpack_from(f"<{count}I", buf, table) if count else ()
        self._buf = buf
        self._base = off + strings_start
        self._end = end
        self._utf8 = bool(flags & (1 << 8))
        self._cache: dict[int, str] = {}
        self.count = count

    def get(self, index: int) -> str:
        if index == 0xFFFFFFFF or index < 0 or index >= self.count:
            return ""
        cached = self._cache.get(index)
        if cached is not None:
            return cached
        pos = self._base + self._offsets[index]
        buf, end = self._buf, self._end
        text = ""
        try:
            if self._utf8:
                pos = self._skip_len8(pos)  # length in characters
                n, pos = self._len8(pos)
                text = buf[pos:min(pos + n, end)].decode("utf-8", "replace")
            else:
                n = struct.unpack_from("<H", buf, pos)[0]
                pos += 2
                if n & 0x8000:
                    n = ((n & 0x7FFF) << 16) | struct.unpack_from("<H", buf, pos)[0]
                    pos += 2
                text = buf[pos:min(pos + 2 * n, end)].decode("utf-16-le", "replace")
        except struct.error:
            text = ""
        text = text.split("\x00", 1)[0] if "\x00" in text else text
        self._cache[index] = text
        return text

    def raw(self, index: int) -> bytes:
        """`get(index)` as UTF-8 bytes. An ASCII string of a UTF-8 pool (nearly all of them) is sliced, not decoded
        and encoded again; the others go through `get`."""
        if self._utf8 and 0 <= index < self.count and index not in self._cache:
            pos = self._skip_len8(self._base + self._offsets[index])
            n, pos = self._len8(pos)
            data = self._buf[pos:min(pos + n, self._end)]
            if data.isascii():
                return data.split(b"\x00", 1)[0]
        return self.get(index).encode("utf-8", "replace")

    def _len8(self, pos: int) -> tuple[int, int]:
        n = self._buf[pos]
        if n & 0x80:
            return ((n & 0x7F) << 8) | self._buf[pos + 1], pos + 2
        return n, pos + 1

    def _skip_len8(self, pos: int) -> int:
        return pos + (2 if self._buf[pos] & 0x80 else 1)


def _value(strings: _Strings, raw: int, kind: int, data: int) -> Value:
    if kind == TYPE_STRING:
        return Value(strings.get(data if raw == 0xFFFFFFFF else raw), kind, data)
    if kind == TYPE_BOOLEAN:
        return Value("true" if data else "false", kind, data)
    if kind == TYPE_INT_DEC:
        return Value(str(data - (1 << 32) if data & 0x80000000 else data), kind, data)
    if kind == TYPE_INT_HEX:
        return Value(f"0x{data:08x}", kind, data)
    if kind == TYPE_REFERENCE:
        return Value(f"@{data:08x}", kind, data)
    if raw != 0xFFFFFFFF:
        return Value(strings.get(raw), TYPE_STRING, data)
    return Value(str(data), kind, data)


def parse_axml(buf: bytes, limits: Limits = DEFAULT_LIMITS, where: str = "AndroidManifest.xml") -> Document:
    """Parse AXML into a flat element list. Never raises on malformed input."""
    doc = Document()
    if len(buf) > limits.max_manifest_size:
        doc.problems.append(Problem("axml.too-large", "high",
                                    f"{len(buf)} bytes; limit {limits.max_manifest_size}", where))
        return doc
    try:
        _parse(buf, limits, where, doc)
    except (AxmlError, struct.error, IndexError, ValueError) as exc:
        doc.problems.append(Problem("axml.malformed", "high", f"binary XML stops being readable: {exc}", where))
    return doc


def _parse(buf: bytes, limits: Limits, where: str, doc: Document) -> None:
    problems = doc.problems
    if len(buf) < 8:
        raise AxmlError("shorter than a chunk header")
    if buf[:1] == b"<":
        raise AxmlError("plain-text XML, not binary XML (not as built by the Android tools)")
    ftype, fheader, fsize = struct.unpack_from("<HHI", buf, 0)
    if ftype != RES_XML:
        problems.append(Problem("axml.bad-magic", "medium",
                                f"file chunk type 0x{ftype:04x}, expected 0x0003 (parser-confusion trick)", where))
    if fsize != len(buf):
        problems.append(Problem("axml.bad-file-size", "low",
                                f"header declares {fsize} bytes, file has {len(buf)}", where))
    pos = fheader if 8 <= fheader < len(buf) else 8
    strings: _Strings | None = None
    resource_ids: tuple[int, ...] = ()
    stack: list[int] = []
    end_of_data = len(buf)
    while pos + 8 <= end_of_data:
        ctype, hsize, csize = struct.unpack_from("<HHI", buf, pos)
        if csize < 8 or hsize < 8 or hsize > csize:
            problems.append(Problem("axml.bad-chunk", "medium",
                                    f"chunk at offset {pos} has size {csize}, header {hsize}; reading stops", where))
            break
        if pos + csize > end_of_data:
            problems.append(Problem("axml.truncated", "medium", f"chunk at offset {pos} runs past the end", where))
        if ctype == RES_STRING_POOL:
            if strings is not None:
                problems.append(Problem("axml.second-string-pool", "medium",
                                        "a second string pool (Android uses the first)", where))
            else:
                strings = _Strings(buf, pos, limits, problems, where)
        elif ctype == RES_RESOURCE_MAP:
            n = min((csize - hsize) // 4, (end_of_data - pos - hsize) // 4, limits.max_axml_strings)
            resource_ids = struct.unpack_from(f"<{n}I", buf, pos + hsize) if n > 0 else ()
        elif ctype in (XML_START_NS, XML_END_NS):
            pass  # namespaces are resolved per attribute from the string pool
        elif ctype == XML_START:
            if strings is None:
                raise AxmlError("element before any string pool")
            if len(doc.elements) >= limits.max_axml_elements:
                problems.append(Problem("axml.too-many-elements", "high",
                                        f"more than {limits.max_axml_elements} elements; reading stops", where))
                break
            if len(stack) >= limits.max_axml_depth:
                problems.append(Problem("axml.too-deep", "high",
                                        f"nesting deeper than {limits.max_axml_depth}; reading stops", where))
                break
            line = struct.unpack_from("<I", buf, pos + 8)[0]
            elem = _start_element(buf, pos, hsize, csize, strings, resource_ids, line, where, problems)
            elem.depth = len(stack)
            elem.parent = stack[-1] if stack else -1
            index = len(doc.elements)
            if stack:
                doc.elements[stack[-1]].children.append(index)
            elif doc.elements:
                problems.append(Problem("axml.second-root", "medium",
                                        f"a second top-level element <{elem.tag}> (line {line})", where))
            doc.elements.append(elem)
            stack.append(index)
        elif ctype == XML_END:
            if stack:
                stack.pop()
            else:
                problems.append(Problem("axml.unbalanced", "low", f"end tag without start at offset {pos}", where))
        elif ctype != XML_CDATA:
            problems.append(Problem("axml.unknown-chunk", "low",
                                    f"unknown chunk type 0x{ctype:04x} at offset {pos} (skipped, as Android does)",
                                    where))
        pos += csize
    if strings is None:
        raise AxmlError("no string pool")


def _start_element(buf: bytes, pos: int, hsize: int, csize: int, strings: _Strings,
                   resource_ids: tuple[int, ...], line: int, where: str, problems: list[Problem]) -> Element:
    ext = pos + hsize
    _ns, name, attr_start, attr_size, attr_count = struct.unpack_from("<IIHHH", buf, ext)
    tag = strings.get(name)
    attrs: dict[str, Value] = {}
    if attr_size < 20:
        problems.append(Problem("axml.bad-attribute-size", "medium",
                                f"<{tag}> line {line}: attribute size {attr_size} (< 20)", where))
        attr_size = 20
    base = ext + attr_start
    limit = min(pos + csize, len(buf))
    if base + attr_count * attr_size > limit:
        problems.append(Problem("axml.attributes-truncated", "medium",
                                f"<{tag}> line {line}: {attr_count} attributes do not fit in the chunk", where))
        attr_count = max(0, (limit - base) // attr_size)
    for i in range(attr_count):
        a = base + i * attr_size
        a_ns, a_name, a_raw, _, _, a_type, a_data = struct.unpack_from("<IIIHBBI", buf, a)
        written = strings.get(a_name)
        rid = resource_ids[a_name] if a_name < len(resource_ids) else 0
        known = ATTR_IDS.get(rid)
        if known is not None:
            key = known
            if written and written != known:
                problems.append(Problem("axml.attribute-name-mismatch", "high",
                                        f"<{tag}> line {line}: attribute string {written!r} has the resource id of "
                                        f"android:{known} (Android reads it as {known})", where))
        elif (a_ns != 0xFFFFFFFF and strings.get(a_ns) == ANDROID_NS and rid == 0 and resource_ids
              and written in ATTR_IDS.values()):
            # An android: attribute without a resource id is ignored by the package manager.
            key = f"unresolved:{written}"
            problems.append(Problem("axml.attribute-without-id", "medium",
                                    f"<{tag}> line {line}: android:{written} has no resource id; Android ignores it",
                                    where))
        else:
            key = written
        value = _value(strings, a_raw, a_type, a_data)
        if known is not None and a_ns != 0xFFFFFFFF and strings.get(a_ns) != ANDROID_NS:
            problems.append(Problem("axml.attribute-namespace", "low",
                                    f"<{tag}> line {line}: {known}={value.text!r} has namespace "
                                    f"{strings.get(a_ns)!r}, not the Android URI; Android still reads it by "
                                    "resource id, tools reading by namespace miss it", where))
        if key in attrs:
            problems.append(Problem("axml.duplicate-attribute", "medium",
                                    f"<{tag}> line {line}: attribute {key} given twice (first kept)", where))
            continue
        attrs[key] = value
    return Element(tag=tag, attrs=attrs, line=line, depth=0, parent=-1)
