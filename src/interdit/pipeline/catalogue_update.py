"""Catalogue updates: fetch a signed bundle (over HTTPS, or from a file on an air-gapped network), verify it,
install it, and say what it changes, in the catalogue and for the current policy.

    result = update_catalogue("https://mirror.example/catalogue-v{schema}.tar.gz", policy_path=Path("policy.yaml"))
    result.action          # "installed", "up-to-date" or, with check=True, "available"
    describe_update(result, "fr")  # what a person reads

Transport: HTTPS, with the system's or `SSL_CERT_FILE`'s certificate authorities; plain HTTP only to this
machine (localhost, 127.0.0.0/8, ::1), or anywhere with `allow_http` (an internal mirror without TLS), which the
faces announce loudly. The signature protects the content either way; TLS adds secrecy about what is fetched
and makes it harder to withhold updates.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interdit import i18n
from interdit.catalogue import channel
from interdit.catalogue.channel import load_catalogue
from interdit.catalogue.diff import CatalogueDiff, diff
from interdit.catalogue.load import SCHEMA_VERSION, data_path, read_catalogue
from interdit.errors import ConfigError, InputError, PolicyError
from interdit.model import Catalogue
from interdit.policy import load_policy

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

MAX_REDIRECTS = 5
TIMEOUT_SECONDS = 60.0
URL_ENV = "INTERDIT_CATALOGUE_URL"
_CHANNEL_FIX = f"pass a URL or a file, or set {URL_ENV} (docs/catalogue-updates.md)"


# -- which catalogue is in use ------------------------------------------------------------------------


def catalogue_in_use(*, folder: Path | None = None) -> channel.Selection:
    """The catalogue interdit uses now and where it comes from (the shipped one, or an installed update)."""
    shipped_path = data_path()
    return channel.select(read_catalogue(shipped_path), shipped_path, folder=folder)


# -- fetching -----------------------------------------------------------------------------------------


def _http_client() -> Any:
    import httpx

    from interdit import __version__

    return httpx.Client(follow_redirects=False, timeout=httpx.Timeout(TIMEOUT_SECONDS),
                        headers={"User-Agent": f"interdit/{__version__}", "Accept-Encoding": "identity"})


def shown(location: str) -> str:
    """A URL as messages show it: a user name or token in it (`https://user:token@mirror/...`) is hidden."""
    return re.sub(r"://[^/@]*@", "://***@", location)


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_url(url: Any, allow_http: bool, where: str) -> bool:
    """Refuse what the channel does not fetch from; True when the transport is plain HTTP."""
    if url.scheme == "https":
        return False
    if url.scheme == "http":
        if allow_http or is_loopback(url.host):
            return True
        raise ConfigError(f"refusing plain HTTP to {url.host}: catalogue updates are fetched over HTTPS",
                          where=shown(str(url)),
                          fix="use the https:// address, copy the bundle and give its file, or, for an internal "
                              "mirror without TLS, add --allow-http")
    raise ConfigError(f"cannot fetch a catalogue over {url.scheme!r}", where=shown(str(url)),
                      fix="give an https:// URL or the path of a bundle file")


def fetch(source: str, *, allow_http: bool = False, client: Any = None) -> tuple[bytes, bool]:
    """The bundle's bytes from a URL or a file, bounded in size; and whether it came over plain HTTP."""
    if "://" not in source:
        path = Path(source)
        try:
            with path.open("rb") as fh:
                data = fh.read(channel.MAX_BUNDLE_BYTES + 1)
        except OSError as exc:
            raise InputError(f"cannot read the bundle: {exc.strerror or exc}", where=source,
                             fix="check the path; a bundle is a catalogue-VERSION.tar.gz file") from None
        return data, False
    import httpx

    try:
        url = httpx.URL(source)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"not a URL: {exc}", where=shown(source), fix=_CHANNEL_FIX) from None
    own = client is None
    http = _http_client() if own else client
    insecure = False
    try:
        for _ in range(MAX_REDIRECTS + 1):
            insecure = _check_url(url, allow_http, source) or insecure
            with http.stream("GET", url) as response:
                if response.is_redirect and "location" in response.headers:
                    url = url.join(response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise InputError(f"the server answered {response.status_code} {response.reason_phrase}",
                                     where=shown(str(url)), fix=f"check the URL ({URL_ENV} or the argument)")
                return _body(response, shown(str(url))), insecure
        raise InputError(f"more than {MAX_REDIRECTS} redirects", where=shown(source), fix="check the URL")
    except httpx.HTTPError as exc:
        text = str(exc) or type(exc).__name__
        fix = ("if your mirror's certificate comes from a private authority, point SSL_CERT_FILE at that "
               "authority's certificate" if "CERTIFICATE_VERIFY_FAILED" in text else
               "check the address and your network (HTTPS_PROXY if you go through a proxy), or copy the bundle "
               "and give its file")
        raise InputError(f"cannot download the catalogue: {shown(text)}", where=shown(str(url)), fix=fix) from None
    finally:
        if own:
            http.close()


def _body(response: Any, where: str) -> bytes:
    limit = channel.MAX_BUNDLE_BYTES
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise InputError(f"the server offers {int(declared):,} bytes, more than a bundle may have ({limit:,})",
                         where=where, fix="check the URL: it does not name a catalogue bundle")
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            raise InputError(f"the download exceeds {limit:,} bytes", where=where,
                             fix="check the URL: it does not name a catalogue bundle")
    return bytes(body)


# -- what it changes for the policy -------------------------------------------------------------------


@dataclass(frozen=True)
class Impact:
    """One way an update touches the policy. `kind`: new-directives, directive-amended, directive-removed,
    family-removed, added, removed, rule-gains, rule-loses (the families a rule bans, as each catalogue resolves
    it); `subject` the directive, family or rule; `item_kind` for added/removed (identifier, prefix, store-name,
    domain); `items` the directives, fields, entries or families; `rules` the rules touched."""

    kind: str
    subject: str
    items: tuple[str, ...]
    rules: tuple[str, ...]
    item_kind: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "item_kind": self.item_kind, "items": list(self.items),
                "rules": list(self.rules)}


