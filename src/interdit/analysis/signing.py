"""APK signatures: v1 (JAR, META-INF/*.RSA|DSA|EC), and the APK Signing Block (v2, v3, v3.1).

v1 is verified end to end (entry digests in MANIFEST.MF, the .SF digest of the manifest, and the PKCS#7
signature over the .SF). v2, v3 and v3.1 are verified as Android verifies them: each signer's signature over
its signed data (RSA PKCS#1 v1.5 and PSS, ECDSA, DSA), the chunked content digest of the entries, central
directory and end record, and the certificate's key against the signing key. Verity-only signers (0x042x)
are reported as not verifiable here. A v3/v3.1 proof-of-rotation lineage (SigningCertificateLineage) is
listed level by level, oldest first, with each level's capabilities, and each level's signature by the level
before it is checked. Certificates are parsed with asn1crypto and signatures checked with cryptography.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import struct
from dataclasses import dataclass, field
from typing import Any

from interdit.analysis.archive import Archive
from interdit.analysis.report import Certificate, Problem, Signing, Weakness

V2_ID = 0x7109871A
V3_ID = 0xF05368C0
V31_ID = 0x1B93AD61
LINEAGE_ATTR = 0x3BA06F8C
BLOCK_MAGIC = b"APK Sig Block 42"
SCHEME_IDS = {V2_ID: "v2", V3_ID: "v3", V31_ID: "v3.1"}
_V1_SUFFIXES = (".RSA", ".DSA", ".EC")
BAD_SIGNATURE_CODES = frozenset(("sig.v1-bad", "sig.v1-digest-mismatch", "sig.v1-uncovered", "sig.v2-bad",
                                 "sig.v3-bad", "sig.v3.1-bad", "sig.lineage-bad"))
# SigningCertificateLineage flags: what the platform still grants an earlier signing certificate
LINEAGE_CAPABILITIES = ((1, "installed-data"), (2, "shared-uid"), (4, "permission"), (8, "rollback"), (16, "auth"))
MAX_LINEAGE_LEVELS = 64  # real lineages hold a few levels; a hostile one is cut here and said so
_SHORT = {"country_name": "C", "state_or_province_name": "ST", "locality_name": "L", "organization_name": "O",
          "organizational_unit_name": "OU", "common_name": "CN", "email_address": "E", "serial_number": "SN"}
_HASHES = {"sha1": "SHA1", "sha256": "SHA-256", "sha384": "SHA-384", "sha512": "SHA-512"}


@dataclass(slots=True)
class SigningResult:
    signing: Signing
    weaknesses: list[Weakness] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _name(name: Any) -> str:
    try:
        parts = []
        for rdn in name.chosen:
            for atv in rdn:
                key = atv["type"].native
                parts.append(f"{_SHORT.get(key, key)}={atv['value'].native}")
        return ", ".join(parts)
    except Exception:  # asn1crypto raises many types on hostile DER
        return "?"


def parse_certificate(der: bytes, where: str, capabilities: tuple[str, ...] = ()) -> Certificate | None:
    from asn1crypto import x509  # type: ignore[import-untyped]

    try:
        cert = x509.Certificate.load(der)
        tbs = cert["tbs_certificate"]
        subject = _name(tbs["subject"])
        validity = tbs["validity"]
        return Certificate(
            subject=subject,
            issuer=_name(tbs["issuer"]),
            serial=format(tbs["serial_number"].native, "x"),
            not_before=validity["not_before"].native.isoformat(),
            not_after=validity["not_after"].native.isoformat(),
            sha256=hashlib.sha256(der).hexdigest(),
            key_algorithm=str(tbs["subject_public_key_info"]["algorithm"]["algorithm"].native),
            where=where,
            debug="CN=Android Debug" in subject,
            capabilities=capabilities,
        )
    except Exception:  # hostile DER: reported by the caller
        return None


# --------------------------------------------------------------------------------------------------
# APK Signing Block


def block_start(archive: Archive) -> int | None:
    """Where the APK Signing Block starts (the end of the entries section), or None without a block."""
    data, cd = archive.data, archive.cd_offset
    if cd is None or cd < 32 or data[cd - 16:cd] != BLOCK_MAGIC:
        return None
    size = struct.unpack_from("<Q", data, cd - 24)[0]
    start = cd - size - 8
    if start < 0 or size < 24 or struct.unpack_from("<Q", data, start)[0] != size:
        return None
    return int(start)


def signing_block(archive: Archive) -> tuple[dict[int, bytes], list[Problem]]:
    """The id -> value pairs of the APK Signing Block that precedes the central directory, if any."""
    data, cd = archive.data, archive.cd_offset
    problems: list[Problem] = []
    pairs: dict[int, bytes] = {}
    if cd is None or cd < 32 or data[cd - 16:cd] != BLOCK_MAGIC:
        return pairs, problems
    size = struct.unpack_from("<Q", data, cd - 24)[0]
    start = cd - size - 8
    if start < 0 or size < 24 or struct.unpack_from("<Q", data, start)[0] != size:
        problems.append(Problem("sig.bad-block", "high", "APK Signing Block sizes disagree", f"offset {cd - 24}"))
        return pairs, problems
    pos, end = start + 8, cd - 24
    while pos + 12 <= end:
        length, pid = struct.unpack_from("<QI", data, pos)
        if length < 4 or pos + 8 + length > end:
            problems.append(Problem("sig.bad-block", "high", "APK Signing Block pair runs past the block",
                                    f"offset {pos}"))
            break
        if pid in pairs:
            problems.append(Problem("sig.duplicate-block-id", "high", f"id 0x{pid:08x} appears twice",
                                    f"offset {pos}"))
        else:
            pairs[pid] = bytes(data[pos + 12:pos + 8 + length])
        pos += 8 + length
    return pairs, problems


def _seq(buf: bytes, pos: int, end: int) -> list[tuple[int, int]]:
    """Length-prefixed (u32) items between pos and end, as (start, end) spans."""
    out = []
    while pos + 4 <= end:
        n = struct.unpack_from("<I", buf, pos)[0]
        if pos + 4 + n > end:
            raise ValueError("length-prefixed item runs past its parent")
        out.append((pos + 4, pos + 4 + n))
        pos += 4 + n
    return out


def _item(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    """One length-prefixed (u32) item at pos, as a (start, end) span."""
    if pos + 4 > end:
        raise ValueError("length prefix runs past its parent")
    n = struct.unpack_from("<I", buf, pos)[0]
    if pos + 4 + n > end:
        raise ValueError("length-prefixed item runs past its parent")
    return pos + 4, pos + 4 + n


def _block_certs(value: bytes, v3: bool) -> tuple[list[bytes], list[bytes]]:
    """Certificates of every signer in a v2/v3 block value, and the value of each v3 lineage attribute."""
    certs: list[bytes] = []
    lineages: list[bytes] = []
    signers = _item(value, 0, len(value))
    for s_start, s_end in _seq(value, *signers):
        sd_start, sd_end = _item(value, s_start, s_end)
        digests = _item(value, sd_start, sd_end)
        cert_span = _item(value, digests[1], sd_end)
        for a, b in _seq(value, *cert_span):
            certs.append(value[a:b])
        pos = cert_span[1] + (8 if v3 else 0)
        if pos + 4 <= sd_end:
            for a, b in _seq(value, *_item(value, pos, sd_end)):
                if b - a >= 4 and struct.unpack_from("<I", value, a)[0] == LINEAGE_ATTR:
                    lineages.append(value[a + 4:b])
    return certs, lineages


@dataclass(frozen=True, slots=True)
class LineageLevel:
    """One level of a SigningCertificateLineage, as stored."""

    certificate: bytes  # DER
    signed_data: bytes  # what the previous level's key signed: the certificate and `parent_algorithm`
    parent_algorithm: int  # the algorithm the previous level signed this one with (0 for the first)
    flags: int
    algorithm: int  # the algorithm this level signs the next one with
    signature: bytes  # the previous level's signature over `signed_data` (empty for the first)

    @property
    def capabilities(self) -> tuple[str, ...]:
        return tuple(name for bit, name in LINEAGE_CAPABILITIES if self.flags & bit)


def parse_lineage(value: bytes, max_levels: int = MAX_LINEAGE_LEVELS,
                  max_cert_size: int = 1024 * 1024) -> list[LineageLevel]:
    """The levels of a v3 proof-of-rotation attribute, oldest first.

    Format (little endian): u32 version (1), then length-prefixed levels, each: length-prefixed signed data
    (length-prefixed certificate, u32 parent signature algorithm), u32 flags, u32 signature algorithm,
    length-prefixed signature. Raises ValueError on a malformed or over-long lineage.
    """
    if len(value) < 4:
        raise ValueError("lineage shorter than its version")
    version = struct.unpack_from("<I", value, 0)[0]
    if version != 1:
        raise ValueError(f"lineage version {version} is not 1")
    levels: list[LineageLevel] = []
    pos, end = 4, len(value)
    while pos < end:
        if len(levels) >= max_levels:
            raise ValueError(f"lineage holds more than {max_levels} levels")
        n_start, n_end = _item(value, pos, end)
        sd_start, sd_end = _item(value, n_start, n_end)
        c_start, c_end = _item(value, sd_start, sd_end)
        if c_end - c_start > max_cert_size:
            raise ValueError(f"lineage level {len(levels) + 1}: certificate over {max_cert_size} bytes")
        if c_end + 4 > sd_end or sd_end + 8 > n_end:
            raise ValueError(f"lineage level {len(levels) + 1} is truncated")
        parent_algorithm = struct.unpack_from("<I", value, c_end)[0]
        flags, algorithm = struct.unpack_from("<II", value, sd_end)
        s_start, s_end = _item(value, sd_end + 8, n_end)
        levels.append(LineageLevel(value[c_start:c_end], value[sd_start:sd_end], parent_algorithm, flags,
                                   algorithm, value[s_start:s_end]))
        pos = n_end
    return levels


def verify_lineage(levels: list[LineageLevel]) -> str | None:
    """None when every level is signed by the level before it, as Android checks; else what failed."""
    from asn1crypto import x509

    for n, (parent, level) in enumerate(itertools.pairwise(levels), start=2):
        if level.parent_algorithm != parent.algorithm:
            return (f"level {n}: signed with algorithm 0x{parent.algorithm:04x} but names "
                    f"0x{level.parent_algorithm:04x}")
        algorithm = _ALGORITHMS.get(parent.algorithm)
        if algorithm is None:
            return f"level {n}: unsupported signature algorithm 0x{parent.algorithm:04x}"
        spki = x509.Certificate.load(parent.certificate)["tbs_certificate"]["subject_public_key_info"].dump()
        if not _verify_with(spki, algorithm[1], algorithm[2], level.signature, level.signed_data):
            return f"level {n}: the signature of level {n - 1} over it does not verify"
    return None


# Signature algorithm ids of the v2/v3 schemes -> (content digest, signature kind, hash)
_ALGORITHMS: dict[int, tuple[str, str, str]] = {
    0x0101: ("sha256", "rsa-pss", "sha256"), 0x0102: ("sha512", "rsa-pss", "sha512"),
    0x0103: ("sha256", "rsa", "sha256"), 0x0104: ("sha512", "rsa", "sha512"),
    0x0201: ("sha256", "ecdsa", "sha256"), 0x0202: ("sha512", "ecdsa", "sha512"),
    0x0301: ("sha256", "dsa", "sha256"),
}
_CHUNK = 1024 * 1024


def content_digest(archive: Archive, start: int, algo: str) -> bytes:
    """The chunked digest the v2/v3 schemes sign: entries, central directory, and the EOCD pointing at `start`."""
    data, cd, eocd = archive.data, archive.cd_offset or 0, archive.eocd_offset or 0
    end_record = bytearray(data[eocd:len(data)])
    struct.pack_into("<I", end_record, 16, start)
    chunk_digests: list[bytes] = []
    for section in ((data, 0, start), (data, cd, eocd), (bytes(end_record), 0, len(end_record))):
        buf, a, b = section
        for pos in range(a, b, _CHUNK):
            chunk = buf[pos:min(pos + _CHUNK, b)]
            h = hashlib.new(algo, b"\xa5" + struct.pack("<I", len(chunk)))
            h.update(chunk)
            chunk_digests.append(h.digest())
    top = hashlib.new(algo, b"\x5a" + struct.pack("<I", len(chunk_digests)))
    for d in chunk_digests:
        top.update(d)
    return top.digest()


def _verify_with(spki: bytes, kind: str, hash_name: str, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa

    hash_alg: hashes.HashAlgorithm = hashes.SHA256() if hash_name == "sha256" else hashes.SHA512()
    key = serialization.load_der_public_key(spki)
    try:
        if kind.startswith("rsa") and isinstance(key, rsa.RSAPublicKey):
            pad = (padding.PSS(padding.MGF1(hash_alg), hash_alg.digest_size) if kind == "rsa-pss"
                   else padding.PKCS1v15())
            key.verify(signature, message, pad, hash_alg)
        elif kind == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hash_alg))
        elif kind == "dsa" and isinstance(key, dsa.DSAPublicKey):
            key.verify(signature, message, hash_alg)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def verify_block(archive: Archive, value: bytes, v3: bool, start: int, digests: dict[str, bytes]) -> str | None:
    """Verify every signer of a v2/v3 block value; None when all verify, else what failed.

    `digests` caches content digests by algorithm across schemes (v2 and v3 sign the same content).
    """
    from asn1crypto import x509

    signers = _seq(value, *_item(value, 0, len(value)))
    if not signers:
        return "no signer"
    for n, (s_start, s_end) in enumerate(signers, start=1):
        sd_start, sd_end = _item(value, s_start, s_end)
        signed_data = value[sd_start:sd_end]
        pos = sd_end + (8 if v3 else 0)
        sigs_span = _item(value, pos, s_end)
        key_span = _item(value, sigs_span[1], s_end)
        spki = value[key_span[0]:key_span[1]]
        signatures: dict[int, bytes] = {}
        for a, b in _seq(value, *sigs_span):
            algo_id = struct.unpack_from("<I", value, a)[0]
            sig_span = _item(value, a + 4, b)
            signatures[algo_id] = value[sig_span[0]:sig_span[1]]
        usable = [a for a in signatures if a in _ALGORITHMS]
        if not usable:
            return f"signer {n}: no supported signature algorithm ({', '.join(f'0x{a:04x}' for a in signatures)})"
        algo_id = max(usable, key=lambda a: (_ALGORITHMS[a][0] == "sha512", a))
        content_algo, kind, hash_name = _ALGORITHMS[algo_id]
        if not _verify_with(spki, kind, hash_name, signatures[algo_id], signed_data):
            return f"signer {n}: the signature over the signed data does not verify (algorithm 0x{algo_id:04x})"
        d_start, d_end = _item(value, sd_start, sd_end)
        signed_digests: dict[int, bytes] = {}
        for a, b in _seq(value, d_start, d_end):
            d_algo = struct.unpack_from("<I", value, a)[0]
            span = _item(value, a + 4, b)
            signed_digests[d_algo] = value[span[0]:span[1]]
        if algo_id not in signed_digests:
            return f"signer {n}: no digest for algorithm 0x{algo_id:04x}"
        if content_algo not in digests:
            digests[content_algo] = content_digest(archive, start, content_algo)
        if signed_digests[algo_id] != digests[content_algo]:
            return f"signer {n}: the APK's contents do not match the signed digest (modified after signing)"
        cert_span = _item(value, d_end, sd_end)
        certs = _seq(value, *cert_span)
        if not certs:
            return f"signer {n}: no certificate"
        first = value[certs[0][0]:certs[0][1]]
        if x509.Certificate.load(first)["tbs_certificate"]["subject_public_key_info"].dump() != spki:
            return f"signer {n}: the certificate's public key is not the signing key"
    return None


# --------------------------------------------------------------------------------------------------
# v1


def _sections(manifest: bytes) -> tuple[bytes, dict[str, tuple[bytes, dict[str, str]]]]:
    """MANIFEST.MF / .SF: the main section's raw bytes and, per entry name, its raw section and attributes."""
    text = manifest.replace(b"\r\n", b"\n")
    chunks = text.split(b"\n\n")
    raw_chunks = manifest.split(b"\r\n\r\n") if b"\r\n" in manifest else chunks
    result: dict[str, tuple[bytes, dict[str, str]]] = {}
    for i, chunk in enumerate(chunks[1:], start=1):
        attrs: dict[str, str] = {}
        key = ""
        for line in chunk.decode("utf-8", "replace").split("\n"):
            if line.startswith(" ") and key:
                attrs[key] += line[1:]
            elif ":" in line:
                key, _, val = line.partition(":")
                attrs[key] = val.strip()
        name = attrs.get("Name")
        if name is not None and name not in result:
            sep = b"\r\n\r\n" if b"\r\n" in manifest else b"\n\n"
            raw = raw_chunks[i] + sep if i < len(raw_chunks) else b""
            result[name] = (raw, attrs)
    main_sep = b"\r\n\r\n" if b"\r\n" in manifest else b"\n\n"
    return raw_chunks[0] + main_sep, result


