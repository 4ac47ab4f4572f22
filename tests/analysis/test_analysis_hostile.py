"""Hostile input: every malformed file gives a report with problems, never an exception, a hang or a blow-up."""

from __future__ import annotations

import io
import os
import struct
import time
import warnings
import zipfile
from pathlib import Path

import pytest
from analysis_shared import SHARED as SHARED_ROOT
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from interdit.analysis.apk import analyze
from interdit.analysis.archive import Archive
from interdit.analysis.axml import parse_axml
from interdit.analysis.dex import read_dex
from interdit.analysis.manifest import parse_manifest
from interdit.analysis.report import SCHEMA_VERSION, AppReport, Limits


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _zip(entries: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns on duplicate names, which we build on purpose
        with zipfile.ZipFile(buf, "w", method) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return buf.getvalue()


def _codes(report: AppReport) -> set[str]:
    return {p.code for p in report.problems}


def _axml_manifest(package: str = "org.example.app") -> bytes:
    """A minimal binary manifest: <manifest package=...><uses-permission android:name=CAMERA/></manifest>."""
    strings = ["manifest", "package", package, "uses-permission", "name", "android.permission.CAMERA",
               "http://schemas.android.com/apk/res/android"]
    data = b""
    offsets = []
    for s in strings:
        offsets.append(len(data))
        data += struct.pack("<H", len(s)) + s.encode("utf-16-le") + b"\x00\x00"
    data += b"\x00" * (-len(data) % 4)
    pool_header = 28 + 4 * len(strings)
    pool = struct.pack("<HHIIIIII", 1, 28, pool_header + len(data), len(strings), 0, 0, pool_header, 0)
    pool += b"".join(struct.pack("<I", o) for o in offsets) + data
    resmap = struct.pack("<HHI", 0x180, 8, 8 + 4 * 5) + struct.pack("<5I", 0, 0, 0, 0, 0x01010003)

    def start(name: int, attrs: list[tuple[int, int, int, int, int]]) -> bytes:
        body = struct.pack("<IIHHHHHH", 0xFFFFFFFF, name, 20, 20, len(attrs), 0, 0, 0)
        for ns, an, raw, typ, val in attrs:
            body += struct.pack("<IIIHBBI", ns, an, raw, 8, 0, typ, val)
        return struct.pack("<HHIII", 0x102, 16, 16 + len(body), 1, 0xFFFFFFFF) + body

    def end(name: int) -> bytes:
        return struct.pack("<HHIIIII", 0x103, 16, 24, 1, 0xFFFFFFFF, 0xFFFFFFFF, name)

    body = (start(0, [(0xFFFFFFFF, 1, 2, 3, 2)]) + start(3, [(6, 4, 5, 3, 5)]) + end(3) + end(0))
    chunks = pool + resmap + body
    return struct.pack("<HHI", 3, 8, 8 + len(chunks)) + chunks


def test_built_manifest_parses() -> None:
    man = parse_manifest(_axml_manifest())
    assert man.package == "org.example.app"
    assert [p[0] for p in man.uses_permissions] == ["android.permission.CAMERA"]


def test_zip_bomb_is_stopped(tmp_path: Path) -> None:
    bomb = b"\x00" * (64 * 1024 * 1024)
    path = _write(tmp_path, "bomb.apk", _zip([("AndroidManifest.xml", _axml_manifest()), ("classes.dex", bomb)]))
    assert path.stat().st_size < 1024 * 1024
    started = time.monotonic()
    report = analyze(path, limits=Limits(max_entry_size=8 * 1024 * 1024))
    assert time.monotonic() - started < 5
    assert _codes(report) & {"zip.bomb-ratio", "zip.entry-too-large", "zip.bomb-size"}
    assert report.identity.package == "org.example.app"  # what could still be read is shown


def test_lying_sizes_cannot_inflate_past_the_limit(tmp_path: Path) -> None:
    data = bytearray(_zip([("classes.dex", b"\x00" * (4 * 1024 * 1024))]))
    # Rewrite the central directory's declared size to something small: inflation must still be bounded.
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 100)
    path = _write(tmp_path, "liar.apk", bytes(data))
    with Archive.open(path, Limits(max_entry_size=1024 * 1024)) as archive:
        assert archive.read("classes.dex") is None
        assert {"zip.bomb-size"} <= {p.code for p in archive.problems}


