"""Embedded SDKs and trackers: Exodus code signatures and the ByteDance/TikTok indicators, over class names.

A class the APK defines (bundles) is strong evidence; a type it only references (calls into, expects at
run time) is weaker evidence and is reported separately. Exodus's "Pangle" signature (`com.bytedance|...`)
matches every ByteDance package, including the TikTok/Douyin login and share SDK; here it is narrowed to the
Pangle ad packages, and the other ByteDance packages are named from the indicators file.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from interdit.analysis.report import SdkMatch
from interdit.analysis.sdk_rules import RULES_FILE, SdkRule, builtin_rule_set

EXODUS_FILE = "exodus_trackers.json"
EXODUS_META = "exodus_trackers.meta.json"  # written by `interdit signatures update`: when and where from
BYTEDANCE_FILE = "bytedance_tiktok_indicators.json"
_LITERAL = re.compile(r"[A-Za-z0-9_$/-]*(?:\\?\.[A-Za-z0-9_$/-]*)*")
_EXAMPLES = 5
PANGLE_PREFIXES = ("com.bytedance.sdk.openadsdk", "com.pangle.ads", "com.pangle.global", "com.pgl",
                   "com.bytedance.pangle")
# Vendors (and their country) for well-known tracker names; Exodus itself does not record them.
# (substring of the tracker name, vendor id as in the catalogue, vendor name, ISO country of the vendor)
_VENDORS: tuple[tuple[str, str, str, str], ...] = (
    ("google", "google", "Google", "US"), ("firebase", "google", "Google", "US"), ("admob", "google", "Google", "US"),
    ("doubleclick", "google", "Google", "US"), ("crashlytics", "google", "Google", "US"),
    ("facebook", "meta", "Meta", "US"), ("instagram", "meta", "Meta", "US"),
    ("pangle", "bytedance", "ByteDance", "CN"), ("bytedance", "bytedance", "ByteDance", "CN"),
    ("tiktok", "bytedance", "ByteDance", "CN"), ("tencent", "tencent", "Tencent", "CN"),
    ("wechat", "tencent", "Tencent", "CN"), ("huawei", "huawei", "Huawei", "CN"),
    ("alibaba", "alibaba", "Alibaba", "CN"), ("umeng", "alibaba", "Alibaba", "CN"), ("baidu", "baidu", "Baidu", "CN"),
    ("xiaomi", "xiaomi", "Xiaomi", "CN"), ("yandex", "yandex", "Yandex", "RU"), ("mytracker", "vk", "VK", "RU"),
    ("microsoft", "microsoft", "Microsoft", "US"), ("amazon", "amazon", "Amazon", "US"),
    ("twitter", "x-corp", "X Corp.", "US"), ("adjust", "adjust", "Adjust", "DE"),
    ("appsflyer", "appsflyer", "AppsFlyer", "IL"), ("unity", "unity", "Unity", "US"),
    ("kaspersky", "kaspersky", "Kaspersky", "RU"), ("deepseek", "deepseek", "DeepSeek", "CN"),
    ("bugly", "tencent", "Tencent", "CN"), ("jpush", "jiguang", "Aurora Mobile (Jiguang)", "CN"),
    ("jiguang", "jiguang", "Aurora Mobile (Jiguang)", "CN"), ("getui", "getui", "Getui", "CN"),
    ("appmetrica", "yandex", "Yandex", "RU"), ("mail.ru", "vk", "VK", "RU"), ("mixpanel", "mixpanel", "Mixpanel", "US"),
    ("amplitude", "amplitude", "Amplitude", "US"), ("segment", "twilio", "Twilio (Segment)", "US"),
    ("braze", "braze", "Braze", "US"), ("appboy", "braze", "Braze", "US"),
    ("onesignal", "onesignal", "OneSignal", "US"),
    ("branch", "branch", "Branch Metrics", "US"), ("applovin", "applovin", "AppLovin", "US"),
    ("chartboost", "chartboost", "Chartboost", "US"), ("flurry", "yahoo", "Yahoo", "US"),
    ("sentry", "sentry", "Functional Software (Sentry)", "US"), ("new relic", "new-relic", "New Relic", "US"),
    ("instabug", "instabug", "Instabug", "US"), ("kochava", "kochava", "Kochava", "US"),
    ("singular", "singular", "Singular", "US"), ("clevertap", "clevertap", "CleverTap", "US"),
    ("inmobi", "inmobi", "InMobi", "IN"),
)
BYTEDANCE = ("bytedance", "ByteDance", "CN")
VENDOR_TABLE = Path(__file__).parent / "data" / "sdk-vendors.json"


@dataclass(frozen=True, slots=True)
class TrackerVendor:
    """One row of `data/sdk-vendors.json`: who makes an Exodus tracker, its parent, and the vendor's country."""

    vendor_id: str
    vendor: str
    country: str  # ISO 3166-1 alpha-2, "" when unknown (then `country_unknown` says why)
    parent_id: str = ""
    parent: str = ""
    source: str = ""
    confidence: str = "low"  # high | medium | low
    country_unknown: str = ""


