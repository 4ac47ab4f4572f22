"""What an iOS bundle declares, read from its plists: the provisioning profile (a CMS-signed plist), usage
descriptions as permissions, entitlements in plain words, App Transport Security, URL schemes and privacy
manifests (PrivacyInfo.xcprivacy). Every reader is bounded and never raises on damaged input.
"""

from __future__ import annotations

import plistlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from interdit.analysis.i18n import ENTITLEMENTS, pick
from interdit.analysis.i18n import USAGE as USAGE_TEXT
from interdit.analysis.report import Certificate, Permission, Problem, Weakness

# Info.plist usage-description key -> (group, protection); what it gives is the message analysis.usage.<key>
USAGE: dict[str, tuple[str, str]] = {
    "NSCameraUsageDescription": ("camera", "dangerous"), "NSMicrophoneUsageDescription": ("microphone", "dangerous"),
    "NSPhotoLibraryUsageDescription": ("storage", "dangerous"),
    "NSPhotoLibraryAddUsageDescription": ("storage", "normal"),
    "NSLocationWhenInUseUsageDescription": ("location", "dangerous"),
    "NSLocationAlwaysUsageDescription": ("location", "dangerous"),
    "NSLocationAlwaysAndWhenInUseUsageDescription": ("location", "dangerous"),
    "NSLocationUsageDescription": ("location", "dangerous"), "NSContactsUsageDescription": ("contacts", "dangerous"),
    "NSCalendarsUsageDescription": ("calendar", "dangerous"),
    "NSCalendarsFullAccessUsageDescription": ("calendar", "dangerous"),
    "NSRemindersUsageDescription": ("calendar", "dangerous"),
    "NSUserTrackingUsageDescription": ("apps", "dangerous"),
    "NSBluetoothAlwaysUsageDescription": ("nearby", "dangerous"),
    "NSBluetoothPeripheralUsageDescription": ("nearby", "dangerous"),
    "NSLocalNetworkUsageDescription": ("nearby", "dangerous"),
    "NSHealthShareUsageDescription": ("sensors", "dangerous"),
    "NSHealthUpdateUsageDescription": ("sensors", "dangerous"), "NSMotionUsageDescription": ("sensors", "dangerous"),
    "NSFaceIDUsageDescription": ("phone_identity", "normal"),
    "NSSpeechRecognitionUsageDescription": ("microphone", "dangerous"),
    "NSAppleMusicUsageDescription": ("storage", "normal"), "NSHomeKitUsageDescription": ("nearby", "dangerous"),
    "NFCReaderUsageDescription": ("nearby", "normal"), "NSSiriUsageDescription": ("other", "normal"),
}

# entitlement -> (English, French) plain words
def as_list(value: Any) -> list[Any]:
    """A plist value that should be an array, as a list: a lone value becomes a list of one, anything else
    (a dictionary, nothing) an empty list. Hostile plists put any type anywhere."""
    if isinstance(value, list):
        return value
    if isinstance(value, (str, int, float, bytes)) and not isinstance(value, bool):
        return [value]
    return []


def explain_entitlement(key: str, lang: str) -> str:
    return pick(ENTITLEMENTS, key, lang, "")


def read_plist(raw: bytes | None, where: str, problems: list[Problem], code: str = "ios.bad-plist") -> dict[str, Any]:
    """A plist dictionary, or {} with a problem naming `where`."""
    if raw is None:
        return {}
    try:
        value = plistlib.loads(raw)
    except Exception as exc:  # plistlib raises ValueError, InvalidFileException, ExpatError, binascii.Error...
        problems.append(Problem(code, "medium", f"not a readable plist: {type(exc).__name__}: {str(exc)[:120]}",
                                where))
        return {}
    if not isinstance(value, dict):
        problems.append(Problem(code, "medium", "the plist is not a dictionary", where))
        return {}
    return value


@dataclass(slots=True)
class Profile:
    name: str = ""
    kind: str = ""  # development | ad-hoc | enterprise | app-store
    team_id: str = ""
    team_name: str = ""
    app_id_name: str = ""
    created: str = ""
    expires: str = ""
    expired: bool = False
    devices: int = 0
    entitlements: dict[str, Any] = field(default_factory=dict)
    certificates: list[Certificate] = field(default_factory=list)
    signed: bool = False  # the plist came out of a CMS envelope


def _profile_plist(raw: bytes, where: str, problems: list[Problem]) -> tuple[bytes | None, bool]:
    if raw[:1] == b"\x30":
        try:
            from asn1crypto import cms  # type: ignore[import-untyped]

            info = cms.ContentInfo.load(raw)
            content = info["content"]["encap_content_info"]["content"].native
            if isinstance(content, bytes):
                return content, True
        except Exception:  # a damaged envelope: fall back to the plist text inside it
            problems.append(Problem("ios.profile-bad-cms", "medium",
                                    "the provisioning profile's CMS envelope cannot be parsed", where))
    start, end = raw.find(b"<?xml"), raw.find(b"</plist>")
    if start >= 0 and end > start:
        return raw[start:end + len(b"</plist>")], False
    if raw.startswith(b"bplist00"):
        return raw, False
    return None, False


