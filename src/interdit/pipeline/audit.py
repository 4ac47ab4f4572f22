"""Recording a change in the audit trail, from the use case that makes it.

Every changing use case takes `actor` (who asks: `user:alice`, `token:nightly-intune`, `cli:jdoe`) and writes
one entry together with its change: in the change's own database transaction, or, for a file (the policy,
the sources), in a transaction held open while the file is replaced (`replace_file`). When the entry cannot
be written, nothing changes. The command line, the API and the dashboard are audited alike and once. Without
an actor (a library call, a test, the demo data set) nothing is recorded.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from interdit.enforcement.base import Payload
from interdit.storage.audit import AuditEntry, AuditLog


class AuditAction(StrEnum):
    """What an audit entry records: every action the trail holds, one name each (docs/server.md lists them)."""

    IMPORT = "import"
    SOURCE_SYNC = "source.sync"
    SOURCE_ADD = "source.add"
    POLICY_UPDATE = "policy.update"
    EXCEPTION_GRANT = "exception.grant"
    EXCEPTION_REVOKE = "exception.revoke"
    ENFORCEMENT_BUILD = "enforcement.build"
    ENFORCEMENT_PUSH = "enforcement.push"
    LOGS_SCAN = "logs.scan"
    ANALYSIS = "analysis"
    ACCOUNT_ADD = "account.add"
    ACCOUNT_DISABLE = "account.disable"
    ACCOUNT_PASSWORD = "account.password"
    ACCOUNT_ROLE = "account.role"
    TOKEN_CREATE = "token.create"
    TOKEN_REVOKE = "token.revoke"
    EVALUATE = "evaluate"
    SESSION_SIGN_IN = "session.sign-in"
    SESSION_SIGN_OUT = "session.sign-out"
    SESSION_THROTTLE = "session.throttle"
    NOTICE_SENT = "notice.sent"
    NOTICE_FAILED = "notice.failed"


def audit_trail(engine: Engine, clock: Callable[[], datetime]) -> AuditLog:
    """The audit trail stored in the same database as the fleet."""
    return AuditLog(engine, clock=clock)


def require_trail(log: AuditLog | None, actor: str | None, action: str) -> None:
    """Refuse, before anything changes, a change that names an actor but has no trail to record it in."""
    if actor is not None and log is None:
        raise ValueError(f"{action}: an actor was named but no audit trail was given")


def record(log: AuditLog | None, actor: str | None, action: str, target: str, *, before: Any = None,
           after: Any = None) -> AuditEntry | None:
    """Append one entry when an actor is named; a named actor without a trail to write to is a mistake."""
    if actor is None:
        return None
    require_trail(log, actor, action)
    assert log is not None
    return log.append(actor, action, target, before=before, after=after)


@dataclass(frozen=True)
class Recorder:
    """Writes the entries of one audit trail for the use cases that change accounts and tokens.

    `hook` gives what `AccountStore` calls inside the change's own transaction, so the entry and the change are
    written together or not at all; without an actor (a library call, a test) nothing is recorded."""

    log: AuditLog | None

    def hook(self, actor: str | None, action: AuditAction, target: str | Callable[[Any], str],
             make: Callable[[Any], tuple[Any, Any]]) -> Callable[[Any, Any], object] | None:
        """`make(result)` gives (before, after) from what the change returns; `target` may be made from it too."""
        if actor is None:
            return None
        require_trail(self.log, actor, action)
        log = self.log
        assert log is not None

        def write(conn: Any, result: Any) -> object:
            before, after = make(result)
            name = target(result) if callable(target) else target
            return log.append(actor, action.value, name, before=before, after=after, conn=conn)

        return write

    def append(self, actor: str | None, action: AuditAction, target: str, *, before: Any = None,
               after: Any = None) -> AuditEntry | None:
        return record(self.log, actor, action.value, target, before=before, after=after)


def replace_file(path: Path, text: str, log: AuditLog | None, actor: str | None, action: str, target: str, *,
                 before: Any = None, after: Any = None) -> None:
    """Replace `path` with `text` (atomically) and write its audit entry, both or neither.

    The entry is written first, in a transaction that stays open while the file is replaced: when the entry
    cannot be written the file is left as it was, and when the commit fails the old text is put back."""
    previous = path.read_bytes() if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.saving")
    tmp.write_text(text, encoding="utf-8")
    if actor is None:
        os.replace(tmp, path)
        return
    require_trail(log, actor, action)
    assert log is not None
    replaced = False
    try:
        with log.engine.begin() as conn:
            log.append(actor, action, target, before=before, after=after, conn=conn)
            os.replace(tmp, path)
            replaced = True
    except BaseException:
        tmp.unlink(missing_ok=True)
        if replaced:  # the commit failed after the file was replaced: put the old one back
            if previous is None:
                path.unlink(missing_ok=True)
            else:
                tmp.write_bytes(previous)
                os.replace(tmp, path)
        raise


def payload_digest(payload: Payload) -> str:
    """SHA-256 over the payload's files (names and contents, in name order): what was built or pushed."""
    h = hashlib.sha256()
    files: Mapping[str, str | bytes] = payload.files
    for name in sorted(files):
        content = files[name]
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        h.update(name.encode("utf-8") + b"\0" + str(len(data)).encode("ascii") + b"\0" + data)
    return h.hexdigest()
