"""Read the shipped catalogue: `data/catalogue.yaml` is the reviewed source, `data/catalogue.json` the copy
interdit loads (the same content, written by `scripts/build-catalogue.py`; JSON parses in a few milliseconds,
YAML in a few hundred).

Loading checks what the program relies on (types, dates, ids, references between entries, no family domain
under a shared host) and raises `CatalogueError` on anything else; the full JSON Schema check
(`validate_against_schema`) runs in the tests and in the build script, not on every start.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from interdit.errors import CatalogueError
from interdit.model import (
    AppFamily,
    AppId,
    Catalogue,
    Directive,
    DirectiveVersion,
    Ownership,
    Platform,
    SharedHost,
    Source,
    StoreName,
    Vendor,
    VersionChange,
)

SCHEMA_VERSION = 1
DATA_FILE = "catalogue.json"
SOURCE_FILE = "catalogue.yaml"
SCHEMA_FILE = "catalogue.schema.json"
_FIX = "reinstall interdit; if you edited the catalogue, run scripts/build-catalogue.py and fix what it reports"


def data_path(name: str = DATA_FILE) -> Path:
    """The path of a packaged catalogue file (data, source YAML or schema)."""
    return Path(str(resources.files("interdit.catalogue") / "data" / name))


def read_catalogue(path: Path) -> Catalogue:
    """Read a catalogue JSON file; a malformed one raises `CatalogueError` naming the file and the entry."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(f"cannot read the catalogue: {exc.strerror or exc}", where=str(path), fix=_FIX) from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"the catalogue is not valid JSON: {exc}", where=str(path), fix=_FIX) from None
    return parse_catalogue(data, where=str(path))


def schema() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(data_path(SCHEMA_FILE).read_text("utf-8"))
    return result