def load_vendor_table(path: Path = VENDOR_TABLE) -> dict[int, TrackerVendor]:
    """Exodus tracker id -> its vendor, from the shipped table (schema_version 1)."""
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    if data.get("schema_version") != 1:
        raise ValueError(f"{path}: schema_version 1 expected")
    return {int(row["exodus_id"]): TrackerVendor(
        str(row["vendor_id"]), str(row["vendor"]), str(row.get("country", "")), str(row.get("parent_id", "")),
        str(row.get("parent", "")), str(row.get("source", "")), str(row.get("confidence", "low")),
        str(row.get("country_unknown", ""))) for row in data["trackers"]}


def tracker_vendor(tracker_id: int | str, name: str, table: dict[int, TrackerVendor] | None = None) -> TrackerVendor:
    """The vendor of an Exodus tracker: from the shipped table by id, else guessed from
    the tracker's name (low confidence), else an empty vendor."""
    table = _vendor_table() if table is None else table
    with contextlib.suppress(ValueError):
        row = table.get(int(tracker_id))
        if row is not None:
            return row
    vendor_id, vendor, country = vendor_of(name)
    return TrackerVendor(vendor_id, vendor, country, confidence="low")


_TABLE: list[dict[int, TrackerVendor]] = []


def _vendor_table() -> dict[int, TrackerVendor]:
    if not _TABLE:
        _TABLE.append(load_vendor_table())
    return _TABLE[0]


# The indicators file gathers entries from LibChecker-Rules that are not ByteDance's (Kuaishou's ad classes,
# vivo's account SDK): they are not attributed to ByteDance here.
_NOT_BYTEDANCE = ("com.yxcorp.",)
_NOT_BYTEDANCE_LABELS = ("vivo",)


@dataclass(frozen=True, slots=True)
class Signature:
    id: str
    name: str
    vendor_id: str
    vendor: str
    country: str
    categories: tuple[str, ...]
    literals: tuple[str, ...]  # substrings of a dotted class name
    pattern: re.Pattern[str] | None  # for alternatives that are not plain literals
    source: str
    note: str = ""
    prefix_only: bool = False  # literals must start the class name (package prefixes)
    parent_id: str = ""  # the vendor's parent company, when it has one
    parent: str = ""
    covers: tuple[str, ...] = ()  # ids of other signatures (Exodus trackers) this one names better


@dataclass(slots=True)
class SignatureSet:
    signatures: list[Signature] = field(default_factory=list)
    network: list[tuple[re.Pattern[str], str]] = field(default_factory=list)  # host pattern -> tracker name
    domain_owners: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # suffix -> (id, name, country)
    shared_domains: frozenset[str] = frozenset()
    sources: tuple[str, ...] = ()
    # ByteDance indicators outside the code: manifest component names (literal or regex) and native libraries
    components: list[tuple[re.Pattern[str], str]] = field(default_factory=list)  # pattern -> label
    native_libs: dict[str, str] = field(default_factory=dict)  # file name -> label
    ios_rules: tuple[SdkRule, ...] = ()  # interdit's rules for iOS apps
    rule_components: dict[str, SdkRule] = field(default_factory=dict)  # manifest component -> rule
    rule_libs: dict[str, SdkRule] = field(default_factory=dict)  # native library file name -> rule
    sets: tuple[str, ...] = ()  # the signature sets used, with their versions, as a person reads them