def _digest_ok(attrs: dict[str, str], data: bytes, suffix: str) -> bool | None:
    for algo, label in _HASHES.items():
        expected = attrs.get(f"{label}-Digest{suffix}")
        if expected is not None:
            return base64.b64encode(hashlib.new(algo, data).digest()).decode() == expected.strip()
    return None


def _verify_pkcs7(block: bytes, sf: bytes) -> tuple[list[bytes], str | None]:
    """DER certificates in a v1 signature block, and an error if its signature over `sf` does not verify."""
    from asn1crypto import cms
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, padding, rsa

    info = cms.ContentInfo.load(block)
    signed = info["content"]
    certs = [c.chosen.dump() for c in signed["certificates"] if c.name == "certificate"]
    signers = list(signed["signer_infos"])
    if not signers:
        return certs, "no signer in the signature block"
    signer = signers[0]
    algo = signer["digest_algorithm"]["algorithm"].native
    algorithms: dict[str, hashes.HashAlgorithm] = {
        "sha1": hashes.SHA1(), "sha224": hashes.SHA224(), "sha256": hashes.SHA256(), "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512()}
    hash_alg = algorithms.get(algo)
    if hash_alg is None:
        return certs, f"unsupported digest {algo}"
    message = sf
    attrs = signer["signed_attrs"]
    if attrs.native is not None and len(attrs):
        digest = next((a["values"][0].native for a in attrs if a["type"].native == "message_digest"), None)
        if digest != hashlib.new(algo, sf).digest():
            return certs, "signed attributes do not match the .SF file"
        der = attrs.dump()
        message = b"\x31" + der[1:]
    serial = signer["sid"].chosen["serial_number"].native if signer["sid"].name == "issuer_and_serial_number" else None
    from asn1crypto import x509

    chosen = next((c for c in certs if serial is None or x509.Certificate.load(c).serial_number == serial), None)
    if chosen is None:
        return certs, "the signer's certificate is missing"
    spki = x509.Certificate.load(chosen)["tbs_certificate"]["subject_public_key_info"].dump()
    key = serialization.load_der_public_key(spki)
    sig = signer["signature"].native
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, message, padding.PKCS1v15(), hash_alg)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, message, ec.ECDSA(hash_alg))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(sig, message, hash_alg)
        else:
            return certs, "unsupported key type"
    except InvalidSignature:
        return certs, "the PKCS#7 signature over the .SF file does not verify"
    return certs, None