def validate_against_schema(data: Any, where: str = "catalogue") -> None:
    """Check `data` against catalogue.schema.json (needs jsonschema); raises `CatalogueError` listing every error."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors[:20]]
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        raise CatalogueError("the catalogue does not match its schema:\n  " + "\n  ".join(lines) + more,
                             where=where, fix=_FIX)


# -- parsing ----------------------------------------------------------------------------------------


class _Reader:
    """Typed access to one JSON object, with errors that name the entry."""

    def __init__(self, obj: Any, place: str, where: str) -> None:
        if not isinstance(obj, Mapping):
            raise CatalogueError(f"{place} must be an object", where=where, fix=_FIX)
        self.obj = obj
        self.place = place
        self.where = where

    def fail(self, message: str) -> CatalogueError:
        return CatalogueError(f"{self.place}: {message}", where=self.where, fix=_FIX)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.obj.get(key, default)
        if not isinstance(value, str) or (default is None and not value):
            raise self.fail(f"'{key}' must be a non-empty string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self.obj.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(f"'{key}' must be a string")
        return value

    def flag(self, key: str) -> bool:
        value = self.obj.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"'{key}' must be true or false")
        return value

    def seq(self, key: str) -> Sequence[Any]:
        value = self.obj.get(key, [])
        if not isinstance(value, list):
            raise self.fail(f"'{key}' must be a list")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        values = self.seq(key)
        if not all(isinstance(v, str) and v for v in values):
            raise self.fail(f"'{key}' must be a list of non-empty strings")
        return tuple(values)

    def day(self, key: str, *, required: bool = True) -> date | None:
        value = self.obj.get(key)
        if value is None and not required:
            return None
        try:
            return date.fromisoformat(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise self.fail(f"'{key}' must be a date such as 2023-02-28, not {value!r}") from None

    def sources(self) -> tuple[Source, ...]:
        out = []
        for n, item in enumerate(self.seq("sources")):
            r = _Reader(item, f"{self.place} sources[{n}]", self.where)
            out.append(Source(r.text("url"), r.opt_text("note") or "", r.day("retrieved", required=False),
                              kind=r.opt_text("kind") or "", title=r.opt_text("title") or "",
                              publisher=r.opt_text("publisher") or ""))
        if not out:
            raise self.fail("every entry needs at least one source")
        return tuple(out)


def _app_ids(r: _Reader, key: str) -> tuple[AppId, ...]:
    out = []
    for n, item in enumerate(r.seq(key)):
        a = _Reader(item, f"{r.place} {key}[{n}]", r.where)
        try:
            platform = Platform(a.text("platform"))
        except ValueError:
            raise a.fail(f"unknown platform {a.obj.get('platform')!r}") from None
        out.append(AppId(platform, a.text("id")))
    return tuple(out)


def _store_names(r: _Reader) -> tuple[StoreName, ...]:
    out = []
    for n, item in enumerate(r.seq("store_names")):
        a = _Reader(item, f"{r.place} store_names[{n}]", r.where)
        try:
            platform = Platform(a.text("platform"))
        except ValueError:
            raise a.fail(f"unknown platform {a.obj.get('platform')!r}") from None
        out.append(StoreName(platform, a.text("name"), a.text("lang", "en") or "en"))
    return tuple(out)


def _versions(r: _Reader, effective: date, families: tuple[str, ...], vendors: tuple[str, ...],
              known: tuple[Any, Any]) -> tuple[DirectiveVersion, ...]:
    """The original text (from `effective`) followed by each dated amendment, oldest first."""
    out = [DirectiveVersion(effective, families, vendors, VersionChange.ORIGINAL)]
    for n, item in enumerate(r.seq("amendments")):
        a = _Reader(item, f"{r.place} amendments[{n}]", r.where)
        since = a.day("since")
        assert since is not None
        if since <= out[-1].since:
            raise a.fail(f"'since' {since} must come after {out[-1].since}: list amendments oldest first, "
                         "each after the directive's effective date")
        try:
            change = VersionChange(a.text("change"))
        except ValueError:
            raise a.fail(f"unknown change {a.obj.get('change')!r}; one of "
                         f"{', '.join(c.value for c in VersionChange if c is not VersionChange.ORIGINAL)}") from None
        fams, vends = a.texts("families"), a.texts("vendors")
        unknown = [f for f in fams if f not in known[0]] + [v for v in vends if v not in known[1]]
        if unknown:
            raise a.fail(f"names unknown families or vendors: {', '.join(unknown)}")
        if change is VersionChange.LIFTED and (fams or vends):
            raise a.fail("a lifted directive prohibits nothing: leave 'families' and 'vendors' empty")
        out.append(DirectiveVersion(since, fams, vends, change, a.text("note", ""), a.sources()))
    return tuple(out)


def suffixes(host: str) -> list[str]:
    """`a.b.c` -> [`a.b.c`, `b.c`, `c`]: the names a host is under, by whole labels."""
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def parse_catalogue(data: Any, *, where: str = "catalogue") -> Catalogue:
    """Build the `Catalogue` from decoded JSON (or YAML) data, checking types and references."""
    top = _Reader(data, "catalogue", where)
    if top.obj.get("schema_version") != SCHEMA_VERSION:
        raise top.fail(f"schema_version {top.obj.get('schema_version')!r} is not {SCHEMA_VERSION}, the version this "
                       "interdit reads")
    version = top.text("version")
    build_date = top.day("build_date")
    assert build_date is not None

    vendors: dict[str, Vendor] = {}
    for n, item in enumerate(top.seq("vendors")):
        r = _Reader(item, f"vendors[{n}]", where)
        vid = r.text("id")
        if vid in vendors:
            raise r.fail(f"vendor id {vid!r} appears twice")
        country = r.text("country")
        if len(country) != 2 or not country.isupper():
            raise r.fail(f"country {country!r} must be an ISO 3166-1 alpha-2 code such as CN")
        vendors[vid] = Vendor(vid, r.text("name"), country, r.opt_text("parent"), r.sources())
    for v in vendors.values():
        if v.parent is not None and v.parent not in vendors:
            raise CatalogueError(f"vendor {v.id!r} names an unknown parent {v.parent!r}", where=where, fix=_FIX)

    shared: list[SharedHost] = []
    for n, item in enumerate(top.seq("shared_hosts")):
        r = _Reader(item, f"shared_hosts[{n}]", where)
        owner, reason = r.text("owner"), r.opt_text("reason") or ""
        shared.extend(SharedHost(name.lower(), owner, reason) for name in r.texts("names"))
    shared_names = {s.name for s in shared}

    families: dict[str, AppFamily] = {}
    for n, item in enumerate(top.seq("families")):
        r = _Reader(item, f"families[{n}]", where)
        fid = r.text("id")
        r.place = f"family {fid!r}"
        if fid in families:
            raise r.fail("appears twice")
        vendor = r.text("vendor")
        if vendor not in vendors:
            raise r.fail(f"names an unknown vendor {vendor!r}")
        domains = []
        for m, d in enumerate(r.seq("domains")):
            name = _Reader(d, f"{r.place} domains[{m}]", where).text("name").lower().rstrip(".")
            clash = next((s for s in suffixes(name) if s in shared_names), None)
            if clash is not None:
                raise r.fail(f"domain {name!r} is under the shared host {clash!r}: it must never be blocked whole")
            domains.append(name)
        families[fid] = AppFamily(
            id=fid, name=r.text("name"), vendor=vendor, identifiers=_app_ids(r, "identifiers"),
            prefixes=_app_ids(r, "prefixes"), domains=tuple(domains), store_names=_store_names(r),
            category=r.text("category", ""), confidence=r.text("confidence"), sources=r.sources(),
            description=r.text("note", ""))

    directives: dict[str, Directive] = {}
    for n, item in enumerate(top.seq("directives")):
        r = _Reader(item, f"directives[{n}]", where)
        did = r.text("id")
        r.place = f"directive {did!r}"
        if did in directives:
            raise r.fail("appears twice")
        fams, vends = r.texts("families"), r.texts("vendors")
        unknown = [f for f in fams if f not in families] + [v for v in vends if v not in vendors]
        if unknown:
            raise r.fail(f"names unknown families or vendors: {', '.join(unknown)}")
        title = r.obj.get("title")
        if not isinstance(title, Mapping) or not isinstance(title.get("en"), str) or \
                not all(isinstance(k, str) and isinstance(v, str) for k, v in title.items()):
            raise r.fail("'title' must map languages to text and include 'en'")
        try:
            ownership = tuple(Ownership(o) for o in r.texts("ownership"))
        except ValueError as exc:
            raise r.fail(str(exc)) from None
        scope = r.text("device_scope", "")
        personal = r.opt_text("personal_devices")
        if personal:
            scope = f"{scope}; personal devices: {personal}" if scope else f"personal devices: {personal}"
        effective = r.day("effective")
        assert effective is not None
        versions = _versions(r, effective, fams, vends, (families, vendors))
        primary = r.obj.get("primary_source")
        primary = _Reader(primary, f"{r.place} primary_source", r.where) if isinstance(primary, dict) else None
        directives[did] = Directive(
            id=did, issuer=r.text("issuer"), jurisdiction=r.text("jurisdiction"), title=dict(title),
            announced=r.day("announced", required=False), effective=effective, families=versions[-1].families,
            vendors=versions[-1].vendors, versions=versions,
            device_scope=scope, ownership=ownership, exceptions_allowed=r.text("exceptions_allowed", ""),
            requires_network_block=r.flag("requires_network_block"), actions=r.texts("actions"),
            rationale=r.text("rationale", ""), interim=r.flag("interim"), confidence=r.text("confidence"),
            sources=r.sources(), primary_source=primary.text("status") if primary else "",
            primary_source_note=primary.text("note", "") if primary else "")

    return Catalogue(schema_version=SCHEMA_VERSION, version=version, build_date=build_date, vendors=vendors,
                     families=families, directives=directives, shared_hosts=tuple(shared))
