"""The analyzer over the real APK corpus in ../shared/data/apk, checked against corpus.tsv and androguard."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from analysis_shared import SHARED as SHARED_ROOT

from interdit.analysis.apk import analyze
from interdit.analysis.report import SCHEMA_VERSION, AppReport
from interdit.analysis.sdks import SignatureSet, load_signatures

SHARED = SHARED_ROOT
APKS = SHARED / "data" / "apk"
SIGNATURES = SHARED / "data" / "sdk-signatures"

pytestmark = pytest.mark.skipif(not (APKS / "corpus.tsv").is_file(),
                                reason=f"the APK corpus is not present at {APKS} (../shared beside the checkout)")


def _rows() -> list[dict[str, str]]:
    if not (APKS / "corpus.tsv").is_file():
        return []
    with (APKS / "corpus.tsv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


ROWS = _rows()


@cache
def _signatures() -> SignatureSet:
    return load_signatures(SIGNATURES)


@cache
def report(name: str) -> AppReport:
    return analyze(APKS / name, signatures=_signatures())


@pytest.mark.parametrize("row", ROWS, ids=[r["file"] for r in ROWS])
def test_identity_agrees_with_corpus_tsv(row: dict[str, str]) -> None:
    r = report(row["file"])
    assert r.identity.sha256 == row["sha256"]
    assert r.identity.size == int(row["size_bytes"])
    if row["package"].startswith("ERR"):
        # corpus.tsv's scan could not read these manifests; neither can Android install them.
        assert r.identity.package is None
        assert any(p.code.startswith(("manifest.", "axml.")) for p in r.problems)
    else:
        assert r.identity.package == row["package"]
    if row["target_sdk"]:
        assert r.identity.target_sdk == int(row["target_sdk"])
    assert r.dex["files"] == int(row["dex_count"])
    schemes = set(re.findall(r"v\d", row["signature_schemes"]))
    found = {s for s in r.signing.schemes if s in ("v1", "v2", "v3")}
    if row["file"] == "fd__issue-1128-poc1.apk":
        # a lone .RSA without MANIFEST.MF is not a v1 signature; it is reported as tampering instead
        assert found == {"v2", "v3"} and any(p.code == "sig.orphan-v1-block" for p in r.problems)
    elif not row["package"].startswith("ERR"):  # the earlier scan stopped before reading signatures there
        assert found == schemes
    json = r.to_json()
    assert json["schema_version"] == SCHEMA_VERSION == 3 and json["identity"]["sha256"] == row["sha256"]


def test_opensdk_is_tiktok_login_sdk_not_pangle() -> None:
    r = report("tt__opensdk-OpenSdkDemo.apk")
    names = {s.name: s for s in r.sdks}
    assert not any("Pangle" in n for n in names), names
    login = [s for s in r.sdks if s.vendor == "ByteDance" and "OpenSDK" in " ".join(s.categories)]
    assert login and login[0].bundled and login[0].country == "CN"
    assert any(e.owner == "ByteDance" for e in r.endpoints)
    assert r.score is not None and "sdk.bytedance-bundled" in {h.id for h in r.score.hits}


def test_referenced_only_tracker_is_weaker_evidence() -> None:
    r = report("pypi__airtest-1.4.3__Yosemite.apk")
    metrics = [s for s in r.sdks if s.name == "Metrics"]
    assert metrics and not metrics[0].bundled and metrics[0].referenced and metrics[0].strength == "referenced"


def test_janus_is_flagged() -> None:
    r = report("fd__janus.apk")
    assert r.signing.janus and {w.id for w in r.weaknesses} >= {"sig.janus"}
    assert any(p.code == "zip.prefix-data" and "DEX" in p.message for p in r.problems)


def test_v2_signed_apk_is_not_janus() -> None:
    r = report("ag__apksig__v2-only-with-rsa-pkcs1-sha256-16384.apk")
    assert r.signing.schemes == ("v2",) and not r.signing.janus and not r.signing.unsigned


@pytest.mark.parametrize("name", ["fd__minimal_targetsdk_30_unsigned.apk", "qk__diva.apk"])
def test_unsigned_is_flagged(name: str) -> None:
    r = report(name)
    assert r.signing.unsigned and "sig.unsigned" in {w.id for w in r.weaknesses}


@pytest.mark.parametrize("name", ["fd__urzip-badsig.apk", "ag__partialsignature.apk"])
def test_bad_signature_is_flagged(name: str) -> None:
    r = report(name)
    assert "sig.bad-signature" in {w.id for w in r.weaknesses}
    assert r.score is not None and r.score.verdict == "unacceptable"


def test_good_v1_signature_verifies() -> None:
    r = report("fd__urzip.apk")
    assert "sig.bad-signature" not in {w.id for w in r.weaknesses}
    assert r.signing.debug and r.signing.certificates[0].subject.endswith("CN=Android Debug")


def test_v3_lineage_is_seen() -> None:
    r = report("ag__apksig__v1v2v3-with-rsa-2048-lineage-3-signers.apk")
    assert "lineage" in r.signing.schemes


def test_debuggable_and_permissions_in_reviewer_words() -> None:
    r = report("fd__souch.smsbypass_9.apk")
    groups = {p.group for p in r.permissions if p.protection == "dangerous"}
    assert "sms_calls" in groups


def test_sdk23_and_namespaced_permissions_are_kept() -> None:
    r = report("ag__duplicate.permisssions_9999999.apk")
    assert {p.name for p in r.permissions if p.sdk23} == {
        "android.permission.REQUEST_IGNORE_BATTERY_OPTIMIZATIONS", "android.permission.REQUEST_INSTALL_PACKAGES"}
    assert [p.name for p in r.permissions].count("android.permission.INTERNET") == 1


# --------------------------------------------------------------------------------------------------
# androguard (dev extra): every corpus file androguard can open is compared, field by field


def _get(fn: Callable[[], object]) -> object:
    try:
        return fn()
    except Exception as exc:  # androguard raises KeyError when the manifest lacks an attribute
        return exc


def _androguard_view(path: Path) -> dict[str, object] | None:
    apk_mod = pytest.importorskip("androguard.core.apk")
    try:
        a = apk_mod.APK(str(path))
    except Exception:  # androguard refuses some files outright; they cannot be compared
        return None
    certs = {hashlib.sha256(c).hexdigest() for c in a.get_certificates_der_v3() + a.get_certificates_der_v2()}
    certs |= {hashlib.sha256(c.dump()).hexdigest() for c in a.get_certificates_v1()}
    def resolve(res_id: int) -> str | None:
        configs = a.get_android_resources().get_resolved_res_configs(res_id)
        return next((v for c, v in configs if not c.get_qualifier()), configs[0][1] if configs else None)

    return {"package": a.get_package(), "permissions": set(a.get_permissions()), "certs": certs, "resolve": resolve,
            "version_code": _get(a.get_androidversion_code), "version_name": _get(a.get_androidversion_name),
            "min_sdk": _get(a.get_min_sdk_version), "target_sdk": _get(a.get_target_sdk_version)}


def test_agrees_with_androguard() -> None:
    """Package, permissions, versions and certificates agree with androguard's `APK` on every file it opens.

    Where they differ, Android agrees with interdit, and each difference is asserted for what it is:
    - permissions: androguard drops `<uses-permission-sdk-23>` entries and attributes whose namespace is not
      the Android URI (Android's package manager reads attributes by resource id, so it grants them);
    - versions: when the manifest has no versionCode/versionName androguard raises (KeyError) and interdit
      reports none; a versionName given as a resource reference (`@7F050007`) is shown by androguard as is and
      resolved by interdit from resources.arsc (as Android shows it), to what androguard's resolver finds;
      when uses-sdk lacks minSdkVersion/targetSdkVersion androguard says None and interdit
      gives Android's defaults (minSdk 1, targetSdk = minSdk);
    - a file without a readable manifest: androguard gives an empty package, interdit none and a problem;
    - certificates: interdit lists every certificate of a v1 PKCS#7 block (the whole chain), androguard the
      signer's only; every certificate androguard reports is in interdit's list.
    """
    pytest.importorskip("androguard")
    from loguru import logger

    logger.remove()
    compared = 0
    for row in ROWS:
        theirs = _androguard_view(APKS / row["file"])
        if theirs is None:
            continue
        compared += 1
        name = row["file"]
        r = report(name)
        if not theirs["package"]:  # androguard reads no manifest here: interdit says none is readable
            assert r.identity.package is None and r.problems, name
            continue
        assert r.identity.package == theirs["package"], name
        namespaced = {m for p in r.problems if p.code == "axml.attribute-namespace"
                      for m in re.findall(r"name='([^']+)'", p.message)}
        ours = {p.name for p in r.permissions}
        sdk23 = {p.name for p in r.permissions if p.sdk23}
        assert theirs["permissions"] == ours - sdk23 - namespaced, name
        assert theirs["permissions"] <= ours, name
        for key in ("version_code", "version_name"):
            value = theirs[key]
            if isinstance(value, Exception):
                assert getattr(r.identity, key) is None, (name, key)
            elif str(value).startswith("@"):
                # androguard's manifest shows the reference; interdit resolves it as Android does, and agrees
                # with androguard's own resource-table resolver
                resolved = theirs["resolve"](int(str(value)[1:], 16))  # type: ignore[operator]
                assert getattr(r.identity, key) == resolved, (name, key)
            else:
                assert str(getattr(r.identity, key)) == str(value), (name, key)
        min_sdk, target_sdk = theirs["min_sdk"], theirs["target_sdk"]
        assert r.identity.min_sdk == (int(str(min_sdk)) if min_sdk is not None else 1), name
        expected_target = int(str(target_sdk)) if target_sdk is not None else r.identity.min_sdk
        assert r.identity.target_sdk == expected_target, name
        shas = {c.sha256 for c in r.signing.certificates}
        assert isinstance(theirs["certs"], set) and theirs["certs"] <= shas, name
        extra = [c for c in r.signing.certificates if c.sha256 not in theirs["certs"]]
        assert all(c.where.startswith("META-INF/") for c in extra), name  # chain certificates of a v1 block
        assert bool(theirs["certs"]) == bool(shas), name
    assert compared >= 45


# --------------------------------------------------------------------------------------------------
# trackers: against the corpus's earlier Exodus scan, and against exodus-core itself where it is installed


@pytest.mark.skipif(not SIGNATURES.is_dir(), reason=f"signature files not present at {SIGNATURES}")
def test_trackers_agree_with_the_corpus_exodus_scan() -> None:
    """corpus.tsv records what an Exodus-signature scan found. interdit agrees on every file, except that it
    names the TikTok/Douyin OpenSDK where Exodus says "Pangle" (the mislabel its `com.bytedance` signature
    makes), and that a tracker only referenced, not bundled, is reported as `referenced`."""
    column = "exodus_trackers_found (dexlite scan)"
    for row in ROWS:
        r = report(row["file"])
        bundled = sorted(s.name for s in r.sdks if s.source == "exodus" and s.bundled)
        referenced = sorted(s.name for s in r.sdks if s.source == "exodus" and not s.bundled)
        seen = row[column].strip()
        if seen == "Pangle":
            assert bundled == [] and any("OpenSDK" in s.name and s.vendor_id == "bytedance" for s in r.sdks)
        elif seen.startswith("[ref-only:"):
            assert bundled == [] and referenced == [seen.split(":", 1)[1].strip(" ]")], row["file"]
        else:
            assert seen in ("", "-") and bundled == [] and referenced == [], (row["file"], bundled, referenced)


# exodus-core's method (exodus_core/analysis/static_analysis.py, StaticAnalysis.get_embedded_classes and
# detect_trackers_in_list): extract every entry whose name matches `classes.*\.dex`, run its shell pipeline
# (Debian's `dexdump` over the top-level `classes*.dex`, a Perl one-liner keeping from each output line the first
# slash-separated name after capitals: class, superclass, interface, field, method, catch and local-variable
# types alike, bundled and referenced), then name each tracker whose `code_signature` (over 3 characters)
# `re.search`es one of those strings.
_EXODUS_PIPELINE = "dexdump {}/classes*.dex | perl -n -e'/[A-Z]+((?:\\w+\\/)+\\w+)/ && print \"$1\\n\"' | sort | uniq"


def _exodus_core_method(apk: Path, patterns: list[tuple[str, re.Pattern[str]]]) -> list[str]:
    import shlex
    import subprocess
    import tempfile
    import zipfile

    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(apk) as zf:
            for info in zf.infolist():
                if re.search(r"classes.*\.dex", info.filename):
                    zf.extract(info, tmp)
        out = subprocess.run(_EXODUS_PIPELINE.format(shlex.quote(tmp)), shell=True, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, errors="replace", timeout=120, check=True).stdout
    # one search over the joined lines equals a search in each: no signature can match a line break
    return sorted({name for name, pattern in patterns if pattern.search(out)})


@pytest.mark.skipif(not SIGNATURES.is_dir(), reason=f"signature files not present at {SIGNATURES}")
def test_trackers_agree_with_exodus_core_method_on_every_file() -> None:
    """exodus-core's own matching (above), with the same exodus_trackers.json, on every file of the corpus that
    Python's zipfile opens (exodus-core's first step). Needs only `dexdump` (scripts/system-deps.sh installs it).

    Where the two differ, interdit is right, and each difference is one of:
    - Exodus names "Pangle" (ByteDance's ad SDK) for the TikTok/Douyin OpenSDK, because its Pangle signature
      `com.bytedance.sdk` also covers `com.bytedance.sdk.open`; interdit names the OpenSDK (vendor ByteDance);
    - nothing else: a tracker exodus-core finds only through a referenced type is one interdit reports too,
      as `referenced` (weaker evidence) rather than bundled."""
    import json
    import os
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    if shutil.which("dexdump") is None:
        if os.environ.get("CI"):
            pytest.fail("dexdump is missing: scripts/system-deps.sh installs it (apt-get install dexdump)")
        pytest.skip("dexdump is not installed (apt-get install dexdump; scripts/system-deps.sh does it)")
    raw = json.loads((SIGNATURES / "exodus_trackers.json").read_text("utf-8"))
    trackers = raw.get("trackers", raw)
    signatures = [t["code_signature"] for t in trackers.values() if len(t["code_signature"]) > 3]
    assert not [s for s in signatures if re.search(r"\\[sSWDZA]|\[\^|\^|\$|\\n", s)]
    patterns = [(t["name"], re.compile(t["code_signature"])) for t in trackers.values()
                if len(t["code_signature"]) > 3]
    files = [row["file"] for row in ROWS]
    with ThreadPoolExecutor(4) as pool:
        theirs = dict(zip(files, pool.map(lambda f: _exodus_core_method(APKS / f, patterns), files), strict=True))
    pangle = 0
    for name in files:
        r = report(name)
        ours = {s.name for s in r.sdks if s.source == "exodus"}
        exodus = set(theirs[name])
        if "Pangle" in exodus and "Pangle" not in ours:
            assert any(s.vendor_id == "bytedance" and "OpenSDK" in s.name for s in r.sdks), name
            assert not any(c.startswith("com/bytedance/sdk/") and not c.startswith("com/bytedance/sdk/open")
                           for s in r.sdks for c in s.bundled), name
            exodus.discard("Pangle")
            pangle += 1
        assert ours == exodus, (name, sorted(ours), sorted(exodus))
    assert pangle >= 1  # the mislabel is in the corpus, and is seen
    assert sum(1 for v in theirs.values() if v) >= 2


def _exodus_python() -> str | None:
    import os
    import shutil

    candidate = os.environ.get("INTERDIT_EXODUS_PYTHON") or str(
        Path.home() / ".cache" / "interdit" / "bench-peers" / "exodus" / "bin" / "python")
    return candidate if Path(candidate).is_file() and shutil.which("dexdump") else None


@pytest.mark.skipif(_exodus_python() is None or not SIGNATURES.is_dir(),
                    reason="exodus-core is not installed (it pins androguard 4.1.1 and old libraries, so it lives "
                           "in its own virtualenv: see bench/bench_analysis.py) or dexdump is missing")
def test_trackers_against_exodus_core() -> None:
    import json
    import subprocess

    files = ["tt__opensdk-OpenSdkDemo.apk", "ag__hello-world.apk", "qk__diva.apk"]
    peer = Path(__file__).resolve().parents[2] / "bench" / "exodus_peer.py"
    proc = subprocess.run([str(_exodus_python()), str(peer), str(SIGNATURES / "exodus_trackers.json"),
                           *(str(APKS / f) for f in files)], capture_output=True, text=True, timeout=120, check=True)
    theirs = {d["file"]: d for d in map(json.loads, proc.stdout.splitlines())}
    assert theirs["tt__opensdk-OpenSdkDemo.apk"]["trackers"] == ["Pangle"]  # Exodus's mislabel ...
    ours = report("tt__opensdk-OpenSdkDemo.apk")
    assert not any("Pangle" in s.name for s in ours.sdks)  # ... which interdit does not make
    assert any(s.vendor_id == "bytedance" and "OpenSDK" in s.categories[0] for s in ours.sdks)
    for name in files[1:]:
        assert theirs[name]["trackers"] == [] and not [s for s in report(name).sdks if s.source == "exodus"]
