"""Passes 1 and 2 of reading a policy: YAML syntax and shape, each problem with its line (see `load.py`)."""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from interdit.errors import PolicyError
from interdit.policy.messages import say, word
from interdit.policy.schema import DATE_PATTERN, policy_json_schema

MAX_NODES = 200_000  # bounds alias expansion ("billion laughs") when the document is walked
MAX_DEPTH = 40
VALIDATOR = Draft202012Validator(policy_json_schema())

# How each key is written, for fixes that show the right form.
_EXAMPLES = {
    "organisation": "organisation: Department of Examples",
    "language": "language: en   (or fr)",
    "stale_after_days": "stale_after_days: 8",
    "adopt": "adopt:\n    - directive: ca-tbs-2023-tiktok",
    "rules": "rules:\n    - id: my-rule\n      families: [capcut]\n      effective: 2023-03-01",
    "exceptions": "exceptions:\n    - id: EXC-1\n      families: [tiktok]\n      users: [someone@example.org]\n"
                  "      approver: ...\n      reason: ...\n      expires: 2024-01-01",
    "directive": "directive: ca-tbs-2023-tiktok",
    "id": "id: my-rule",
    "description": "description: Why this rule exists",
    "families": "families: [tiktok, capcut]",
    "vendors": "vendors: [bytedance]",
    "identifiers": "identifiers: [android:com.example.app]",
    "prefixes": "prefixes: [android:com.example]",
    "evidence": "evidence: {bundles_sdk_of: [bytedance], endpoints_of: [bytedance]}",
    "bundles_sdk_of": "bundles_sdk_of: [bytedance]",
    "endpoints_of": "endpoints_of: [bytedance]",
    "effective": "effective: 2023-02-28",
    "grace_days": "grace_days: 14",
    "scope": "scope: {ownership: [corporate], groups: [/Finance]}",
    "ownership": "ownership: [corporate, unknown]",
    "platforms": "platforms: [android, ios]",
    "management": "management: [fully_managed]",
    "groups": "groups: [/Finance, Field Staff]",
    "org_units": "org_units: [/Finance/Payroll]",
    "exclude_groups": "exclude_groups: [/Finance/Labs]",
    "interim": "interim: true",
    "review_by": "review_by: 2023-06-30",
    "devices": "devices: [intune:1f2e3d4c]",
    "users": "users: [someone@example.org]",
    "approver": "approver: Deputy Minister",
    "reason": "reason: Why the exception is needed",
    "granted": "granted: 2023-03-01",
    "expires": "expires: 2023-09-01",
    "safeguards": "safeguards: [dedicated device, no contact sync]",
    "version": "version: 1",
    "source": "source: intune   (a source name or type)",
    "org_unit": "org_unit: /MCN/DRH",
    "match": "match: glob   (exact, glob or regex)",
    "category": "category: Direction des ressources humaines",
    "site": "site: Québec",
    "department": "department: Comms",
    "building": "building: Tour A",
    "enrollment_data": "enrollment_data: dept=finance",
    "policy": "policy: policy-finance",
    "organization_group": "organization_group: MCN Finances",
    "org_unit_path": "org_unit_path: /Finances/Paie",
    "unit": "unit: Communications",
    "group": "group: Équipe médias sociaux",
}


class TooBig(Exception):
    """The document is too large or too deep to walk safely; `key` names the message."""

    def __init__(self, key: str, n: int = 0) -> None:
        super().__init__(key)
        self.key = key
        self.n = n


# -- problems ---------------------------------------------------------------------------------------


class Problems:
    """Every problem found so far, each a `PolicyError` with file:line and a fix, in the policy's language."""

    def __init__(self, name: str, lang: str = "en") -> None:
        self.name = name
        self.lang = lang
        self.items: list[tuple[int, int, PolicyError]] = []

    def add(self, line: int, message: str, fix: str) -> None:
        self.items.append((line, len(self.items), PolicyError(message, where=f"{self.name}:{line}", fix=fix)))

    def say(self, at: int, msg: str, /, **values: Any) -> None:
        self.add(at, *say(self.lang, msg, **values))

    def fix(self, key: str, **values: Any) -> str:
        return say(self.lang, key, **values)[1]

    def word(self, key: str) -> str:
        return word(self.lang, key)

    def error(self) -> PolicyError:
        ordered = [p for _, _, p in sorted(self.items, key=lambda t: (t[0], t[1]))]
        n = len(ordered)
        if n == 1:
            return PolicyError(say(self.lang, "summary-one")[0], where=self.name, fix=ordered[0].fix,
                               problems=ordered)
        message, fix = say(self.lang, "summary", n=n)
        return PolicyError(message, where=self.name, fix=fix, problems=ordered)


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def kind_of(value: object) -> str:
    """The word key (the "policy.word." messages) for what `value` is."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


# -- pass 1: YAML -----------------------------------------------------------------------------------


class _Constructor(RoundTripConstructor):
    """The round-trip constructor, with dates kept as text: a wrong day becomes a problem with its line."""

    def construct_timestamp_as_text(self, node: Any) -> Any:
        return self.construct_scalar(node)


_Constructor.add_constructor("tag:yaml.org,2002:timestamp", _Constructor.construct_timestamp_as_text)


def parse_yaml(text: str, problems: Problems) -> Any:
    yaml = YAML(typ="rt")
    yaml.Constructor = _Constructor
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = " ".join(x for x in (exc.context, exc.problem) if x) or "invalid YAML"
        problems.say(line, "yaml-duplicate" if "duplicate key" in what else "yaml", what=what[:300])
    except RecursionError:
        problems.say(1, "yaml-deep")
    except Exception as exc:  # ruamel raises several non-YAMLError types on odd input; none may escape
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problems.say(line, "yaml-other", what=(str(exc).splitlines() or [type(exc).__name__])[0][:300])
    return None


def plain(node: Any, depth: int, count: list[int], stack: set[int]) -> Any:
    """ruamel's tree as JSON-like values: keys as text, dates as YYYY-MM-DD, times as ISO text."""
    count[0] += 1
    if count[0] > MAX_NODES:
        raise TooBig("too-many", MAX_NODES)
    if depth > MAX_DEPTH:
        raise TooBig("too-deep", MAX_DEPTH)
    if isinstance(node, dict):
        if id(node) in stack:
            raise TooBig("self-alias")
        stack.add(id(node))
        out = {key_text(k): plain(v, depth + 1, count, stack) for k, v in node.items()}
        stack.discard(id(node))
        return out
    if isinstance(node, list | tuple):
        if id(node) in stack:
            raise TooBig("self-alias")
        stack.add(id(node))
        items = [plain(v, depth + 1, count, stack) for v in node]
        stack.discard(id(node))
        return items
    if isinstance(node, ScalarBoolean):  # an anchored true/false: an int subclass in ruamel
        return bool(node)
    if isinstance(node, datetime):
        return node.isoformat()
    if isinstance(node, date):
        return node.isoformat()
    if node is None or isinstance(node, bool | int | float):
        return node
    if isinstance(node, str):
        return str(node)
    return str(node)