def test_total_inflated_size_is_bounded(tmp_path: Path) -> None:
    entries = [(f"classes{i if i > 1 else ''}.dex", os.urandom(300_000)) for i in range(1, 6)]
    path = _write(tmp_path, "many.apk", _zip(entries, zipfile.ZIP_STORED))
    report = analyze(path, limits=Limits(max_total_inflated=700_000))
    assert "zip.total-too-large" in _codes(report)


def test_traversal_names_are_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "trav.apk", _zip([("AndroidManifest.xml", _axml_manifest()),
                                              ("../../etc/passwd", b"x"), ("/abs/path", b"y"),
                                              ("assets\\..\\..\\evil", b"z")]))
    report = analyze(path)
    traversal = [p for p in report.problems if p.code == "zip.path-traversal"]
    assert len(traversal) == 3
    assert not (tmp_path.parent / "etc").exists()


def test_duplicate_entries_are_a_tampering_signal(tmp_path: Path) -> None:
    path = _write(tmp_path, "dup.apk", _zip([("AndroidManifest.xml", _axml_manifest("first.one")),
                                             ("AndroidManifest.xml", _axml_manifest("second.one"))]))
    report = analyze(path)
    assert "zip.duplicate-entry" in _codes(report)
    assert report.identity.package == "first.one"
    assert report.score is not None and "tamper.archive" in {h.id for h in report.score.hits}


def test_truncated_file(tmp_path: Path) -> None:
    whole = _zip([("AndroidManifest.xml", _axml_manifest()), ("classes.dex", os.urandom(5000))])
    report = analyze(_write(tmp_path, "trunc.apk", whole[: len(whole) // 2]))
    assert "zip.not-a-zip" in _codes(report)
    assert report.score is not None and report.score.hits


def test_random_bytes_empty_and_missing_files(tmp_path: Path) -> None:
    for name, data in (("random.apk", os.urandom(100_000)), ("empty.apk", b""), ("tiny.apk", b"PK\x05\x06")):
        report = analyze(_write(tmp_path, name, data))
        assert report.problems, name
        assert report.identity.package is None
    missing = analyze(tmp_path / "does-not-exist.apk")
    assert "file.unreadable" in _codes(missing)


def test_unknown_method_and_local_name_mismatch(tmp_path: Path) -> None:
    data = bytearray(_zip([("AndroidManifest.xml", _axml_manifest()), ("a.txt", b"hello")], zipfile.ZIP_STORED))
    local = data.find(b"PK\x03\x04", 1)  # second entry's local header
    data[local + 30:local + 35] = b"b.txt"
    cd = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, cd + 10, 99)  # first entry: compression method 99 in the central directory
    report = analyze(_write(tmp_path, "tricks.apk", bytes(data)))
    assert {"zip.local-name-mismatch", "zip.unknown-method"} <= _codes(report)
    assert report.identity.package == "org.example.app"  # read as stored, as Android does


def test_plain_text_manifest_and_bad_dex(tmp_path: Path) -> None:
    path = _write(tmp_path, "text.apk", _zip([("AndroidManifest.xml", b"<manifest package='x'/>"),
                                              ("classes.dex", b"dex\n035\x00" + os.urandom(200))]))
    report = analyze(path)
    assert {"axml.malformed", "dex.malformed"} <= _codes(report)


def test_huge_declared_string_pool_is_bounded() -> None:
    buf = bytearray(_axml_manifest())
    struct.pack_into("<I", buf, 8 + 8, 0x7FFFFFFF)  # string count
    man = parse_manifest(bytes(buf), Limits(max_axml_strings=1000))
    assert {"axml.too-many-strings"} <= {p.code for p in man.problems}


def test_renamed_attribute_is_read_by_resource_id() -> None:
    buf = _axml_manifest().replace("name".encode("utf-16-le"), "nmae".encode("utf-16-le"))
    man = parse_manifest(buf)
    assert [p[0] for p in man.uses_permissions] == ["android.permission.CAMERA"]
    assert "axml.attribute-name-mismatch" in {p.code for p in man.problems}


# --------------------------------------------------------------------------------------------------
# fuzzing


FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_axml_random_bytes(data: bytes) -> None:
    doc = parse_axml(data)
    assert doc.problems or doc.elements


@FUZZ
@given(st.data())
def test_fuzz_axml_mutations(data: st.DataObject) -> None:
    buf = bytearray(_axml_manifest())
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(buf) - 1))
        buf[i] = data.draw(st.integers(0, 255))
    parse_manifest(bytes(buf))


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_dex_random_bytes(data: bytes) -> None:
    dex = read_dex(b"dex\n035\x00" + data)
    assert dex.problems or dex.strings is not None