def _v1(archive: Archive, out: SigningResult, certs: list[Certificate], check_entries: bool = True) -> list[str]:
    blocks = [n for n in archive.by_name if n.startswith("META-INF/") and n.count("/") == 1
              and n.upper().endswith(_V1_SUFFIXES)]
    if not blocks:
        return []
    manifest = archive.read("META-INF/MANIFEST.MF", 32 * 1024 * 1024)
    if manifest is None:
        out.problems.append(Problem("sig.orphan-v1-block", "medium",
                                    "a v1 signature block without MANIFEST.MF: not a v1 signature; tools that "
                                    "count it as one are misled", ", ".join(blocks)))
        return []
    _, sections = _sections(manifest)
    for block_name in blocks:
        base = block_name.rsplit(".", 1)[0]
        sf = archive.read(base + ".SF", 32 * 1024 * 1024)
        block = archive.read(block_name, archive.limits.max_cert_size)
        if sf is None or block is None:
            out.problems.append(Problem("sig.v1-bad", "high", "signature file or block missing or unreadable",
                                        block_name))
            continue
        try:
            ders, error = _verify_pkcs7(block, sf)
        except ImportError as exc:  # cryptography is a declared dependency; say so rather than mislabel
            out.problems.append(Problem("sig.unverified", "medium", f"v1 signature not checked: {exc}", block_name))
            continue
        except Exception as exc:  # hostile DER in asn1crypto/cryptography
            ders, error = [], f"signature block cannot be parsed: {type(exc).__name__}"
        for der in ders:
            cert = parse_certificate(der, block_name)
            if cert is not None:
                certs.append(cert)
        if error:
            out.problems.append(Problem("sig.v1-bad", "high", error, block_name))
            continue
        _, sf_sections = _sections(sf)
        sf_main = sf.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("utf-8", "replace")
        sf_attrs = dict(line.split(":", 1) for line in sf_main.split("\n") if ":" in line)
        sf_attrs = {k: v.strip() for k, v in sf_attrs.items()}
        whole = _digest_ok(sf_attrs, manifest, "-Manifest")
        if whole is not True:
            bad = [n for n, (_, a) in sf_sections.items()
                   if n in sections and _digest_ok(a, sections[n][0], "") is False]
            if bad or (whole is False and not sf_sections):
                out.problems.append(Problem("sig.v1-bad", "high", f".SF digests do not match MANIFEST.MF "
                                            f"({len(bad)} sections)", base + ".SF"))
    if check_entries:
        _check_entries(archive, out, sections)
    else:
        out.problems.append(Problem("sig.v1-entries-not-checked", "info",
                                    "v1 entry digests not checked: the v2/v3 signature verifies and covers every "
                                    "byte of the entries", "META-INF/MANIFEST.MF"))
    return blocks