def vendor_of(name: str) -> tuple[str, str, str]:
    """(vendor id, vendor name, country) for a tracker or SDK name, or empty strings when unknown."""
    low = name.lower()
    for key, vendor_id, vendor, country in _VENDORS:
        if key in low:
            return vendor_id, vendor, country
    return "", "", ""


def _split(signature: str) -> tuple[tuple[str, ...], re.Pattern[str] | None]:
    literals, others = [], []
    for alt in signature.split("|"):
        if not alt:
            continue
        if _LITERAL.fullmatch(alt):
            literals.append(alt.replace("\\.", ".").replace("/", "."))
        else:
            others.append(alt)
    pattern = None
    if others:
        try:
            pattern = re.compile("|".join(f"(?:{o})" for o in others), re.MULTILINE)
        except re.error:
            pattern = None
    return tuple(literals), pattern


def load_signatures(directory: Path) -> SignatureSet:
    """Read exodus_trackers.json and bytedance_tiktok_indicators.json from `directory` (either may be absent)."""
    out = SignatureSet()
    labels = [add_builtin_rules(out)]
    sources: list[str] = [str(RULES_FILE)]
    exodus_path = directory / EXODUS_FILE
    if exodus_path.is_file():
        sources.append(str(exodus_path))
        raw: dict[str, Any] = json.loads(exodus_path.read_text("utf-8"))
        labels.append(exodus_label(exodus_path, raw))
        for key, t in sorted(raw.get("trackers", raw).items(), key=lambda kv: int(kv[0])):
            name = str(t.get("name", key))
            code = str(t.get("code_signature") or "")
            who = tracker_vendor(t.get("id", key), name)
            note = ""
            prefix_only = False
            if name == "Pangle" and "com.bytedance" in code.split("|"):
                literals: tuple[str, ...] = PANGLE_PREFIXES
                pattern = None
                prefix_only = True
                note = ("Exodus signature 'com.bytedance' matches every ByteDance package (including the TikTok "
                        "login/share SDK); narrowed to the Pangle ad SDK packages")
            else:
                literals, pattern = _split(code)
            if literals or pattern is not None:
                out.signatures.append(Signature(f"exodus:{t.get('id', key)}", name, who.vendor_id, who.vendor,
                                                who.country, tuple(t.get("categories") or ()), literals, pattern,
                                                "exodus", note, prefix_only, who.parent_id, who.parent))
            net = str(t.get("network_signature") or "")
            if net:
                with contextlib.suppress(re.error):
                    out.network.append((re.compile(net, re.IGNORECASE), name))
    bd_path = directory / BYTEDANCE_FILE
    if not bd_path.is_file():
        out.signatures.extend(builtin_bytedance())
        sources.append(str(BUILTIN_BYTEDANCE))
    else:
        sources.append(str(bd_path))
        labels.append(f"ByteDance/TikTok indicators ({bd_path.name})")
        bd: dict[str, Any] = json.loads(bd_path.read_text("utf-8"))
        by_label: dict[str, list[str]] = {}
        for item in bd.get("code_prefixes", []):
            label = str(item.get("label", item["name"]))
            by_label.setdefault(label, []).append(str(item["name"]))
        for label, prefixes in by_label.items():
            kind = _bytedance_kind(label, prefixes)
            out.signatures.append(Signature(f"bytedance:{prefixes[0]}", label, *BYTEDANCE, (kind,),
                                            tuple(prefixes), None, "bytedance-indicators", prefix_only=True))
        for item in bd.get("manifest_components", []):
            name = str(item["name"])
            if name.startswith(_NOT_BYTEDANCE):
                continue
            with contextlib.suppress(re.error):
                pattern = re.compile(name if item.get("regex") else re.escape(name) + "$")
                out.components.append((pattern, str(item.get("label", name))))
        for item in bd.get("native_libs", []):
            label = str(item.get("label", item["name"]))
            if not label.lower().startswith(_NOT_BYTEDANCE_LABELS):
                out.native_libs.setdefault(str(item["name"]), label)
        for item in bd.get("domain_suffixes", []):
            out.domain_owners[str(item["suffix"]).lower()] = BYTEDANCE
        out.shared_domains = frozenset(str(d).lower() for d in bd.get("domain_suffixes_excluded_as_shared_cdn", []))
    out.sources = tuple(sources)
    out.sets = tuple(labels)
    return out