@FUZZ
@given(st.data())
def test_fuzz_dex_header_fields(data: st.DataObject) -> None:
    buf = bytearray(b"dex\n035\x00" + bytes(104) + bytes(512))
    struct.pack_into("<I", buf, 40, 0x12345678)
    for off in (56, 60, 64, 68, 96, 100):
        struct.pack_into("<I", buf, off, data.draw(st.integers(0, 0xFFFFFFFF)))
    read_dex(bytes(buf))


@pytest.mark.parametrize("seed", range(5))
def test_fuzz_archive_mutations(tmp_path: Path, seed: int) -> None:
    import random

    rng = random.Random(seed)
    data = bytearray(_zip([("AndroidManifest.xml", _axml_manifest()), ("classes.dex", os.urandom(2000))]))
    for _ in range(20):
        data[rng.randrange(len(data))] = rng.randrange(256)
    report = analyze(_write(tmp_path, f"m{seed}.apk", bytes(data)))
    assert report.to_json()["schema_version"] == SCHEMA_VERSION == 3


@FUZZ
@given(st.binary(max_size=4096))
def test_fuzz_resource_string_pools(data: bytes) -> None:
    from interdit.analysis.resources import pool_strings

    problems: list = []  # type: ignore[type-arg]
    for head in (b"\x02\x00\x0c\x00", b"\x03\x00\x08\x00"):
        strings = pool_strings(head + data, Limits(max_axml_strings=5000), "resources.arsc", problems)
        assert len(strings) <= 5000


@FUZZ
@given(st.binary(min_size=4, max_size=2048))
def test_fuzz_signing_block_values(value: bytes) -> None:
    """Random signer data in a v2/v3 block: the parsers raise only their own errors, which analyze_signing
    turns into problems."""
    import contextlib
    import struct as _struct

    from interdit.analysis.signing import _block_certs

    for v3 in (False, True):
        with contextlib.suppress(ValueError, _struct.error, IndexError):
            certs, _ = _block_certs(value, v3=v3)
            assert all(len(c) <= len(value) for c in certs)


