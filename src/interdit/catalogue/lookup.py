"""Questions asked of a catalogue: search, what to block, who owns a name, which family an app is."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from interdit.catalogue.load import suffixes
from interdit.model import AppFamily, AppId, Catalogue, Directive, Platform


def fold(text: str) -> str:
    """Lowercase without accents: 'Québec' and 'QUEBEC' both give 'quebec'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@dataclass(frozen=True, slots=True)
class _Index:
    entries: tuple[tuple[str, str, str, str], ...]  # kind, id, label, folded haystack
    exact: dict[AppId, str]  # identifier -> family id
    prefixes: tuple[tuple[AppId, str], ...]  # (prefix, family id), longest first
    domains: dict[str, tuple[str, str]]  # family domain -> (family id, vendor id)
    shared: frozenset[str]


_cache: list[tuple[Catalogue, _Index]] = []


def _index(cat: Catalogue) -> _Index:
    for known, index in _cache:
        if known is cat:
            return index
    entries: list[tuple[str, str, str, str]] = []
    for d in cat.directives.values():
        words = [d.id, d.issuer, d.jurisdiction, *d.title.values(), *d.families, *d.vendors,
                 *(x for v in d.versions for x in (*v.families, *v.vendors))]
        entries.append(("directive", d.id, d.title_in("en"), fold(" ".join(words))))
    for f in cat.families.values():
        words = [f.id, f.name, f.vendor, f.category, *(a.identifier for a in f.identifiers),
                 *(a.identifier for a in f.prefixes), *f.domains, *(n.name for n in f.store_names)]
        entries.append(("family", f.id, f.name, fold(" ".join(words))))
    for v in cat.vendors.values():
        entries.append(("vendor", v.id, v.name, fold(" ".join([v.id, v.name, v.country]))))
    exact: dict[AppId, str] = {}
    prefixes: list[tuple[AppId, str]] = []
    domains: dict[str, tuple[str, str]] = {}
    for f in cat.families.values():
        for a in f.identifiers:
            exact.setdefault(a, f.id)
        prefixes.extend((p, f.id) for p in f.prefixes)
        for name in f.domains:
            domains.setdefault(name, (f.id, f.vendor))
    prefixes.sort(key=lambda pf: -len(pf[0].identifier))
    index = _Index(tuple(entries), exact, tuple(prefixes), domains, frozenset(s.name for s in cat.shared_hosts))
    _cache[:] = [(cat, index)]
    return index


_KIND_ORDER = {"directive": 0, "family": 1, "vendor": 2}


def search(cat: Catalogue, text: str) -> list[tuple[str, str, str]]:
    """Entries whose ids, names, titles (English and French), jurisdiction, identifiers or domains contain every
    word of `text`, accents and case ignored: (kind, id, label), exact id matches first."""
    words = fold(text).split()
    if not words:
        return []
    query = fold(text).strip()
    hits = [(kind, ident, label) for kind, ident, label, hay in _index(cat).entries if all(w in hay for w in words)]
    hits.sort(key=lambda h: (fold(h[1]) != query, _KIND_ORDER[h[0]], h[1]))
    return hits


def _normal_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


def is_shared_host(cat: Catalogue, host: str) -> bool:
    """True when `host` is a shared host or under one (by whole labels)."""
    shared = _index(cat).shared
    return any(s in shared for s in suffixes(_normal_host(host)))


def blockable_domains(cat: Catalogue, family_ids: Iterable[str]) -> tuple[str, ...]:
    """The families' domains, each to be blocked with every subdomain; never a shared host or a name under one.
    Sorted, deduplicated, lowercase. Ids the catalogue does not know (an organisation's own families) add nothing."""
    names: set[str] = set()
    for fid in family_ids:
        family = cat.families.get(fid)
        if family is not None:
            names.update(_normal_host(d) for d in family.domains)
    return tuple(sorted(n for n in names if n and not is_shared_host(cat, n)))


def vendor_chain(cat: Catalogue, vendor_id: str) -> tuple[str, ...]:
    """The vendor and its parents, nearest first (`tiktok-pte` -> (`tiktok-pte`, `bytedance`)); () if unknown."""
    chain: list[str] = []
    current: str | None = vendor_id
    while current is not None and current in cat.vendors and current not in chain:
        chain.append(current)
        current = cat.vendors[current].parent
    return tuple(chain)


def family_for_app(cat: Catalogue, app: AppId) -> AppFamily | None:
    """The family an installed app belongs to: an exact identifier, else the longest matching vendor prefix."""
    index = _index(cat)
    fid = index.exact.get(app)
    if fid is None:
        for prefix, pfid in index.prefixes:
            if prefix.platform == app.platform and (
                    app.identifier == prefix.identifier or app.identifier.startswith(prefix.identifier + ".")):
                fid = pfid
                break
    return cat.families[fid] if fid is not None else None


def owner_of_domain(cat: Catalogue, host: str) -> tuple[str, str] | None:
    """(family id, vendor id) owning `host`: the host is a family domain or under one, by whole labels
    (`www.tiktok.com` yes, `nottiktok.com` and `tiktok.com.edgesuite.net` no)."""
    domains = _index(cat).domains
    for name in suffixes(_normal_host(host)):
        owner = domains.get(name)
        if owner is not None:
            return owner
    return None


def directive_families(cat: Catalogue, directive: Directive) -> tuple[str, ...]:
    """The families `directive` prohibits: those it names, then every family of a vendor it names (or of one of
    their subsidiaries), in catalogue order."""
    named = list(directive.families)
    if directive.vendors:
        wanted = set(directive.vendors)
        named += [f.id for f in cat.families.values() if wanted & set(vendor_chain(cat, f.vendor))]
    return tuple(dict.fromkeys(f for f in named if f in cat.families))


@dataclass(frozen=True, slots=True)
class BannedApp:
    """One way to recognise a prohibited app on a platform: an exact id, a vendor namespace or a store name."""

    platform: Platform
    family: str
    kind: str  # "id", "prefix" (the id and every id under it) or "store name"
    value: str
    lang: str = ""


def directive_bans(cat: Catalogue, directive: Directive) -> tuple[tuple[BannedApp, ...], tuple[str, ...]]:
    """What `directive` bans, directly: every identifier, namespace and store name of its families by platform
    (platforms in a fixed order), and the domains to block with every subdomain."""
    families = directive_families(cat, directive)
    apps: list[BannedApp] = []
    for fid in families:
        f = cat.families[fid]
        apps += [BannedApp(a.platform, fid, "id", a.identifier) for a in f.identifiers]
        apps += [BannedApp(a.platform, fid, "prefix", a.identifier) for a in f.prefixes]
        apps += [BannedApp(n.platform, fid, "store name", n.name, n.lang) for n in f.store_names]
    order = {p: n for n, p in enumerate(Platform)}
    apps.sort(key=lambda a: order[a.platform])  # stable: families keep their order within a platform
    return tuple(apps), blockable_domains(cat, families)