@dataclass(frozen=True)
class PolicyImpact:
    path: str
    impacts: tuple[Impact, ...] = ()
    problems: tuple[str, ...] = ()  # why the policy does not load with the new catalogue
    unreadable: str | None = None  # why the current policy could not be read at all
    language: str | None = None  # the policy's language, for what a person reads

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "impacts": [i.as_dict() for i in self.impacts], "loads": not self.problems,
                "problems": list(self.problems), "unreadable": self.unreadable}


def policy_impact(path: Path | None, old: Catalogue, new: Catalogue, changes: CatalogueDiff) -> PolicyImpact | None:
    """Which rules of the policy at `path` the change touches, and whether the policy still loads after it."""
    if path is None or not path.is_file():
        return None
    try:
        policy = load_policy(path, old)
    except PolicyError as exc:
        return PolicyImpact(str(path), unreadable=str(exc))
    banned: dict[str, list[str]] = {}
    adopted: dict[str, list[str]] = {}
    for rule in policy.rules:
        for fam in rule.families:
            banned.setdefault(fam, []).append(rule.id)
        if rule.directive:
            adopted.setdefault(rule.directive, []).append(rule.id)

    def rules_of(families: Any) -> tuple[str, ...]:
        return tuple(sorted({r for f in families for r in banned.get(f, ())}))

    impacts: list[Impact] = []
    naming = [d for d in changes.directives_added if set(new.directives[d].families) & set(banned)]
    if naming:
        impacts.append(Impact("new-directives", "", tuple(naming),
                              rules_of(f for d in naming for f in new.directives[d].families)))
    impacts += [Impact("directive-amended", c.directive, c.fields, tuple(adopted[c.directive]))
                for c in changes.directives_amended if c.directive in adopted]
    impacts += [Impact("directive-removed", d, (), tuple(adopted[d])) for d in changes.directives_removed
                if d in adopted]
    impacts += [Impact("family-removed", f, (), rules_of([f])) for f in changes.families_removed if f in banned]
    for change in changes.families_changed:
        if change.family not in banned:
            continue
        for kind in ("identifier", "prefix", "store-name", "domain"):
            for verb, items in (("added", change.added), ("removed", change.removed)):
                values = tuple(i.value for i in items if i.kind == kind)
                if values:
                    impacts.append(Impact(verb, change.family, values, rules_of([change.family]), kind))
    problems: tuple[str, ...] = ()
    try:
        after = {rule.id: set(rule.families) for rule in load_policy(path, new).rules}
    except PolicyError as exc:
        problems = tuple(str(p) for p in exc.problems) or (str(exc),)
        after = {}
    for rule in policy.rules if not problems else ():  # what each rule bans, as the new catalogue resolves it
        gained, lost = after.get(rule.id, set()) - set(rule.families), set(rule.families) - after.get(rule.id, set())
        impacts += [Impact(kind, rule.id, tuple(sorted(fams)), (rule.id,))
                    for kind, fams in (("rule-gains", gained), ("rule-loses", lost)) if fams]
    return PolicyImpact(str(path), tuple(impacts), problems, language=policy.language)


