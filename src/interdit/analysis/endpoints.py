"""URLs and host names in DEX strings, normalised and deduplicated, each with the first place it was seen.

Bare host names are accepted only when they end in a common top-level domain and do not look like a Java
package (com.example.app), so class and package names are not reported as hosts.
"""

from __future__ import annotations

import bisect
import re
from urllib.parse import urlsplit, urlunsplit

from interdit.analysis.dex import DexFile
from interdit.analysis.report import DEFAULT_LIMITS, Endpoint, Limits, Problem
from interdit.analysis.sdks import SignatureSet, vendor_of

_URL_REST = re.compile(rb"[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]{3,2000}")
_SCHEMES = (b"https", b"http", b"wss", b"ws", b"ftp")
# A whole line; searched as "\n" + line, since a regex that starts with a literal is searched for far faster
# than one that starts with "^" (tried at every position).
_HOST = re.compile(rb"\n((?!(?:com|org|net|io|android|androidx|java|javax|kotlin|kotlinx|dalvik)\.)"
                   rb"(?:[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.){1,8}[a-z]{2,12})$", re.MULTILINE)
_TLDS = frozenset((
    "com", "net", "org", "io", "cn", "ru", "de", "fr", "uk", "co", "jp", "kr", "in", "br", "it", "es", "nl", "eu",
    "us", "ca", "au", "ch", "se", "no", "fi", "pl", "tv", "me", "cc", "info", "biz", "app", "dev", "cloud", "xyz",
    "top", "site", "online", "tech", "ai", "gov", "edu", "mil", "int", "hk", "tw", "sg", "vn", "id", "th", "my",
    "ph", "tr", "ua", "by", "kz", "ir"
))
_PACKAGE_ROOTS = frozenset((
    "com", "org", "net", "io", "android", "androidx", "java", "javax", "kotlin", "kotlinx", "dalvik", "junit",
    "sun", "libcore", "okhttp3", "okio", "retrofit2", "dagger", "rx", "de", "fr", "uk", "cn", "ru", "jp", "kr",
    "nl", "it", "es", "br", "ch", "se"
))
# XML namespace and schema names: identifiers, never contacted
_NAMESPACE_HOSTS = frozenset(("schemas.android.com", "www.w3.org", "xmlpull.org", "ns.adobe.com", "xml.org",
                              "schemas.xmlsoap.org", "purl.org", "java.sun.com", "xmlns.jcp.org"))
_FILE_SUFFIXES = (".png", ".jpg", ".xml", ".json", ".js", ".html", ".css", ".txt", ".so", ".dex", ".java",
                  ".class", ".kt", ".properties", ".db", ".zip", ".apk", ".jar", ".gif", ".webp", ".ttf", ".mp3")


def _normalise(raw: str) -> tuple[str, str] | None:
    raw = raw.rstrip(".,;:)'\"]}>")
    try:
        parts = urlsplit(raw)
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port
    except ValueError:
        return None
    if not host or ("." not in host and host != "localhost"):
        return None
    scheme = parts.scheme.lower()
    netloc = host
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443), ("ws", 80), ("wss", 443)):
        netloc = f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path, parts.query, "")), host


def _is_host(text: str) -> bool:
    labels = text.split(".")
    if labels[-1] not in _TLDS or labels[0] in _PACKAGE_ROOTS:
        return False
    return not text.endswith(_FILE_SUFFIXES)


def owner_of(host: str, signatures: SignatureSet | None) -> tuple[str, str, str]:
    """(owner name, vendor id, country) of a host from the signature data, or empty strings."""
    if signatures is None:
        return "", "", ""
    labels = host.split(".")
    for i in range(len(labels) - 1):
        owner = signatures.domain_owners.get(".".join(labels[i:]))
        if owner:
            return owner[1], owner[0], owner[2]
    for pattern, name in signatures.network:
        if pattern.search(host):
            vendor_id, vendor, country = vendor_of(name)
            return vendor or name, vendor_id, country
    return "", "", ""


def _urls(joined: bytes) -> list[tuple[int, str]]:
    """(offset, text) of every http(s)/ws(s)/ftp URL: a literal search for "://", then the scheme before it."""
    out = []
    pos = joined.find(b"://")
    while pos >= 0:
        head = joined[max(0, pos - 5):pos].lower()
        scheme = next((s for s in _SCHEMES if head.endswith(s)), None)
        rest = _URL_REST.match(joined, pos + 3)
        if scheme is not None and rest is not None:
            start = pos - len(scheme)
            out.append((start, (joined[start:pos + 3] + rest.group()).decode("utf-8", "replace")))
        pos = joined.find(b"://", pos + 3)
    return out


def find_endpoints(files: list[DexFile], signatures: SignatureSet | None, limits: Limits = DEFAULT_LIMITS
                   ) -> tuple[list[Endpoint], list[Problem]]:
    seen: dict[str, Endpoint] = {}
    problems: list[Problem] = []
    owners: dict[str, tuple[str, str, str]] = {}
    for dex in files:
        joined, starts = dex.joined()

        def where(offset: int, dex: DexFile = dex, starts: list[int] = starts) -> str:
            return dex.place(bisect.bisect_right(starts, offset) - 1)

        found: list[tuple[str, str, str, int]] = []
        for start, url in _urls(joined):
            norm = _normalise(url)
            if norm:
                found.append((norm[0], norm[1], "url", start))
        for m in _HOST.finditer(b"\n" + joined):
            text = m.group(1).decode("ascii")
            if _is_host(text):
                found.append((text, text, "host", m.start()))  # the "\n" added in front: start of the line
        for value, host, kind, offset in found:
            if value in seen:
                continue
            if len(seen) >= limits.max_endpoints:
                problems.append(Problem("endpoints.too-many", "low",
                                        f"more than {limits.max_endpoints} endpoints; the rest are not listed",
                                        dex.name))
                return list(seen.values()), problems
            if host not in owners:
                owners[host] = owner_of(host, signatures)
            if host in _NAMESPACE_HOSTS:
                continue
            owner, owner_id, country = owners[host]
            seen[value] = Endpoint(value, host, kind, where(offset), owner, owner_id, country)
    return sorted(seen.values(), key=lambda e: (e.host, e.value)), problems

