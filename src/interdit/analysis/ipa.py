"""`analyze_ipa(path)`: one iOS app archive (.ipa, or a zipped .app) in, one `AppReport` out, in the same shape
as an APK's. Hostile input yields problems, never an exception.

Read: the main bundle's Info.plist, executable (Mach-O), embedded.mobileprovision, frameworks, plug-ins and
watch apps, resource bundles and privacy manifests; nothing is extracted to disk and every read is bounded
by the same `Limits` as an APK's.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interdit.analysis.archive import Archive
from interdit.analysis.dex import DexFile
from interdit.analysis.endpoints import find_endpoints
from interdit.analysis.ios_bundle import (
    as_list,
    ats_facts,
    explain_entitlement,
    privacy_manifest,
    read_plist,
    read_profile,
    url_schemes,
    usage_permissions,
)
from interdit.analysis.macho import MachO, is_macho, read_macho
from interdit.analysis.report import DEFAULT_LIMITS, AppReport, Identity, Limits, Problem, SdkMatch, Signing, Weakness
from interdit.analysis.sdk_rules import SdkRule
from interdit.analysis.sdks import SignatureSet
from interdit.analysis.weaknesses import secret_weaknesses

_APP = re.compile(r"^(?P<prefix>(?:[^/]+/)*?(?:Payload/)?[^/]+\.app/)Info\.plist$")
_PLATFORMS = {"iphoneos": "ios", "iphonesimulator": "ios-simulator", "appletvos": "tvos",
              "appletvsimulator": "tvos-simulator", "watchos": "watchos", "watchsimulator": "watchos-simulator",
              "xros": "visionos"}
_DEVICE_FAMILIES = {1: "iPhone", 2: "iPad", 3: "Apple TV", 4: "Apple Watch", 6: "Mac (Catalyst)", 7: "Apple Vision"}
_TEXT_SUFFIXES = (".plist", ".json", ".strings", ".js", ".html", ".txt", ".xml", ".cfg", ".conf")
_MAX_FRAMEWORKS = 200
_MAX_EVIDENCE = 5


@dataclass(slots=True)
class _Bundle:
    """What the SDK rules are matched against."""

    frameworks: dict[str, str] = field(default_factory=dict)  # name -> where ("Frameworks/X.framework")
    bundle_ids: dict[str, str] = field(default_factory=dict)  # framework bundle id -> where
    bundles: dict[str, str] = field(default_factory=dict)  # resource bundle name -> where
    files: set[str] = field(default_factory=set)  # file names at the bundle root
    classes: set[str] = field(default_factory=set)  # ObjC classes the executables define
    class_refs: set[str] = field(default_factory=set)  # ObjC class symbols (defined or imported)
    swift_modules: set[str] = field(default_factory=set)  # modules of Swift classes the executables define
    plist_keys: set[str] = field(default_factory=set)
    queried: set[str] = field(default_factory=set)
    own_schemes: set[str] = field(default_factory=set)
    encrypted: bool = False


def _main_prefix(names: list[str]) -> str | None:
    """The main app's folder ("Payload/X.app/"): the shallowest .app with an Info.plist; junk (__MACOSX) skipped."""
    found = sorted({m["prefix"] for n in names if not n.startswith("__MACOSX/") and "/__MACOSX/" not in n
                    and (m := _APP.match(n))}, key=lambda p: (p.count("/"), p))
    return found[0] if found else None