def _check_entries(archive: Archive, out: SigningResult, sections: dict[str, tuple[bytes, dict[str, str]]]) -> None:
    mismatched: list[str] = []
    uncovered: list[str] = []
    for entry in archive.entries:
        name = entry.name
        if name.endswith("/") or (name.startswith("META-INF/") and name.count("/") == 1):
            continue
        section = sections.get(name)
        if section is None:
            uncovered.append(name)
            continue
        data = archive.read_entry(entry)
        if data is not None and _digest_ok(section[1], data, "") is False:
            mismatched.append(name)
    if mismatched:
        out.problems.append(Problem("sig.v1-digest-mismatch", "high",
                                    f"{len(mismatched)} entries do not match their MANIFEST.MF digest (modified "
                                    f"after signing): {', '.join(mismatched[:5])}", mismatched[0]))
    if uncovered:
        out.problems.append(Problem("sig.v1-uncovered", "high",
                                    f"{len(uncovered)} entries are not covered by the v1 signature: "
                                    f"{', '.join(uncovered[:5])}", uncovered[0]))


def _lineage_certs(archive: Archive, value: bytes, scheme: str, out: SigningResult) -> list[Certificate]:
    """The certificates of one lineage attribute, oldest first; problems when it is malformed or does not verify."""
    where = f"APK Signing Block {scheme} lineage"
    try:
        levels = parse_lineage(value, max_cert_size=archive.limits.max_cert_size)
    except (ValueError, struct.error) as exc:
        out.problems.append(Problem("sig.lineage-bad", "high", f"proof-of-rotation lineage is malformed: {exc}",
                                    where))
        return []
    certs: list[Certificate] = []
    for n, level in enumerate(levels, start=1):
        cert = parse_certificate(level.certificate, f"{where} level {n} of {len(levels)}", level.capabilities)
        if cert is None:
            out.problems.append(Problem("sig.lineage-bad", "high", f"level {n}: the certificate cannot be parsed",
                                        where))
            return certs
        certs.append(cert)
    try:
        error = verify_lineage(levels)
    except ImportError as exc:  # cryptography is a declared dependency; say so rather than mislabel
        out.problems.append(Problem("sig.unverified", "medium", f"lineage not checked: {exc}", where))
        return certs
    except Exception as exc:  # hostile DER in asn1crypto/cryptography
        error = f"a level cannot be parsed: {type(exc).__name__}"
    if error:
        out.problems.append(Problem("sig.lineage-bad", "high", f"proof-of-rotation lineage: {error}", where))
    return certs