def exodus_label(path: Path, raw: dict[str, Any]) -> str:
    """"Exodus Privacy trackers of 2026-12-01": the download date `signatures update` recorded, else the
    newest tracker's creation date in the file."""
    trackers = raw.get("trackers", raw)
    count = len(trackers) if isinstance(trackers, dict) else 0
    meta = path.with_name(EXODUS_META)
    with contextlib.suppress(OSError, ValueError, AttributeError):
        downloaded = str(json.loads(meta.read_text("utf-8")).get("downloaded", ""))[:10]
        if downloaded:
            return f"Exodus Privacy trackers of {downloaded} ({count} trackers)"
    dates = [str(t.get("creation_date", "")) for t in trackers.values()] if isinstance(trackers, dict) else []
    newest = max((d for d in dates if d), default="")
    return f"Exodus Privacy trackers ({count} trackers, newest entry {newest or '?'})"


def add_builtin_rules(out: SignatureSet) -> str:
    """Add interdit's own SDK rules (data/sdk-rules.json) to `out`; returns the rule set's name and version."""
    rule_set = builtin_rule_set()
    for rule in rule_set.rules:
        v = rule.vendor
        if rule.android:
            out.signatures.append(Signature(
                f"interdit:{rule.id}", rule.name, v.id, v.name, v.country, rule.categories, rule.android, None,
                "interdit", rule.note, prefix_only=True, parent_id=v.parent_id, parent=v.parent,
                covers=tuple(f"exodus:{i}" for i in rule.exodus)))
        for domain in rule.domains:
            out.domain_owners.setdefault(domain.lower(), (v.id, v.name, v.country))
        out.rule_components.update(dict.fromkeys(rule.components, rule))
        out.rule_libs.update(dict.fromkeys(rule.native_libs, rule))
    out.ios_rules = rule_set.rules
    return rule_set.label


BUILTIN_BYTEDANCE = Path(__file__).with_name("bytedance_sdks.yaml")


def builtin_bytedance() -> list[Signature]:
    """The project's own ByteDance SDK rules (bytedance_sdks.yaml), used when no indicator file is given."""
    from interdit.analysis.yaml_cache import load_yaml

    data = load_yaml(BUILTIN_BYTEDANCE.read_text("utf-8"))
    vendor = data["vendor"]
    return [Signature(f"interdit:{sdk['prefixes'][0]}", str(sdk["name"]), str(vendor["id"]), str(vendor["name"]),
                      str(vendor["country"]), (str(sdk["category"]),), tuple(str(p) for p in sdk["prefixes"]), None,
                      "interdit-bytedance", prefix_only=True) for sdk in data["sdks"]]


def builtin_signatures() -> SignatureSet:
    """What interdit recognises with no signature folder at all: its own SDK rules and ByteDance SDK rules."""
    out = SignatureSet()
    label = add_builtin_rules(out)
    out.signatures.extend(builtin_bytedance())
    out.sources = (str(RULES_FILE), str(BUILTIN_BYTEDANCE))
    out.sets = (label,)
    return out


def _bytedance_kind(label: str, prefixes: list[str]) -> str:
    low = label.lower()
    if any(p.startswith(PANGLE_PREFIXES) for p in prefixes) or "pangle" in low or "广告" in label:
        return "Advertisement"
    if "opensdk" in low.replace(" ", "") or "open sdk" in low or any(".sdk.open." in p + "." for p in prefixes):
        return "Login and sharing (TikTok/Douyin OpenSDK)"
    if "applog" in low or "埋点" in label:
        return "Analytics"
    return "Library"


def _examples(joined: str, sig: Signature) -> list[str]:
    found: list[str] = []
    seen: set[str] = set()
    for lit in sig.literals:
        needle = "\n" + lit if sig.prefix_only else lit
        pos = joined.find(needle)
        while pos >= 0 and len(found) < _EXAMPLES:
            start = joined.rfind("\n", 0, pos + 1) + 1
            end = joined.find("\n", pos + 1)
            line = joined[start:end if end >= 0 else len(joined)]
            ok = not sig.prefix_only or line == lit or line.startswith((lit + ".", lit + "$"))
            if ok and line not in seen:
                seen.add(line)
                found.append(line)
            pos = joined.find(needle, end if end >= 0 else len(joined))
        if len(found) >= _EXAMPLES:
            break
    if sig.pattern is not None and len(found) < _EXAMPLES:
        for m in sig.pattern.finditer(joined):
            start = joined.rfind("\n", 0, m.start() + 1) + 1
            end = joined.find("\n", m.start())
            line = joined[start:end if end >= 0 else len(joined)]
            if line not in seen:
                seen.add(line)
                found.append(line)
            if len(found) >= _EXAMPLES:
                break
    return found


