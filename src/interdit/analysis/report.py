"""What the analyzer proved about one app (Android APK or iOS IPA): every claim carries the place in the file it
comes from."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 3
ANALYZER_VERSION = "5"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one analysis reads. Hostile files hit these, not the machine's memory."""

    max_file_size: int = 512 * 1024 * 1024
    max_entries: int = 65_536
    max_entry_size: int = 256 * 1024 * 1024  # inflated bytes of one entry
    max_total_inflated: int = 1024 * 1024 * 1024  # inflated bytes over the whole analysis
    max_ratio: int = 200  # inflated / compressed, checked for entries over 1 MiB
    max_manifest_size: int = 8 * 1024 * 1024
    max_axml_strings: int = 200_000
    max_axml_elements: int = 100_000
    max_axml_depth: int = 64
    max_dex_files: int = 64
    max_dex_strings: int = 2_000_000
    max_dex_size: int = 128 * 1024 * 1024
    max_cert_size: int = 1024 * 1024
    max_endpoints: int = 5_000
    max_resources_size: int = 64 * 1024 * 1024  # resources.arsc
    max_resource_files: int = 256  # res/xml/*.xml and text assets searched for endpoints and secrets
    max_asset_size: int = 1024 * 1024


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with the file itself: damage, tampering, or a bound that stopped the reading."""

    code: str  # stable, e.g. "zip.duplicate-entry"
    severity: str  # info | low | medium | high
    message: str
    where: str = ""  # entry name, offset, or "archive"


@dataclass(frozen=True, slots=True)
class Weakness:
    """A risky property of the app (manifest, code or signing) with its evidence."""

    id: str  # stable, e.g. "manifest.debuggable"
    severity: str
    message: str
    where: str = ""
    evidence: str = ""


@dataclass(frozen=True, slots=True)
class Certificate:
    subject: str
    issuer: str
    serial: str
    not_before: str
    not_after: str
    sha256: str
    key_algorithm: str = ""
    where: str = ""
    debug: bool = False
    capabilities: tuple[str, ...] = ()  # a lineage level's: what the platform still grants this certificate


@dataclass(frozen=True, slots=True)
class Signing:
    schemes: tuple[str, ...] = ()  # "v1", "v2", "v3", "v3.1"
    certificates: tuple[Certificate, ...] = ()
    v1_files: tuple[str, ...] = ()  # META-INF signature block files
    unsigned: bool = False
    janus: bool = False
    debug: bool = False
    signing_block_ids: tuple[str, ...] = ()  # hex ids of every pair in the APK Signing Block
    lineage: tuple[Certificate, ...] = ()  # the v3 proof-of-rotation lineage's certificates, oldest first


@dataclass(frozen=True, slots=True)
class Permission:
    name: str
    protection: str  # normal | dangerous | signature | special | unknown
    group: str  # reviewer words: location, camera, ... or "other"
    description: str
    max_sdk: int | None = None
    sdk23: bool = False  # declared with <uses-permission-sdk-23>
    where: str = "AndroidManifest.xml"


@dataclass(frozen=True, slots=True)
class SdkMatch:
    id: str  # "exodus:363" or "bytedance:com.bytedance.sdk.open.tiktok"
    name: str
    vendor: str
    country: str
    categories: tuple[str, ...]
    bundled: tuple[str, ...]  # classes the APK defines that matched (examples, bounded)
    referenced: tuple[str, ...]  # types the APK only references (weaker evidence)
    source: str  # exodus | bytedance-indicators
    note: str = ""
    vendor_id: str = ""  # the catalogue's vendor id (e.g. "bytedance"), when known
    prohibited: bool = False  # the vendor is one the organisation prohibits
    parent_id: str = ""  # the vendor's parent company (id and name), when it has one
    parent: str = ""

    @property
    def strength(self) -> str:
        return "bundled" if self.bundled else "referenced"


@dataclass(frozen=True, slots=True)
class Endpoint:
    value: str  # a normalised URL or host name
    host: str
    kind: str  # url | host
    where: str  # e.g. "classes2.dex string #1234"
    owner: str = ""  # filled when a signature or the catalogue knows it (e.g. "ByteDance")
    owner_id: str = ""  # the catalogue's vendor id (e.g. "bytedance")
    country: str = ""  # the owner's country (ISO 3166-1 alpha-2)
    prohibited: bool = False  # the owner is a vendor the organisation prohibits
    owner_chain: tuple[str, ...] = ()  # the owner's vendor id and its parents in the catalogue


@dataclass(frozen=True, slots=True)
class Component:
    kind: str  # activity | activity-alias | service | receiver | provider
    name: str
    exported: bool | None  # None: not declared
    effective_exported: bool
    permission: str | None
    intent_filters: tuple[tuple[str, ...], ...] = ()  # actions of each filter
    task_affinity: str | None = None
    launch_mode: str | None = None
    line: int = 0


@dataclass(frozen=True, slots=True)
class Identity:
    package: str | None
    version_code: int | None
    version_name: str | None
    min_sdk: int | None
    target_sdk: int | None
    sha256: str
    size: int
    file_name: str
    label: str | None = None  # the app's name (android:label, resolved from resources.arsc when a reference)
    platform: str = "android"  # android | ios | tvos | watchos | ios-simulator
    min_os: str | None = None  # iOS: MinimumOSVersion (Android keeps min_sdk)


@dataclass(frozen=True, slots=True)
class RuleHit:
    id: str
    weight: int
    description: str
    evidence: tuple[str, ...]
    texts: dict[str, str] = field(default_factory=dict)  # the description in every language the rule gives

    def text(self, lang: str) -> str:
        return self.texts.get(lang) or self.description


@dataclass(frozen=True, slots=True)
class Score:
    total: int
    verdict: str  # acceptable | needs_review | unacceptable
    hits: tuple[RuleHit, ...]
    thresholds: tuple[int, int]  # (needs_review at or above, unacceptable at or above)


@dataclass(frozen=True, slots=True)
class FamilyMatch:
    """A catalogue family the app matches, how (`kind`) and on what evidence."""

    family_id: str
    name: str
    vendor_id: str
    kind: str  # package | vendor-prefix | sdk | endpoint
    evidence: tuple[str, ...]  # the package name, the SDK and its classes, or the endpoint and where it was found


@dataclass(frozen=True, slots=True)
class VendorMatch:
    """A catalogue vendor involved in the matches."""

    id: str
    name: str
    country: str
    parent: str | None = None  # vendor id


@dataclass(frozen=True, slots=True)
class DirectiveMatch:
    """A catalogue directive that prohibits a matched family (or every app of a matched vendor)."""

    id: str
    issuer: str
    title: dict[str, str]  # language -> title, as the catalogue has it ("en", and "fr" where given)
    effective: str  # ISO date
    families: tuple[str, ...] = ()  # the matched families it names
    vendors: tuple[str, ...] = ()  # the matched vendors it names (all their apps)

    def title_in(self, lang: str) -> str:
        return self.title.get(lang) or self.title.get("en") or self.id


@dataclass(frozen=True, slots=True)
class Matches:
    """What the app matches in the catalogue: families, the vendors involved, and the directives against them."""

    families: tuple[FamilyMatch, ...] = ()
    vendors: tuple[VendorMatch, ...] = ()
    directives: tuple[DirectiveMatch, ...] = ()
    catalogue_version: str = ""  # "" when no catalogue was used


@dataclass(frozen=True, slots=True)
class AppReport:
    identity: Identity
    signing: Signing
    permissions: tuple[Permission, ...]
    components: tuple[Component, ...]
    sdks: tuple[SdkMatch, ...]
    endpoints: tuple[Endpoint, ...]
    weaknesses: tuple[Weakness, ...]
    problems: tuple[Problem, ...]
    application: dict[str, str] = field(default_factory=dict)  # raw application flags as read
    dex: dict[str, int] = field(default_factory=dict)  # counts: files, classes, strings, types
    score: Score | None = None
    analyzer_version: str = ANALYZER_VERSION
    matches: Matches = field(default_factory=Matches)
    signature_sets: tuple[str, ...] = ()  # the SDK signature sets used, with versions ("interdit SDK rules 2026.12")
    ios: dict[str, Any] = field(default_factory=dict)  # iOS only: bundle, signing, privacy, network, binary facts

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
        data.update(asdict(self))
        for sdk, raw in zip(self.sdks, data["sdks"], strict=True):
            raw["strength"] = sdk.strength
        return data


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def _build(cls: Any, raw: dict[str, Any]) -> Any:
    names = {f for f in cls.__dataclass_fields__}
    return cls(**{k: _tuples(v) for k, v in raw.items() if k in names})


def report_from_json(data: dict[str, Any]) -> AppReport:
    """The inverse of `AppReport.to_json` (for cached and stored reports). Raises KeyError/TypeError if malformed."""
    signing = dict(data["signing"])
    signing["certificates"] = tuple(_build(Certificate, c) for c in signing.get("certificates", ()))
    signing["lineage"] = tuple(_build(Certificate, c) for c in signing.get("lineage", ()))
    score = data.get("score")
    built_score = None
    if score is not None:
        hits = tuple(_build(RuleHit, h) for h in score["hits"])
        built_score = Score(score["total"], score["verdict"], hits, tuple(score["thresholds"]))
    return AppReport(
        identity=_build(Identity, data["identity"]),
        signing=_build(Signing, signing),
        permissions=tuple(_build(Permission, p) for p in data["permissions"]),
        components=tuple(_build(Component, c) for c in data["components"]),
        sdks=tuple(_build(SdkMatch, s) for s in data["sdks"]),
        endpoints=tuple(_build(Endpoint, e) for e in data["endpoints"]),
        weaknesses=tuple(_build(Weakness, w) for w in data["weaknesses"]),
        problems=tuple(_build(Problem, p) for p in data["problems"]),
        application=dict(data.get("application", {})),
        dex=dict(data.get("dex", {})),
        score=built_score,
        analyzer_version=str(data.get("analyzer_version", ANALYZER_VERSION)),
        matches=_matches(data.get("matches") or {}),
        signature_sets=tuple(str(x) for x in data.get("signature_sets") or ()),
        ios=dict(data.get("ios") or {}),
    )


def _matches(raw: dict[str, Any]) -> Matches:
    return Matches(families=tuple(_build(FamilyMatch, f) for f in raw.get("families", ())),
                   vendors=tuple(_build(VendorMatch, v) for v in raw.get("vendors", ())),
                   directives=tuple(_build(DirectiveMatch, {**d, "title": dict(d.get("title", {}))})
                                    for d in raw.get("directives", ())),
                   catalogue_version=str(raw.get("catalogue_version", "")))