def _blocks(archive: Archive, out: SigningResult
            ) -> tuple[list[str], list[Certificate], list[Certificate], bool, bool, list[int]]:
    """The v2/v3/v3.1 schemes present, their certificates, the certificates of the v3 lineage (oldest first),
    whether a lineage is present, whether at least one scheme verified, and the ids of every pair of the APK
    Signing Block."""
    pairs, problems = signing_block(archive)
    out.problems.extend(problems)
    schemes: list[str] = []
    certs: list[Certificate] = []
    lineage_certs: list[Certificate] = []
    seen_lineages: set[bytes] = set()
    lineage = verified = False
    digests: dict[str, bytes] = {}
    start = block_start(archive)
    for pid, scheme in SCHEME_IDS.items():
        value = pairs.get(pid)
        if value is None:
            continue
        schemes.append(scheme)
        try:
            ders, lineages = _block_certs(value, pid != V2_ID)
        except (ValueError, struct.error, IndexError):
            out.problems.append(Problem("sig.bad-block", "high", f"{scheme} signer data is malformed",
                                        "APK Signing Block"))
            continue
        lineage = lineage or bool(lineages)
        for raw in lineages:  # one per v3 signer (SDK range) and per v3/v3.1: usually the same bytes
            if raw not in seen_lineages and len(seen_lineages) < 8:
                seen_lineages.add(raw)
                lineage_certs.extend(_lineage_certs(archive, raw, scheme, out))
        for der in ders:
            cert = parse_certificate(der, f"APK Signing Block {scheme}")
            if cert is not None:
                certs.append(cert)
        if start is None:
            continue
        error: str | None
        try:
            error = verify_block(archive, value, pid != V2_ID, start, digests)
        except ImportError as exc:  # cryptography is a declared dependency; say so rather than mislabel
            out.problems.append(Problem("sig.unverified", "medium", f"{scheme} signature not checked: {exc}",
                                        "APK Signing Block"))
            continue
        except Exception as exc:  # hostile DER or structure in asn1crypto/cryptography
            error = f"signer data cannot be parsed: {type(exc).__name__}"
        if error:
            out.problems.append(Problem(f"sig.{scheme}-bad", "high", error, f"APK Signing Block {scheme}"))
        else:
            verified = True
    return schemes, certs, lineage_certs, lineage, verified, list(pairs)