def _name_index(text: str) -> tuple[set[str], set[str]]:
    """Every package prefix of the names in `text` (one a line: "a", "a.b", "a.b.C"), and every part between dots.

    A prefix literal matches a name exactly when it is one of the prefixes; a literal found anywhere in a name
    ("x.y.z") needs its inner parts ("y") to be whole parts of that name. Set look-ups answer most signatures in
    a few steps instead of one search of every class name for each literal.
    """
    prefixes: set[str] = set()
    parts: set[str] = set()
    add = prefixes.add
    for name in text.split("\n"):
        pieces = name.split(".")
        parts.update(pieces)
        pos = name.find(".")
        while pos >= 0:
            add(name[:pos])
            pos = name.find(".", pos + 1)
        add(name)
    return prefixes, parts


def _may_match(lit: str, prefix_only: bool, prefixes: set[str], parts: set[str], text: str) -> bool:
    """Whether the literal (with a dot, no `$`) can match a name in `text` (names without `$`, one a line)."""
    if prefix_only:
        return lit in prefixes
    inner = lit.split(".")[1:-1]
    if any(p not in parts for p in inner):
        return False
    return lit in text


def match_sdks(defined: set[str], referenced: set[str], signatures: SignatureSet) -> list[SdkMatch]:
    """Every signature that matches a bundled or a referenced class, with example classes as evidence.

    Nested classes (`a.B$C`) are folded into their outer class for literals with a dot and no `$`: such a
    literal cannot match inside the nested part (it has no dot), so the answer is the same, on fewer names.
    """
    texts = {}
    for label, names in (("def", defined), ("ref", referenced)):
        outer = {n.split("$", 1)[0] for n in names}
        texts[label] = ("\n" + "\n".join(sorted(outer)) + "\n", "\n" + "\n".join(sorted(names)) + "\n")
    out: list[SdkMatch] = []
    covered: set[str] = set()  # named by a rule that matched bundled classes
    covered_ref: set[str] = set()  # named by a rule that matched referenced types only
    both = texts["def"][0] + texts["ref"][0]  # one search tells most signatures they match nothing
    prefixes, parts = _name_index(both)
    for sig in signatures.signatures:
        foldable = sig.pattern is None and all("." in lit and "$" not in lit for lit in sig.literals)
        if foldable and not any(_may_match(lit, sig.prefix_only, prefixes, parts, both) for lit in sig.literals):
            continue
        index = 0 if foldable else 1
        bundled = _examples(texts["def"][index], sig)
        refs = [] if bundled else _examples(texts["ref"][index], sig)
        if bundled or refs:
            out.append(SdkMatch(sig.id, sig.name, sig.vendor, sig.country, sig.categories, tuple(bundled),
                                tuple(refs), sig.source, sig.note, sig.vendor_id, parent_id=sig.parent_id,
                                parent=sig.parent))
            (covered if bundled else covered_ref).update(sig.covers)
    return [m for m in out if m.id not in covered and not (m.id in covered_ref and not m.bundled)]


def match_indicators(components: list[tuple[str, str]], entry_names: list[str],
                     signatures: SignatureSet) -> list[SdkMatch]:
    """ByteDance SDKs seen in the manifest's components (kind, name) and in native libraries (lib/<abi>/x.so)."""
    found: dict[str, list[str]] = {}
    for kind, name in components:
        for pattern, label in signatures.components:
            if pattern.match(name):
                found.setdefault(label, []).append(f"AndroidManifest.xml {kind} {name}")
                break
    for entry in entry_names:
        if entry.startswith("lib/") and entry.endswith(".so"):
            lib_label = signatures.native_libs.get(entry.rsplit("/", 1)[-1])
            if lib_label is not None:
                found.setdefault(lib_label, []).append(entry)
    out = []
    for label, evidence in found.items():
        kind = _bytedance_kind(label, [e.rsplit(" ", 1)[-1] for e in evidence])
        out.append(SdkMatch(f"bytedance-indicator:{label}", label, "ByteDance", "CN", (kind,), tuple(evidence[:5]),
                            (), "bytedance-indicators", "declared in the manifest or shipped as a native library",
                            "bytedance"))
    return out


