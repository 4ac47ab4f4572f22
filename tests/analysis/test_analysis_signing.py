"""v3 proof-of-rotation lineage: every level's certificate, in order, with its capabilities, in every output.

The expected values come from apksig itself, not from interdit: `apksigner lineage --in APK --print-certs -v`
(apksigner 0.9, Debian's `apksigner` package) printed each level's DN, SHA-256 digest and capabilities, and
`openssl x509 -inform der -noout -subject -issuer -startdate -enddate -fingerprint -sha256` the validity of
each certificate.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from analysis_shared import SHARED as SHARED_ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interdit.analysis.apk import analyze
from interdit.analysis.archive import Archive
from interdit.analysis.render import render, render_table
from interdit.analysis.report import report_from_json
from interdit.analysis.signing import (
    MAX_LINEAGE_LEVELS,
    V3_ID,
    _block_certs,
    parse_lineage,
    signing_block,
    verify_lineage,
)

APK = (SHARED_ROOT / "data" / "apk"
       / "ag__apksig__v1v2v3-with-rsa-2048-lineage-3-signers.apk")
KEPT = ("installed-data", "shared-uid", "permission", "auth")  # apksigner: rollback false, the others true
EXPECTED = [  # subject, issuer, not before, not after, SHA-256
    ("CN=rsa-2048", "CN=rsa-2048", "2016-03-31T14:57:49+00:00", "2043-08-17T14:57:49+00:00",
     "fb5dbd3c669af9fc236c6991e6387b7f11ff0590997f22d0f5c74ff40e04fca8"),
    ("CN=rsa-2048_2", "CN=rsa-2048", "2018-06-19T00:05:00+00:00", "2028-06-16T00:05:00+00:00",
     "681b0e56a796350c08647352a4db800cc44b2adc8f4c72fa350bd05d4d50264d"),
    ("CN=rsa-2048_3", "CN=rsa-2048_2", "2018-06-19T16:49:43+00:00", "2028-06-16T16:49:43+00:00",
     "bb77a72efc60e66501ab75953af735874f82cfe52a70d035186a01b3482180f3"),
]

pytestmark = pytest.mark.skipif(not APK.is_file(), reason=f"the APK corpus is not present at {APK.parent}")


def _lineage_value() -> bytes:
    with Archive.open(APK) as archive:
        pairs, _ = signing_block(archive)
    _, lineages = _block_certs(pairs[V3_ID], v3=True)
    assert len(lineages) == 1
    return lineages[0]


def test_every_lineage_level_is_listed_in_order_as_apksigner_prints_it() -> None:
    r = analyze(APK)
    assert "lineage" in r.signing.schemes
    got = [(c.subject, c.issuer, c.not_before, c.not_after, c.sha256) for c in r.signing.lineage]
    assert got == EXPECTED
    assert all(c.capabilities == KEPT for c in r.signing.lineage)
    assert [c.where for c in r.signing.lineage] == [f"APK Signing Block v3 lineage level {n} of 3" for n in (1, 2, 3)]
    # the current signer is the lineage's last level; the middle one signs nothing in this APK
    assert r.signing.certificates[-1].sha256 == EXPECTED[-1][4]
    assert EXPECTED[1][4] not in {c.sha256 for c in r.signing.certificates}
    assert not [p for p in r.problems if p.code in ("sig.lineage-bad", "sig.unverified")]
    assert report_from_json(json.loads(json.dumps(r.to_json()))) == r


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_lineage_in_json_html_and_terminal(lang: str) -> None:
    r = analyze(APK)
    doc = json.loads(render([r], "json", lang))
    raw = doc["apps"][0]["signing"]["lineage"]
    assert [c["sha256"] for c in raw] == [e[4] for e in EXPECTED]
    assert raw[1]["capabilities"] == list(KEPT)
    html = render([r], "html", lang)
    table = render_table([r], lang, width=250)
    for subject, _, _, _, sha in EXPECTED:
        assert subject in html and sha in html
        assert subject in table and sha in table
    assert ("Signing key rotation" if lang == "en" else "Rotation de la clé") in html
    assert "installed-data, shared-uid, permission, auth" in html


def test_lineage_signatures_are_checked() -> None:
    value = _lineage_value()
    levels = parse_lineage(value)
    assert verify_lineage(levels) is None
    # one byte of level 2's signature flipped: level 1 no longer vouches for it
    sig = levels[1].signature
    at = value.find(sig) + len(sig) // 2
    tampered = value[:at] + bytes([value[at] ^ 0xFF]) + value[at + 1:]
    error = verify_lineage(parse_lineage(tampered))
    assert error is not None and error.startswith("level 2")


def _level(cert: bytes, flags: int = 0) -> bytes:
    signed = struct.pack("<I", len(cert)) + cert + struct.pack("<I", 0)
    node = struct.pack("<I", len(signed)) + signed + struct.pack("<II", flags, 0x0103) + struct.pack("<I", 0)
    return struct.pack("<I", len(node)) + node


def test_hostile_lineages_are_bounded() -> None:
    cert = parse_lineage(_lineage_value())[0].certificate
    with pytest.raises(ValueError, match="version"):
        parse_lineage(struct.pack("<I", 2) + _level(cert))
    with pytest.raises(ValueError, match="more than"):
        parse_lineage(struct.pack("<I", 1) + _level(b"x") * (MAX_LINEAGE_LEVELS + 1))
    with pytest.raises(ValueError, match="certificate over"):
        parse_lineage(struct.pack("<I", 1) + _level(b"x" * 100), max_cert_size=50)
    with pytest.raises(ValueError):
        parse_lineage(struct.pack("<I", 1) + _level(cert)[:-6])  # truncated
    with pytest.raises(ValueError):  # a length prefix claiming 4 GiB
        parse_lineage(struct.pack("<II", 1, 0xFFFFFFFF) + b"\0" * 16)
    levels = parse_lineage(struct.pack("<I", 1) + _level(cert, flags=0xFF) + _level(cert, flags=0))
    assert levels[0].capabilities == ("installed-data", "shared-uid", "permission", "rollback", "auth")
    assert levels[1].capabilities == ()


def test_a_malformed_lineage_in_an_apk_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    data = bytearray(APK.read_bytes())
    value = _lineage_value()
    at = bytes(data).find(value)
    data[at:at + 4] = struct.pack("<I", 7)  # the lineage's version
    path = tmp_path / "bad-lineage.apk"
    path.write_bytes(bytes(data))
    r = analyze(path)
    codes = {p.code for p in r.problems}
    assert "sig.lineage-bad" in codes and "lineage" in r.signing.schemes and r.signing.lineage == ()
    assert "sig.bad-signature" in {w.id for w in r.weaknesses}  # (the v3 signed data changed too)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_fuzz_lineage(tail: bytes) -> None:
    """Random lineage bytes: parse_lineage raises only ValueError/struct.error and returns bounded levels."""
    try:
        levels = parse_lineage(struct.pack("<I", 1) + tail)
    except (ValueError, struct.error):
        return
    assert len(levels) <= MAX_LINEAGE_LEVELS and all(len(lv.certificate) <= len(tail) for lv in levels)