# -- the use case -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpdateResult:
    action: str  # installed, up-to-date, available (with check)
    source: str
    before: channel.Selection
    bundle: channel.Bundle
    changes: CatalogueDiff
    policy: PolicyImpact | None = None
    installed_to: Path | None = None
    insecure: bool = False

    @property
    def needs_attention(self) -> bool:
        """The update was installed (or is available) but the policy does not load with it."""
        return self.policy is not None and bool(self.policy.problems)

    def as_dict(self) -> dict[str, Any]:
        m = self.bundle.manifest
        return {
            "schema_version": 1, "action": self.action, "source": self.source, "plain_http": self.insecure,
            "in_use_before": {"version": self.before.catalogue.version, "origin": self.before.origin,
                              "path": str(self.before.path)},
            "bundle": {"version": m.version, "build_date": m.build_date.isoformat(),
                       "built_at": m.built_at.isoformat().replace("+00:00", "Z"), "key_id": m.key_id,
                       "schema_version": m.schema_version, "sha256": self.bundle.sha256},
            "installed_to": str(self.installed_to) if self.installed_to else None,
            "changes": self.changes.as_dict(),
            "policy": self.policy.as_dict() if self.policy else None,
        }


def channel_source(source: str | None, configured: str | None) -> str:
    """The bundle to read: the argument, else the configured URL; `{schema}` becomes the schema version."""
    chosen = source or configured
    if not chosen:
        raise ConfigError("no catalogue update source", fix=_CHANNEL_FIX)
    return chosen.replace("{schema}", str(SCHEMA_VERSION))


def update_catalogue(source: str, *, check: bool = False, allow_http: bool = False, policy_path: Path | None = None,
                     client: Any = None, folder: Path | None = None,
                     trusted: Mapping[str, Ed25519PublicKey] | None = None) -> UpdateResult:
    """Fetch and verify the bundle at `source`; unless `check`, install it when it is newer than the catalogue in
    use. A bundle that is tampered with, wrongly signed, cut short, for another schema, or older than the
    catalogue in use raises `BundleError` (a `CatalogueError`) and changes nothing."""
    data, insecure = fetch(source, allow_http=allow_http, client=client)
    source = shown(source)
    bundle = channel.read_bundle(data, where=source, trusted=trusted)
    shipped_path = data_path()
    before = channel.select(read_catalogue(shipped_path), shipped_path, folder=folder, trusted=trusted)
    current, offered = before.catalogue, bundle.catalogue
    origin = "shipped with interdit" if before.origin == "shipped" else f"installed in {before.path}"
    if channel.version_key(offered.version) < channel.version_key(current.version):
        raise channel.BundleError("stale", f"the bundle holds catalogue {offered.version} (built "
                                  f"{bundle.manifest.build_date}), older than the one in use, {current.version} "
                                  f"({origin}): interdit never goes back to an older catalogue", where=source)
    changes = diff(current, offered)
    same = offered.version == current.version
    if same and not changes.empty:
        raise channel.BundleError("stale", f"the bundle holds catalogue {offered.version}, the version in use "
                                  f"({origin}), with different content: a catalogue's version changes with its "
                                  "content", where=source,
                                  fix="whoever built the bundle must give it a new version (YEAR.MONTH.RELEASE)")
    impact = policy_impact(policy_path, current, offered, changes)
    if same:
        return UpdateResult("up-to-date", source, before, bundle, changes, impact, insecure=insecure)
    if check:
        return UpdateResult("available", source, before, bundle, changes, impact, insecure=insecure)
    installed = channel.install(bundle, folder)
    load_catalogue.cache_clear()
    return UpdateResult("installed", source, before, bundle, changes, impact, installed, insecure)


# -- what a person reads ------------------------------------------------------------------------------

def _lang(lang: str) -> str:
    return lang if lang in i18n.LANGS else "en"


def _words(lang: str) -> dict[str, str]:
    """What an update says, in `lang`: the catalogues' "catalogue_update." messages (docs/i18n.md)."""
    return i18n.section(_lang(lang), "catalogue_update")


def _n(lang: str, key: str, n: int, **values: Any) -> str:
    return i18n.plural(_lang(lang), f"catalogue_update.{key}", n, **values)


def _count(lang: str, kind: str, n: int) -> str:
    return _n(lang, kind, n)


def _shown(values: Any, limit: int = 8) -> str:
    values = list(values)
    return ", ".join(values[:limit]) + (f", … (+{len(values) - limit})" if len(values) > limit else "")


