"""Read `policy.yaml` into a `Policy`, or report every problem in it with its line and a fix.

Three passes, all of whose problems are collected before anything is raised:
1. YAML syntax (ruamel.yaml's round-trip loader keeps the line of every key and list item);
2. shape, against the published JSON Schema (`schema.py`), each error mapped back to its line;
3. meaning: directives, families and vendors exist in the catalogue (with a did-you-mean), ids are unique,
   dates are real and in order, interim rules have a review date, exceptions cover something prohibited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Any

from interdit.errors import PolicyError
from interdit.model import (
    AppId,
    Catalogue,
    Directive,
    OrgUnitMap,
    Ownership,
    Platform,
    Policy,
    PolicyException,
    Rule,
    Scope,
)
from interdit.model import Management as Mgmt
from interdit.policy.orgmap import NO_CATEGORY, SOURCE_KINDS
from interdit.policy.schema import DATE_PATTERN, LABEL_KEYS
from interdit.policy.shape import (
    VALIDATOR,
    LineFinder,
    Problems,
    TooBig,
    kind_of,
    parse_yaml,
    plain,
    schema_problem,
    suggest,
)

MAX_BYTES = 2_000_000  # a policy is a few kilobytes; anything this big is a mistake or an attack

Path_ = tuple[str | int, ...]

_DATE_RE = re.compile(DATE_PATTERN)
_FRENCH = re.compile(r"^language:\s*[\"']?fr\b", re.MULTILINE)
_OWNERSHIP = frozenset(o.value for o in Ownership)
_PLATFORMS = frozenset(p.value for p in Platform)
# in `evidence`: the vendors of every family the policy's rules prohibit
PROHIBITED = "prohibited"
_MANAGEMENT = frozenset(m.value for m in Mgmt)


# -- public -----------------------------------------------------------------------------------------


def load_policy(path: Path, cat: Catalogue) -> Policy:
    """Load and check `path` against the catalogue. Raises `PolicyError` listing every problem."""
    name = str(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise PolicyError(f"cannot read the policy file: {exc.strerror or exc}", where=name,
                          fix="check the path and its permissions, or run 'interdit init' to write one") from None
    if len(raw) > MAX_BYTES:
        raise PolicyError(f"the policy file is larger than {MAX_BYTES // 1_000_000} MB", where=name,
                          fix="a policy is a few kilobytes: check that --policy points at the right file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicyError("the policy file is not UTF-8 text", where=f"{name}:{line}",
                          fix="save the file as UTF-8") from None
    return parse_policy(text, cat, name=name)


def parse_policy(text: str, cat: Catalogue, *, name: str = "policy.yaml") -> Policy:
    """Like `load_policy`, for text already in memory; `name` is used in messages."""
    problems = Problems(name, "fr" if _FRENCH.search(text[:20_000]) else "en")
    root = parse_yaml(text, problems)
    if problems.items:
        raise problems.error()
    if root is None:
        problems.say(1, "empty")
        raise problems.error()
    try:
        data = plain(root, 0, [0], set())
    except TooBig as exc:
        problems.say(1, exc.key, n=f"{exc.n:,}")
        raise problems.error() from None
    lines = LineFinder(root)
    if not isinstance(data, dict):
        problems.say(lines.line(()), "not-mapping", kind=problems.word(kind_of(data)))
        raise problems.error()
    problems.lang = "fr" if data.get("language") == "fr" else "en"
    for err in sorted(VALIDATOR.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        schema_problem(err, data, lines, problems)
    policy = _Builder(data, cat, lines, problems).build(name)
    if problems.items or policy is None:
        raise problems.error()
    return policy


def starter_policy() -> str:
    """A commented starter policy adopting `ca-tbs-2023-tiktok`, with an example of every feature."""
    return files("interdit.policy").joinpath("starter-policy.yaml").read_text("utf-8")


# -- pass 3: meaning --------------------------------------------------------------------------------


def _whole(value: object, default: int) -> int:
    """A whole number the schema accepted (JSON Schema counts 14.0 as an integer), else `default`."""
    if isinstance(value, bool):
        return default
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and value >= 0 else default


def _strs(d: dict[str, Any], key: str) -> list[tuple[int, str]]:
    value = d.get(key)
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str) and v]


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def vendor_lineage(cat: Catalogue, vendor: str) -> tuple[str, ...]:
    """`vendor` and its parents, nearest first (bounded, cycle-safe)."""
    chain = [vendor]
    current = cat.vendors.get(vendor)
    while current is not None and current.parent and current.parent not in chain and len(chain) < 16:
        chain.append(current.parent)
        current = cat.vendors.get(current.parent)
    return tuple(chain)


def families_of_vendors(cat: Catalogue, vendors: Iterable[str]) -> tuple[str, ...]:
    """Every family whose vendor is one of `vendors`, or a subsidiary of one (sorted by id)."""
    wanted = set(vendors)
    if not wanted:
        return ()
    return tuple(sorted(f.id for f in cat.families.values() if wanted & set(vendor_lineage(cat, f.vendor))))


def directive_rules(rule: Rule, directive: Directive, cat: Catalogue) -> list[Rule]:
    """The rules that adopt `directive` as it stood on each day: one per span of days over which the same
    families were prohibited (an expansion adds a rule from its date, a lift or narrowing ends one).

    `rule` carries the adoption's id, effective date and scope. The earliest span (the longest of those) keeps
    that id; another is `<id>@<since>` (`..<until>` when it ended). A span starting with the directive keeps the
    adoption's effective date (hence its deadline); a later one starts on its `since`, or on the adoption's
    effective date if that is later. A rule ends (`until`) where a later version dropped its families."""
    def resolved(families: Iterable[str], vendors: Iterable[str]) -> list[str]:
        return [f for f in _dedupe([*families, *families_of_vendors(cat, vendors)]) if f in cat.families]

    versions = directive.versions
    if len(versions) < 2:
        return [dataclasses.replace(rule, families=tuple(resolved(directive.families, directive.vendors)))]
    spans: dict[str, list[list[date | None]]] = {}  # family -> [[start, end], ...]
    for n, v in enumerate(versions):
        end = versions[n + 1].since if n + 1 < len(versions) else None
        for fam in resolved(v.families, v.vendors):
            runs = spans.setdefault(fam, [])
            if runs and runs[-1][1] == v.since:
                runs[-1][1] = end
            else:
                runs.append([v.since, end])
    groups: dict[tuple[date, date | None], list[str]] = {}
    for fam, runs in spans.items():
        for start, stop in runs:
            assert start is not None
            groups.setdefault((start, stop), []).append(fam)
    first = versions[0].since
    order = sorted(groups, key=lambda k: (k[0], -(k[1] or date.max).toordinal()))
    main = order[0] if order else None  # the earliest span, the longest of those
    out = []
    for start, stop in order:
        fams = groups[(start, stop)]
        effective = rule.effective if start == first else max(start, rule.effective)
        if (start, stop) == main:
            rid = rule.id
        else:
            rid = f"{rule.id}@{start.isoformat()}" + (f"..{stop.isoformat()}" if stop else "")
        if stop is not None and stop <= effective:
            continue  # the organisation adopted the directive after these families left it
        out.append(dataclasses.replace(rule, id=rid, families=tuple(fams), effective=effective, until=stop))
    return out or [dataclasses.replace(rule, families=())]  # adopted after it was lifted: it prohibits nothing


class _Builder:
    def __init__(self, data: dict[str, Any], cat: Catalogue, lines: LineFinder, problems: Problems) -> None:
        self.data = data
        self.cat = cat
        self.lines = lines
        self.problems = problems
        self.rule_ids: dict[str, int] = {}
        self.any_prohibited: list[tuple[str, Path_]] = []  # rules whose evidence says `prohibited`

    def add(self, path: Path_, msg: str, /, **values: Any) -> None:
        self.problems.say(self.lines.line(path), msg, **values)

    # helpers that read a value the schema pass may already have refused (then they stay quiet)

    def date(self, d: dict[str, Any], key: str, path: Path_) -> date | None:
        value = d.get(key)
        if not isinstance(value, str) or not _DATE_RE.match(value):
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.add((*path, key), "not-a-day", key=key, value=value)
            return None

    def text(self, d: dict[str, Any], key: str, default: str = "") -> str:
        value = d.get(key)
        return value if isinstance(value, str) else default

    def integer(self, d: dict[str, Any], key: str, default: int) -> int:
        return _whole(d.get(key), default)

    def flag(self, d: dict[str, Any], key: str, default: bool) -> bool:
        value = d.get(key)
        return value if isinstance(value, bool) else default

    def known(self, d: dict[str, Any], key: str, path: Path_, table: Iterable[str], what: str,
              fix: str) -> tuple[str, ...]:
        ids = set(table)
        good = []
        for i, value in _strs(d, key):
            if value in ids:
                good.append(value)
                continue
            guess = suggest(value, ids)
            how = self.problems.fix(fix)
            what_word = self.problems.word(what)
            if guess:
                self.add((*path, key, i), "unknown-id-guess", what=what_word, value=value, guess=guess, how=how)
            else:
                self.add((*path, key, i), "unknown-id", what=what_word, value=value, how=how)
        return _dedupe(good)

    def families(self, d: dict[str, Any], key: str, path: Path_) -> tuple[str, ...]:
        return self.known(d, key, path, self.cat.families, "family", "how-family")

    def vendors(self, d: dict[str, Any], key: str, path: Path_) -> tuple[str, ...]:
        return self.known(d, key, path, self.cat.vendors, "vendor", "how-vendor")

    def app_ids(self, d: dict[str, Any], key: str, path: Path_, *, prefix: bool) -> tuple[AppId, ...]:
        out = []
        for i, value in _strs(d, key):
            platform, _, ident = value.partition(":")
            if platform not in _PLATFORMS or not ident or any(c.isspace() for c in ident):
                continue  # reported by the schema pass
            if prefix and "." not in ident.strip("."):
                self.add((*path, key, i), "broad-prefix", value=value, ident=ident)
                continue
            out.append(AppId(Platform(platform), ident))
        return tuple(dict.fromkeys(out))

    def scope(self, d: dict[str, Any], path: Path_, default_ownership: tuple[Ownership, ...]) -> Scope:
        raw = d.get("scope")
        if not isinstance(raw, dict):
            return Scope(ownership=default_ownership)
        p = (*path, "scope")
        if "ownership" in raw:
            ownership = tuple(Ownership(v) for _, v in _strs(raw, "ownership") if v in _OWNERSHIP)
        else:
            ownership = default_ownership
        platforms = tuple(Platform(v) for _, v in _strs(raw, "platforms") if v in _PLATFORMS)
        management = tuple(Mgmt(v) for _, v in _strs(raw, "management") if v in _MANAGEMENT)
        groups = [v for _, v in _strs(raw, "groups")]
        groups += [v for _, v in _strs(raw, "org_units") if v.startswith("/")]
        excluded = _dedupe(v for _, v in _strs(raw, "exclude_groups"))
        for g in set(groups) & set(excluded):
            self.add((*p, "exclude_groups"), "in-and-out", group=g)
        return Scope(ownership=tuple(dict.fromkeys(ownership)), platforms=tuple(dict.fromkeys(platforms)),
                     management=tuple(dict.fromkeys(management)), groups=_dedupe(groups), exclude_groups=excluded)

    def claim_id(self, rule_id: str, path: Path_, seen: dict[str, int], what: str) -> None:
        line = self.lines.line(path)
        if rule_id in seen:
            self.problems.say(line, f"duplicate-{what}", id=rule_id, line=seen[rule_id])
        else:
            seen[rule_id] = line

    def interim(self, rule_id: str, interim: bool, item: dict[str, Any], effective: dt.date | None,
                review_by: dt.date | None, path: Path_) -> None:
        if interim and "review_by" not in item:
            self.add(path, "interim", id=rule_id or "?")
        if review_by is not None and effective is not None and review_by < effective:
            self.add((*path, "review_by"), "review-early", id=rule_id or "?", review=review_by, effective=effective)

    def resolve_prohibited(self, rules: list[Rule], families: set[str]) -> list[Rule]:
        """Replace the evidence value `prohibited` by the vendors of the families the policy's rules prohibit, and
        their parents."""
        if not self.any_prohibited:
            return rules
        # each family's vendor and the companies that own it (TikTok: tiktok-pte and its parent bytedance)
        vendors = tuple(sorted({v for f in families if f in self.cat.families
                                for v in vendor_lineage(self.cat, self.cat.families[f].vendor)}))
        if not vendors:
            for rule_id, path in self.any_prohibited:
                self.add(path, "prohibited-none", id=rule_id or "?")

        def resolved(values: tuple[str, ...]) -> tuple[str, ...]:
            if PROHIBITED not in values:
                return values
            return _dedupe([*(v for v in values if v != PROHIBITED), *vendors])

        return [dataclasses.replace(r, sdk_vendors=resolved(r.sdk_vendors),
                                    endpoint_vendors=resolved(r.endpoint_vendors)) for r in rules]

    # the whole policy

    def build(self, name: str) -> Policy | None:
        data = self.data
        lang = self.text(data, "language", "en")
        rules: list[Rule] = []
        adopt, own = data.get("adopt"), data.get("rules")
        for i, item in enumerate(adopt if isinstance(adopt, list) else []):
            if isinstance(item, dict):
                rules.extend(self.adoption(item, ("adopt", i), lang))
        for i, item in enumerate(own if isinstance(own, list) else []):
            if isinstance(item, dict):
                rule = self.rule(item, ("rules", i))
                if rule is not None:
                    rules.append(rule)
        has_rules = any(isinstance(data.get(k), list) and data.get(k) for k in ("adopt", "rules"))
        if not has_rules:
            self.add((), "no-rules")
        prohibited = {f for r in rules for f in r.families}
        rules = self.resolve_prohibited(rules, prohibited)
        exceptions: list[PolicyException] = []
        seen: dict[str, int] = {}
        raw_exceptions = data.get("exceptions")
        for i, item in enumerate(raw_exceptions if isinstance(raw_exceptions, list) else []):
            if isinstance(item, dict):
                exc = self.exception(item, ("exceptions", i), prohibited, seen)
                if exc is not None:
                    exceptions.append(exc)
        org_units = self.org_units(data.get("org_units"))
        if self.problems.items:
            return None
        return Policy(
            organisation=self.text(data, "organisation"),
            rules=tuple(rules),
            exceptions=tuple(exceptions),
            stale_after_days=_whole(data.get("stale_after_days"), 8),
            language=lang,
            path=name,
            org_units=org_units,
        )

    def org_units(self, raw: object) -> tuple[OrgUnitMap, ...]:
        """The `org_units:` entries, each checked: a label to match, a clean path, a valid pattern, a label the
        source type gives, and no two entries sending the same labels to different units."""
        out: list[OrgUnitMap] = []
        seen: dict[tuple[object, ...], tuple[str, int]] = {}
        kinds = [k for k, _ in LABEL_KEYS]
        for i, item in enumerate(raw if isinstance(raw, list) else []):
            if not isinstance(item, dict):
                continue
            path: Path_ = ("org_units", i)
            source, unit = self.text(item, "source"), self.text(item, "org_unit")
            how = self.text(item, "match", "exact")
            match = tuple((k, item[k].strip()) for k in kinds if isinstance(item.get(k), str) and item[k].strip())
            if not match:
                self.add(path, "orgmap-empty", kinds=", ".join(kinds))
            if unit.startswith("/") and (("//" in unit) or (unit != "/" and unit.endswith("/"))
                                         or any(p != p.strip() for p in unit.split("/"))):
                self.add((*path, "org_unit"), "orgmap-path", value=unit)
            given = SOURCE_KINDS.get(source.replace("-", "_"))
            for k, value in match:
                if given is not None and k not in given:
                    self.add((*path, k), "orgmap-kind", source=source, kind=k, kinds=", ".join(sorted(given)))
                if k == "category" and how == "exact" and value.casefold() in NO_CATEGORY:
                    self.add((*path, k), "orgmap-no-category", value=value)
                if how == "regex":
                    try:
                        re.compile(value)
                    except re.error as exc:
                        self.add((*path, k), "orgmap-regex", value=value, why=exc.msg)
            if not (source and unit.startswith("/") and match):
                continue
            key = (source.replace("-", "_"), how, tuple(sorted(match)))
            line = self.lines.line(path)
            if key in seen:
                other, at = seen[key]
                if other == unit:
                    self.add(path, "orgmap-duplicate", line=at)
                else:
                    self.add(path, "orgmap-conflict", unit=unit, other=other, line=at)
                continue
            seen[key] = (unit, line)
            out.append(OrgUnitMap(source=source, match=match, org_unit=unit.rstrip("/") or "/", how=how, line=line))
        return tuple(out)

    def adoption(self, item: dict[str, Any], path: Path_, lang: str) -> list[Rule]:
        directive_id = self.text(item, "directive")
        directive = self.cat.directives.get(directive_id)
        rule_id = self.text(item, "id") or directive_id
        if rule_id:
            self.claim_id(rule_id, path, self.rule_ids, "rule")
        effective = self.date(item, "effective", path)
        review_by = self.date(item, "review_by", path)
        if directive is None:
            self.interim(rule_id, self.flag(item, "interim", False), item, effective, review_by, path)
            if directive_id:
                guess = suggest(directive_id, self.cat.directives)
                if guess:
                    self.add((*path, "directive"), "unknown-directive-guess", value=directive_id, guess=guess)
                else:
                    self.add((*path, "directive"), "unknown-directive", value=directive_id)
            return []
        scope = self.scope(item, path, directive.ownership)
        rule = Rule(
            id=rule_id,
            families=(),
            effective=effective or directive.effective,
            grace_days=self.integer(item, "grace_days", 0),
            scope=scope,
            directive=directive.id,
            interim=self.flag(item, "interim", directive.interim),
            review_by=review_by,
            description=self.text(item, "description") or directive.title_in(lang),
        )
        self.interim(rule.id, rule.interim, item, rule.effective, review_by, path)
        return directive_rules(rule, directive, self.cat)

    def rule(self, item: dict[str, Any], path: Path_) -> Rule | None:
        rule_id = self.text(item, "id")
        if rule_id:
            self.claim_id(rule_id, path, self.rule_ids, "rule")
        families = list(self.families(item, "families", path))
        vendors = self.vendors(item, "vendors", path)
        families += families_of_vendors(self.cat, vendors)
        identifiers = self.app_ids(item, "identifiers", path, prefix=False)
        prefixes = self.app_ids(item, "prefixes", path, prefix=True)
        evidence = item.get("evidence")
        sdk: tuple[str, ...] = ()
        endpoints: tuple[str, ...] = ()
        if isinstance(evidence, dict):
            # PROHIBITED stands for the vendors of every family the policy prohibits: resolved in build()
            choices = [*self.cat.vendors, PROHIBITED]
            sdk = self.known(evidence, "bundles_sdk_of", (*path, "evidence"), choices, "vendor", "how-vendor")
            endpoints = self.known(evidence, "endpoints_of", (*path, "evidence"), choices, "vendor", "how-vendor")
            if PROHIBITED in sdk or PROHIBITED in endpoints:
                self.any_prohibited.append((rule_id, (*path, "evidence")))
        named = any(_strs(item, k) for k in ("families", "vendors", "identifiers", "prefixes"))
        if isinstance(evidence, dict):
            named = named or any(_strs(evidence, k) for k in ("bundles_sdk_of", "endpoints_of"))
        if not named:
            self.add(path, "rule-empty", id=rule_id or "?")
        effective = self.date(item, "effective", path)
        review_by = self.date(item, "review_by", path)
        interim = self.flag(item, "interim", False)
        self.interim(rule_id, interim, item, effective, review_by, path)
        if not rule_id or effective is None:
            return None
        return Rule(
            id=rule_id,
            families=_dedupe(families),
            effective=effective,
            grace_days=self.integer(item, "grace_days", 0),
            scope=self.scope(item, path, (Ownership.CORPORATE,)),
            identifiers=identifiers,
            prefixes=prefixes,
            interim=interim,
            review_by=review_by,
            description=self.text(item, "description"),
            sdk_vendors=sdk,
            endpoint_vendors=endpoints,
        )

    def exception(self, item: dict[str, Any], path: Path_, prohibited: set[str],
                  seen: dict[str, int]) -> PolicyException | None:
        exc_id = self.text(item, "id")
        if exc_id:
            self.claim_id(exc_id, path, seen, "exception")
        families = self.families(item, "families", path)
        for i, fam in _strs(item, "families"):
            if fam in families and fam not in prohibited:
                self.add((*path, "families", i), "exc-unprohibited", id=exc_id or "?", family=fam)
        devices = _dedupe(v for _, v in _strs(item, "devices"))
        users = _dedupe(v for _, v in _strs(item, "users"))
        groups = _dedupe(v for _, v in _strs(item, "groups"))
        if not (devices or users or groups):
            self.add(path, "exc-nobody", id=exc_id or "?")
        granted = self.date(item, "granted", path)
        expires = self.date(item, "expires", path)
        review_by = self.date(item, "review_by", path)
        if granted is not None and expires is not None and expires <= granted:
            self.add((*path, "expires"), "exc-order", id=exc_id or "?", expires=expires, granted=granted)
        if review_by is not None and expires is not None and review_by > expires:
            self.add((*path, "review_by"), "exc-review", id=exc_id or "?", review=review_by, expires=expires)
        if not exc_id or expires is None or not families:
            return None
        return PolicyException(
            id=exc_id, families=families, approver=self.text(item, "approver"), reason=self.text(item, "reason"),
            expires=expires, devices=devices, users=users, groups=groups,
            safeguards=_dedupe(v for _, v in _strs(item, "safeguards")), granted=granted, review_by=review_by,
        )