def read_profile(raw: bytes, where: str, problems: list[Problem], now: datetime | None = None) -> Profile | None:
    """The provisioning profile's facts, or None (with a problem) when it holds no readable plist."""
    if not raw:
        problems.append(Problem("ios.profile-unreadable", "medium", "the provisioning profile is empty", where))
        return None
    body, signed = _profile_plist(raw, where, problems)
    if body is None:
        problems.append(Problem("ios.profile-unreadable", "medium",
                                "the provisioning profile holds no plist", where))
        return None
    data = read_plist(body, where, problems, "ios.profile-unreadable")
    if not data:
        return None
    from interdit.analysis.signing import parse_certificate

    raw_ents = data.get("Entitlements")
    ents: dict[str, Any] = raw_ents if isinstance(raw_ents, dict) else {}
    devices = data.get("ProvisionedDevices")
    n_devices = len(devices) if isinstance(devices, list) else 0
    if data.get("ProvisionsAllDevices"):
        kind = "enterprise"
    elif isinstance(devices, list):
        kind = "development" if ents.get("get-task-allow") else "ad-hoc"
    else:
        kind = "app-store"
    teams = data.get("TeamIdentifier")
    expires = data.get("ExpirationDate")
    now = now or datetime.now(UTC)
    expired = isinstance(expires, datetime) and expires.replace(tzinfo=expires.tzinfo or UTC) < now
    certs = []
    for i, der in enumerate(as_list(data.get("DeveloperCertificates"))):
        if isinstance(der, bytes) and len(der) < 64 * 1024:
            cert = parse_certificate(der, f"{where} DeveloperCertificates[{i}]")
            if cert is not None:
                certs.append(cert)
    created = data.get("CreationDate")
    return Profile(str(data.get("Name", "")), kind, str(teams[0]) if isinstance(teams, list) and teams else "",
                   str(data.get("TeamName", "")), str(data.get("AppIDName", "")),
                   created.isoformat() if isinstance(created, datetime) else "",
                   expires.isoformat() if isinstance(expires, datetime) else "", expired, n_devices, ents, certs,
                   signed)


def usage_permissions(info: dict[str, Any], where: str) -> list[Permission]:
    out = []
    for key, value in sorted(info.items()):
        if not key.endswith("UsageDescription"):
            continue
        group, protection = USAGE.get(key, ("other", "unknown"))
        out.append(Permission(key, protection, group, str(value)[:300], where=where))
    return out


def usage_text(key: str, purpose: str, lang: str) -> str:
    """What a usage description gives access to, in `lang`, and the app's own reason for asking."""
    what = pick(USAGE_TEXT, key, lang)
    colon = "\u00a0: " if lang == "fr" else ": "
    return f"{what}{colon}{purpose}" if purpose else what


def ats_facts(info: dict[str, Any], where: str) -> tuple[dict[str, Any], list[Weakness]]:
    ats = info.get("NSAppTransportSecurity")
    if not isinstance(ats, dict):
        return {}, []
    weaknesses = []
    facts: dict[str, Any] = {k: v for k, v in ats.items() if isinstance(v, bool)}
    if ats.get("NSAllowsArbitraryLoads") is True:
        weaknesses.append(Weakness("ios.ats-disabled", "medium",
                                   "App Transport Security is off: the app may use unencrypted HTTP to any host",
                                   where, "NSAppTransportSecurity.NSAllowsArbitraryLoads = true"))
    if ats.get("NSAllowsArbitraryLoadsInWebContent") is True:
        weaknesses.append(Weakness("ios.ats-web-content", "low",
                                   "web views may load any content over unencrypted HTTP", where,
                                   "NSAppTransportSecurity.NSAllowsArbitraryLoadsInWebContent = true"))
    domains = ats.get("NSExceptionDomains")
    exceptions = {}
    if isinstance(domains, dict):
        for domain, rules in list(domains.items())[:200]:
            if not isinstance(rules, dict):
                continue
            exceptions[str(domain)] = {k: v for k, v in rules.items() if isinstance(v, (bool, str))}
            insecure = rules.get("NSExceptionAllowsInsecureHTTPLoads") or rules.get(
                "NSTemporaryExceptionAllowsInsecureHTTPLoads")
            if insecure is True:
                sub = " and its subdomains" if rules.get("NSIncludesSubdomains") else ""
                weaknesses.append(Weakness("ios.ats-insecure-domain", "low",
                                           f"unencrypted HTTP allowed to {domain}{sub}", where,
                                           f"NSExceptionDomains.{domain}.NSExceptionAllowsInsecureHTTPLoads = true"))
    if exceptions:
        facts["NSExceptionDomains"] = exceptions
    return facts, weaknesses


def url_schemes(info: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(schemes the app declares it handles, schemes it may query/open)."""
    own: list[str] = []
    for item in as_list(info.get("CFBundleURLTypes")):
        if isinstance(item, dict):
            own.extend(str(s) for s in as_list(item.get("CFBundleURLSchemes")) if isinstance(s, str))
    queried = [str(s) for s in as_list(info.get("LSApplicationQueriesSchemes")) if isinstance(s, str)]
    return own[:500], queried[:500]


def privacy_manifest(data: dict[str, Any], where: str) -> dict[str, Any]:
    types = []
    for item in as_list(data.get("NSPrivacyCollectedDataTypes")):
        if isinstance(item, dict):
            types.append({"type": str(item.get("NSPrivacyCollectedDataType", "")),
                          "linked": bool(item.get("NSPrivacyCollectedDataTypeLinked")),
                          "tracking": bool(item.get("NSPrivacyCollectedDataTypeTracking")),
                          "purposes": [str(p) for p in as_list(item.get("NSPrivacyCollectedDataTypePurposes"))]})
    apis = []
    for item in as_list(data.get("NSPrivacyAccessedAPITypes")):
        if isinstance(item, dict):
            apis.append({"type": str(item.get("NSPrivacyAccessedAPIType", "")),
                         "reasons": [str(r) for r in as_list(item.get("NSPrivacyAccessedAPITypeReasons"))]})
    tracking = data.get("NSPrivacyTracking")
    return {"where": where, "tracking": tracking if isinstance(tracking, bool) else None,
            "tracking_domains": [str(d) for d in as_list(data.get("NSPrivacyTrackingDomains"))][:100],
            "collected": types[:100], "accessed_apis": apis[:100]}
