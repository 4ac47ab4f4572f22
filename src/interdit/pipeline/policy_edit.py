"""Policy edits: validated before they are saved, written back with the file's comments and layout preserved
(ruamel round-trip), and recorded in the audit trail with the texts before and after.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from interdit.catalogue import load_catalogue
from interdit.errors import ConfigError, PolicyError
from interdit.pipeline.audit import AuditAction, replace_file, require_trail
from interdit.pipeline.basics import LoadedPolicy
from interdit.policy import load_policy
from interdit.storage.audit import AuditLog


def validate_policy_text(text: str, path: Path) -> LoadedPolicy:
    """Load `text` as if it were the policy file at `path`; raises PolicyError with every problem."""
    import os
    import tempfile

    cat = load_catalogue()
    folder = path.parent if path.parent.exists() else Path(tempfile.gettempdir())
    fd, tmp_name = tempfile.mkstemp(prefix=".policy-check-", suffix=".yaml", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        policy = load_policy(tmp, cat)
    except PolicyError as e:
        raise _renamed(e, str(tmp), str(path)) from None
    finally:
        tmp.unlink(missing_ok=True)
    return LoadedPolicy(policy, cat, hashlib.sha256(text.encode("utf-8")).hexdigest())


def _renamed(error: PolicyError, old: str, new: str) -> PolicyError:
    """The same error, naming the policy file instead of the scratch copy that was checked."""

    def fix(text: str | None) -> str | None:
        return text.replace(old, new) if text else text

    problems = [_renamed(p, old, new) for p in error.problems]
    return PolicyError(fix(error.message) or "", where=fix(error.where), fix=fix(error.fix), problems=problems)


def save_policy_text(path: Path, text: str, *, actor: str | None = None,
                     audit: AuditLog | None = None) -> tuple[str, LoadedPolicy]:
    """Validate `text` and replace the policy file atomically. Returns (the text before, the new policy).

    With `actor` (and the trail `audit`), the saved change is recorded (action `policy.update`, target the
    file): the text before, the text after and their diff.
    """
    require_trail(audit, actor, AuditAction.POLICY_UPDATE)
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    loaded = _replace(path, text, Entry(audit, actor, AuditAction.POLICY_UPDATE, str(path), lambda loaded: (
        {"text": before}, {"text": text, "digest": loaded.digest, "diff": policy_diff(before, text, path.name)})))
    return before, loaded


@dataclass(frozen=True)
class Entry:
    """The audit entry of a change to the policy file: `make(new policy)` gives its before and after."""

    log: AuditLog | None
    actor: str | None
    action: AuditAction
    target: str
    make: Callable[[LoadedPolicy], tuple[Any, Any]]


def _replace(path: Path, text: str, entry: Entry) -> LoadedPolicy:
    """Validate `text`, then replace the file and write its audit entry, both or neither."""
    loaded = validate_policy_text(text, path)
    old, new = entry.make(loaded)
    replace_file(path, text, entry.log, entry.actor, entry.action, entry.target, before=old, after=new)
    return loaded


def policy_diff(before: str, after: str, name: str = "policy.yaml") -> str:
    import difflib

    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                        fromfile=f"a/{name}", tofile=f"b/{name}"))


def _round_trip(text: str) -> tuple[Any, Any]:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    doc = yaml.load(text) if text.strip() else None
    return yaml, doc


def _dump(yaml: Any, doc: Any) -> str:
    import io

    buf = io.StringIO()
    yaml.dump(doc, buf)
    return buf.getvalue()


class ExceptionRefused(ConfigError):
    """An exception that breaks a grant rule (it covers no one, or it has already expired)."""


def add_exception(path: Path, exception: dict[str, Any], *, today: date | None = None, actor: str | None = None,
                  audit: AuditLog | None = None) -> tuple[str, str, LoadedPolicy]:
    """Append one exception to the policy file (comments kept), validated before it is saved.

    `exception` holds id, families, approver, reason, expires (a date) and optionally devices, users, groups,
    safeguards, granted, review_by. Returns (text before, text after, the new policy). With `actor` (and the
    trail `audit`), the grant is recorded (action `exception.grant`, target the exception id).

    The grant rules hold for every caller: an exception names the devices, users or groups it covers (an
    exception for everyone would be a hole in the ban), and it expires after `today` (the clock's date; the
    system's when not given).
    """
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    require_trail(audit, actor, AuditAction.EXCEPTION_GRANT)
    if not any(exception.get(k) for k in ("devices", "users", "groups")):
        raise ExceptionRefused("an exception must name the devices, users or groups it covers",
                               fix="set at least one of devices, users, groups")
    today = today or datetime.now(UTC).date()
    expires = exception.get("expires")
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            expires = None  # the policy's validation names the bad date
    if isinstance(expires, date) and expires <= today:
        raise ExceptionRefused(f"the expiry {expires} is not in the future", fix="choose a later date")
    before = path.read_text(encoding="utf-8")
    yaml, doc = _round_trip(before)
    if not isinstance(doc, dict):
        raise ConfigError(f"{path} is not a policy mapping", fix="fix the file, then retry")
    existing = doc.get("exceptions")
    if existing is None:
        existing = CommentedSeq()
        doc["exceptions"] = existing
    if any(isinstance(e, dict) and e.get("id") == exception.get("id") for e in existing):
        raise ConfigError(f"an exception with id {exception.get('id')!r} already exists",
                          fix="choose another id, or revoke the existing one first")
    entry = CommentedMap()
    order = ("id", "families", "devices", "users", "groups", "approver", "reason", "granted", "expires",
             "review_by", "safeguards")
    for key in order:
        value = exception.get(key)
        if value in (None, (), []):
            continue
        if isinstance(value, list | tuple):
            seq = CommentedSeq([_scalar(v) for v in value])
            seq.fa.set_flow_style()
            entry[key] = seq
        else:
            entry[key] = value.isoformat() if isinstance(value, date) else _scalar(value)
    existing.append(entry)
    after = _dump(yaml, doc)
    fields = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in exception.items()}
    loaded = _replace(path, after, Entry(audit, actor, AuditAction.EXCEPTION_GRANT, str(exception.get("id")),
                                         lambda _: ({"text": before}, {"text": after, "exception": fields,
                                                                       "diff": policy_diff(before, after, path.name)})))
    return before, after, loaded


_INDICATORS = tuple("?:-,[]{}#&*!|>'\"%@`")


def _scalar(value: Any) -> Any:
    """A text that YAML would read back as something else (`? x` a mapping key, `: x`...) is written quoted."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    if isinstance(value, str) and (value.startswith(_INDICATORS) or ": " in value or " #" in value
                                   or value != value.strip()):
        return DoubleQuotedScalarString(value)
    return value


def revoke_exception(path: Path, exception_id: str, *, actor: str | None = None,
                     audit: AuditLog | None = None) -> tuple[str, str, LoadedPolicy]:
    """Remove the exception `exception_id` from the policy file (comments kept). Returns before, after, policy.

    With `actor` (and the trail `audit`), the revocation is recorded (action `exception.revoke`).
    """
    require_trail(audit, actor, AuditAction.EXCEPTION_REVOKE)
    before = path.read_text(encoding="utf-8")
    yaml, doc = _round_trip(before)
    items = doc.get("exceptions") if isinstance(doc, dict) else None
    index = next((i for i, e in enumerate(items or []) if isinstance(e, dict) and e.get("id") == exception_id), None)
    if items is None or index is None:
        raise ConfigError(f"no exception with id {exception_id!r} in {path}", fix="list them with GET /api/v1/policy")
    del items[index]
    after = _dump(yaml, doc)
    loaded = _replace(path, after, Entry(audit, actor, AuditAction.EXCEPTION_REVOKE, exception_id, lambda _: (
        {"text": before}, {"text": after, "diff": policy_diff(before, after, path.name)})))
    return before, after, loaded