def analyze_ipa(archive: Archive, path: Path, sha: str, signatures: SignatureSet | None,
                limits: Limits = DEFAULT_LIMITS) -> AppReport:
    problems: list[Problem] = []
    weaknesses: list[Weakness] = []
    names = archive.names() if archive.is_zip else []
    prefix = _main_prefix(names)
    identity = Identity(None, None, None, None, None, sha, len(archive.data), path.name, platform="ios")
    if prefix is None:
        if archive.is_zip:
            problems.append(Problem("ios.no-app", "high", "no <Name>.app/Info.plist in the archive (an IPA holds "
                                    "Payload/<Name>.app/)", "Payload/"))
        return AppReport(identity=identity, signing=Signing(unsigned=True), permissions=(), components=(), sdks=(),
                         endpoints=(), weaknesses=(), problems=(*archive.problems, *problems))
    info_where = prefix + "Info.plist"
    info = read_plist(archive.read(info_where, limits.max_manifest_size), info_where, problems, "ios.bad-info-plist")
    facts: dict[str, Any] = {"bundle": prefix.rstrip("/")}
    platform = _platform(info)
    version = str(info.get("CFBundleVersion", "")) or None
    identity = Identity(
        package=str(info["CFBundleIdentifier"]) if "CFBundleIdentifier" in info else None,
        version_code=int(version) if version and version.isdigit() and len(version) < 18 else None,
        version_name=str(info.get("CFBundleShortVersionString", "")) or version, min_sdk=None, target_sdk=None,
        sha256=sha, size=len(archive.data), file_name=path.name,
        label=str(info.get("CFBundleDisplayName") or info.get("CFBundleName") or "") or None, platform=platform,
        min_os=str(info["MinimumOSVersion"]) if "MinimumOSVersion" in info else None)
    families = [_DEVICE_FAMILIES.get(f, str(f)) for f in as_list(info.get("UIDeviceFamily")) if isinstance(f, int)]
    facts["identity"] = {"bundle_version": version, "device_families": families,
                         "supported_platforms": [str(p) for p in as_list(info.get("CFBundleSupportedPlatforms"))],
                         "sdk": str(info.get("DTPlatformVersion", "")) or None}
    bundle = _Bundle(plist_keys=set(info))
    own, queried = url_schemes(info)
    bundle.own_schemes, bundle.queried = set(own), set(queried)
    facts["network"] = {"url_schemes": own, "queried_schemes": queried}
    ats, ats_weak = ats_facts(info, info_where)
    facts["network"]["ats"] = ats
    weaknesses.extend(ats_weak)
    facts["identity"]["background_modes"] = [str(m) for m in as_list(info.get("UIBackgroundModes"))][:50]
    facts["identity"]["skadnetwork_ids"] = [str(i.get("SKAdNetworkIdentifier", "")) for i in
                                            as_list(info.get("SKAdNetworkItems")) if isinstance(i, dict)][:200]
    texts = [DexFile(name="Info.plist", strings=_plist_strings(info), unit="value")]
    # the main executable
    exe_name = str(info.get("CFBundleExecutable") or "")
    macho: MachO | None = None
    if exe_name:
        raw = archive.read(prefix + exe_name, limits.max_dex_size)
        if raw is None:
            problems.append(Problem("ios.no-executable", "medium", f"the executable {exe_name!r} is missing or "
                                    "unreadable", prefix + exe_name))
        else:
            macho = read_macho(raw, prefix + exe_name)
            problems.extend(macho.problems)
            facts["binary"] = _binary_facts(macho)
            if macho.encrypted:
                bundle.encrypted = True
                problems.append(Problem("ios.encrypted", "info", "the executable is FairPlay-encrypted (an App Store "
                                        "download): its code strings and class names cannot be read; frameworks, "
                                        "plists, symbols and privacy manifests are analysed", prefix + exe_name))
            for sl in macho.slices:
                bundle.classes |= sl.classes
                bundle.class_refs |= sl.class_refs
                bundle.swift_modules |= sl.swift_modules
            first = next((sl for sl in macho.slices if sl.strings), None)
            if first is not None:
                texts.append(DexFile(name=exe_name, strings=first.strings[:limits.max_dex_strings]))
    # the signature and profile
    sig = macho.signature if macho is not None else None
    entitlements = sig.entitlements if sig is not None and sig.entitlements is not None else {}
    profile_raw = archive.read(prefix + "embedded.mobileprovision", limits.max_cert_size)
    profile = (read_profile(profile_raw, prefix + "embedded.mobileprovision", problems)
               if profile_raw is not None else None)
    facts["signing"] = _signing_facts(sig, profile, entitlements)
    weaknesses.extend(_signing_weaknesses(macho, sig, profile, entitlements, prefix + exe_name, platform))
    problems.extend(_code_resources(archive, prefix, names, exe_name, limits))
    # frameworks, extensions, resource bundles, privacy manifests, text resources
    _walk(archive, prefix, names, bundle, facts, texts, problems, limits)
    store = _store_metadata(archive, prefix, limits, problems)
    if store:
        facts["store"] = store
    facts["pods"] = sorted(c.removeprefix("PodsDummy_") for c in bundle.classes | bundle.class_refs
                           if c.startswith("PodsDummy_") and c != "PodsDummy_")[:200]
    sdks = match_ios_sdks(bundle, signatures.ios_rules if signatures is not None else ())
    endpoints, endpoint_problems = find_endpoints(texts, signatures, limits)
    problems.extend(endpoint_problems)
    weaknesses.extend(secret_weaknesses([t for t in texts if t.name != exe_name]))
    signing = Signing(schemes=(("CMS",) if sig is not None and sig.cms else ("ad-hoc",) if sig is not None else ()),
                      certificates=tuple(profile.certificates) if profile is not None else (),
                      unsigned=sig is None, debug=bool(entitlements.get("get-task-allow")))
    return AppReport(identity=identity, signing=signing, permissions=tuple(usage_permissions(info, info_where)),
                     components=(), sdks=tuple(sdks), endpoints=tuple(endpoints), weaknesses=tuple(weaknesses),
                     problems=(*archive.problems, *problems), application={}, dex={}, ios=facts)


