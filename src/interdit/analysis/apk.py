"""`analyze(path)`: one APK (or iOS app archive, handed to `ipa`) in, one `AppReport` out. Hostile input yields
problems, never an exception."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import replace
from pathlib import Path

from interdit.analysis.archive import Archive
from interdit.analysis.dex import DexFile, build_set, dex_entry_names, read_dex
from interdit.analysis.endpoints import find_endpoints
from interdit.analysis.manifest import Manifest, parse_manifest
from interdit.analysis.permissions import describe
from interdit.analysis.report import DEFAULT_LIMITS, AppReport, Identity, Limits, Permission, Problem, Signing, Weakness
from interdit.analysis.resources import resolve_string, resource_strings
from interdit.analysis.score import ScoreRules, load_rules, score
from interdit.analysis.sdks import SignatureSet, match_indicators, match_rule_indicators, match_sdks
from interdit.analysis.signing import analyze_signing
from interdit.analysis.weaknesses import manifest_weaknesses, secret_weaknesses

MANIFEST = "AndroidManifest.xml"
_REFERENCE = re.compile(r"^@[0-9a-f]{8}$")


def _sha256(archive: Archive) -> str:
    return hashlib.sha256(archive.data).hexdigest()  # straight from the mapped file: no copy


def analyze(path: Path, *, signatures: SignatureSet | None = None, limits: Limits = DEFAULT_LIMITS,
            rules: ScoreRules | None = None, lang: str = "en") -> AppReport:
    """Analyse the APK at `path`. `signatures` come from `sdks.load_signatures(dir)`; without them no SDK is named.

    `rules` default to the shipped `rules.yaml`. The report always carries a score.
    """
    with Archive.open(path, limits) as archive:
        if is_ios(path, archive):
            from interdit.analysis.ipa import analyze_ipa

            report = analyze_ipa(archive, path, _sha256(archive) if archive.data else "", signatures, limits)
        else:
            report = _analyze(archive, path, signatures, limits)
    return replace(report, score=score(report, rules or _default_rules(), lang))


def is_ios(path: Path, archive: Archive) -> bool:
    """An iOS app archive: a zip holding <Name>.app/Info.plist and no AndroidManifest.xml, whatever its name;
    else (not a zip, or neither) by its name (.ipa)."""
    if archive.is_zip:
        if MANIFEST in archive.by_name:
            return False
        if any(n.endswith(".app/Info.plist") for n in archive.by_name):
            return True
    return path.suffix.lower() == ".ipa"


@functools.lru_cache(maxsize=1)
def _default_rules() -> ScoreRules:
    return load_rules()


def _analyze(archive: Archive, path: Path, signatures: SignatureSet | None, limits: Limits) -> AppReport:
    problems: list[Problem] = []
    weaknesses: list[Weakness] = []
    sha = _sha256(archive) if archive.data else ""
    man = Manifest()
    raw = archive.read(MANIFEST, limits.max_manifest_size) if archive.is_zip else None
    if raw is not None:
        man = parse_manifest(raw, limits)
        if not man.parsed:
            problems.append(Problem("manifest.unreadable", "high", "AndroidManifest.xml cannot be parsed", MANIFEST))
    elif archive.is_zip:
        problems.append(Problem("manifest.missing", "high", "no readable AndroidManifest.xml: Android cannot "
                                "install this file", MANIFEST))
    names = dex_entry_names(archive.names())
    archive.keep.update(names[: limits.max_dex_files])  # read once, for the v1 digests and the DEX tables
    archive.keep.add("resources.arsc")
    sig = analyze_signing(archive, man.min_sdk) if archive.is_zip else None
    files: list[DexFile] = []
    if len(names) > limits.max_dex_files:
        problems.append(Problem("dex.too-many-files", "high",
                                f"{len(names)} DEX files; only {limits.max_dex_files} read", "classes*.dex"))
    for name in names[: limits.max_dex_files]:
        buf = archive.read(name, limits.max_dex_size)
        if buf is not None:
            dex = read_dex(buf, name, limits)
            files.append(dex)
            problems.extend(dex.problems)
    dexset = build_set(files)
    sdks = match_sdks(dexset.defined, dexset.referenced, signatures) if signatures is not None else []
    if signatures is not None:
        parts = [(c.kind, c.name) for c in man.components]
        sdks = match_rule_indicators(parts, archive.names(), signatures, sdks)
        sdks += match_indicators(parts, archive.names(), signatures)
    tables, resource_problems = resource_strings(archive, limits) if archive.is_zip else ([], [])
    problems.extend(resource_problems)
    endpoints, endpoint_problems = find_endpoints([*files, *tables], signatures, limits)
    problems.extend(endpoint_problems)
    declared = {n: p for n, p, _ in man.declared_permissions}
    permissions: list[Permission] = []
    seen: set[str] = set()
    for name, max_sdk, sdk23, line in man.uses_permissions:
        if name in seen:
            continue
        seen.add(name)
        permissions.append(describe(name, max_sdk, sdk23, declared, f"{MANIFEST}:{line}" if line else MANIFEST))
    if man.parsed:
        weaknesses.extend(manifest_weaknesses(man))
    weaknesses.extend(secret_weaknesses([*files, *tables]))
    if sig is not None:
        weaknesses.extend(sig.weaknesses)
    all_problems = [*archive.problems, *man.problems, *(sig.problems if sig else []), *problems]
    version_name, label = man.version_name, man.application.get("label")
    if archive.is_zip and any(v and _REFERENCE.match(v) for v in (version_name, label)):
        arsc = archive.read("resources.arsc", limits.max_resources_size)
        if arsc is not None:  # Android shows the string a reference points at, in the default configuration
            version_name, label = (resolve_string(arsc, int(v[1:], 16), limits) or v if v and _REFERENCE.match(v)
                                   else v for v in (version_name, label))
    identity = Identity(package=man.package, version_code=man.version_code, version_name=version_name,
                        min_sdk=man.min_sdk if man.parsed else None, target_sdk=man.target_sdk if man.parsed else None,
                        sha256=sha, size=len(archive.data), file_name=path.name, label=label)

    return AppReport(
        identity=identity,
        signing=sig.signing if sig else Signing(unsigned=True),
        permissions=tuple(permissions),
        components=tuple(man.components),
        sdks=tuple(sdks),
        endpoints=tuple(endpoints),
        weaknesses=tuple(weaknesses),
        problems=tuple(all_problems),
        application=dict(man.application),
        dex={"files": len(files), "classes": len(dexset.defined), "referenced_types": len(dexset.referenced),
             "strings": dexset.string_count},
    )