def describe_changes(changes: CatalogueDiff, lang: str = "en") -> list[str]:
    """The changes between two catalogues, one line each, in `lang`."""
    w = _words(lang)
    lines: list[str] = []
    for key, ids in (("d_added", changes.directives_added), ("d_removed", changes.directives_removed)):
        if ids:
            lines.append(_n(lang, key, len(ids), ids=_shown(ids)))
    lines += [w["d_amended"].format(id=c.directive, fields=", ".join(c.fields)) for c in changes.directives_amended]
    for key, ids in (("f_added", changes.families_added), ("f_removed", changes.families_removed)):
        if ids:
            lines.append(_n(lang, key, len(ids), ids=_shown(ids)))
    for c in changes.families_changed:
        for verb, items in (("added", c.added), ("removed", c.removed)):
            for kind in ("identifier", "prefix", "store-name", "domain"):
                values = [i.value for i in items if i.kind == kind]
                if values:
                    lines.append(_n(lang, verb, len(values), count=_count(lang, kind, len(values)), family=c.family,
                                    items=_shown(values)))
        if c.fields:
            lines.append(w["f_fields"].format(id=c.family, fields=", ".join(c.fields)))
    if changes.vendors_added or changes.vendors_removed or changes.vendors_changed:
        lines.append(w["v_changed"].format(added=len(changes.vendors_added), removed=len(changes.vendors_removed),
                                           changed=len(changes.vendors_changed)))
    if changes.shared_hosts_added or changes.shared_hosts_removed:
        lines.append(w["hosts"].format(added=len(changes.shared_hosts_added),
                                       removed=len(changes.shared_hosts_removed)))
    return [f"  {line}" for line in lines] or [w["no_change"]]


def describe_impact(impact: PolicyImpact, lang: str = "en") -> list[str]:
    w = _words(lang)
    lines = [w["policy"].format(path=impact.path)]
    if impact.unreadable is not None:
        return [*lines, "  " + w["unreadable"], *(f"    {t}" for t in impact.unreadable.splitlines())]
    for i in impact.impacts:
        rules = ", ".join(i.rules) or "-"
        if i.kind == "new-directives":
            text = _n(lang, "new-directives", len(i.items), ids=_shown(i.items), rules=rules)
        elif i.kind in ("added", "removed"):
            text = _n(lang, f"i_{i.kind}", len(i.items), count=_count(lang, i.item_kind, len(i.items)), id=i.subject,
                      rules=rules, items=_shown(i.items))
        else:
            text = w[i.kind].format(id=i.subject, items=", ".join(i.items), rules=rules)
        lines.append(f"  {text}")
    if not impact.impacts:
        lines.append(w["untouched"])
    if impact.problems:
        lines += ["  " + w["problems"], *(f"    {p}" for p in impact.problems)]
    return lines


def describe_update(result: UpdateResult, lang: str = "en") -> list[str]:
    """What a person reads after `update_catalogue`, in English or French."""
    w = _words(lang)
    m = result.bundle.manifest
    origin = w["shipped"] if result.before.origin == "shipped" else w["installed_origin"]
    lines = [w[result.action].format(new=m.version, built=m.build_date.isoformat(), key=m.key_id,
                                     path=result.installed_to, old=result.before.catalogue.version, origin=origin,
                                     source=result.source)]
    if result.action != "up-to-date":
        lines += [w["changes"] if result.action == "installed" else w["would_change"],
                  *describe_changes(result.changes, lang)]
        if result.policy is not None:
            lines += describe_impact(result.policy, lang)
    return lines


def plain_http_warning(lang: str = "en") -> str:
    return _words(lang)["plain_http"]


def in_use_as_dict(selection: channel.Selection) -> dict[str, Any]:
    cat, m = selection.catalogue, selection.installed
    installed = None if selection.installed_path is None else {
        "path": str(selection.installed_path), "used": selection.origin == "installed",
        "version": m.version if m else None, "key_id": m.key_id if m else None,
        "built_at": m.built_at.isoformat().replace("+00:00", "Z") if m else None, "problem": selection.problem}
    return {"schema_version": 1, "version": cat.version, "build_date": cat.build_date.isoformat(),
            "origin": selection.origin, "path": str(selection.path), "installed": installed}


def describe_in_use(selection: channel.Selection, lang: str = "en") -> list[str]:
    """Which catalogue is in use, and what became of an installed update, in `lang`."""
    w = _words(lang)
    cat, m = selection.catalogue, selection.installed
    key = "info_installed" if selection.origin == "installed" else "info_shipped"
    lines = [w[key].format(version=cat.version, built=cat.build_date.isoformat(), key=m.key_id if m else "",
                           path=selection.path)]
    if selection.problem is not None:
        lines.append(w["info_problem"].format(path=selection.installed_path, problem=selection.problem))
    elif selection.origin == "shipped" and m is not None:
        lines.append(w["info_older"].format(version=m.version, path=selection.installed_path))
    return lines