def _platform(info: dict[str, Any]) -> str:
    name = str(info.get("DTPlatformName", "")).lower()
    if not name:
        supported = [str(p).lower() for p in as_list(info.get("CFBundleSupportedPlatforms"))]
        name = supported[0] if supported else "iphoneos"
    return _PLATFORMS.get(name, name or "ios")


def _plist_strings(value: Any, out: list[bytes] | None = None, depth: int = 0) -> list[bytes]:
    out = [] if out is None else out
    if depth > 32 or len(out) > 100_000:
        return out
    if isinstance(value, str):
        out.append(value.encode("utf-8", "replace")[:4096])
    elif isinstance(value, dict):
        for v in value.values():
            _plist_strings(v, out, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _plist_strings(v, out, depth + 1)
    return out


def _binary_facts(m: MachO) -> dict[str, Any]:
    return {"fat": m.fat, "slices": [{
        "arch": s.arch, "kind": s.kind, "platform": s.platform, "min_os": s.min_os, "sdk": s.sdk, "pie": s.pie,
        "encrypted": None if s.cryptid is None else bool(s.cryptid), "stack_canary": s.stack_canary, "arc": s.arc,
        "linked": [p for _, p in s.dylibs][:200], "rpaths": s.rpaths[:20]} for s in m.slices]}


def _signing_facts(sig: Any, profile: Any, entitlements: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"code_signature": None, "profile": None}
    if sig is not None:
        out["code_signature"] = {"identifier": sig.identifier, "team_id": sig.team_id, "hash_types": sig.hash_types,
                                 "code_directory_version": sig.cd_version, "cms": sig.cms}
    if profile is not None:
        out["profile"] = {"name": profile.name, "type": profile.kind, "team_id": profile.team_id,
                          "team_name": profile.team_name, "app_id_name": profile.app_id_name,
                          "created": profile.created, "expires": profile.expires, "expired": profile.expired,
                          "provisioned_devices": profile.devices, "cms_envelope": profile.signed,
                          "entitlements": sorted(profile.entitlements)}
    out["entitlements"] = [{"key": k, "value": _short(v), "en": explain_entitlement(k, "en"),
                            "fr": explain_entitlement(k, "fr")} for k, v in sorted(entitlements.items())][:200]
    return out


def _short(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value[:10]) + (" …" if len(value) > 10 else "")
    return str(value)[:200]


def _signing_weaknesses(macho: MachO | None, sig: Any, profile: Any, entitlements: dict[str, Any], where: str,
                        platform: str) -> list[Weakness]:
    out = []
    if macho is not None and macho.slices and sig is None and not platform.endswith("simulator"):
        out.append(Weakness("ios.unsigned", "high", "the executable carries no code signature: iOS refuses to run "
                            "it, and its origin cannot be established", where, "no LC_CODE_SIGNATURE"))
    if entitlements.get("get-task-allow") is True and profile is not None and profile.kind != "development":
        out.append(Weakness("ios.debuggable", "high", "debuggable (get-task-allow) in a build meant for "
                            "distribution", where, f"get-task-allow = true, {profile.kind} profile"))
    if profile is not None and profile.kind == "development":
        out.append(Weakness("ios.development-profile", "low", "built with a development profile: it runs only "
                            "on the devices the profile lists", "embedded.mobileprovision",
                            f"{profile.name}: {profile.devices} devices"))
    if profile is not None and profile.expired:
        out.append(Weakness("ios.profile-expired", "medium", "the provisioning profile has expired: the app no "
                            "longer launches on devices", "embedded.mobileprovision", f"expired {profile.expires}"))
    return out


def _store_metadata(archive: Archive, prefix: str, limits: Limits, problems: list[Problem]) -> dict[str, Any]:
    """What an App Store download's iTunesMetadata.plist (beside Payload/) says about the item; the buyer's
    account details it also holds are left out."""
    where = prefix.split("Payload/", 1)[0] + "iTunesMetadata.plist" if "Payload/" in prefix else ""
    if not where or where not in archive.by_name:
        return {}
    data = read_plist(archive.read(where, limits.max_manifest_size), where, problems)
    keys = {"itemId": "item_id", "itemName": "name", "artistName": "seller", "genre": "genre",
            "releaseDate": "release_date", "bundleShortVersionString": "version",
            "softwareVersionBundleId": "bundle_id"}
    return {out: str(data[key])[:200] for key, out in keys.items() if key in data}


_OMITTED = ("Info.plist", "PkgInfo")  # sealed by the code signature's special slots, never in CodeResources


def _code_resources(archive: Archive, prefix: str, names: list[str], exe_name: str, limits: Limits) -> list[Problem]:
    """Files added to the bundle after it was signed, or signed files removed: the sealed resources
    (`_CodeSignature/CodeResources`, `files2`) against the archive. Nested code (frameworks, extensions) is
    sealed whole by its own signature."""
    where = prefix + "_CodeSignature/CodeResources"
    if where not in archive.by_name:
        return []
    problems: list[Problem] = []
    data = read_plist(archive.read(where, limits.max_manifest_size), where, problems)
    sealed = data.get("files2") if isinstance(data.get("files2"), dict) else data.get("files")
    if not isinstance(sealed, dict):
        return problems
    nested = {k for k, v in sealed.items() if isinstance(v, dict) and "cdhash" in v}
    rules = data.get("rules2") if isinstance(data.get("rules2"), dict) else data.get("rules")
    omit = []
    for pattern, rule in list(rules.items() if isinstance(rules, dict) else ())[:100]:
        if isinstance(rule, dict) and rule.get("omit"):
            with contextlib.suppress(re.error):
                omit.append(re.compile(str(pattern)))
    present = [n[len(prefix):] for n in names if n.startswith(prefix) and not n.endswith("/")]
    present_set = set(present)

    def covered(path: str) -> bool:
        parts = path.split("/")
        return path in sealed or any("/".join(parts[:i]) in nested for i in range(1, len(parts)))

    added = [p for p in present if not covered(p) and not p.startswith("_CodeSignature/")
             and p not in (exe_name, *_OMITTED) and not any(o.search(p) for o in omit)]
    missing = [k for k, v in sealed.items() if k not in present_set and not (isinstance(v, dict) and v.get("optional"))
               and not any(p.startswith(k + "/") for p in present)]
    changed = _changed(archive, prefix, sealed, present_set, limits)
    if added or missing or changed:
        shown = ", ".join([*added[:5], *(f"-{m}" for m in missing[:3]), *(f"~{c}" for c in changed[:3])])
        problems.append(Problem("ios.code-resources-mismatch", "medium",
                                f"{len(added)} files not sealed by the signature (added after signing), "
                                f"{len(missing)} sealed files missing, {len(changed)} changed since signing: "
                                f"the app was re-packaged: {shown}", where))
    return problems


_MAX_HASHED = 128 * 1024 * 1024  # bytes of sealed resources hashed per app


def _changed(archive: Archive, prefix: str, sealed: dict[str, Any], present: set[str], limits: Limits) -> list[str]:
    """Sealed files whose bytes no longer match their SHA-256 (`hash2`) or, in old signatures, SHA-1 digest."""
    import hashlib

    out, budget = [], _MAX_HASHED
    for path, value in sealed.items():
        if path not in present:
            continue
        if isinstance(value, dict):
            digest, algo = (value.get("hash2"), "sha256") if "hash2" in value else (value.get("hash"), "sha1")
        else:
            digest, algo = value, "sha1"
        entry = archive.by_name.get(prefix + path)
        if not isinstance(digest, bytes) or entry is None or entry.size > budget:
            continue
        budget -= entry.size
        raw = archive.read(prefix + path, limits.max_entry_size)
        if raw is not None and hashlib.new(algo, raw).digest() != digest:
            out.append(path)
    return out


def _walk(archive: Archive, prefix: str, names: list[str], bundle: _Bundle, facts: dict[str, Any],
          texts: list[DexFile], problems: list[Problem], limits: Limits) -> None:
    frameworks: list[dict[str, Any]] = []
    extensions: list[dict[str, Any]] = []
    manifests: list[dict[str, Any]] = []
    seen_frameworks: set[str] = set()
    n_texts = 0
    for name in names:
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix):]
        parts = rest.split("/")
        if len(parts) == 1:
            bundle.files.add(parts[0])
        for i, part in enumerate(parts[:-1]):
            if part.endswith(".bundle"):
                bundle.bundles.setdefault(part[:-7], prefix + "/".join(parts[:i + 1]))
        if parts[0] == "Frameworks" and len(parts) >= 2:
            fw = parts[1]
            if fw not in seen_frameworks and len(seen_frameworks) < _MAX_FRAMEWORKS:
                seen_frameworks.add(fw)
                base = fw.rsplit(".", 1)[0]
                entry: dict[str, Any] = {"name": fw, "where": prefix + "Frameworks/" + fw}
                if fw.endswith(".framework"):
                    bundle.frameworks.setdefault(base, entry["where"])
                    fw_info = read_plist(archive.read(f"{prefix}Frameworks/{fw}/Info.plist", limits.max_manifest_size),
                                         f"{prefix}Frameworks/{fw}/Info.plist", problems)
                    if fw_info.get("CFBundleIdentifier"):
                        entry["bundle_id"] = str(fw_info["CFBundleIdentifier"])
                        bundle.bundle_ids.setdefault(entry["bundle_id"], entry["where"])
                    entry["version"] = str(fw_info.get("CFBundleShortVersionString", "")) or None
                    _framework_binary(archive, prefix, fw, base, fw_info, bundle, texts, limits, problems)
                elif fw.endswith(".dylib"):
                    bundle.frameworks.setdefault(base.removeprefix("lib"), entry["where"])
                frameworks.append(entry)
        if (len(parts) == 3 and parts[0] in ("PlugIns", "Extensions", "Watch") and parts[2] == "Info.plist"
                and len(extensions) < _MAX_FRAMEWORKS):
            ext = read_plist(archive.read(name, limits.max_manifest_size), name, problems)
            nsext = ext.get("NSExtension")
            point = nsext.get("NSExtensionPointIdentifier") if isinstance(nsext, dict) else None
            extensions.append({"where": prefix + "/".join(parts[:2]),
                               "bundle_id": str(ext.get("CFBundleIdentifier", "")),
                               "kind": str(point or ("watch app" if parts[0] == "Watch" else "extension"))})
        if name.endswith("PrivacyInfo.xcprivacy"):
            if len(manifests) >= _MAX_FRAMEWORKS:
                continue
            data = read_plist(archive.read(name, limits.max_manifest_size), name, problems, "ios.bad-privacy-manifest")
            if data:
                manifests.append(privacy_manifest(data, name))
        elif (name.endswith(_TEXT_SUFFIXES) and n_texts < limits.max_resource_files and "/_CodeSignature/" not in name
              and name != prefix + "Info.plist"):
            raw = archive.read(name, limits.max_asset_size)
            if raw is not None:
                n_texts += 1
                data = read_plist(raw, name, [], "ios.bad-plist") if name.endswith(".plist") else {}
                if data or raw.startswith(b"bplist00"):
                    texts.append(DexFile(name=name[len(prefix):], strings=_plist_strings(data), unit="value"))
                else:
                    texts.append(DexFile(name=name[len(prefix):], strings=raw.split(b"\n"), unit="line"))
    facts["frameworks"] = frameworks
    facts["extensions"] = extensions
    facts["privacy_manifests"] = manifests


