"""What changes between two catalogues, compared as loaded objects (never as text): directives added, removed
or amended (which fields), families added or removed, and per family the identifiers, prefixes, store names and
domains added or removed.

    changes = diff(load_catalogue(), bundle.catalogue)
    changes.directives_added            # ("au-pspf-2025-deepseek", ...)
    changes.family("tiktok").removed    # (Item("identifier", "android:com.example"), ...)

Fields are compared through the dataclasses' own fields, so a field the model gains is compared too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from interdit.model import AppFamily, Catalogue, Directive, Vendor

# the family fields whose entries are listed one by one (item kind, field)
LISTED = (("identifier", "identifiers"), ("prefix", "prefixes"), ("store-name", "store_names"), ("domain", "domains"))


@dataclass(frozen=True, order=True)
class Item:
    """One entry of a family: `kind` is identifier, prefix, store-name or domain; `value` as people read it
    (`android:com.zhiliaoapp.musically`, `tiktok.com`, `ios:TikTok (en)`)."""

    kind: str
    value: str


@dataclass(frozen=True)
class FamilyChange:
    family: str
    added: tuple[Item, ...] = ()
    removed: tuple[Item, ...] = ()
    fields: tuple[str, ...] = ()  # other fields that changed (name, vendor, category, confidence, sources)

    def count(self, kind: str, *, added: bool) -> int:
        return sum(1 for i in (self.added if added else self.removed) if i.kind == kind)

    def as_dict(self) -> dict[str, Any]:
        return {"family": self.family, "added": [{"kind": i.kind, "value": i.value} for i in self.added],
                "removed": [{"kind": i.kind, "value": i.value} for i in self.removed], "fields": list(self.fields)}


@dataclass(frozen=True)
class DirectiveChange:
    directive: str
    fields: tuple[str, ...]  # the fields that differ
    families_added: tuple[str, ...] = ()
    families_removed: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"directive": self.directive, "fields": list(self.fields), "families_added": list(self.families_added),
                "families_removed": list(self.families_removed)}


@dataclass(frozen=True)
class CatalogueDiff:
    old_version: str
    new_version: str
    directives_added: tuple[str, ...] = ()
    directives_removed: tuple[str, ...] = ()
    directives_amended: tuple[DirectiveChange, ...] = ()
    families_added: tuple[str, ...] = ()
    families_removed: tuple[str, ...] = ()
    families_changed: tuple[FamilyChange, ...] = ()
    vendors_added: tuple[str, ...] = ()
    vendors_removed: tuple[str, ...] = ()
    vendors_changed: tuple[str, ...] = ()
    shared_hosts_added: tuple[str, ...] = ()
    shared_hosts_removed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self) if f.name not in ("old_version", "new_version"))

    def family(self, family_id: str) -> FamilyChange | None:
        return next((c for c in self.families_changed if c.family == family_id), None)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = [v.as_dict() for v in value] if f.name in ("directives_amended", "families_changed") \
                else list(value) if isinstance(value, tuple) else value
        return out


def _text(value: Any) -> str:
    if hasattr(value, "platform") and hasattr(value, "name") and hasattr(value, "lang"):  # a StoreName
        return f"{value.platform}:{value.name} ({value.lang})"
    return str(value)


def _changed_fields(old: Any, new: Any, skip: Iterable[str]) -> tuple[str, ...]:
    omitted = {"id", *skip}
    return tuple(f.name for f in fields(old) if f.name not in omitted and getattr(old, f.name) != getattr(new, f.name))


def _family_change(old: AppFamily, new: AppFamily) -> FamilyChange | None:
    added: list[Item] = []
    removed: list[Item] = []
    for kind, name in LISTED:
        before = {_text(v) for v in getattr(old, name, ())}
        after = {_text(v) for v in getattr(new, name, ())}
        added += [Item(kind, v) for v in sorted(after - before)]
        removed += [Item(kind, v) for v in sorted(before - after)]
    other = _changed_fields(old, new, (name for _, name in LISTED))
    if not (added or removed or other):
        return None
    return FamilyChange(old.id, tuple(added), tuple(removed), other)


def _directive_change(old: Directive, new: Directive) -> DirectiveChange | None:
    changed = _changed_fields(old, new, ())
    if not changed:
        return None
    before, after = set(getattr(old, "families", ())), set(getattr(new, "families", ()))
    return DirectiveChange(old.id, changed, tuple(sorted(after - before)), tuple(sorted(before - after)))


def _keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    return tuple(sorted(set(new) - set(old))), tuple(sorted(set(old) - set(new))), sorted(set(old) & set(new))


def diff(old: Catalogue, new: Catalogue) -> CatalogueDiff:
    """What installing `new` in place of `old` changes."""
    d_added, d_removed, d_both = _keys(old.directives, new.directives)
    f_added, f_removed, f_both = _keys(old.families, new.families)
    v_added, v_removed, v_both = _keys(old.vendors, new.vendors)
    amended = (_directive_change(old.directives[k], new.directives[k]) for k in d_both)
    families = (_family_change(old.families[k], new.families[k]) for k in f_both)
    vendors: list[str] = [k for k in v_both if _vendor_differs(old.vendors[k], new.vendors[k])]
    hosts_before = {h.name for h in old.shared_hosts}
    hosts_after = {h.name for h in new.shared_hosts}
    return CatalogueDiff(
        old.version, new.version, d_added, d_removed, tuple(c for c in amended if c is not None), f_added, f_removed,
        tuple(c for c in families if c is not None), v_added, v_removed, tuple(vendors),
        tuple(sorted(hosts_after - hosts_before)), tuple(sorted(hosts_before - hosts_after)))


def _vendor_differs(old: Vendor, new: Vendor) -> bool:
    return bool(_changed_fields(old, new, ()))
