"""interdit's own SDK rules (data/sdk-rules.json): what the analyzer recognises with no downloaded data.

Each rule names an SDK, its vendor and the vendor's country, and what identifies it: Java package prefixes
in an APK, and on iOS framework and resource-bundle names, Objective-C class prefixes, CocoaPods pod names,
framework bundle ids, Info.plist keys and queried URL schemes. Rules carry the Exodus tracker ids they cover,
so that with the Exodus list loaded as well an SDK is named once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).parent / "data" / "sdk-rules.json"
LIBCHECKER_NOTICE = RULES_FILE.with_name("LIBCHECKER-NOTICE.txt")  # the licence of the `libchecker` blocks


@dataclass(frozen=True, slots=True)
class Vendor:
    id: str
    name: str
    country: str
    parent_id: str = ""
    parent: str = ""


@dataclass(frozen=True, slots=True)
class SdkRule:
    id: str
    name: str
    vendor: Vendor
    categories: tuple[str, ...]
    android: tuple[str, ...] = ()  # Java package or class prefixes
    exodus: tuple[int, ...] = ()  # Exodus tracker ids this rule covers
    frameworks: tuple[str, ...] = ()  # iOS framework / xcframework names, without the suffix
    classes: tuple[str, ...] = ()  # Objective-C class-name prefixes
    pods: tuple[str, ...] = ()  # CocoaPods pod names (PodsDummy_<pod>)
    bundles: tuple[str, ...] = ()  # resource bundle names, without ".bundle"
    bundle_ids: tuple[str, ...] = ()  # framework CFBundleIdentifier values
    plist_keys: tuple[str, ...] = ()  # Info.plist keys the SDK asks the app to set
    schemes: tuple[str, ...] = ()  # LSApplicationQueriesSchemes entries the SDK needs
    url_scheme_prefixes: tuple[str, ...] = ()  # CFBundleURLSchemes the SDK registers (prefix + app id)
    files: tuple[str, ...] = ()  # configuration files at the bundle root
    domains: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    note: str = ""
    components: tuple[str, ...] = ()  # Android manifest components (from LibChecker-Rules)
    native_libs: tuple[str, ...] = ()  # Android native library file names (from LibChecker-Rules)


@dataclass(frozen=True, slots=True)
class RuleSet:
    name: str
    version: str
    rules: tuple[SdkRule, ...]

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


def _strs(raw: Any) -> tuple[str, ...]:
    return tuple(str(x) for x in raw or ())


def load_rule_set(path: Path = RULES_FILE) -> RuleSet:
    """The rule file (schema_version 1). Raises ValueError (with the file and entry) when malformed."""
    try:
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable JSON rule file: {exc}") from exc
    if data.get("schema_version") != 1:
        raise ValueError(f"{path}: schema_version 1 expected")
    vendors = {key: Vendor(key, str(v["name"]), str(v.get("country", "")), str(v.get("parent_id", "")),
                           str(v.get("parent", ""))) for key, v in data["vendors"].items()}
    rules = []
    for n, raw in enumerate(data["sdks"]):
        try:
            ios = raw.get("ios") or {}
            rules.append(SdkRule(
                str(raw["id"]), str(raw["name"]), vendors[raw["vendor"]], _strs(raw.get("categories")),
                _strs(raw.get("android")), tuple(int(x) for x in raw.get("exodus") or ()),
                _strs(ios.get("frameworks")), _strs(ios.get("classes")), _strs(ios.get("pods")),
                _strs(ios.get("bundles")), _strs(ios.get("bundle_ids")), _strs(ios.get("plist_keys")),
                _strs(ios.get("schemes")), _strs(ios.get("url_scheme_prefixes")), _strs(ios.get("files")),
                _strs(raw.get("domains")), _strs(raw.get("sources")), str(raw.get("note", "")),
                _strs((raw.get("libchecker") or {}).get("components")),
                _strs((raw.get("libchecker") or {}).get("native_libs"))))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: sdks[{n}] is malformed ({type(exc).__name__}: {exc})") from exc
    return RuleSet(str(data.get("name", "interdit SDK rules")), str(data.get("version", "?")), tuple(rules))


_CACHE: dict[Path, RuleSet] = {}


def builtin_rule_set() -> RuleSet:
    """The shipped rule set, read once per process."""
    if RULES_FILE not in _CACHE:
        _CACHE[RULES_FILE] = load_rule_set(RULES_FILE)
    return _CACHE[RULES_FILE]