def _framework_binary(archive: Archive, prefix: str, fw: str, base: str, fw_info: dict[str, Any], bundle: _Bundle,
                      texts: list[DexFile], limits: Limits, problems: list[Problem]) -> None:
    exe = str(fw_info.get("CFBundleExecutable") or base)
    raw = archive.read(f"{prefix}Frameworks/{fw}/{exe}", limits.max_dex_size)
    if raw is None or not is_macho(raw):
        return
    m = read_macho(raw, f"{prefix}Frameworks/{fw}/{exe}")
    problems.extend(m.problems)
    for sl in m.slices:
        bundle.classes |= sl.classes
        bundle.class_refs |= sl.class_refs
    first = next((sl for sl in m.slices if sl.strings), None)
    if first is not None:
        texts.append(DexFile(name=f"Frameworks/{fw}/{exe}", strings=first.strings[:limits.max_dex_strings]))


def match_ios_sdks(bundle: _Bundle, rules: Iterable[SdkRule]) -> list[SdkMatch]:
    """Each rule that matches: bundled evidence (frameworks, resource bundles, pods, classes the app defines)
    or, failing that, referenced evidence (Info.plist keys, queried schemes, classes only imported)."""
    out = []
    defined = bundle.classes
    pods = {c.removeprefix("PodsDummy_") for c in defined | bundle.class_refs if c.startswith("PodsDummy_")}
    for rule in rules:
        strong: list[str] = []
        weak: list[str] = []
        strong += [bundle.frameworks[f] for f in rule.frameworks if f in bundle.frameworks]
        strong += [f"bundle id {b}" for b in rule.bundle_ids if b in bundle.bundle_ids]
        strong += [bundle.bundles[b] for b in rule.bundles if b in bundle.bundles]
        strong += [f"PodsDummy_{p}" for p in rule.pods if p in pods]
        strong += [f"Swift module {f}" for f in rule.frameworks if f in bundle.swift_modules]
        if rule.classes:
            prefixes = tuple(rule.classes)
            strong += sorted(c for c in defined if c.startswith(prefixes))[:_MAX_EVIDENCE]
            weak += sorted(f"_OBJC_CLASS_$_{c}" for c in bundle.class_refs - defined if c.startswith(prefixes))[:3]
        weak += [f"Info.plist {k}" for k in rule.plist_keys if k in bundle.plist_keys]
        weak += [f"LSApplicationQueriesSchemes {s}" for s in rule.schemes if s in bundle.queried]
        weak += [f"CFBundleURLSchemes {s}" for s in sorted(bundle.own_schemes)
                 if any(s.startswith(p) and len(s) > len(p) + 4 and s[len(p):].isalnum()
                        for p in rule.url_scheme_prefixes)][:3]
        weak += [f for f in rule.files if f in bundle.files]
        if not strong and not weak:
            continue
        v = rule.vendor
        out.append(SdkMatch(f"interdit:{rule.id}", rule.name, v.name, v.country, rule.categories,
                            tuple(dict.fromkeys(strong))[:_MAX_EVIDENCE],
                            () if strong else tuple(dict.fromkeys(weak))[:_MAX_EVIDENCE], "interdit", rule.note,
                            v.id, parent_id=v.parent_id, parent=v.parent))
    return out