EXODUS_CREDIT = ("Tracker list by εxodus Privacy (https://exodus-privacy.eu.org, "
                 "https://reports.exodus-privacy.eu.org/trackers/), used with credit to Exodus Privacy")
MAX_EXODUS_SIZE = 64 * 1024 * 1024


def check_exodus(raw: bytes) -> dict[str, Any]:
    """The Exodus tracker list in `raw` (the body of GET /api/trackers), checked: a JSON object whose "trackers"
    maps numeric ids to trackers with a name and string signatures that compile. Raises ValueError naming the
    first fault."""
    if len(raw) > MAX_EXODUS_SIZE:
        raise ValueError(f"{len(raw)} bytes: over the {MAX_EXODUS_SIZE} bytes a tracker list can be")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc})") from exc
    trackers = data.get("trackers") if isinstance(data, dict) else None
    if not isinstance(trackers, dict) or not trackers:
        raise ValueError('no "trackers" object with trackers in it')
    for key, t in trackers.items():
        if not str(key).isdigit() or not isinstance(t, dict):
            raise ValueError(f"tracker {key!r}: not a numeric id with an object")
        if not isinstance(t.get("name"), str) or not t["name"]:
            raise ValueError(f"tracker {key}: no name")
        for sig in ("code_signature", "network_signature"):
            value = t.get(sig, "")
            if not isinstance(value, str):
                raise ValueError(f"tracker {key} ({t['name']}): {sig} is not a string")
            if value:
                try:
                    re.compile(value)
                except re.error as exc:
                    raise ValueError(f"tracker {key} ({t['name']}): {sig} is not a valid pattern ({exc})") from exc
        if not isinstance(t.get("categories", []), list):
            raise ValueError(f"tracker {key} ({t['name']}): categories is not a list")
    checked: dict[str, Any] = data
    return checked


def match_rule_indicators(components: list[tuple[str, str]], entry_names: list[str], signatures: SignatureSet,
                          found: list[SdkMatch]) -> list[SdkMatch]:
    """`found` with the built-in rules' manifest components and native libraries added (these survive code
    obfuscation): a rule already named by its classes gets the evidence appended, another becomes a bundled
    match; Exodus matches a bundled rule covers are then dropped, so an SDK is named once."""
    evidence: dict[str, list[str]] = {}
    rules: dict[str, SdkRule] = {}
    for kind, name in components:
        rule = signatures.rule_components.get(name)
        if rule is not None:
            evidence.setdefault(rule.id, []).append(f"AndroidManifest.xml {kind} {name}")
            rules[rule.id] = rule
    for entry in entry_names:
        if entry.startswith("lib/") and entry.endswith(".so"):
            rule = signatures.rule_libs.get(entry.rsplit("/", 1)[-1])
            if rule is not None:
                evidence.setdefault(rule.id, []).append(entry)
                rules[rule.id] = rule
    if not evidence:
        return found
    out = []
    for m in found:
        extra = evidence.pop(m.id.removeprefix("interdit:"), None) if m.source == "interdit" else None
        out.append(replace(m, bundled=(*m.bundled, *extra)[:_EXAMPLES], referenced=()) if extra else m)
    for rule_id, items in evidence.items():
        rule, v = rules[rule_id], rules[rule_id].vendor
        out.append(SdkMatch(f"interdit:{rule.id}", rule.name, v.name, v.country, rule.categories,
                            tuple(items[:_EXAMPLES]), (), "interdit", "declared in the manifest or shipped as a "
                            "native library", v.id, parent_id=v.parent_id, parent=v.parent))
    covered = {f"exodus:{i}" for m in out if m.bundled and m.source == "interdit"
               for i in (rules[m.id.removeprefix("interdit:")].exodus if m.id.removeprefix("interdit:") in rules
                         else ())}
    return [m for m in out if m.id not in covered]