def key_text(k: Any) -> str:
    if isinstance(k, date):
        return k.isoformat()
    return str(k)


class LineFinder:
    """The 1-based line of a path (keys and list indexes) in the round-trip tree."""

    def __init__(self, root: Any) -> None:
        self.root = root

    def line(self, path: Sequence[str | int]) -> int:
        node = self.root
        line = getattr(getattr(node, "lc", None), "line", 0) or 0
        for step in path:
            try:
                if isinstance(node, CommentedMap) and isinstance(step, str):
                    key = next((k for k in node if key_text(k) == step), None)
                    if key is None:
                        break
                    with contextlib.suppress(KeyError, TypeError, AttributeError):  # keys merged by `<<:` have none
                        line = node.lc.key(key)[0]
                    node = node[key]
                elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
                    with contextlib.suppress(KeyError, TypeError, AttributeError):
                        line = node.lc.item(step)[0]
                    node = node[step]
                else:
                    break
            except Exception:  # a tree we did not expect: the line found so far is the best answer
                break
        return int(line) + 1


# -- pass 2: shape ----------------------------------------------------------------------------------


def _field(path: Sequence[str | int]) -> str:
    for step in reversed(path):
        if isinstance(step, str):
            return step
    return "the policy"


def _example(name: str) -> str:
    return _EXAMPLES.get(name, "")


def schema_problem(err: ValidationError, data: Any, lines: LineFinder, problems: Problems) -> None:
    path = tuple(err.absolute_path)
    name = _field(path)
    where = lines.line(path)
    kind = err.validator
    value = err.instance
    rule: Any = err.validator_value
    schema: Any = err.schema
    if kind == "additionalProperties" and isinstance(value, dict):
        allowed = list(schema.get("properties", {}) if isinstance(schema, dict) else {})
        for extra in sorted(set(value) - set(allowed)):
            guess = suggest(extra, allowed)
            hint = problems.fix("did-you-mean-key", guess=guess) if guess else ""
            problems.say(lines.line((*path, extra)), "unknown-key-in" if path else "unknown-key", key=extra,
                         owner=problems.word(_owner(path)), hint=hint, allowed=", ".join(allowed))
        return
    if kind == "required" and isinstance(value, dict):
        for missing in rule:
            if missing not in value:
                problems.say(where, "missing-from" if path else "missing", key=missing,
                             owner=problems.word(_owner(path)), example=_example(missing) or f"{missing}: ...")
        return
    example = _example(name)
    show = problems.fix("show", example=example) if example else problems.fix("show-docs")
    simple = {"maximum": "maximum", "minLength": "min-length", "minItems": "min-items", "const": "const"}
    if kind == "type":
        wanted = problems.word(rule) if isinstance(rule, str) else str(rule)
        problems.add(where, say(problems.lang, "type", name=name, wanted=wanted,
                                kind=problems.word(kind_of(value)))[0], show)
    elif kind == "enum":
        options = [str(o) for o in rule]
        guess = suggest(str(value), options)
        hint = problems.fix("did-you-mean", guess=guess) if guess else ""
        problems.say(where, "enum", value=value, name=name, hint=hint, options=", ".join(options))
    elif kind == "pattern" and rule == DATE_PATTERN:
        problems.add(where, say(problems.lang, "date-form", name=name, value=value)[0], show)
    elif kind == "pattern" and rule == "^/":
        problems.say(where, "org-unit", value=value)
    elif kind == "pattern":
        problems.say(where, "app-id", value=value)
    elif kind == "minimum" and name == "grace_days":
        problems.say(where, "negative-grace", value=value)
    elif kind == "minimum":
        problems.add(where, say(problems.lang, "minimum", name=name, limit=rule, value=value)[0], show)
    elif kind in simple:
        problems.add(where, say(problems.lang, simple[kind], name=name, limit=rule, value=repr(value))[0], show)
    else:
        problems.add(where, say(problems.lang, "schema", name=name, text=err.message)[0], show)


def _owner(path: Sequence[str | int]) -> str:
    owners = {"adopt": "adoption", "rules": "rule", "exceptions": "exception", "scope": "scope",
              "evidence": "evidence", "org_units": "org-unit-map"}
    name = _field(path)
    return owners.get(name, name)