def analyze_signing(archive: Archive, min_sdk: int | None) -> SigningResult:
    out = SigningResult(Signing())
    certs: list[Certificate] = []
    block_schemes, block_certs, lineage_certs, lineage, verified, pair_ids = _blocks(archive, out)
    # A verified v2/v3 signature covers every byte of the entries: the v1 entry digests then tell nothing
    # more about changes after signing, and reading every entry again is the costliest part of the analysis.
    v1_files = _v1(archive, out, certs, check_entries=not verified)
    schemes = (["v1"] if v1_files else []) + block_schemes
    known = {c.sha256 for c in certs}
    for cert in block_certs:
        if cert.sha256 not in known:
            certs.append(cert)
            known.add(cert.sha256)
    unsigned = not schemes
    janus = schemes == ["v1"] and (min_sdk or 1) < 24
    debug = any(c.debug for c in certs)
    out.signing = Signing(schemes=tuple(schemes) + (("lineage",) if lineage else ()), certificates=tuple(certs),
                          lineage=tuple(lineage_certs),
                          v1_files=tuple(v1_files), unsigned=unsigned, janus=janus, debug=debug,
                          signing_block_ids=tuple(f"0x{p:08x}" for p in pair_ids))
    if unsigned:
        out.weaknesses.append(Weakness("sig.unsigned", "high", "the APK carries no signature; Android refuses to "
                                       "install it, and its origin cannot be established", "META-INF/"))
    if janus:
        out.weaknesses.append(Weakness("sig.janus", "high", "signed with v1 only while installable on Android < 7.0 "
                                       f"(minSdk {min_sdk}): exposed to Janus (CVE-2017-13156)", "META-INF/",
                                       f"schemes v1; minSdkVersion {min_sdk}"))
    if debug:
        cert = next(c for c in certs if c.debug)
        out.weaknesses.append(Weakness("sig.debug-certificate", "medium", "signed with an Android debug certificate",
                                       cert.where, cert.subject))
    bad = [p for p in out.problems if p.code in BAD_SIGNATURE_CODES]
    if bad:
        which = sorted({p.code.split(".")[1].split("-")[0] for p in bad})
        out.weaknesses.append(Weakness("sig.bad-signature", "high",
                                       f"the {'/'.join(which)} signature does not verify", bad[0].where,
                                       "; ".join(f"{p.code}: {p.message}" for p in bad)[:400]))
    return out