def test_tampered_v2_and_v3_apks_fail_verification(tmp_path: Path) -> None:
    apks = SHARED_ROOT / "data" / "apk"
    names = ["ag__apksig__v2-only-with-rsa-pkcs1-sha256-16384.apk", "ag__apksig__v3-only-with-ecdsa-sha256-p256.apk"]
    if not all((apks / n).is_file() for n in names):
        pytest.skip(f"the APK corpus is not present at {apks}")
    for name, scheme in zip(names, ("v2", "v3"), strict=True):
        good = analyze(apks / name)
        assert "sig.bad-signature" not in {w.id for w in good.weaknesses}, name
        data = bytearray((apks / name).read_bytes())
        data[40] ^= 0xFF  # inside the first entry: covered by the signed content digest
        report = analyze(_write(tmp_path, name, bytes(data)))
        assert f"sig.{scheme}-bad" in _codes(report), name
        assert "sig.bad-signature" in {w.id for w in report.weaknesses}
        # a byte of the signer data (its signed data holds the certificate the signature covers)
        from interdit.analysis.signing import SCHEME_IDS, signing_block

        with Archive.open(apks / name) as archive:
            pairs, _ = signing_block(archive)
        value = next(v for pid, v in pairs.items() if SCHEME_IDS.get(pid) == scheme)
        data = bytearray((apks / name).read_bytes())
        data[data.find(value) + len(value) // 2] ^= 0xFF
        report = analyze(_write(tmp_path, "sig-" + name, bytes(data)))
        assert _codes(report) & {f"sig.{scheme}-bad", "sig.bad-block"}, name


def test_resources_and_assets_are_searched_for_endpoints_bounded(tmp_path: Path) -> None:
    strings = ["https://api.example.org/v1", "not a url"]
    data = b""
    offsets = []
    for s in strings:
        offsets.append(len(data))
        data += struct.pack("<H", len(s)) + s.encode("utf-16-le") + b"\x00\x00"
    data += b"\x00" * (-len(data) % 4)
    header = 28 + 4 * len(strings)
    pool = struct.pack("<HHIIIIII", 1, 28, header + len(data), len(strings), 0, 0, header, 0)
    pool += b"".join(struct.pack("<I", o) for o in offsets) + data
    arsc = struct.pack("<HHII", 2, 12, 12 + len(pool), 1) + pool
    entries = [("AndroidManifest.xml", _axml_manifest()), ("resources.arsc", arsc),
               ("assets/config.json", b'{\n "u": "wss://push.example.net/socket"\n}')]
    entries += [(f"assets/x{i}.txt", b"http://h%d.example.com/" % i) for i in range(10)]
    path = _write(tmp_path, "res.apk", _zip(entries))
    report = analyze(path, limits=Limits(max_resource_files=3))
    where = {e.value: e.where for e in report.endpoints}
    assert where["https://api.example.org/v1"] == "resources.arsc string #0"
    assert where["wss://push.example.net/socket"] == "assets/config.json line #2"
    assert "resources.too-many-files" in _codes(report)
    assert sum(1 for e in report.endpoints if e.host.endswith(".example.com")) == 2


def test_damaged_resource_table_is_a_problem(tmp_path: Path) -> None:
    arsc = struct.pack("<HHII", 2, 12, 5000, 1) + struct.pack("<HHIIIIII", 1, 28, 4000, 0x7FFFFFFF, 0, 0, 28, 0)
    path = _write(tmp_path, "badres.apk", _zip([("AndroidManifest.xml", _axml_manifest()), ("resources.arsc", arsc)]))
    report = analyze(path)
    assert _codes(report) & {"axml.too-many-strings", "axml.string-pool-truncated", "resources.malformed"}
    assert report.identity.package == "org.example.app"


def test_v1_entries_are_checked_unless_a_v2_v3_signature_verifies(tmp_path: Path) -> None:
    apk = SHARED_ROOT / "data" / "apk" / \
        "ag__apksig__v1v2v3-with-rsa-2048-lineage-3-signers.apk"
    if not apk.is_file():
        pytest.skip(f"the APK corpus is not present at {apk.parent}")
    good = analyze(apk)
    assert "sig.v1-entries-not-checked" in _codes(good) and "sig.bad-signature" not in {w.id for w in good.weaknesses}
    with Archive.open(apk) as archive:
        entry = next(e for e in archive.entries if not e.name.startswith("META-INF/") and e.method == 0 and e.size)
        data_at = archive._starts[entry.offset]
    data = bytearray(apk.read_bytes())
    data[data_at] ^= 0xFF  # a stored entry's first byte: v2, v3 and the v1 digest all cover it
    report = analyze(_write(tmp_path, "tampered.apk", bytes(data)))
    assert {"sig.v2-bad", "sig.v3-bad", "sig.v1-digest-mismatch"} <= _codes(report)
    assert "sig.v1-entries-not-checked" not in _codes(report)


def test_dex_declaring_billions_of_strings_is_bounded() -> None:
    buf = bytearray(b"dex\n035\x00" + bytes(104) + bytes(4096))
    struct.pack_into("<I", buf, 32, len(buf))  # file_size
    struct.pack_into("<I", buf, 40, 0x12345678)  # endian tag
    struct.pack_into("<II", buf, 56, 0xFFFFFFFF, 112)  # string_ids_size, string_ids_off
    started = time.monotonic()
    dex = read_dex(bytes(buf), limits=Limits(max_dex_strings=100_000))
    assert time.monotonic() - started < 2
    assert {"dex.too-many-strings", "dex.bad-table"} <= {p.code for p in dex.problems}
    assert len(dex.strings) <= (len(buf) - 112) // 4


def test_too_many_entries_are_cut(tmp_path: Path) -> None:
    entries = [("AndroidManifest.xml", _axml_manifest())] + [(f"assets/f{i}", b"x") for i in range(50)]
    report = analyze(_write(tmp_path, "many.apk", _zip(entries)), limits=Limits(max_entries=10))
    assert "zip.too-many-entries" in _codes(report)
    assert report.identity.package == "org.example.app"


@FUZZ
@given(st.binary(max_size=4096), st.integers(0, 0xFFFFFFFF))
def test_fuzz_resource_reference_resolution(data: bytes, res_id: int) -> None:
    from interdit.analysis.resources import resolve_string

    value = resolve_string(b"\x02\x00\x0c\x00" + data, res_id, Limits(max_axml_strings=5000))
    assert value is None or isinstance(value, str)


def test_version_name_reference_is_resolved_from_the_resource_table() -> None:
    apk = SHARED_ROOT / "data" / "apk" / "fd__souch.smsbypass_9.apk"
    if not apk.is_file():
        pytest.skip(f"the APK corpus is not present at {apk.parent}")
    with Archive.open(apk) as archive:
        man = parse_manifest(archive.read("AndroidManifest.xml") or b"")
    assert man.version_name == "@7f050007"  # what the manifest holds ...
    report = analyze(apk)
    assert report.identity.version_name == "0.9" and report.identity.label == "Battery level"  # ... and means


def _utf8_pool(items: list[bytes]) -> bytes:
    """A binary XML file holding only a UTF-8 string pool of `items` (lengths as Android writes them)."""
    import struct as _struct

    def len8(n: int) -> bytes:
        return bytes([n]) if n < 0x80 else bytes([0x80 | (n >> 8), n & 0xFF])

    body, offsets = b"", []
    for item in items:
        offsets.append(len(body))
        body += len8(len(item)) + len8(len(item)) + item + b"\x00"
    start = 28 + 4 * len(items)
    pool = _struct.pack("<HHIIIIII", 0x0001, 28, start + len(body), len(items), 0, 1 << 8, start, 0)
    pool += _struct.pack(f"<{len(items)}I", *offsets) + body
    return _struct.pack("<HHI", 0x0003, 8, 8 + len(pool)) + pool


_POOL_BYTES = st.lists(st.sampled_from([0x00, 0x41, 0x7F, 0x80, 0xC3, 0xA9, 0xE4, 0xFF]), max_size=300).map(bytes)


@FUZZ
@given(st.lists(st.one_of(_POOL_BYTES, st.binary(max_size=300), st.text(max_size=60).map(lambda t: t.encode())),
                max_size=30))
@example([b"ab\x00cd", "café".encode(), b"caf\xc3", b"\xff\x00A", b"", b"x" * 200, b"y\x00"])
def test_utf8_pool_strings_read_as_decoded(items: list[bytes]) -> None:
    """ASCII strings are sliced straight from the pool; every string, ASCII or not, NUL inside or invalid
    UTF-8, reads as the string decoded (invalid bytes replaced, cut at a NUL) and encoded again."""
    from interdit.analysis.resources import pool_strings

    problems: list = []  # type: ignore[type-arg]
    got = pool_strings(_utf8_pool(items), Limits(), "res/xml/x.xml", problems)
    assert got == [i.decode("utf-8", "replace").split("\x00", 1)[0].encode("utf-8", "replace") for i in items]
    assert problems == []


def _patched_entry(tmp_path: Path, name: str, *, crc: int | None = None, size: int | None = None,
                   flip: int | None = None) -> tuple[bytes, Archive]:
    """A one-entry deflated zip with its central directory's CRC or size replaced, or one compressed byte
    flipped; opened as an Archive."""
    content = b"".join(b"line %d of an asset that compresses\n" % i for i in range(4000))
    data = bytearray(_zip([("assets/a.txt", content)]))
    cd = data.rfind(b"PK\x01\x02")
    if crc is not None:
        struct.pack_into("<I", data, cd + 16, crc)
    if size is not None:
        struct.pack_into("<I", data, cd + 24, size)
    if flip is not None:
        start = 30 + len("assets/a.txt")
        data[start + flip] ^= 0xFF
    archive = Archive.open(_write(tmp_path, f"{name}.apk", bytes(data)))
    return content, archive


def test_entry_with_a_wrong_crc_is_read_and_reported(tmp_path: Path) -> None:
    content, archive = _patched_entry(tmp_path, "crc", crc=0x12345678)
    with archive:
        assert archive.read("assets/a.txt") == content
        assert [p.code for p in archive.problems] == ["zip.crc-mismatch"]


def test_entry_with_a_wrong_size_is_read_and_reported(tmp_path: Path) -> None:
    content, archive = _patched_entry(tmp_path, "size", size=1000)
    with archive:
        assert archive.read("assets/a.txt") == content
        assert [p.code for p in archive.problems] == ["zip.size-mismatch"]


def test_entry_with_damaged_deflate_data_is_reported(tmp_path: Path) -> None:
    content, archive = _patched_entry(tmp_path, "flip", flip=40)
    with archive:
        out = archive.read("assets/a.txt")
        codes = {p.code for p in archive.problems}
        assert out != content
        assert codes & {"zip.bad-deflate", "zip.crc-mismatch", "zip.size-mismatch"}
